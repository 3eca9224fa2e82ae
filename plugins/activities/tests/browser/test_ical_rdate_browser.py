"""An .ics invitation with extra dates (RDATE) and an attendee who is nobody here,
uploaded on the plugin's import page in real Chromium, in English and in Greek: the
activity page lists the extra occurrences in the user's time zone and the outside
attendee with their answer, the week calendar shows the extra occurrence."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser
ATHENS = ZoneInfo("Europe/Athens")


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


def _login(page, base, email):
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_be_visible()


def _invitation(first: dt.date, uid: str) -> bytes:
    d = first.strftime("%Y%m%d")
    extra = (first + dt.timedelta(days=2)).strftime("%Y%m%d")
    return f"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Mozilla.org/NONSGML Mozilla Calendar V1.1//EN
BEGIN:VEVENT
UID:{uid}
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Athens:{d}T100000
DTEND;TZID=Europe/Athens:{d}T110000
RRULE:FREQ=WEEKLY;COUNT=2
RDATE;TZID=Europe/Athens:{extra}T150000
SUMMARY:Workshop
ORGANIZER;CN=Maria:mailto:{uid.split("@")[0]}@example.com
ATTENDEE;CN=Jan Kowalski;PARTSTAT=TENTATIVE:mailto:jan@partner.example.pl
END:VEVENT
END:VCALENDAR
""".replace("\n", "\r\n").encode()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_imported_rdate_and_external_attendee(page, live_server, make_user, types, lang, tmp_path):
    email = f"{lang}@example.com"
    make_user(email=email, roles=("sales",), name="Maria", locale=lang, timezone="Europe/Athens")
    today = dt.datetime.now(ATHENS).date()
    first = today + dt.timedelta(days=7 - today.weekday())
    path = tmp_path / "invite.ics"
    path.write_bytes(_invitation(first, f"{lang}@kyklos-test"))
    _login(page, live_server, email)
    page.goto(live_server + "/activities/import")
    page.set_input_files("#k-ics", str(path))
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".k-created")).to_have_text("1")
    save_screenshot(page, f"activities-ics-import-{lang}")
    page.goto(live_server + "/activities/mine")
    page.get_by_role("link", name="Workshop").first.click()
    # The participant's page: the extra occurrence, at 15:00 Athens time.
    expect(page.locator(".k-extra-dates")).to_contain_text(re.compile(r"\b(15|3):00"))
    expect(page.locator("main")).to_contain_text({"en": "Also on", "el": "Επίσης"}[lang])
    save_screenshot(page, f"activities-rdate-invitation-{lang}")
    # The record: the outside attendee with their answer, the extra occurrences.
    page.get_by_role("link", name={"en": "Open the record", "el": "Άνοιγμα εγγραφής"}[lang]).click()
    main = page.locator("main")
    row = page.locator(".k-participants li[data-kind=external]")
    expect(row).to_contain_text("Jan Kowalski <jan@partner.example.pl>")
    expect(row).to_contain_text({"en": "maybe", "el": "ίσως"}[lang])
    expect(row).to_contain_text({"en": "external", "el": "εξωτερικός"}[lang])
    expect(main).to_contain_text({"en": "Extra occurrences", "el": "Πρόσθετες επαναλήψεις"}[lang])
    assert not re.search(r"\d{4}-\d\d-\d\dT", main.inner_text())  # no raw ISO values
    save_screenshot(page, f"activities-rdate-detail-{lang}")
    page.goto(live_server + f"/activities/calendar?view=week&date={first.isoformat()}")
    events = page.locator("#k-cal").get_by_text("Workshop")
    expect(events).to_have_count(2)  # Monday 10:00 and the extra Wednesday 15:00
    save_screenshot(page, f"activities-rdate-week-{lang}")

"""Send SMS in real Chromium, in English and in Greek: from a person's page, the number
picked from a drop-down, the character and part count following the typing (Greek text
switches to Unicode, 70 characters a message), the message on the person's timeline and
in the list of messages with its state in words; and the gateway's settings page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sms_helpers import make_person

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "send_sms": "Send SMS",
        "message": "Message",
        "send": "Send",
        "gsm": "GSM 7-bit",
        "unicode": "Unicode (UCS-2)",
        "one": "1 message",
        "two": "2 messages",
        "waiting": "Waiting to be sent",
        "gateway": "SMS gateway",
        "save": "Save",
    },
    "el": {
        "send_sms": "Αποστολή SMS",
        "message": "Μήνυμα",
        "send": "Αποστολή",
        "gsm": "GSM 7-bit",
        "unicode": "Unicode (UCS-2)",
        "one": "1 μήνυμα",
        "two": "2 μηνύματα",
        "waiting": "Αναμένει αποστολή",
        "gateway": "Πύλη SMS",
        "save": "Αποθήκευση",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "sms"]


def _login(page, live_server, email):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_send_sms_from_a_person(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    p = make_person(admin, first="Eleni", last="Papadopoulou", country="GR")
    email = f"rep-sms-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Maria Rep", locale=lang,
              timezone="Europe/Athens")  # fmt: skip
    _login(page, live_server, email)
    page.goto(f"{live_server}/persons/{p['id']}")
    page.get_by_role("link", name=w["send_sms"]).first.click()
    expect(page.locator("h1")).to_contain_text(w["send_sms"])
    recipient = page.locator("#recipient")
    expect(recipient).to_contain_text("+30 691 234 5678")
    body = page.get_by_label(w["message"], exact=True)
    counter = page.locator("#k-sms-count")
    body.fill("Your order has shipped. " * 7)
    expect(counter).to_contain_text(w["two"], timeout=20_000)
    expect(counter).to_contain_text(w["gsm"], timeout=20_000)
    body.fill("Καλημέρα! Η παραγγελία σας στάλθηκε σήμερα.")
    expect(counter).to_contain_text(w["one"], timeout=20_000)
    expect(counter).to_contain_text(w["unicode"], timeout=20_000)
    expect(counter).to_have_attribute("data-encoding", "ucs2", timeout=20_000)
    save_screenshot(page, f"sms-send-{lang}")
    page.get_by_role("button", name=w["send"], exact=True).click()
    main = page.locator("main")
    expect(main).to_contain_text("Καλημέρα! Η παραγγελία σας στάλθηκε σήμερα.")
    expect(main).to_contain_text(w["waiting"])
    save_screenshot(page, f"sms-person-timeline-{lang}")
    page.goto(f"{live_server}/sms-messages/")
    expect(page.locator("main")).to_contain_text(w["waiting"])
    expect(page.locator("main")).to_contain_text("Papadopoulou")
    save_screenshot(page, f"sms-list-{lang}")
    page.goto(f"{live_server}/admin/sms")
    expect(page.locator("h1")).to_contain_text(w["gateway"])
    page.fill("#username", "kyklos")
    page.fill("#password", "secret")
    page.fill("#sender", "Kyklos")
    page.get_by_role("button", name=w["save"], exact=True).click()
    expect(page.locator(".k-sms-inbound")).to_contain_text("/sms/inbound/")
    save_screenshot(page, f"sms-gateway-{lang}")

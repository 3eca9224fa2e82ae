"""A birthday whose year is unknown (issue 18, vCard) in real Chromium, in English and
Greek: imported from ``BDAY:--0203`` it reads "3 February" on the person page with no
year and no age; the edit form shows its day and month chosen and the year left empty."""

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

CARD = (
    b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Simon Perreault\r\nN:Perreault;Simon;;;\r\n"
    b"BDAY:--0203\r\nEND:VCARD\r\n"
)


@pytest.mark.parametrize(
    "locale,day,month,year",
    [
        ("en", "3 February", "February", "Year (if known)"),
        ("el", "3 Φεβρουαρίου", "Φεβρουάριος", "Έτος (αν είναι γνωστό)"),
    ],
)
def test_birthday_without_a_year(page, live_server, make_user, api, locale, day, month, year):
    a = api("manager")
    a.post("/api/v1/persons/_import/vcard", CARD, headers={"Content-Type": "text/vcard"})
    pid = a.get("/api/v1/persons", {"last_name": "Perreault"}).json["items"][0]["id"]
    make_user(
        email=f"bday.{locale}@example.com",
        roles=("manager",),
        locale=locale,
        name="Ελένη" if locale == "el" else "Helen",
    )
    page.goto(f"{live_server}/login")
    page.fill("#email", f"bday.{locale}@example.com")
    page.fill("#password", PASSWORD)
    page.locator("form [type=submit]").last.click()
    expect(page.locator(".k-navbar")).to_be_visible()

    page.goto(f"{live_server}/persons/{pid}")
    born = page.locator("dl.k-fields .k-field-birth_date")
    expect(born).to_have_text(day)
    main = page.locator("main").inner_text()
    assert "1604" not in main
    save_screenshot(page, f"birthday-no-year-{locale}")

    page.goto(f"{live_server}/persons/{pid}/edit")
    form = page.locator("#k-record-form")
    expect(form.locator(".k-daymonthyear select[name=day]")).to_have_value("3")
    months = form.locator(".k-daymonthyear select[name=month]")
    expect(months).to_have_value("2")
    expect(months.locator("option:checked")).to_have_text(month)
    box = form.get_by_placeholder(year)
    expect(box).to_have_value("")
    assert "1604" not in form.inner_html()
    form.locator(".k-daymonthyear").scroll_into_view_if_needed()
    save_screenshot(page, f"birthday-no-year-form-{locale}")
    # giving the year makes it a full date
    box.fill("1990")
    page.locator("#k-record-form [type=submit]").first.click()
    expect(page.locator("dl.k-fields .k-field-birth_date")).not_to_have_text(day)
    assert a.get(f"/api/v1/persons/{pid}").json["birth_date"] == "1990-02-03"

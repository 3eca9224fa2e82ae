"""Importing an Outlook contacts export in real Chromium: upload, the suggested mapping
(the shipped Outlook profile, the company column linked by name), dry run, import,
summary, and the people it made."""

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD

pytestmark = pytest.mark.browser

OUTLOOK = (
    "First Name,Last Name,Company,E-mail Address,Business Phone,Mobile Phone,"
    "Business Country/Region,Birthday,Gender\n"
    "Ελένη,Παπαδοπούλου,Άλφα Α.Ε.,eleni@alfa.example,210 1234567,694 1234567,Greece,"
    "0/0/00,Female\n"
    "Piotr,Nowak,Kraków Sp. z o.o.,piotr@krakow.example,,+48 512 345 678,Polska,"
    "3/15/1980,Unspecified\n"
    "Broken,Row,,not-an-address,,,Atlantis,0/0/00,\n"
)


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def test_outlook_file_through_the_wizard(page, live_server, make_user, api, tmp_path):
    a = api("manager")
    alfa = a.post_json("/api/v1/accounts", {"name": "ΑΛΦΑ Α.Ε.", "country": "GR"}).json
    make_user(email="importer@example.com", roles=("manager",), name="Importer")
    page.goto(f"{live_server}/login")
    page.fill("#email", "importer@example.com")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Importer")

    path = tmp_path / "contacts.csv"
    path.write_text(OUTLOOK, encoding="utf-8-sig")  # Outlook writes a BOM
    page.goto(f"{live_server}/persons/_import")
    page.set_input_files("#imp-file", str(path))
    page.select_option("#imp-profile", "shipped:outlook")
    page.locator("form:has(#imp-file) [type=submit]").first.click()

    # the mapping step: suggested from the headers, the company linked by name
    table = page.locator("#import-mapping")
    expect(table).to_be_visible()
    expect(table.get_by_label("Company", exact=True)).to_have_value("account_id")
    expect(table.get_by_label("Mobile Phone", exact=True)).to_have_value("mobile_phone")
    expect(page.locator("#imp-refs")).to_be_checked()
    expect(page.locator("#imp-key")).to_have_value("email")
    page.get_by_role("button", name="Dry run (check only)").click()
    expect(page.locator("#import-summary")).to_be_visible()
    expect(page.get_by_text("Dry run: nothing was written")).to_be_visible()
    problems = page.locator("#import-problems")
    expect(problems).to_contain_text("E-mail Address: Not a valid e-mail address")
    # the country of the address built from Outlook's columns is named by its column,
    # once, and the address it would have filled is not called empty
    expect(problems).to_contain_text("Business Country/Region: Not a country")
    expect(problems).not_to_contain_text("addresses")
    expect(problems).not_to_contain_text("empty address")
    assert a.get("/api/v1/persons").json["items"] == []

    page.get_by_role("button", name="Import").last.click()
    expect(page.get_by_text("Import finished")).to_be_visible()
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("Created")
    dds = summary.locator("dd").all_inner_texts()
    assert dds[:5] == ["3", "2", "0", "0", "1"], dds  # rows, created, updated, skipped, rej.
    page.screenshot(path="/tmp/kyklos-import-done.png", full_page=True)

    people = {p["last_name"]: p for p in a.get("/api/v1/persons").json["items"]}
    eleni, piotr = people["Παπαδοπούλου"], people["Nowak"]
    assert eleni["account_id"] == alfa["id"] and eleni["country"] == "GR"
    assert eleni["gender"] == "female" and eleni["birth_date"] is None
    assert [p["type"] for p in eleni["phones"]] == ["work", "mobile"]
    assert piotr["birth_date"] == "1980-03-15" and piotr["gender"] is None
    krakow = a.get(f"/api/v1/accounts/{piotr['account_id']}").json
    assert krakow["name"] == "Kraków Sp. z o.o."

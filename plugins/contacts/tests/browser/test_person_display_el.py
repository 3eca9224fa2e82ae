"""A person's page in Greek in real Chromium (issue 16, points 3 and 4): phones,
e-mails, roles, country and relationships read as words in Greek, the history as
sentences, an activity's type in Greek; no JSON and no English seeded value."""

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

#: seeded values and codes that must not reach a Greek reader
ENGLISH = [
    "Customer",
    "Supplier",
    "mobile",
    "work",
    "primary",
    "Call",
    "Planned",
    "daughter of",
    "son of",
    "father of",
    "child of",
    "Greece",
    "True",
    "False",
]


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


def test_person_page_in_greek_reads_as_words(
    page, live_server, make_user, api, rel_types, dbsession
):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        call = ensure_defaults(db)["call"].id
    a = api("admin")
    firm = a.post_json("/api/v1/accounts", {"name": "Βλάχος Τεχνική Α.Ε.", "country": "GR"}).json
    nikos = a.post_json(
        "/api/v1/persons",
        {"first_name": "Νίκος", "last_name": "Βλάχος", "gender": "male", "country": "GR"},
    ).json
    eleni = a.post_json(
        "/api/v1/persons",
        {
            "first_name": "Ελένη",
            "last_name": "Βλάχου",
            "gender": "female",
            "country": "GR",
            "account_id": firm["id"],
            "roles": ["customer", "supplier"],
            "phones": [
                {"type": "mobile", "number": "+306931234567", "primary": True},
                {"type": "work", "number": "+302101234567", "primary": False},
            ],
            "emails": [{"type": "work", "email": "eleni@vlachos.gr", "primary": True}],
        },
    ).json
    a.post_json(
        "/api/v1/relationships",
        {
            "type_id": rel_types["father"],
            "from_person_id": nikos["id"],
            "to_person_id": eleni["id"],
        },
    )
    a.patch_json(f"/api/v1/persons/{eleni['id']}", {"job_title": "Διευθύντρια"})
    uid = make_user(
        email="giorgos.el@example.com",
        roles=("manager",),
        name="Γιώργος",
        locale="el",
        timezone="Europe/Athens",
    )
    a.post_json(
        "/api/v1/activities",
        {
            "type_id": call,
            "subject": "Ρώτησε για προσφορά",
            "person_id": eleni["id"],
            "owner_id": uid,
            "responsible_id": uid,
            "starts_at": (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat(),
        },
    )

    page.goto(f"{live_server}/login")
    page.fill("#email", "giorgos.el@example.com")
    page.fill("#password", PASSWORD)
    page.locator("form [type=submit]").last.click()
    expect(page.locator(".k-navbar")).to_contain_text("Γιώργος")

    page.goto(f"{live_server}/persons/{eleni['id']}")
    fields = page.locator("dl.k-fields")
    expect(fields.locator(".k-field-phones")).to_contain_text("+30 693 123 4567")
    expect(fields.locator(".k-field-phones")).to_contain_text("κινητό")
    expect(fields.locator(".k-field-phones")).to_contain_text("κύριο")
    expect(fields.locator(".k-field-phones a[href='tel:+302101234567']")).to_have_text(
        "+30 21 0123 4567"
    )
    expect(fields.locator(".k-field-emails")).to_contain_text("eleni@vlachos.gr")
    expect(fields.locator(".k-field-roles")).to_have_text("Πελάτης, Προμηθευτής")
    expect(fields.locator(".k-field-country")).to_have_text("Ελλάδα")
    expect(fields.locator(".k-field-account_id a")).to_have_text("Βλάχος Τεχνική Α.Ε.")
    expect(page.locator(".k-relationship-label")).to_have_text(["κόρη του/της"])
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Τηλεφώνημα")
    expect(timeline).to_contain_text("όρισε το")  # "Γιώργος set Job title to ..."
    expect(timeline).to_contain_text("δημιούργησε την εγγραφή")

    main = page.locator("main").inner_text()
    assert not re.search(r"[\[{]\s*\"", main), "JSON on the page"
    words = set(re.findall(r"[A-Za-z][A-Za-z ]*[a-z]", main))
    found = [w for w in ENGLISH if any(re.search(rf"\b{w}\b", x) for x in words)]
    assert not found, f"English seeded values on the Greek page: {found}"
    save_screenshot(page, "person-display-el")
    save_screenshot(page, "person-display-el", phone=True)
    # at 390 px nothing makes the page scroll sideways
    page.set_viewport_size({"width": 390, "height": 844})
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

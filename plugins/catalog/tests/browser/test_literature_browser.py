"""Sales literature in real Chromium, in English and in Greek: a manager filters the
library (an expired document shown only when asked for, marked), then sends a brochure
from an account's page to one of its people, picked from a drop-down; the e-mail arrives
with the file and the account's timeline shows the send."""

from __future__ import annotations

import datetime as dt

import pytest
from fpdf import FPDF
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "valid": "Validity",
        "expired": "Expired",
        "filter": "Filter",
        "send_action": "Send documents",
        "send": "Send",
        "sent": "The documents were sent to",
        "timeline": "Documents sent to",
        "kind": "Brochure",
    },
    "el": {
        "valid": "Ισχύς",
        "expired": "Ληγμένο",
        "filter": "Φιλτράρισμα",
        "send_action": "Αποστολή εγγράφων",
        "send": "Αποστολή",
        "sent": "Τα έγγραφα στάλθηκαν στο",
        "timeline": "Έγγραφα στάλθηκαν στο",
        "kind": "Φυλλάδιο",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _pdf(text):
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


@pytest.mark.parametrize("lang", ["en", "el"])
def test_library_filters_and_send_from_an_account(
    page, live_server, make_user, api, smtp_server, lang
):
    w = WORDS[lang]
    admin = api("admin")
    oil = admin.post_json("/api/v1/products", {"sku": f"OIL-{lang}", "name": "Olive oil"}).json
    brochure = _pdf("Olive oil brochure")
    for title, extra, data in (
        ("Olive oil brochure", {}, brochure),
        (
            "Price sheet 2025",
            {"valid_until": (dt.date.today() - dt.timedelta(days=3)).isoformat()},
            _pdf("old"),
        ),
    ):
        doc = admin.post_json(
            "/api/v1/sales-literature",
            {"title": title, "kind": "brochure", "product_id": oil["id"], **extra},
        ).json
        admin.post(
            f"/api/v1/sales-literature/{doc['id']}/attachments",
            upload_files=[("file", f"{title}.pdf", data)],
        )
    acc = admin.post_json("/api/v1/accounts", {"name": "Ελαιώνες ΑΕ"}).json
    admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Μαρία",
            "last_name": "Παπά",
            "email": f"maria-{lang}@example.gr",
            "account_id": acc["id"],
        },
    )
    email = f"literature-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Sales Manager", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Sales Manager")

    page.goto(f"{live_server}/catalog/literature")
    table = page.locator("#literature-table")
    expect(table).to_contain_text("Olive oil brochure")
    expect(table).to_contain_text(w["kind"])
    expect(table).not_to_contain_text("Price sheet 2025")
    page.get_by_label(w["valid"]).select_option(value="expired")
    page.get_by_role("button", name=w["filter"]).click()
    expect(table).to_contain_text("Price sheet 2025")
    expect(table).to_contain_text(w["expired"])
    save_screenshot(page, f"literature-library-{lang}")

    page.goto(f"{live_server}/accounts/{acc['id']}")
    page.get_by_role("link", name=w["send_action"]).click()
    form = page.locator("#literature-send-form")
    expect(form).to_contain_text(f"maria-{lang}@example.gr")
    expect(form).not_to_contain_text("Price sheet 2025")
    form.get_by_label("Olive oil brochure").check()
    form.locator("textarea[name=message]").fill("Καλημέρα!")
    save_screenshot(page, f"literature-send-{lang}")
    form.get_by_role("button", name=w["send"], exact=True).click()
    expect(page.locator("body")).to_contain_text(w["sent"])
    msg = smtp_server.wait(1)[0]
    parts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert parts == {"Olive oil brochure.pdf": brochure}
    expect(page.locator("main")).to_contain_text(w["timeline"])
    save_screenshot(page, f"literature-sent-timeline-{lang}")

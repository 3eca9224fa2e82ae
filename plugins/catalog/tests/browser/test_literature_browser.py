"""Sales literature in real Chromium, in English and in Greek: a manager filters the
library (an expired document shown only when asked for, marked), then sends a brochure
from an account's page to one of its people, picked from a drop-down; the e-mail arrives
with the file and the account's timeline shows the send. The library pages through more
documents than one page holds; a send the SMTP server refused is shown failed with the
reason and sent again from its page."""

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
        "sent": "The documents are on their way to",
        "timeline": "Documents sent to",
        "kind": "Brochure",
        "next": "Next page",
        "previous": "Previous page",
        "count": "Documents {a}–{b} of {n}",
        "page": "Page {p} of {n}",
        "failed": "Sending documents to {email} failed",
        "again": "Send again",
        "state_sent": "Sent",
        "waiting": "Waiting to try again",
        "will_retry": "Sending documents to {email} will be tried again",
        "next_attempt": "Next attempt",
    },
    "el": {
        "valid": "Ισχύς",
        "expired": "Ληγμένο",
        "filter": "Φιλτράρισμα",
        "send_action": "Αποστολή εγγράφων",
        "send": "Αποστολή",
        "sent": "Τα έγγραφα αποστέλλονται στο",
        "timeline": "Έγγραφα στάλθηκαν στο",
        "kind": "Φυλλάδιο",
        "next": "Επόμενη σελίδα",
        "previous": "Προηγούμενη σελίδα",
        "count": "Έγγραφα {a}–{b} από {n}",
        "page": "Σελίδα {p} από {n}",
        "failed": "Η αποστολή εγγράφων στο {email} απέτυχε",
        "again": "Αποστολή ξανά",
        "state_sent": "Στάλθηκε",
        "waiting": "Σε αναμονή νέας προσπάθειας",
        "will_retry": "Η αποστολή εγγράφων στο {email} θα επιχειρηθεί ξανά",
        "next_attempt": "Επόμενη προσπάθεια",
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


def _login(page, live_server, make_user, lang, tag):
    email = f"literature-{tag}-{lang}@example.com"
    make_user(email=email, roles=("manager",), name="Sales Manager", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Sales Manager")


@pytest.mark.parametrize("lang", ["en", "el"])
def test_library_pages_forward_and_back(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    for n in range(5):
        admin.post_json("/api/v1/sales-literature", {"title": f"Leaflet {n}", "kind": "brochure"})
    _login(page, live_server, make_user, lang, "pages")
    page.goto(f"{live_server}/catalog/literature?limit=2")
    table, pager = page.locator("#literature-table"), page.locator("#literature-pager")
    expect(table).to_contain_text("Leaflet 1")
    expect(table).not_to_contain_text("Leaflet 2")
    expect(pager).to_contain_text(w["count"].format(a=1, b=2, n=5))
    expect(pager).to_contain_text(w["page"].format(p=1, n=3))
    expect(pager.get_by_role("link", name=w["previous"])).to_have_count(0)
    pager.get_by_role("link", name=w["next"]).click()
    expect(table).to_contain_text("Leaflet 2")
    expect(table).not_to_contain_text("Leaflet 1")
    expect(pager).to_contain_text(w["count"].format(a=3, b=4, n=5))
    pager.get_by_role("link", name=w["next"]).click()
    expect(table).to_contain_text("Leaflet 4")
    expect(pager.get_by_role("link", name=w["next"])).to_have_count(0)
    save_screenshot(page, f"literature-library-last-page-{lang}")
    pager.get_by_role("link", name=w["previous"]).click()
    expect(pager).to_contain_text(w["page"].format(p=2, n=3))
    expect(table).to_contain_text("Leaflet 3")


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_refused_send_is_shown_and_sent_again(
    page, live_server, make_user, api, smtp_server, lang
):
    w = WORDS[lang]
    admin = api("admin")
    doc = admin.post_json("/api/v1/sales-literature", {"title": "Catalogue", "kind": "brochure"})
    admin.post(
        f"/api/v1/sales-literature/{doc.json['id']}/attachments",
        upload_files=[("file", "catalogue.pdf", _pdf("Catalogue"))],
    )
    acc = admin.post_json("/api/v1/accounts", {"name": f"Refused {lang}"}).json
    email = f"nikos-{lang}@example.gr"
    admin.post_json(
        "/api/v1/persons",
        {"first_name": "Νίκος", "last_name": "Ρήγας", "email": email, "account_id": acc["id"]},
    )
    _login(page, live_server, make_user, lang, "refused")
    smtp_server.refuse = "550 5.1.1 Mailbox unavailable"
    page.goto(f"{live_server}/catalog/literature/send?entity=account&id={acc['id']}")
    form = page.locator("#literature-send-form")
    form.get_by_label("Catalogue").check()
    form.get_by_role("button", name=w["send"], exact=True).click()
    # no error page: the account, whose timeline says the send failed and why
    main = page.locator("main")
    expect(main).to_contain_text(w["failed"].format(email=email))
    expect(main).to_contain_text("Mailbox unavailable")
    save_screenshot(page, f"literature-send-failed-{lang}")
    smtp_server.refuse = None
    main.get_by_role("link", name=w["failed"].format(email=email)).click()
    expect(page.locator("#literature-sent-reason")).to_contain_text("550 5.1.1")
    page.get_by_role("button", name=w["again"]).click()
    expect(page.locator("#literature-sent-state")).to_have_text(w["state_sent"])
    msg = smtp_server.wait(1)[0]
    assert msg.envelope_to == [email]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_busy_server_is_tried_again_by_itself(
    page, live_server, make_user, api, smtp_server, registry, lang
):
    """An SMTP 4xx: the account's timeline and the send's page say the send waits to be
    tried again, when, and how many attempts it had; a minute later the job queue sends
    it without the user doing anything."""
    from kyklos.jobs import run_scheduled

    from kyklos_sdk import utcnow

    w = WORDS[lang]
    admin = api("admin")
    doc = admin.post_json("/api/v1/sales-literature", {"title": "Price sheet", "kind": "brochure"})
    admin.post(
        f"/api/v1/sales-literature/{doc.json['id']}/attachments",
        upload_files=[("file", "prices.pdf", _pdf("Prices"))],
    )
    acc = admin.post_json("/api/v1/accounts", {"name": f"Busy {lang}"}).json
    email = f"eleni-{lang}@example.gr"
    admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ελένη", "last_name": "Δούκα", "email": email, "account_id": acc["id"]},
    )
    _login(page, live_server, make_user, lang, "busy")
    smtp_server.refuse = "451 4.3.2 Try again later"
    page.goto(f"{live_server}/catalog/literature/send?entity=account&id={acc['id']}")
    form = page.locator("#literature-send-form")
    form.get_by_label("Price sheet").check()
    form.get_by_role("button", name=w["send"], exact=True).click()
    main = page.locator("main")
    expect(main).to_contain_text(w["will_retry"].format(email=email))
    main.get_by_role("link", name=w["will_retry"].format(email=email)).click()
    expect(page.locator("#literature-sent-state")).to_have_text(w["waiting"])
    expect(page.locator("#literature-sent-attempts")).to_have_text("1")
    expect(page.locator("#literature-sent")).to_contain_text(w["next_attempt"])
    expect(page.locator("#literature-sent-next")).not_to_be_empty()
    expect(page.locator("#literature-sent-reason")).to_contain_text("451 4.3.2")
    expect(page.get_by_role("button", name=w["again"])).to_have_count(0)
    save_screenshot(page, f"literature-send-retrying-{lang}")
    smtp_server.refuse = None
    assert run_scheduled(registry, until=utcnow() + dt.timedelta(seconds=65)) == 1
    page.reload()
    expect(page.locator("#literature-sent-state")).to_have_text(w["state_sent"])
    expect(page.locator("#literature-sent-attempts")).to_have_text("2")
    msg = smtp_server.wait(1)[0]
    assert msg.envelope_to == [email]


CHOSEN = {"en": "Also chosen on other pages: 1", "el": "Επιλεγμένα και σε άλλες σελίδες: 1"}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_the_send_form_pages_through_documents_keeping_the_choice(
    page, live_server, make_user, api, smtp_server, lang
):
    """More documents than a page of the send form: a document ticked on page 1 stays
    chosen on page 2, with the message, and both are sent."""
    w = WORDS[lang]
    admin = api("admin")
    for n in range(5):
        d = admin.post_json(
            "/api/v1/sales-literature", {"title": f"Leaflet {n}", "kind": "brochure"}
        ).json
        admin.post(
            f"/api/v1/sales-literature/{d['id']}/attachments",
            upload_files=[("file", f"leaflet-{n}.pdf", _pdf(f"Leaflet {n}"))],
        )
    acc = admin.post_json("/api/v1/accounts", {"name": f"Paged {lang}"}).json
    email = f"petros-{lang}@example.gr"
    admin.post_json(
        "/api/v1/persons",
        {"first_name": "Πέτρος", "last_name": "Ζάχος", "email": email, "account_id": acc["id"]},
    )
    _login(page, live_server, make_user, lang, "paged")
    page.goto(f"{live_server}/catalog/literature/send?entity=account&id={acc['id']}&limit=2")
    form = page.locator("#literature-send-form")
    expect(page.locator("#literature-send-pager")).to_contain_text(w["count"].format(a=1, b=2, n=5))
    form.get_by_label("Leaflet 0").check()
    form.locator("#ls-message").fill("Καλημέρα σας")
    form.get_by_role("button", name=w["next"]).click()
    expect(page.locator("#literature-send-pager")).to_contain_text(w["count"].format(a=3, b=4, n=5))
    expect(page.locator("#literature-send-chosen-elsewhere")).to_have_text(CHOSEN[lang])
    expect(page.locator("#ls-message")).to_have_value("Καλημέρα σας")
    page.locator("#literature-send-form").get_by_label("Leaflet 3").check()
    save_screenshot(page, f"literature-send-paged-{lang}")
    page.locator("#literature-send-form").get_by_role("button", name=w["send"], exact=True).click()
    expect(page.locator("main")).to_contain_text(w["timeline"])
    msg = smtp_server.wait(1)[0]
    assert sorted(p.get_filename() for p in msg.iter_attachments()) == [
        "leaflet-0.pdf",
        "leaflet-3.pdf",
    ]

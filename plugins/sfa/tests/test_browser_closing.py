"""A sales manager's day in real Chromium, in English and in Greek: convert a lead,
mark the opportunity lost with a reason from the board (the dialog shows the API's
refusal first), win another from its page, make a quote with two lines from it and
download its PDF. In Greek no English word is left on those pages."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from kyklos_sdk import User
from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

COMPANY = {
    "company.name": "Κύκλος Λύσεις ΙΚΕ",
    "company.address": "Λεωφ. Κηφισίας 44\n151 25 Μαρούσι",
    "company.vat_number": "EL801234567",
    "company.email": "sales@kyklos.example",
    "company.phone": "+30 210 6000000",
    "company.bank_details": "IBAN GR16 0110 1250 0000 0001 2300 695",
}

#: per language: words the pages must show (the translations), and for Greek the
#: Latin-script words that may remain (codes, the product's name, data typed in Latin)
LANG = {
    "en": {
        "lost_error": "Reason for loss: Say why the deal was lost.",
        "reason": "Competitor",
        "page": "Page 1 of 1",
        "customer": "CUSTOMER",
        "total": "Total",
        "won": "is won.",
    },
    "el": {
        "lost_error": "Αιτία απώλειας: Πείτε γιατί χάθηκε η συμφωνία.",
        "reason": "Ανταγωνιστής",
        "page": "Σελίδα 1 από 1",
        "customer": "ΠΕΛΑΤΗΣ",
        "total": "Σύνολο",
        "won": "κερδήθηκε",
    },
}
ALLOWED_LATIN = {"EUR", "Kyklos", "PDF", "IBAN", "GR", "EL", "Q"}


def _login(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] [type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


def _english_left(page, selector="#main") -> list[str]:
    """Latin-script words in the visible text of ``selector`` (for the Greek run)."""
    text = page.locator(selector).inner_text()
    words = set(re.findall(r"[A-Za-z][A-Za-z'’]+", text))
    return sorted(
        w for w in words if w not in ALLOWED_LATIN and not re.fullmatch(r"Q|[A-Z]{2}\d*", w)
    )


def _pdf_text(body: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


@pytest.mark.parametrize("lang", ["en", "el"])
def test_convert_lose_from_the_board_win_and_quote(
    page, live_server, dbsession, api, stages, loss_reasons, lang
):
    words = LANG[lang]
    admin = api("admin")
    admin.patch_json("/api/v1/_settings", {**COMPANY, "currency.default": "EUR"})
    email = f"manager-{lang}@example.com"
    # the manager's own token: the records she makes carry her (Greek) name
    mgr = api("manager", email=email)
    with dbsession() as db:
        user = db.get(User, mgr.user_id)
        user.name, user.locale = "Μαρία Οικονόμου", lang
        db.get(User, admin.user_id).name = "Διαχειριστής"  # listed in the owner filter
    lead = mgr.post_json(
        "/api/v1/leads",
        {
            "first_name": "Ελένη",
            "last_name": "Παπαδάκη",
            "company": "Αιγαίο Τρόφιμα ΑΕ",
            "country": "GR",
        },
    ).json
    acc = mgr.post_json(
        "/api/v1/accounts",
        {
            "name": "Βόρειο Αιγαίο ΑΕ",
            "city": "Μυτιλήνη",
            "country": "GR",
            "vat_number": "EL094014201",
        },
    ).json
    per = mgr.post_json(
        "/api/v1/persons",
        {"first_name": "Νίκος", "last_name": "Λαμπράκης", "account_id": acc["id"]},
    ).json
    other = mgr.post_json(
        "/api/v1/opportunities",
        {
            "name": "Ψυκτικοί θάλαμοι",
            "stage_id": stages["negotiation"],
            "account_id": acc["id"],
            "person_id": per["id"],
            "amount": {"amount": "40000", "currency": "EUR"},
        },
    ).json

    _login(page, live_server, email)

    # --- convert the lead ---------------------------------------------------------------
    page.goto(f"{live_server}/sfa/leads/{lead['id']}/convert")
    page.fill("#sfa-opp-amount", "12500")
    page.locator("#sfa-convert-form [type=submit]").first.click()
    expect(page).to_have_url(re.compile(r"/opportunities/\d+$"))
    opp_id = int(page.url.rsplit("/", 1)[1])

    # --- mark it lost from the board ------------------------------------------------------
    page.goto(f"{live_server}/sfa/pipeline")
    card = page.locator(f"#sfa-card-{opp_id}")
    expect(card).to_be_visible()
    save_screenshot(page, f"sfa-board-{lang}")
    save_screenshot(page, f"sfa-board-{lang}", phone=True)
    if lang == "el":
        assert _english_left(page) == []
    card.locator(".sfa-lost-link").click()
    dialog = page.locator("#sfa-lost-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".sfa-lost-name")).to_have_text("Αιγαίο Τρόφιμα ΑΕ")
    # no reason: the API's own words, with the field's title, not "[object Object]"
    dialog.locator(".sfa-lost-submit").click()
    errors = dialog.locator(".sfa-dialog-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text(words["lost_error"])
    assert "object" not in errors.inner_text()
    save_screenshot(page, f"sfa-board-lost-dialog-{lang}")
    if lang == "el":
        assert _english_left(page, "#sfa-lost-dialog") == []
    dialog.locator("select[name=loss_reason_id]").select_option(label=words["reason"])
    with page.expect_navigation():
        dialog.locator(".sfa-lost-submit").click()
    lost_card = page.locator(f".sfa-column[data-stage-id='{stages['lost']}'] #sfa-card-{opp_id}")
    expect(lost_card).to_be_visible()
    expect(lost_card.locator(".sfa-loss")).to_have_text(words["reason"])
    got = mgr.get(f"/api/v1/opportunities/{opp_id}").json
    assert (got["status"], got["loss_reason_id"]) == ("lost", loss_reasons["Competitor"])

    # --- win the other one from its page ---------------------------------------------------
    page.goto(f"{live_server}/opportunities/{other['id']}")
    actions = page.locator(".k-actions")
    expect(actions.locator(f"a[href$='/sfa/opportunities/{other['id']}/lost']")).to_be_visible()
    save_screenshot(page, f"sfa-opportunity-{lang}")
    if lang == "el":
        assert _english_left(page) == []
    # its "Mark as lost" opens the same dialog on the record page; cancel closes it
    actions.locator(f"a[href$='/sfa/opportunities/{other['id']}/lost']").click()
    dialog = page.locator("#sfa-lost-dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator("select[name=loss_reason_id] option")).to_have_count(7)
    save_screenshot(page, f"sfa-opportunity-lost-dialog-{lang}")
    dialog.locator("button.sfa-dialog-cancel").last.click()
    expect(dialog).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"/opportunities/{other['id']}$"))
    actions.locator(f"form[action$='/{other['id']}/won'] button").click()
    expect(page.locator("#main .alert-success")).to_contain_text(words["won"])
    assert mgr.get(f"/api/v1/opportunities/{other['id']}").json["status"] == "won"

    # --- a quote from it, two lines, its PDF -------------------------------------------------
    page.locator("a[href*='/quotes/new']").first.click()
    form = page.locator("#k-record-form")
    expect(form.locator("[name=title]")).to_have_value("Ψυκτικοί θάλαμοι")
    expect(form.locator("[name=currency]")).to_have_value("EUR")
    form.locator("button[name=save]").click()
    expect(page).to_have_url(re.compile(r"/quotes/\d+$"))
    quote_id = int(page.url.rsplit("/", 1)[1])
    lines = [
        ("Ψυκτικός θάλαμος 20 m³", "2", "8.450,00", "5", "24"),
        ("Εγκατάσταση και εκκίνηση", "1", "1.200,00", "0", "24"),
    ]
    for desc, qty, price, disc, tax in lines:
        add = page.locator("#sfa-lines")
        add.locator("[name=description]").fill(desc)
        add.locator("[name=quantity]").fill(qty)
        add.locator("[name=unit_price]").fill(price)
        add.locator("[name=discount_percent]").fill(disc)
        add.locator("[name=tax_rate]").fill(tax)
        add.locator("[type=submit]").click()
        expect(page.locator("#main .alert-success")).to_be_visible()
    # 2 x 8450 - 5 % = 16055.00; + 1200 = 17255.00 net; 24 % tax 4141.20; 21396.20
    q = mgr.get(f"/api/v1/quotes/{quote_id}").json
    assert str(q["total"]) in ("21396.20", "{'amount': '21396.20', 'currency': 'EUR'}")
    save_screenshot(page, f"sfa-quote-{lang}")
    if lang == "el":
        assert _english_left(page) == []

    pdf_href = page.locator(f".k-actions a[href$='/sfa/quotes/{quote_id}/pdf']")
    expect(pdf_href).to_be_visible()
    res = page.request.get(f"{live_server}/sfa/quotes/{quote_id}/pdf")
    assert res.ok and res.headers["content-type"] == "application/pdf"
    text = _pdf_text(res.body())
    flat = " ".join(text.split())
    for part in (
        "Κύκλος Λύσεις ΙΚΕ",
        "Λεωφ. Κηφισίας 44",
        "151 25 Μαρούσι",
        "EL801234567",
        "sales@kyklos.example",
        "GR16 0110 1250",
        "Ψυκτικοί θάλαμοι",
        "Βόρειο Αιγαίο ΑΕ",
        "Μυτιλήνη",
        "EL094014201",
        "Νίκος Λαμπράκης",
        "Ψυκτικός θάλαμος 20 m³",
        "Εγκατάσταση και εκκίνηση",
        words["page"],
        words["customer"],
        q["number"],
    ):
        assert part in flat, part
    money = {
        "en": ("€16,055.00", "€17,255.00", "€4,141.20", "€21,396.20"),
        "el": ("16.055,00", "17.255,00", "4.141,20", "21.396,20"),
    }[lang]
    for amount in money:
        assert amount in flat, amount
    assert re.search(rf"{words['total']}\s*\S*21[.,]396[.,]20", flat)
    if lang == "el":
        for english in (
            "Quote",
            "Customer",
            "Description",
            "Unit price",
            "Net total",
            "Page 1",
            "Valid until",
            "Payment details",
            "Discount",
        ):
            assert english not in flat, english


def test_the_board_shows_the_refusal_in_words(page, live_server, api, stages):
    """A rep drags their deal to the won column: the board says why it was refused
    (the problem+json field error with the field's title), not "[object Object]"."""
    rep = api("sales")
    opp = rep.post_json(
        "/api/v1/opportunities", {"name": "Not mine to close", "stage_id": stages["qualification"]}
    ).json
    _login(page, live_server, rep.email)
    page.set_viewport_size({"width": 2000, "height": 900})  # every column in view to drag
    page.goto(f"{live_server}/sfa/pipeline")
    card = page.locator(f"#sfa-card-{opp['id']}")
    expect(card.locator(".sfa-won")).to_have_count(0)  # reps do not close deals
    card.drag_to(
        page.locator(f".sfa-column[data-stage-id='{stages['contract_signed']}'] .sfa-cards")
    )
    message = page.locator("#sfa-board-message")
    expect(message).to_be_visible()
    expect(message).to_have_text("Stage: Only a sales director may close or reopen a deal.")
    # the card went back where it was, no longer faded
    back = page.locator(
        f".sfa-column[data-stage-id='{stages['qualification']}'] #sfa-card-{opp['id']}"
    )
    expect(back).to_be_visible()
    expect(back).not_to_have_class(re.compile("sfa-dragging"))
    save_screenshot(page, "sfa-board-refusal")

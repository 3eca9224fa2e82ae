"""Mailbox rules in real Chromium, in English and in Greek: a sales rep makes a rule on
the record form (the mailbox and the account chosen from drop-downs by name, the
attachment condition in words), tries it on the mailbox's recent messages, and the
next fetch applies it: the message shows the rule and is filed to the account."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "name": "Name",
        "subject": "Subject contains",
        "attachments": "Attachments",
        "has": "Has attachments",
        "save": "Save",
        "try": "Try on recent messages",
        "matches": "Matches",
        "rule_applied": "Rule that applied",
    },
    "el": {
        "name": "Όνομα",
        "subject": "Το θέμα περιέχει",
        "attachments": "Συνημμένα",
        "has": "Έχει συνημμένα",
        "save": "Αποθήκευση",
        "try": "Δοκιμή σε πρόσφατα μηνύματα",
        "matches": "Ταιριάζει",
        "rule_applied": "Κανόνας που εφαρμόστηκε",
    },
}


def _message(sender, subject, attachment=False):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "me@example.com", subject
    m.set_content("plain")
    if attachment:
        m.add_attachment(
            b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="τιμολόγιο.pdf"
        )
    return m.as_bytes()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_makes_tries_and_applies_a_rule(
    page, live_server, make_user, make_record, dbsession, registry, imap, lang
):
    w = WORDS[lang]
    dovecot, user, password = imap
    email = f"rules-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    make_record("account", name="Ακμή ΑΕ", owner_id=uid)
    dovecot.append(
        user,
        password,
        _message("billing@vendor.example", "Τιμολόγιο 2026-001", attachment=True),
        _message("friend@vendor.example", "Καφές;"),
    )
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        box = Mailbox(
            name="Maria",
            address="me@example.com",
            kind="personal",
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            username=user,
            password_secret=encrypt(registry, password),
            folder="INBOX",
            smtp_port=587,
            smtp_security="none",
            file_by_domain=True,
            active=True,
            state="new",
            last_uid=0,
            owner_id=uid,
            custom={},
        )
        db.add(box)
        db.flush()
        box_id = box.id
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")
    # the first fetch, before any rule: the dry run has messages to try
    page.goto(f"{live_server}/mailboxes/{box_id}")
    page.locator(f"form[action$='/mail/mailboxes/{box_id}/fetch'] button").click()

    page.goto(f"{live_server}/mail-rules/new")
    page.get_by_label(w["name"], exact=True).fill("Τιμολόγια")
    page.locator("select[name='mailbox_id']").select_option(label="Maria")
    page.get_by_label(w["subject"], exact=True).fill("τιμολόγιο")
    page.get_by_label(w["attachments"], exact=True).select_option(label=w["has"])
    page.locator("select[name='file_account_id']").select_option(label="Ακμή ΑΕ")
    save_screenshot(page, f"mail-rule-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Τιμολόγια")
    save_screenshot(page, f"mail-rule-{lang}")

    page.get_by_role("link", name=w["try"]).click()
    rows = page.locator(".k-dry-run tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator(".k-dry-run tr.k-match")).to_have_count(1)
    expect(page.locator(".k-dry-run tr.k-match")).to_contain_text(w["matches"])
    expect(page.locator(".k-dry-run tr.k-match")).to_contain_text("Τιμολόγιο 2026-001")
    save_screenshot(page, f"mail-rule-dry-run-{lang}")

    # a new invoice arrives: the rule files it to the account and the message says so
    dovecot.append(
        user, password, _message("billing@vendor.example", "Τιμολόγιο 2026-002", attachment=True)
    )
    page.goto(f"{live_server}/mailboxes/{box_id}")
    page.locator(f"form[action$='/mail/mailboxes/{box_id}/fetch'] button").click()
    page.goto(f"{live_server}/mail-messages")
    page.get_by_role("link", name="Τιμολόγιο 2026-002").first.click()
    main = page.locator("main")
    expect(main).to_contain_text(w["rule_applied"])
    expect(main).to_contain_text("Τιμολόγια")
    expect(page.locator(".k-mail-filed")).to_contain_text("Ακμή ΑΕ")
    save_screenshot(page, f"mail-rule-applied-{lang}")

"""The mail plugin in real Chromium, in English and in Greek: a sales rep's mailbox is
fetched from Dovecot; its page shows the connection state, the ledger lists every
message with its outcome, the reconciliation shows a gap and "Resync" closes it; the
person's timeline shows the e-mail, whose page shows the sanitised body and files it to
an account picked by name; and a reply is written from the person's page."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect
from sqlalchemy import delete

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "working": "Working",
        "ledger": "Ledger",
        "filed": "Filed",
        "missing": "Missing from the ledger",
        "resync": "Resync",
        "in_sync": "Every message on the server is accounted for.",
        "file": "File",
        "accounts": "Account",
        "filed_to": "Filed to",
        "write": "Write an e-mail",
        "send": "Send",
        "sent": "The message is sent and filed.",
    },
    "el": {
        "working": "Λειτουργεί",
        "ledger": "Βιβλίο μηνυμάτων",
        "filed": "Αρχειοθετήθηκε",
        "missing": "Λείπουν από το βιβλίο",
        "resync": "Επανασυγχρονισμός",
        "in_sync": "Όλα τα μηνύματα του διακομιστή έχουν καταγραφεί.",
        "file": "Αρχειοθέτηση",
        "accounts": "Λογαριασμός",
        "filed_to": "Αρχειοθετήθηκε σε",
        "write": "Σύνταξη e-mail",
        "send": "Αποστολή",
        "sent": "Το μήνυμα στάλθηκε και αρχειοθετήθηκε.",
    },
}


def _message(sender, subject, html):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "me@example.com", subject
    m.set_content("plain")
    m.add_alternative(html, subtype="html")
    return m.as_bytes()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_reads_files_and_answers_mail(
    page, live_server, make_user, make_record, dbsession, registry, imap, smtp_server, lang
):
    w = WORDS[lang]
    dovecot, user, password = imap
    email = f"mail-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    acme = make_record("account", name="Ακμή ΑΕ", owner_id=uid)
    anna = make_record(
        "person", first_name="Άννα", last_name="Παππά", email="anna@acme.example", owner_id=uid
    )
    dovecot.append(
        user,
        password,
        _message(
            "Άννα Παππά <anna@acme.example>",
            "Προσφορά για 200 κιβώτια",
            "<p>Καλημέρα,<br><b>θα θέλαμε</b> προσφορά.</p><script>alert(1)</script>",
        ),
        _message("x@unknown.example", "Newsletter", "<p>News</p>"),
    )
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import LedgerEntry, Mailbox

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
            smtp_host="127.0.0.1",
            smtp_port=smtp_server.port,
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

    # "Fetch now" on the mailbox's page; the state shows in words
    page.goto(f"{live_server}/mailboxes/{box_id}")
    page.locator(f"form[action$='/mail/mailboxes/{box_id}/fetch'] button").click()
    page.goto(f"{live_server}/mailboxes/{box_id}")
    expect(page.locator(".k-mail-state")).to_contain_text(w["working"])
    save_screenshot(page, f"mail-mailbox-{lang}")

    page.goto(f"{live_server}/mail/mailboxes/{box_id}/ledger")
    expect(page.locator("h1")).to_contain_text("Maria")
    expect(page.locator(".k-ledger tbody tr")).to_have_count(2)
    expect(page.locator(".k-ledger")).to_contain_text(w["filed"])
    save_screenshot(page, f"mail-ledger-{lang}")

    with dbsession() as db:  # a silent loss: one entry vanishes
        db.execute(delete(LedgerEntry).where(LedgerEntry.uid == 2))
    page.goto(f"{live_server}/mail/mailboxes/{box_id}/reconcile")
    expect(page.locator(".k-missing-count")).to_have_text("1")
    expect(page.locator(".k-gaps")).to_contain_text("2")
    save_screenshot(page, f"mail-reconcile-gap-{lang}")
    page.get_by_role("button", name=w["resync"]).click()
    page.goto(f"{live_server}/mail/mailboxes/{box_id}/reconcile")
    expect(page.locator(".k-in-sync")).to_have_text(w["in_sync"])

    # the person's timeline shows the e-mail; its page shows the body, sanitised
    page.goto(f"{live_server}/persons/{anna}")
    link = page.get_by_role("link", name="Προσφορά για 200 κιβώτια").first
    expect(link).to_be_visible()
    save_screenshot(page, f"mail-person-timeline-{lang}")
    link.click()
    body = page.locator(".k-mail-body")
    expect(body.locator("b")).to_have_text("θα θέλαμε")
    expect(body.locator("script")).to_have_count(0)
    # file it by hand to the account, chosen by name
    form = page.locator(".k-mail-file-to")
    form.locator("select[name='entity']").select_option("account")
    form.locator("select[name='record_account']").select_option(label="Ακμή ΑΕ")
    form.get_by_role("button", name=w["file"]).click()
    expect(page.locator(".k-mail-filed")).to_contain_text("Ακμή ΑΕ")
    save_screenshot(page, f"mail-message-{lang}")

    # write from the person's page
    page.goto(f"{live_server}/persons/{anna}")
    page.get_by_role("link", name=w["write"]).click()
    page.locator("#subject").fill("Η προσφορά μας")
    # the message is written in the rich-text editor
    page.locator(".k-richtext .ql-editor").fill("Καλημέρα Άννα, σας στέλνουμε την προσφορά.")
    save_screenshot(page, f"mail-compose-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("body")).to_contain_text(w["sent"])
    assert smtp_server.wait(1)[0]["Subject"] == "Η προσφορά μας"
    assert acme

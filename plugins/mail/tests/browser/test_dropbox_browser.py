"""The drop-box address and the rule editor's new conditions in real Chromium, in
English and in Greek: a rep opens their drop-box address from a mailbox page, copies
it and makes a new one; then writes a rule on a header and on the text, chosen from
drop-downs in words, and tries it on the mailbox's messages."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "dropbox": "Your drop-box address",
        "copy": "Copy",
        "copied": "Copied.",
        "new": "Make a new address",
        "name": "Name",
        "text": "Text contains",
        "header": "Header",
        "op": "Header condition",
        "value": "Header value",
        "contains": "contains",
        "save": "Save",
        "try": "Try on recent messages",
    },
    "el": {
        "dropbox": "Η διεύθυνση συλλογής σας",
        "copy": "Αντιγραφή",
        "copied": "Αντιγράφηκε.",
        "new": "Νέα διεύθυνση",
        "name": "Όνομα",
        "text": "Το κείμενο περιέχει",
        "header": "Κεφαλίδα",
        "op": "Συνθήκη κεφαλίδας",
        "value": "Τιμή κεφαλίδας",
        "contains": "περιέχει",
        "save": "Αποθήκευση",
        "try": "Δοκιμή σε πρόσφατα μηνύματα",
    },
}


def _message(sender, subject, body, **headers):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "me@example.com", subject
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_the_drop_box_address_and_a_header_rule(
    page, live_server, make_user, dbsession, registry, imap, lang
):
    w = WORDS[lang]
    dovecot, user, password = imap
    email = f"dropbox-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    dovecot.append(
        user,
        password,
        _message("news@list.example", "Νέα", "Εβδομαδιαία νέα", List_Id="<news.list.example>"),
        _message("eleni@client.example", "Παραγγελία", "Στείλτε μου την προσφορά, παρακαλώ."),
    )
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        common = dict(
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            password_secret=encrypt(registry, password),
            folder="INBOX",
            smtp_port=587,
            smtp_security="none",
            file_by_domain=True,
            active=True,
            state="new",
            last_uid=0,
            custom={},
        )
        box = Mailbox(
            name="Maria",
            address="me@example.com",
            kind="personal",
            username=user,
            owner_id=uid,
            **common,
        )
        drop = Mailbox(
            name="Drop-box",
            address="dropbox@crm.example",
            kind="shared",
            dropbox=True,
            username="nobody-" + lang,
            **common,
        )
        db.add_all([box, drop])
        db.flush()
        box_id = box.id
    page.set_viewport_size({"width": 1280, "height": 900})
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")

    page.goto(f"{live_server}/mailboxes/{box_id}")
    page.locator(f"form[action$='/mail/mailboxes/{box_id}/fetch'] button").click()
    page.goto(f"{live_server}/mailboxes/{box_id}")
    page.get_by_role("link", name=w["dropbox"]).click()
    expect(page.locator("h1")).to_contain_text(w["dropbox"])
    field = page.locator("input.k-dropbox-address")
    first = field.input_value()
    assert first.startswith("dropbox+") and first.endswith("@crm.example")
    page.get_by_role("button", name=w["copy"], exact=True).click()
    expect(page.locator(".k-copied")).to_have_text(w["copied"])
    assert page.evaluate("navigator.clipboard.readText()") == first
    save_screenshot(page, f"mail-dropbox-{lang}")
    page.get_by_role("button", name=w["new"]).click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert page.locator("input.k-dropbox-address").input_value() != first
    save_screenshot(page, f"mail-dropbox-new-{lang}")

    page.goto(f"{live_server}/mail-rules/new")
    page.get_by_label(w["name"], exact=True).fill("Λίστες")
    page.locator("select[name='mailbox_id']").select_option(label="Maria")
    page.get_by_label(w["header"], exact=True).fill("List-Id")
    page.get_by_label(w["op"], exact=True).select_option(label=w["contains"])
    page.get_by_label(w["value"], exact=True).fill("news.list.example")
    page.get_by_label(w["text"], exact=True).fill("νέα")
    page.locator("input[name='make_private']").check()
    save_screenshot(page, f"mail-rule-header-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Λίστες")
    page.get_by_role("link", name=w["try"]).click()
    expect(page.locator(".k-dry-run tbody tr")).to_have_count(2)
    expect(page.locator(".k-dry-run tr.k-match")).to_have_count(1)
    expect(page.locator(".k-dry-run tr.k-match")).to_contain_text("Νέα")
    save_screenshot(page, f"mail-rule-header-dry-run-{lang}")

"""HTML templates in real Chromium, in English and in Greek: a rep previews a shared
template filled from a person picked with the searchable picker (the Greek version,
the person's language), then writes to her choosing the template from the compose
form's drop-down, and the message leaves as HTML with a plain-text alternative."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "preview_action": "Preview with a record",
        "preview": "Preview",
        "person": "Person",
        "write": "Write an e-mail",
        "use": "Use this template",
        "send": "Send",
        "sent": "The message is sent and filed.",
        "language": "Ελληνικά",
    },
    "el": {
        "preview_action": "Προεπισκόπηση με εγγραφή",
        "preview": "Προεπισκόπηση",
        "person": "Πρόσωπο",
        "write": "Σύνταξη e-mail",
        "use": "Χρήση αυτού του προτύπου",
        "send": "Αποστολή",
        "sent": "Το μήνυμα στάλθηκε και αρχειοθετήθηκε.",
        "language": "Ελληνικά",
    },
}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_previews_and_writes_with_a_template(
    page, live_server, make_user, make_record, dbsession, registry, smtp_server, lang
):
    w = WORDS[lang]
    email = f"tpl-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    anna = make_record(
        "person",
        first_name="Άννα",
        last_name="Παππά",
        email="anna@acme.example",
        owner_id=uid,
        language="el",
    )
    make_record("mailtemplate", name="Welcome", language="en", subject="Welcome", body="<p>Hi</p>")
    offer = make_record(
        "mailtemplate",
        name="Offer",
        language="en",
        subject="Our offer, {{ first_name }}",
        body="<p>Dear {{ first_name or 'customer' }},</p><p>our <b>offer</b>.</p>",
    )
    make_record(
        "mailtemplate",
        name="Προσφορά",
        language="el",
        subject="Η προσφορά μας, {{ first_name }}",
        body=(
            "<p>Αγαπητή {{ first_name or 'πελάτη' }},</p><p>η <b>προσφορά</b> μας.<br>"
            "{{ my_name }}</p>"
        ),
        translation_of_id=offer,
    )
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        db.add(
            Mailbox(
                name="Maria",
                address="me@example.com",
                kind="personal",
                imap_host="127.0.0.1",
                imap_port=143,
                imap_security="none",
                username="me",
                password_secret=encrypt(registry, "secret"),
                folder="INBOX",
                smtp_host="127.0.0.1",
                smtp_port=smtp_server.port,
                smtp_security="none",
                file_by_domain=False,
                active=True,
                state="new",
                last_uid=0,
                owner_id=uid,
                custom={},
            )
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")

    # the preview: the person is found by typing part of her name
    page.goto(f"{live_server}/mail-templates/{offer}")
    page.get_by_role("link", name=w["preview_action"]).click()
    form = page.locator("form.k-preview-pick[data-kind=person]")
    form.locator(".ts-control").click()
    page.keyboard.type("Παππ", delay=30)
    page.wait_for_load_state("networkidle")
    form.locator(".ts-dropdown .option", has_text="Άννα Παππά").click()
    page.keyboard.press("Escape")
    page.wait_for_load_state("networkidle")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    form.get_by_role("button", name=w["preview"]).click()
    preview = page.locator(".k-template-preview")
    expect(preview.locator(".k-preview-subject")).to_have_text("Η προσφορά μας, Άννα")
    expect(preview.locator(".k-preview-body")).to_contain_text("Αγαπητή Άννα,")
    expect(preview.locator(".k-preview-body b")).to_have_text("προσφορά")
    expect(preview).to_contain_text(w["language"])
    save_screenshot(page, f"mail-template-preview-{lang}")

    # the compose form: the template chosen from the drop-down, filled in Greek
    page.goto(f"{live_server}/persons/{anna}")
    page.get_by_role("link", name=w["write"]).click()
    expect(page.locator("#template option")).to_have_text(["Offer", "Welcome"])
    page.locator("#template").select_option(label="Offer")
    page.get_by_role("button", name=w["use"]).click()
    expect(page.locator("#subject")).to_have_value("Η προσφορά μας, Άννα")
    expect(page.locator("#body_html")).to_have_value(
        "<p>Αγαπητή Άννα,</p><p>η <b>προσφορά</b> μας.<br>Maria Rep</p>"
    )
    expect(page.locator(".k-template-language")).to_contain_text("Ελληνικά")
    expect(page.locator(".k-compose-preview b")).to_have_text("προσφορά")
    save_screenshot(page, f"mail-compose-template-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator(".alert-success")).to_contain_text(w["sent"])
    sent = smtp_server.wait(1)[0]
    assert sent["Subject"] == "Η προσφορά μας, Άννα"
    assert sent.get_content_type() == "multipart/alternative"
    text, html = (p.get_content() for p in sent.iter_parts())
    assert "Αγαπητή Άννα," in text and "η προσφορά μας." in text and "<b>" not in text
    assert "<b>προσφορά</b>" in html

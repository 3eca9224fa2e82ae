"""Open tracking in real Chromium, in English and in Greek, on a site that allows it:
the compose form offers "Track opens and clicks" unticked; a rep ticks it, the
recipient's client loads the pixel, and the message's page says it was opened."""

from __future__ import annotations

import re
import urllib.request

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "write": "Write an e-mail",
        "track": "Track opens and clicks",
        "send": "Send",
        "sent": "The message is sent and filed.",
        "not_opened": "Not opened yet.",
        "opens": "Opens: 1",
    },
    "el": {
        "write": "Σύνταξη e-mail",
        "track": "Παρακολούθηση ανοιγμάτων και κλικ",
        "send": "Αποστολή",
        "sent": "Το μήνυμα στάλθηκε και αρχειοθετήθηκε.",
        "not_opened": "Δεν έχει ανοιχτεί ακόμη.",
        "opens": "Ανοίγματα: 1",
    },
}


@pytest.fixture
def kyklos_settings(kyklos_settings):
    return {**kyklos_settings, "kyklos.mail.tracking": "true"}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_tracks_a_message_and_sees_it_opened(
    page, live_server, make_user, make_record, dbsession, registry, imap, smtp_server, lang
):
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox, Message

    w = WORDS[lang]
    dovecot, user, password = imap
    email = f"track-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    with dbsession() as db:
        db.add(
            Mailbox(
                name="Maria",
                address="maria@example.com",
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
        )
    anna = make_record(
        "person", first_name="Άννα", last_name="Παππά", email="anna@akmi.example", owner_id=uid
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")

    page.goto(f"{live_server}/persons/{anna}")
    page.get_by_role("link", name=w["write"]).click()
    track = page.get_by_label(w["track"])
    expect(track).not_to_be_checked()  # off unless the rep asks
    track.check()
    page.locator("#subject").fill("Η προσφορά μας")
    page.locator("#body").fill("Καλημέρα Άννα.")
    save_screenshot(page, f"mail-compose-track-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("body")).to_contain_text(w["sent"])
    sent = smtp_server.wait(1)[0]
    html = sent.get_body(preferencelist=("html",)).get_content()
    pixel = re.search(r'<img src="([^"]+/mail/t/o/[^"]+)"', html).group(1)

    with dbsession() as db:
        from sqlalchemy import select

        mail_id = db.execute(select(Message.id).order_by(Message.id.desc())).scalar()
    page.goto(f"{live_server}/mail-messages/{mail_id}")
    expect(page.locator(".k-mail-tracking")).to_contain_text(w["not_opened"])
    # the recipient's mail client loads the image (no login)
    path = pixel.split("/mail/t/", 1)[1]
    with urllib.request.urlopen(f"{live_server}/mail/t/{path}", timeout=10) as res:
        assert res.status == 200 and res.headers["Content-Type"].startswith("image/gif")
    page.reload()
    expect(page.locator(".k-mail-tracking")).to_contain_text(w["opens"])
    save_screenshot(page, f"mail-message-tracked-{lang}")

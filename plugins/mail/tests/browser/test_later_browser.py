"""Templates and send later in real Chromium, in English and in Greek: a rep writes
from a person's page starting from a template filled in the person's language (merge
fields filled), picks a date and time (their own time zone, shown beside the field), finds the
message on "Your scheduled messages" with the time in their zone, and cancels it."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "write": "Write an e-mail",
        "use": "Use this template",
        "send": "Send",
        "scheduled_link": "Your scheduled messages",
        "scheduled": "Scheduled",
        "cancel": "Cancel sending",
        "cancelled": "Cancelled",
        "done": "The scheduled message is cancelled.",
    },
    "el": {
        "write": "Σύνταξη e-mail",
        "use": "Χρήση αυτού του προτύπου",
        "send": "Αποστολή",
        "scheduled_link": "Τα προγραμματισμένα μηνύματά σας",
        "scheduled": "Προγραμματισμένο",
        "cancel": "Ακύρωση αποστολής",
        "cancelled": "Ακυρώθηκε",
        "done": "Το προγραμματισμένο μήνυμα ακυρώθηκε.",
    },
}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_schedules_and_cancels_a_message(
    page, live_server, make_user, make_record, dbsession, registry, imap, smtp_server, lang
):
    w = WORDS[lang]
    dovecot, user, password = imap
    email = f"later-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    from kyklos_sdk import User

    with dbsession() as db:
        db.get(User, uid).timezone = "Europe/Athens"
    anna = make_record(
        "person",
        first_name="Άννα",
        last_name="Παππά",
        email="anna@acme.example",
        owner_id=uid,
        language="el",
    )
    reminder = make_record(
        "mailtemplate",
        name="Reminder",
        language="en",
        subject="Our meeting",
        body="<p>Dear {{ first_name }}, see you tomorrow.</p>",
        shared=True,
    )
    make_record(
        "mailtemplate",
        name="Υπενθύμιση",
        language="el",
        subject="Υπενθύμιση ραντεβού",
        body="<p>Καλημέρα {{ first_name }}, τα λέμε αύριο στις 10.<br>{{ my_name }}</p>",
        shared=True,
        translation_of_id=reminder,
    )
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        db.add(
            Mailbox(
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
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")

    page.goto(f"{live_server}/persons/{anna}")
    page.get_by_role("link", name=w["write"]).click()
    # the template is offered once; it is filled in the person's language
    expect(page.locator("#template option").first).to_have_text("Reminder")
    page.get_by_role("button", name=w["use"]).click()
    expect(page.locator("#subject")).to_have_value("Υπενθύμιση ραντεβού")
    expect(page.locator("#body_html")).to_have_value(
        "<p>Καλημέρα Άννα, τα λέμε αύριο στις 10.<br>Maria Rep</p>"
    )
    day = dt.date.today() + dt.timedelta(days=3)
    page.locator("#send_at").fill(f"{day.isoformat()}T09:30")
    expect(page.locator("#k-compose")).to_contain_text("Europe/Athens")
    save_screenshot(page, f"mail-send-later-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator(".alert-success")).to_be_visible()
    assert smtp_server.messages == []

    page.goto(f"{live_server}/mail/compose?about=person:{anna}")
    page.get_by_role("link", name=w["scheduled_link"]).click()
    row = page.locator(".k-scheduled tbody tr").first
    expect(row).to_contain_text("Υπενθύμιση ραντεβού")
    expect(row).to_contain_text(w["scheduled"])
    expect(row).to_contain_text("9:30")  # in the user's zone, as typed
    save_screenshot(page, f"mail-scheduled-{lang}")
    row.get_by_role("button", name=w["cancel"]).click()
    expect(page.locator("body")).to_contain_text(w["done"])
    expect(page.locator(".k-scheduled tbody tr").first).to_contain_text(w["cancelled"])
    save_screenshot(page, f"mail-scheduled-cancelled-{lang}")

"""Writing from an opportunity and from a case in real Chromium, in English and in
Greek: "Write an e-mail" on the record's page offers the people it names (the contact
ticked), the record's file is attached, and the message sent is on the record's
timeline; from a case the subject carries the case's number."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"write": "Write an e-mail", "send": "Send", "sent": "The message is sent and filed."},
    "el": {
        "write": "Σύνταξη e-mail",
        "send": "Αποστολή",
        "sent": "Το μήνυμα στάλθηκε και αρχειοθετήθηκε.",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa", "helpdesk", "mail"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_writes_from_an_opportunity_and_from_a_case(
    page, live_server, make_user, make_record, api, dbsession, registry, imap, smtp_server, lang
):
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults

    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox

    w = WORDS[lang]
    dovecot, user, password = imap
    email = f"anyrecord-{lang}@example.com"
    uid = make_user(email=email, roles=("manager",), name="Maria Rep", locale=lang)
    with dbsession() as db:
        ensure_defaults(db)
        stage = db.execute(select(Stage.id).order_by(Stage.id).limit(1)).scalar()
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
    acme = make_record("account", name="Ακμή ΑΕ", email="info@akmi.example", owner_id=uid)
    anna = make_record(
        "person",
        first_name="Άννα",
        last_name="Παππά",
        email="anna@akmi.example",
        account_id=acme,
        owner_id=uid,
    )
    admin = api("admin")
    opp = admin.post_json(
        "/api/v1/opportunities",
        {
            "name": "Νέα γραμμή παραγωγής",
            "account_id": acme,
            "person_id": anna,
            "stage_id": stage,
            "owner_id": uid,
        },
        status=201,
    ).json["id"]
    admin.post(
        f"/api/v1/opportunities/{opp}/attachments",
        upload_files=[("file", "prosfora.pdf", b"%PDF-1.4\n" + b"0" * 2000)],
        status=201,
    )
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Ο λέβητας δείχνει E42", "account_id": acme, "person_id": anna},
        status=201,
    ).json

    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")

    # from the opportunity: its contact ticked, its account offered, its file attached
    page.goto(f"{live_server}/opportunities/{opp}")
    page.get_by_role("link", name=w["write"]).click()
    expect(page.locator("nav").filter(has_text="Νέα γραμμή παραγωγής").first).to_be_visible()
    expect(page.get_by_label("Άννα Παππά <anna@akmi.example>")).to_be_checked()
    expect(page.get_by_label("Ακμή ΑΕ <info@akmi.example>")).not_to_be_checked()
    page.get_by_label("prosfora.pdf").check()
    page.locator("#subject").fill("Η προσφορά μας")
    page.locator("#body").fill("Καλημέρα Άννα, σας στέλνουμε την προσφορά.")
    save_screenshot(page, f"mail-compose-opportunity-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("body")).to_contain_text(w["sent"])
    sent = smtp_server.wait(1)[0]
    assert sent["Subject"] == "Η προσφορά μας" and sent["To"] == "anna@akmi.example"
    assert [p.get_filename() for p in sent.iter_attachments()] == ["prosfora.pdf"]
    # back on the opportunity, the message is on its timeline
    expect(page).to_have_url(f"{live_server}/opportunities/{opp}")
    expect(page.get_by_role("link", name="Η προσφορά μας").first).to_be_visible()
    save_screenshot(page, f"mail-opportunity-timeline-{lang}")

    # from the case: the subject starts with the case's number
    page.goto(f"{live_server}/cases/{case['id']}")
    page.get_by_role("link", name=w["write"]).click()
    expect(page.locator("#subject")).to_have_value(f"[{case['number']}]")
    expect(page.get_by_label("Άννα Παππά <anna@akmi.example>")).to_be_checked()
    page.locator("#subject").fill(f"Τεχνικός τη Δευτέρα [{case['number']}]")
    page.locator("#body").fill("Ο τεχνικός έρχεται τη Δευτέρα.")
    save_screenshot(page, f"mail-compose-case-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("body")).to_contain_text(w["sent"])
    assert smtp_server.wait(2)[1]["Subject"] == f"Τεχνικός τη Δευτέρα [{case['number']}]"
    expect(
        page.get_by_role("link", name=f"Τεχνικός τη Δευτέρα [{case['number']}]").first
    ).to_be_visible()
    save_screenshot(page, f"mail-case-timeline-{lang}")

"""An agent replies to the customer on a case in real Chromium, in English and in Greek:
"E-mail it to the customer" is ticked, the reply goes to the contact through a real SMTP
server and the case's conversation says "Sent"; with a server that refuses, it says
"Failed" with the reason, and "Send the e-mail again" sends it once the server
accepts."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "reply": "Reply to the customer",
        "message": "Message",
        "email_it": "E-mail it to the customer",
        "save": "Save",
        "sent": "Sent",
        "failed": "Failed",
        "again": "Send the e-mail again",
        "queued": "The e-mail is queued.",
    },
    "el": {
        "reply": "Απάντηση στον πελάτη",
        "message": "Μήνυμα",
        "email_it": "Αποστολή στον πελάτη με e-mail",
        "save": "Αποθήκευση",
        "sent": "Στάλθηκε",
        "failed": "Απέτυχε",
        "again": "Νέα αποστολή του e-mail",
        "queued": "Το e-mail μπήκε σε αναμονή για αποστολή.",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.mark.parametrize("lang", ["en", "el"])
def test_an_agent_replies_and_sees_it_sent(page, live_server, make_user, api, smtp_server, lang):
    w = WORDS[lang]
    admin = api("admin")
    email = f"agent-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Eleni Agent", locale=lang)
    account = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}).json["id"]
    person = admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Maria",
            "last_name": "Guest",
            "account_id": account,
            "email": "maria@knossos.example",
            "language": lang,
        },
    ).json["id"]
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Boiler E42", "account_id": account, "person_id": person},
        status=201,
    ).json
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()

    def reply(text):
        page.goto(f"{live_server}/cases/{case['id']}")
        page.locator("#hd-conversation").locator("xpath=..").get_by_role(
            "link", name=w["reply"]
        ).click()
        page.get_by_label(w["message"], exact=True).fill(text)
        expect(page.get_by_label(w["email_it"], exact=True)).to_be_checked()
        page.get_by_role("button", name=w["save"]).click()
        page.goto(f"{live_server}/cases/{case['id']}")

    reply("Please check the pressure gauge.")
    item = page.locator("#hd-conversation li").filter(has_text="pressure gauge")
    expect(item.locator(".hd-email-state")).to_have_text(w["sent"])
    expect(item).to_contain_text("maria@knossos.example")
    save_screenshot(page, f"helpdesk-reply-sent-{lang}")
    msgs = smtp_server.wait(1)
    assert msgs[0]["To"] == "maria@knossos.example"
    assert msgs[0]["Subject"] == f"[{case['number']}] Boiler E42"

    # a refusing server: the reply is kept, failed with the reason, and sent again
    smtp_server.refuse = "554 5.7.1 Rejected by policy"
    reply("Did it help?")
    item = page.locator("#hd-conversation li").filter(has_text="Did it help?")
    expect(item.locator(".hd-email-state")).to_have_text(w["failed"])
    expect(item).to_contain_text("Rejected by policy")
    smtp_server.refuse = None
    item.get_by_role("button", name=w["again"]).click()
    expect(page.locator(".alert-success")).to_contain_text(w["queued"])
    item = page.locator("#hd-conversation li").filter(has_text="Did it help?")
    expect(item.locator(".hd-email-state")).to_have_text(w["sent"])
    assert len(smtp_server.wait(2)) == 2

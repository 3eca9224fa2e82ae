"""One-click greetings by e-mail through a real SMTP server, honouring consent."""

import pytest
from contacts_helpers import new_person


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return _smtp_sink.settings


def test_greeting_sent_once_with_consent(api, client, smtp_server):
    a = api("manager")
    g = new_person(a, first_name="Γιώργος", last_name="Οικονόμου", country="GR",
                   gender="male", email="giorgos@example.com")
    n = new_person(a, first_name="Giorgos", last_name="Makris", country="GR",
                   email="makris@example.com")
    a.post_json("/api/v1/consents", {"person_id": g["id"], "channel": "email",
                                     "status": "opt_in", "source": "web form"})
    a.post_json("/api/v1/consents", {"person_id": n["id"], "channel": "email",
                                     "status": "opt_out", "source": "unsubscribe link"})
    c = client("sales")
    page = c.get("/contacts/occasions", {"date": "2024-05-06", "range": "today"})
    forms = [f for f in page.forms.values() if f.action.endswith("/contacts/occasions/greet")]
    assert [f["person_id"].value for f in forms] == [str(g["id"])]  # no consent, no button
    res = forms[0].submit().follow()
    assert "Greeting sent" in res.text
    msgs = smtp_server.wait(1)
    assert len(msgs) == 1
    assert msgs[0]["To"] == "giorgos@example.com"
    assert msgs[0]["Subject"] == "Χρόνια πολλά!"
    assert "Αγαπητέ κύριε Οικονόμου" in msgs[0].get_content()
    assert "k-greet" not in res.text and "Sent by" in res.text
    # Twice is once.
    again = forms[0].submit().follow()
    assert "already sent" in again.text
    assert len(smtp_server.wait(2, timeout=0.5)) == 1
    # Without consent the server refuses even a forged request.
    forged = c.post("/contacts/occasions/greet", {
        "csrf_token": forms[0]["csrf_token"].value, "person_id": n["id"],
        "kind": "name_day", "date": "2024-05-06", "channel": "email"}).follow()
    assert "has not consented" in forged.text
    assert len(smtp_server.wait(2, timeout=0.5)) == 1
    timeline = c.get(f"/persons/{g['id']}").text
    assert "Greeting sent" in timeline


def test_greeting_needs_csrf_and_permission(api, client, smtp_server):
    a = api("manager")
    g = new_person(a, first_name="Giorgos", last_name="X", country="GR",
                   email="x@example.com")
    c = client("user")
    c.post("/contacts/occasions/greet", {"person_id": g["id"], "kind": "name_day",
                                         "date": "2024-05-06", "channel": "email"},
           status=(400, 403))
    assert smtp_server.messages == []

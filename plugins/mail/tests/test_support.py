"""Mail and helpdesk together, against a real Dovecot and aiosmtpd: an e-mail to a
support mailbox opens a case; the reply written from Kyklos carries the case's number
in its subject; the customer's answer with that tag joins the case. Mail knows nothing
of cases: helpdesk implements ``kyklos_mail_support_message`` and
``kyklos_mail_subject_tag``."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlalchemy import select

pytest.importorskip("kyklos_helpdesk")


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk", "mail"]


def message(sender, subject, body="Hello", **headers) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "support@example.com", subject
    m["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="customer.example")
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


def support_box(app, imap, smtp_server, **extra) -> dict:
    dovecot, user, password = imap
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Support",
            "address": "support@example.com",
            "kind": "shared",
            "support": True,
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
            **extra,
        },
        status=201,
    ).json
    app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": password}, status=204)
    return box


def filings(dbsession, mail_id):
    from kyklos_mail.models import Filing

    with dbsession() as db:
        return db.execute(
            select(Filing.entity, Filing.record_id, Filing.how).where(Filing.mail_id == mail_id)
        ).all()


def test_mail_to_the_support_mailbox_opens_a_case_and_the_tagged_answer_joins_it(
    api, imap, smtp_server, make_record, dbsession
):
    dovecot, user, password = imap
    app = api("mailadmin", "helpdeskmanager")
    anna = make_record("person", first_name="Anna", last_name="P", email="anna@customer.example")
    box = support_box(app, imap, smtp_server)
    assert box["support"] is True
    dovecot.append(
        user,
        password,
        message("Anna P <anna@customer.example>", "Boiler E42", "It shows E42 again."),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    cases = app.get("/api/v1/cases").json["items"]
    assert len(cases) == 1
    case = cases[0]
    assert case["subject"] == "Boiler E42" and case["person_id"] == anna
    assert case["from_email"] == "anna@customer.example"
    first = app.get("/api/v1/mail-messages").json["items"][0]
    assert ("case", case["id"], "support") in filings(dbsession, first["id"])
    entry = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"][0]
    assert entry["outcome"] == "filed"

    # the reply carries the case's number, whatever the agent typed as the subject
    res = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@customer.example"],
            "subject": "Re: Boiler E42",
            "body": "A technician comes tomorrow.",
            "reply_to": first["id"],
        },
        status=201,
    ).json
    tag = f"[{case['number']}]"
    sent = smtp_server.wait(1)[0]
    assert sent["Subject"] == f"Re: Boiler E42 {tag}"
    assert ("case", case["id"], "thread") in filings(dbsession, res["id"])

    # the customer answers from another client that keeps no thread headers: the tag
    # alone brings it to the case, and no second case is opened
    dovecot.append(
        user,
        password,
        message("anna@customer.example", f"AW: Re: Boiler E42 {tag}", "Thank you, 9:00 is fine."),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    assert len(app.get("/api/v1/cases").json["items"]) == 1
    answer = app.get("/api/v1/mail-messages", {"direction": "in"}).json["items"][0]
    assert answer["subject"].endswith(tag)
    assert ("case", case["id"], "support") in filings(dbsession, answer["id"])
    # each message is an e-mail activity on the case's timeline (the helpdesk's doing)
    activities = (
        api("admin")
        .get("/api/v1/activities", {"about_type": "case", "about_id": case["id"]})
        .json["items"]
    )
    assert {a["subject"] for a in activities} >= {"Boiler E42", f"AW: Re: Boiler E42 {tag}"}

    # fetched again, nothing is duplicated
    app.post(f"/api/v1/mailboxes/{box['id']}/resync", status=202)
    assert len(app.get("/api/v1/cases").json["items"]) == 1


def test_a_mailbox_not_marked_support_opens_no_case(api, imap, smtp_server):
    dovecot, user, password = imap
    app = api("mailadmin", "helpdeskmanager")
    box = support_box(app, imap, smtp_server, support=False)
    dovecot.append(user, password, message("x@customer.example", "Just a note"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    assert app.get("/api/v1/cases").json["items"] == []
    assert app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"][0]["outcome"] == (
        "unmatched"
    )


def test_a_case_the_owner_may_not_open_is_a_reason_in_the_ledger_not_a_lost_message(
    api, imap, smtp_server
):
    dovecot, user, password = imap
    app = api("mailadmin")  # no helpdesk rights: the fetch acts for this owner
    box = support_box(app, imap, smtp_server)
    dovecot.append(user, password, message("x@customer.example", "Help"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    entry = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"][0]
    assert entry["mail_id"] and "no case" in entry["reason"]
    assert api("admin").get("/api/v1/cases").json["items"] == []


@pytest.mark.parametrize("support", [True, False])
def test_the_answer_to_a_case_reply_joins_the_cases_conversation(
    api, imap, smtp_server, make_record, support
):
    """A reply written on the case (``/case-replies``) is e-mailed to the contact with
    its own Message-ID; the customer's answer naming it (In-Reply-To, a subject without
    the case's tag) comes into a support mailbox (``kyklos_mail_support_message``) or an
    ordinary one (``kyklos_mail_message_filed``) and lands on the case's conversation as
    the customer's reply, once, with no second case."""
    dovecot, user, password = imap
    app = api("mailadmin", "helpdeskmanager")
    anna = make_record("person", first_name="Anna", last_name="P", email="anna@customer.example")
    case = app.post_json(
        "/api/v1/cases", {"subject": "Boiler E42", "person_id": anna}, status=201
    ).json
    app.post_json(
        "/api/v1/case-replies",
        {"case_id": case["id"], "body": "A technician comes tomorrow."},
        status=201,
    )
    ours = smtp_server.wait(1)[0]
    assert ours["Subject"] == f"[{case['number']}] Boiler E42"
    box = support_box(app, imap, smtp_server, support=support)
    dovecot.append(
        user,
        password,
        message(
            "Anna P <anna@customer.example>",
            "Re: tomorrow",
            "9:00 is fine.\n\n> A technician comes tomorrow.",
            In_Reply_To=ours["Message-ID"],
            References=ours["Message-ID"],
        ),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    app.post(f"/api/v1/mailboxes/{box['id']}/resync", status=202)
    assert [c["id"] for c in app.get("/api/v1/cases").json["items"]] == [case["id"]]
    theirs = app.get("/api/v1/case-replies", {"case_id": case["id"], "from_customer": "true"}).json[
        "items"
    ]
    assert len(theirs) == 1
    got = app.get(f"/api/v1/case-replies/{theirs[0]['id']}").json
    assert got["body"] == "9:00 is fine." and got["person_id"] == anna
    assert "9:00 is fine." in app.get(f"/cases/{case['id']}").text

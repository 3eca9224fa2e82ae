"""A staff reply e-mailed to the customer, through the API, the case's page and a real
SMTP server: it goes to the case's contact in their language with the case's tag in the
subject and a Message-ID chain; a refusing server leaves it "failed" with the reason,
and it can be sent again; an internal note is never e-mailed. The customer's answer
(naming the reply's Message-ID, or the case's tag) comes back as a customer reply on
the case's conversation, once."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from helpdesk_helpers import csrf_of, errors_of

from kyklos_sdk import request_as, utcnow


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.fixture
def world(admin, make_user):
    """An agent and their case of a Greek-speaking contact."""
    agent = make_user(email="nikos@example.com", roles=("helpdeskmanager",), name="Nikos Agent")
    account = admin.post_json("/api/v1/accounts", {"name": "Κνωσός ΑΕ"}).json["id"]
    person = admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Ελένη",
            "last_name": "Πελάτισσα",
            "account_id": account,
            "email": "eleni@knossos.example",
            "language": "el",
        },
    ).json["id"]
    case = admin.post_json(
        "/api/v1/cases",
        {
            "subject": "Boiler E42",
            "description": "It stops.",
            "account_id": account,
            "person_id": person,
            "owner_id": agent,
        },
        status=201,
    ).json
    return agent, case, person


def _reply(admin, case_id, body, **extra):
    return admin.post_json(
        "/api/v1/case-replies", {"case_id": case_id, "body": body, **extra}, status=201
    ).json


def test_a_reply_is_mailed_to_the_contact_in_their_language_and_threads(admin, world, smtp_server):
    agent, case, person = world
    first = _reply(admin, case["id"], "Please check the pressure gauge.")
    msgs = smtp_server.wait(1)
    assert len(msgs) == 1
    msg = msgs[0]
    assert msg["To"] == "eleni@knossos.example"
    assert msg["Subject"] == f"[{case['number']}] Boiler E42"
    text = msg.get_body(("plain",)).get_content()
    assert "Please check the pressure gauge." in text
    # the footer in the contact's language (Greek), not the agent's
    assert f"Υπόθεση {case['number']}" in text, text
    got = admin.get(f"/api/v1/case-replies/{first['id']}").json
    assert got["send_email"] is True and got["email_state"] == "sent"
    assert got["emailed_at"] and got["email_to"] == "eleni@knossos.example"
    assert got["message_id"] == msg["Message-ID"]
    # the next reply answers the first: In-Reply-To and References name it
    second = _reply(admin, case["id"], "Did it help?")
    msg2 = smtp_server.wait(2)[1]
    assert msg2["In-Reply-To"] == first["message_id"] == msg["Message-ID"]
    assert first["message_id"] in msg2["References"]
    assert admin.get(f"/api/v1/case-replies/{second['id']}").json["email_state"] == "sent"
    # an internal note never goes out, even asked to
    note = _reply(admin, case["id"], "SECRET note", public=False, send_email=True)
    assert note["send_email"] is False and note["email_state"] is None
    assert len(smtp_server.wait(3, timeout=0.5)) == 2
    # the case's page says it in words
    page = admin.get(f"/cases/{case['id']}").text
    assert page.count("hd-email-state") == 2 and "Sent" in page


def test_a_refusing_server_leaves_the_reply_failed_and_it_can_be_sent_again(
    admin, world, smtp_server
):
    agent, case, person = world
    smtp_server.refuse = "554 5.7.1 Rejected by policy"
    reply = _reply(admin, case["id"], "Here is the fix.")
    got = admin.get(f"/api/v1/case-replies/{reply['id']}").json
    # the reply is kept; the e-mail says why it failed
    assert got["body"] == "Here is the fix."
    assert got["email_state"] == "failed" and "554" in got["email_error"], got
    assert smtp_server.messages == []
    page = admin.get(f"/cases/{case['id']}")
    assert "Failed" in page.text and "Rejected by policy" in page.text
    assert "Send the e-mail again" in page.text
    # the reply's own page has the button too
    own = admin.get(f"/case-replies/{reply['id']}").html
    assert own.select_one(f'form[action$="/helpdesk/case-replies/{reply["id"]}/send"]')
    # sending again once the server accepts: from the case's page
    smtp_server.refuse = None
    admin.post(
        f"/helpdesk/case-replies/{reply['id']}/send",
        {"csrf_token": csrf_of(page)},
        status=303,
    )
    msgs = smtp_server.wait(1)
    assert len(msgs) == 1 and msgs[0]["Message-ID"] == got["message_id"]
    got = admin.get(f"/api/v1/case-replies/{reply['id']}").json
    assert got["email_state"] == "sent" and got["email_error"] is None
    # and through the API: queued when it answers, sent once its transaction commits
    res = admin.post(f"/api/v1/case-replies/{reply['id']}/send", status=200).json
    assert res["email_state"] == "queued"
    assert len(smtp_server.wait(2)) == 2
    assert admin.get(f"/api/v1/case-replies/{reply['id']}").json["email_state"] == "sent"


def test_no_address_no_mail_and_bad_requests_are_refused(admin, world, smtp_server, api):
    agent, case, person = world
    bare = admin.post_json("/api/v1/cases", {"subject": "No contact"}, status=201).json
    # asked for by name: refused, naming the field, nothing written
    res = admin.post_json(
        "/api/v1/case-replies",
        {"case_id": bare["id"], "body": "Hi", "send_email": True},
        status=400,
    )
    assert "send_email" in errors_of(res)
    assert admin.get(f"/api/v1/case-replies?case_id={bare['id']}").json["items"] == []
    # the case's page offers the reply with the box unticked: nobody to write to
    page = admin.get(f"/cases/{bare['id']}")
    link = page.html.select_one('a[href*="/case-replies/new"][href*="public=true"]')["href"]
    form = admin.get(link).html
    assert not form.select_one('input[type=checkbox][name="send_email"]').has_attr("checked")
    assert form.select_one('input[type=checkbox][name="public"]').has_attr("checked")
    # on a case with a contact it starts ticked; an internal note starts as a note
    page = admin.get(f"/cases/{case['id']}")
    for public, ticked in (("true", True), ("false", False)):
        link = page.html.select_one(f'a[href*="/case-replies/new"][href*="public={public}"]')
        form = admin.get(link["href"]).html
        for name in ("public", "send_email"):
            box = form.select_one(f'input[type=checkbox][name="{name}"]')
            assert box.has_attr("checked") is ticked, (public, name)
    # left out: kept without e-mailing
    kept = _reply(admin, bare["id"], "Hi")
    assert kept["send_email"] is False and kept["email_state"] is None
    # sending again an internal note, or a reply with no address: refused by field
    note = _reply(admin, case["id"], "note", public=False)
    res = admin.post(f"/api/v1/case-replies/{note['id']}/send", status=400)
    assert "send_email" in errors_of(res)
    res = admin.post(f"/api/v1/case-replies/{kept['id']}/send", status=400)
    assert "send_email" in errors_of(res)
    # someone without the right to change replies may not send one again
    reply = _reply(admin, case["id"], "Hello")
    reader = api("user")
    reader.post(f"/api/v1/case-replies/{reply['id']}/send", status=403)
    assert len(smtp_server.wait(2, timeout=0.5)) == 1


def _answer(to_msg, sender, subject, body="Yes, it works now.\n\n> Did it help?", **headers):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "support@example.com", subject
    m["Message-ID"] = make_msgid(domain="knossos.example")
    m["Date"] = format_datetime(utcnow())
    if to_msg is not None:
        m["In-Reply-To"] = to_msg["Message-ID"]
        m["References"] = to_msg["Message-ID"]
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


def _filed(registry, user_id, raw: bytes, filed=()):
    """What the mail plugin does once it has stored and filed an incoming message."""
    from kyklos_mail.parse import parse

    with request_as(registry, user_id, write=True) as request:
        registry.kyklos_pm.hook.kyklos_mail_message_filed(
            request=request, mailbox=None, message=None, parsed=parse(raw), filed=list(filed)
        )


def test_the_customers_answer_comes_back_to_the_case(admin, world, smtp_server, registry):
    pytest.importorskip("kyklos_mail.parse")
    agent, case, person = world
    cid = case["id"]
    admin.post(f"/api/v1/cases/{cid}/transitions/accept")
    admin.post(f"/api/v1/cases/{cid}/transitions/wait")
    _reply(admin, cid, "Did it help?")
    ours = smtp_server.wait(1)[0]
    # an out-of-office note is nobody's answer
    auto = _answer(ours, "eleni@knossos.example", "Re: x", Auto_Submitted="auto-replied")
    _filed(registry, agent, auto)
    raw = _answer(ours, "Eleni <eleni@knossos.example>", f"Re: {ours['Subject']}")
    _filed(registry, agent, raw)
    _filed(registry, agent, raw)  # the same message filed twice is one reply
    items = admin.get(f"/api/v1/case-replies?case_id={cid}&from_customer=true").json["items"]
    assert len(items) == 1, items
    got = admin.get(f"/api/v1/case-replies/{items[0]['id']}").json
    # the customer's own words, not the quote of ours
    assert got["body"] == "Yes, it works now." and got["public"] is True
    assert got["person_id"] == person and got["email_state"] is None
    # the case went back to its assignee
    assert admin.get(f"/api/v1/cases/{cid}").json["status"] == "assigned"
    page = admin.get(f"/cases/{cid}").text
    assert "Yes, it works now." in page and "From the customer" in page
    # a new message quoting only the case's tag in its subject joins it too
    _filed(registry, agent, _answer(None, "eleni@knossos.example", f"[{case['number']}] more"))
    items = admin.get(f"/api/v1/case-replies?case_id={cid}&from_customer=true").json["items"]
    assert len(items) == 2
    # a support mailbox files it to the case itself: no second reply
    _filed(
        registry,
        agent,
        _answer(ours, "eleni@knossos.example", "Re: again"),
        filed=[("case", cid, "support")],
    )
    items = admin.get(f"/api/v1/case-replies?case_id={cid}&from_customer=true").json["items"]
    assert len(items) == 2


def test_a_support_mailbox_answer_joins_the_thread(admin, world, smtp_server, registry):
    """The support mailbox's path (``open_case_from_message``): the answer naming a
    reply's Message-ID joins its case whatever its subject, as an e-mail activity and a
    customer reply, once."""
    from kyklos_helpdesk.service import open_case_from_message

    agent, case, person = world
    _reply(admin, case["id"], "Did it help?")
    ours = smtp_server.wait(1)[0]
    mid = make_msgid(domain="knossos.example")
    for _i in range(2):
        with request_as(registry, agent, write=True) as request:
            got, created = open_case_from_message(
                request,
                sender="eleni@knossos.example",
                subject="Re: your mail",  # a client that dropped the tag
                body="Thanks, fixed.\n\nOn Monday Support wrote:\n> Did it help?",
                message_id=mid,
                in_reply_to=ours["Message-ID"],
                references=[ours["Message-ID"]],
            )
            assert (got.id, created) == (case["id"], False)
    items = admin.get(f"/api/v1/case-replies?case_id={case['id']}&from_customer=true").json["items"]
    assert len(items) == 1
    assert admin.get(f"/api/v1/case-replies/{items[0]['id']}").json["body"] == "Thanks, fixed."


def test_the_send_again_endpoint_is_in_the_api_description(admin):
    doc = admin.get("/api/openapi.json").json
    assert "post" in doc["paths"]["/api/v1/case-replies/{id}/send"]


def test_a_server_that_is_down_is_tried_again_then_the_reply_fails(
    admin, world, smtp_server, registry
):
    """Nobody answers on the mail port: the job is retried (the reply stays queued
    meanwhile, nothing is lost); after the last attempt the reply says why, and once
    the server is back "send again" delivers it."""
    import datetime as dt
    import socket

    from kyklos.jobs import run_scheduled

    agent, case, person = world
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # free, and nobody listens once closed
    settings = registry.settings
    port = settings["kyklos.mail.port"]
    settings["kyklos.mail.port"] = str(closed)
    try:
        reply = _reply(admin, case["id"], "Here is the fix.")

        def job():
            jobs = admin.get("/api/v1/_jobs").json["items"]
            return next(j for j in jobs if j["name"] == "helpdesk.send_reply")

        assert job()["state"] == "retrying" and job()["attempts"] == 1
        got = admin.get(f"/api/v1/case-replies/{reply['id']}").json
        assert got["email_state"] == "queued" and got["email_error"] is None
        # the retries come due (60 s, then doubling): the last one gives up
        for _i in range(3):
            run_scheduled(registry, utcnow() + dt.timedelta(days=1))
        assert job()["state"] == "done" and job()["attempts"] == 4
        got = admin.get(f"/api/v1/case-replies/{reply['id']}").json
        assert got["email_state"] == "failed" and "refused" in got["email_error"].lower()
    finally:
        settings["kyklos.mail.port"] = port
    assert smtp_server.messages == []
    admin.post(f"/api/v1/case-replies/{reply['id']}/send", status=200)
    assert smtp_server.wait(1)[0]["Message-ID"] == got["message_id"]
    assert admin.get(f"/api/v1/case-replies/{reply['id']}").json["email_state"] == "sent"

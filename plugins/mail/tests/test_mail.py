"""The mail plugin through its public surfaces, against a real Dovecot: mailboxes with
an encrypted password and their connection state; the incremental fetch into the
ledger (batches, UIDVALIDITY, idempotence); filing by address, thread and domain;
private messages; the reconciliation and the resync; filing by hand; parsing messages
of real clients."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

from sqlalchemy import select

from kyklos_sdk.testing import check_plugin

DATA = Path(__file__).parent / "data"


def eml(name: str) -> bytes:
    return (DATA / name).read_bytes()


PROBLEM = "application/problem+json"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def message(sender, to="box@example.com", subject="Hello", body="Hi", **headers) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, subject
    m["Message-ID"] = headers.pop("message_id", None) or make_msgid(domain="test.example")
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


def new_mailbox(app, dovecot, user, password, **extra) -> dict:
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Sales inbox",
            "address": "box@example.com",
            "kind": "personal",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            **extra,
        },
        status=201,
    ).json
    app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": password}, status=204)
    return box


def ledger(app, box_id):
    return app.get(f"/api/v1/mailboxes/{box_id}/ledger").json


def test_the_plugin_loads_migrates_and_declares_what_it_uses():
    assert check_plugin("mail", raises=False) == []


# --- parsing real clients' messages ------------------------------------------------------


def test_messages_of_real_clients_are_read_whatever_their_charset():
    from kyklos_mail.parse import base_subject, parse

    p = parse(eml("o2webmail-polish-iso8859-2.eml"))
    assert p.sender == "Fryderyk Mazurek <dedyk@go2.pl>"
    assert "Wiadomość Oryginalna" in p.text  # 8-bit ISO-8859-2 body
    assert p.in_reply_to == "<1104201851.18175.39.camel@d845pe>"
    assert len(p.references) == 2
    p = parse(eml("alpine-greek-iso8859-7-subject.eml"))
    assert p.subject == "Re: [PATCH] x86: pci: xen: Remove unnecessary ‘0’ values from ret"
    assert p.sender.startswith("Ilpo Järvinen")
    p = parse(eml("outlook2000-multipart-latin1.eml"))
    assert p.to == [("Heinz Müller", "mueller@example.com")]
    assert "Die Hasen und die Frösche" in p.text
    assert [(a.filename, a.content_type) for a in p.attachments] == [("blueball2.png", "image/png")]
    assert p.attachments[0].data.startswith(b"\x89PNG")
    p = parse(eml("gmail-alternative-attachment.eml"))
    assert p.html.count("Hi this is the body") == 2 and p.attachments[0].filename == "attac.txt"
    p = parse(eml("applemail-quoted-printable.eml"))
    assert "the main target was deb/rpm builds" in p.text  # soft line breaks joined
    # Greek and Polish encoded words (written here the way Thunderbird writes them)
    raw = message("a@b.example", subject="Προσφορά για το έργο — zażółć gęślą jaźń")
    assert b"=?utf-8?" in raw
    assert parse(raw).subject == "Προσφορά για το έργο — zażółć gęślą jaźń"
    assert base_subject("ΑΠ: Re: Fwd: Odp: Offer") == "Offer"


def test_html_bodies_are_sanitised():
    from kyklos_mail.parse import sanitise

    dirty = (
        '<p onclick="x()">Hi<script>alert(1)</script><img src="https://track.example/p.gif">'
        '<a href="javascript:alert(1)">x</a><a href="https://ok.example">ok</a></p>'
        "<style>body{}</style><iframe src=x></iframe>"
    )
    clean = sanitise(dirty)
    for bad in ("script", "onclick", "img", "javascript", "style", "iframe"):
        assert bad not in clean
    assert 'href="https://ok.example"' in clean and "noopener" in clean


# --- mailboxes ------------------------------------------------------------------------------


def test_the_password_is_encrypted_write_only_and_not_in_history(api, imap, dbsession):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    shown = app.get(f"/api/v1/mailboxes/{box['id']}").json
    assert "password_secret" not in shown and password not in str(shown)
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        stored = db.get(Mailbox, box["id"]).password_secret
    assert stored and password not in stored
    history = app.get(f"/api/v1/mailboxes/{box['id']}/history", status="*")
    assert password not in history.text
    res = app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": ""}, status=400)
    assert "password" in errors_of(res)


def test_bad_settings_are_refused_field_by_field(api):
    app = api("sales")
    res = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "x",
            "address": "x@example.com",
            "imap_host": "bad host!",
            "imap_port": 70000,
            "username": "x",
            "kind": "shared",
        },
        status=400,
    )
    errs = errors_of(res)
    assert {"imap_host", "imap_port", "kind"} <= set(errs)


def test_a_mailbox_is_its_owners_alone(api, imap):
    dovecot, user, password = imap
    alice, bob = api("sales"), api("sales")
    box = new_mailbox(alice, dovecot, user, password)
    bob.get(f"/api/v1/mailboxes/{box['id']}", status=404)
    bob.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": "x"}, status=404)
    bob.get(f"/api/v1/mailboxes/{box['id']}/ledger", status=404)


# --- fetching and the ledger ----------------------------------------------------------------


def test_fetch_is_incremental_batched_and_accounts_for_every_uid(api, imap, make_record):
    dovecot, user, password = imap
    app = api("sales")
    make_record("person", first_name="Fryderyk", last_name="Mazurek", email="dedyk@go2.pl")
    box = new_mailbox(app, dovecot, user, password)
    samples = sorted(p.name for p in DATA.glob("*.eml"))
    dovecot.append(user, password, *(eml(n) for n in samples))  # 6 messages, batches of 3
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    led = ledger(app, box["id"])
    assert [e["uid"] for e in reversed(led["items"])] == list(range(1, len(samples) + 1))
    # the bounces and the complaint among the samples are ledgered as such, not filed
    assert led["counts"] == {"filed": 1, "bounce": 3, "complaint": 1, "unmatched": len(samples) - 5}
    state = app.get(f"/api/v1/mailboxes/{box['id']}").json
    assert state["state"] == "ok" and state["last_error"] is None
    # fetching again stores nothing twice; a new message is the only one taken
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    assert len(ledger(app, box["id"])["items"]) == len(samples)
    dovecot.append(user, password, message("someone@else.example"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    led = ledger(app, box["id"])
    assert len(led["items"]) == len(samples) + 1 and led["items"][0]["uid"] == len(samples) + 1
    msgs = app.get("/api/v1/mail-messages", {"mailbox_id": box["id"], "limit": 50}).json
    assert len(msgs["items"]) == len(samples) - 4 + 1


def test_filing_by_address_thread_and_domain(api, imap, make_record, dbsession):
    dovecot, user, password = imap
    app = api("sales")
    acme = make_record("account", name="Acme", website="https://www.acme.example")
    anna = make_record(
        "person", first_name="Anna", last_name="P", email="anna@acme.example", account_id=acme
    )
    other = make_record("person", first_name="Other", last_name="Q")
    api("admin").patch_json(
        f"/api/v1/persons/{other}",
        {
            "emails": [
                {"type": "work", "email": "other@one.example", "primary": True},
                {"type": "home", "email": "other.home@two.example", "primary": False},
            ]
        },
        status=200,
    )
    box = new_mailbox(app, dovecot, user, password)
    first = message("Anna <anna@acme.example>", subject="Offer", message_id="<t1@acme.example>")
    reply = message(
        "noreply@elsewhere.example",
        subject="Re: Offer",
        In_Reply_To="<t1@acme.example>",
        References="<t1@acme.example>",
    )
    second_address = message("Other <other.home@two.example>", subject="Home address")
    by_domain = message("bob@acme.example", subject="From a colleague of Anna")
    dovecot.append(user, password, first, reply, second_address, by_domain)
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)

    def filed(entity, rid):
        from kyklos_mail.models import Filing, Message

        with dbsession() as db:
            return sorted(
                db.execute(
                    select(Message.subject)
                    .join(Filing, Filing.mail_id == Message.id)
                    .where(Filing.entity == entity, Filing.record_id == rid)
                ).scalars()
            )

    assert filed("person", anna) == ["Offer", "Re: Offer"]  # the reply by its thread
    assert filed("account", acme) == ["From a colleague of Anna", "Offer", "Re: Offer"]
    assert filed("person", other) == ["Home address"]  # by any of her addresses


def test_private_messages_are_seen_by_the_mailbox_owner_only(api, imap, make_record):
    dovecot, user, password = imap
    owner, colleague = api("sales"), api("sales")
    make_record("person", first_name="Anna", last_name="P", email="anna@acme.example")
    box = new_mailbox(owner, dovecot, user, password)
    dovecot.append(user, password, message("anna@acme.example", subject="Personal note"))
    owner.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    mine = owner.get("/api/v1/mail-messages").json["items"]
    assert [m["subject"] for m in mine] == ["Personal note"] and mine[0]["private"] is True
    assert colleague.get("/api/v1/mail-messages").json["items"] == []
    colleague.get(f"/api/v1/mail-messages/{mine[0]['id']}", status=404)


def test_a_failing_mailbox_says_why_and_notifies_its_owner(api, imap):
    dovecot, user, _password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, "wrong password")
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    state = app.get(f"/api/v1/mailboxes/{box['id']}").json
    assert state["state"] == "failing"
    assert "AUTHENTICATIONFAILED" in state["last_error"] or "auth" in state["last_error"].lower()
    items = app.get("/api/v1/_notifications").json["items"]
    assert any("Sales inbox" in n["title"] for n in items)
    # a second failure does not notify again
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    assert len(app.get("/api/v1/_notifications").json["items"]) == len(items)


def test_a_new_uidvalidity_accounts_again_without_duplicating(api, imap, dbsession):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, message("x@y.example", message_id="<same@x>"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    from kyklos_mail.models import Mailbox

    with dbsession() as db:  # as if the server had renumbered the folder
        db.get(Mailbox, box["id"]).uidvalidity = 1
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    msgs = app.get("/api/v1/mail-messages").json["items"]
    assert len(msgs) == 1  # recognised by its Message-ID


def test_reconciliation_shows_gaps_and_resync_fills_them(api, imap, dbsession):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, *(message(f"p{i}@x.example") for i in range(4)))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    rec = app.get(f"/api/v1/mailboxes/{box['id']}/reconcile").json
    assert rec["in_sync"] and rec["server_count"] == rec["ledger_count"] == 4
    from sqlalchemy import delete

    from kyklos_mail.models import LedgerEntry

    with dbsession() as db:  # lose two ledger entries, as a silent loss would
        db.execute(delete(LedgerEntry).where(LedgerEntry.uid.in_([2, 3])))
    rec = app.get(f"/api/v1/mailboxes/{box['id']}/reconcile").json
    assert rec["missing"] == [2, 3] and not rec["in_sync"]
    app.post(f"/api/v1/mailboxes/{box['id']}/resync", status=202)
    rec = app.get(f"/api/v1/mailboxes/{box['id']}/reconcile").json
    assert rec["in_sync"] and rec["missing"] == []
    # the messages themselves were stored once (found again by Message-ID)
    assert len(app.get("/api/v1/mail-messages").json["items"]) == 4
    led = ledger(app, box["id"])
    assert sorted(e["uid"] for e in led["items"]) == [1, 2, 3, 4]
    bad = app.get(f"/api/v1/mailboxes/{box['id']}/ledger", {"outcome": "nope"}, status=400)
    assert "outcome" in errors_of(bad)


def test_filing_by_hand_checks_the_record(api, imap, make_record):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, message("nobody@nowhere.example", subject="Lost"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    mid = app.get("/api/v1/mail-messages").json["items"][0]["id"]
    person = make_record("person", first_name="Zoe", last_name="K")
    url = f"/api/v1/mail-messages/{mid}/filings"
    assert app.post_json(url, {"entity": "person", "record_id": person}, status=201).json["new"]
    assert not app.post_json(url, {"entity": "person", "record_id": person}, status=200).json["new"]
    errs = errors_of(app.post_json(url, {"entity": "user", "record_id": "x"}, status=400))
    assert {"entity", "record_id"} <= set(errs)
    errs = errors_of(app.post_json(url, {"entity": "person", "record_id": 999999}, status=400))
    assert "record_id" in errs


# --- compose and reply ----------------------------------------------------------------------


def sending_box(app, dovecot, user, password, smtp_server):
    return new_mailbox(
        app,
        dovecot,
        user,
        password,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
    )


def test_write_from_a_person_sends_through_the_mailbox_and_files_it(
    api, client, imap, make_record, smtp_server, dbsession
):
    dovecot, user, password = imap
    app = api("sales")
    box = sending_box(app, dovecot, user, password, smtp_server)
    anna = make_record("person", first_name="Anna", last_name="P", email="anna@acme.example")
    res = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["Anna P <anna@acme.example>"],
            "subject": "Η προσφορά μας",
            "body": "Καλημέρα Άννα,\nη προσφορά επισυνάπτεται.",
            "about": {"entity": "person", "record_id": anna},
        },
        status=201,
    ).json
    sent = smtp_server.wait(1)[0]
    assert sent["Subject"] == "Η προσφορά μας" and sent["From"].addresses[0].addr_spec == (
        "box@example.com"
    )
    assert sent["Message-ID"] == res["message_id"]
    msg = app.get(f"/api/v1/mail-messages/{res['id']}").json
    assert msg["direction"] == "out" and msg["subject"] == "Η προσφορά μας"
    from kyklos_mail.models import Filing

    with dbsession() as db:
        assert db.execute(
            select(Filing.entity, Filing.record_id).where(Filing.mail_id == res["id"])
        ).all() == [("person", anna)]


def test_a_reply_threads_and_bad_input_is_named(api, imap, make_record, smtp_server):
    dovecot, user, password = imap
    app = api("sales")
    box = sending_box(app, dovecot, user, password, smtp_server)
    make_record("person", first_name="Anna", last_name="P", email="anna@acme.example")
    dovecot.append(
        user,
        password,
        message("anna@acme.example", subject="Question", message_id="<q1@acme.example>"),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    original = app.get("/api/v1/mail-messages").json["items"][0]
    res = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@acme.example"],
            "subject": "Re: Question",
            "body": "Answer",
            "reply_to": original["id"],
        },
        status=201,
    ).json
    sent = smtp_server.wait(1)[0]
    assert sent["In-Reply-To"] == "<q1@acme.example>"
    reply = app.get(f"/api/v1/mail-messages/{res['id']}").json
    assert reply["thread_key"] == original["thread_key"]
    bad = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": 99999,
            "to": ["not an address", "x@y.example\r\nBcc: z@z"],
            "subject": "a\nb",
            "body": " ",
            "about": {"entity": "user", "record_id": 1},
        },
        status=400,
    )
    assert {"mailbox_id", "to", "subject", "body", "about"} <= set(errors_of(bad))
    assert len(smtp_server.messages) == 1  # nothing more left


def test_a_message_that_cannot_be_sent_is_not_filed(api, imap, smtp_server):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(
        app, dovecot, user, password, smtp_host="127.0.0.1", smtp_port=1, smtp_security="none"
    )
    res = app.post_json(
        "/api/v1/mail/send",
        {"mailbox_id": box["id"], "to": ["a@b.example"], "subject": "S", "body": "B"},
        status=400,
    )
    assert "mailbox_id" in errors_of(res)
    assert app.get("/api/v1/mail-messages").json["items"] == []


def test_the_compose_page_offers_the_records_addresses_and_sends(
    client, imap, make_record, smtp_server
):
    dovecot, user, password = imap
    web = client("sales")
    anna = make_record("person", first_name="Anna", last_name="Pappa", email="anna@acme.example")
    from kyklos_sdk.testing import csrf_of

    token = csrf_of(web)
    web.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        },
        headers={"X-CSRF-Token": token},
        status=201,
    )
    box_id = web.get("/api/v1/mailboxes").json["items"][0]["id"]
    form = web.get(f"/mail/mailboxes/{box_id}/password").forms["k-mail-password"]
    form["password"] = password
    form.submit(status=303)
    page = web.get(f"/mail/compose?about=person:{anna}")
    assert "Anna Pappa &lt;anna@acme.example&gt;" in page.text
    form = page.forms["k-compose"]
    form["subject"] = "Hello"
    form["body_html"] = "<p>Hi Anna</p>"
    res = form.submit(status=303)
    assert res.location.endswith(f"/persons/{anna}")
    assert smtp_server.wait(1)[0]["To"] == "anna@acme.example"
    detail = web.get(f"/persons/{anna}")
    assert "Hello" in detail.text  # on the person's timeline


def test_attachments_of_received_mail_are_the_messages_record_attachments(api, imap):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, eml("outlook2000-multipart-latin1.eml"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    mid = app.get("/api/v1/mail-messages").json["items"][0]["id"]
    files = app.get(f"/api/v1/mail-messages/{mid}/attachments").json
    items = files["items"] if isinstance(files, dict) else files
    assert [f["filename"] for f in items] == ["blueball2.png"]
    assert app.get(f"/api/v1/mail-messages/{mid}").json["attachments"][0]["attachment_id"]


def test_the_message_page_shows_body_attachments_and_thread(client, imap):
    dovecot, user, password = imap
    web = client("sales")
    from kyklos_sdk.testing import csrf_of

    box = web.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
        },
        headers={"X-CSRF-Token": csrf_of(web)},
        status=201,
    ).json
    form = web.get(f"/mail/mailboxes/{box['id']}/password").forms["k-mail-password"]
    form["password"] = password
    form.submit(status=303)
    dovecot.append(
        user,
        password,
        eml("outlook2000-multipart-latin1.eml"),
        eml("gmail-alternative-attachment.eml"),
    )
    web.post(f"/mail/mailboxes/{box['id']}/fetch", {"csrf_token": csrf_of(web)}, status=303)
    items = web.get("/api/v1/mail-messages").json["items"]
    by_subject = {m["subject"]: m["id"] for m in items}
    page = web.get(f"/mail-messages/{by_subject['Test message from Microsoft Outlook 00']}")
    assert "Die Hasen und die Frösche" in page.text and "blueball2.png" in page.text
    page = web.get(f"/mail-messages/{by_subject['test eml']}")
    body = page.html.select_one(".k-mail-body")
    assert body.name == "div" and "Hi this is the body" in body.text  # the HTML part
    assert "attac.txt" in page.text
    ledger = web.get(f"/mail/mailboxes/{box['id']}/ledger")
    assert ledger.text.count("k-ledger-unmatched") == 2
    rec = web.get(f"/mail/mailboxes/{box['id']}/reconcile")
    assert "k-in-sync" in rec.text


def test_a_failing_shared_mailbox_notifies_the_mail_administrators(api, imap):
    """A shared mailbox has no owner to tell: its administrators hear that it failed."""
    dovecot, user, _password = imap
    admin = api("mailadmin")
    bystander = api("sales")
    box = new_mailbox(admin, dovecot, user, "wrong password", kind="shared")
    admin.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    assert admin.get(f"/api/v1/mailboxes/{box['id']}").json["state"] == "failing"
    titles = [n["title"] for n in admin.get("/api/v1/_notifications").json["items"]]
    assert any("Sales inbox" in t for t in titles), titles
    assert not any(
        "Sales inbox" in n["title"] for n in bystander.get("/api/v1/_notifications").json["items"]
    )

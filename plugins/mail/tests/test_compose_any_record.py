"""Writing from any record (issue 22): an opportunity, a case, a lead... offers the
people its fields and related lists name (found through the entity registry; the mail
plugin does not know sfa or helpdesk), merges its fields into the template, attaches its
files, and the message sent is filed on it and on its recipients' records."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select

from kyklos_sdk.testing import csrf_of

from .test_mail import errors_of

ROLE = "admin"


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa", "helpdesk", "mail"]


def _stage(dbsession):
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)
        return db.execute(select(Stage.id).order_by(Stage.id).limit(1)).scalar()


class Web:
    """One signed-in user, for the pages and (with the session's CSRF token) the API."""

    def __init__(self, app):
        self.app, self.token = app, csrf_of(app)

    def get(self, url, *args, **kw):
        return self.app.get(url, *args, **kw)

    def post_json(self, url, data, status=201):
        return self.app.post_json(url, data, headers={"X-CSRF-Token": self.token}, status=status)

    def upload(self, url, name, data):
        return self.app.post(
            url,
            {"csrf_token": self.token},
            upload_files=[("file", name, data)],
            headers={"X-CSRF-Token": self.token},
            status=201,
        ).json


@pytest.fixture
def web(client):
    return Web(client(ROLE))


def _box(web, imap, smtp_server):
    dovecot, user, password = imap
    box = web.post_json(
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
    ).json
    web.app.put_json(
        f"/api/v1/mailboxes/{box['id']}/password",
        {"password": password},
        headers={"X-CSRF-Token": web.token},
        status=204,
    )
    return box


@pytest.fixture
def deal(web, make_record, dbsession):
    """An opportunity of Ακμή (whose own address is info@) with Άννα as its contact and
    Piotr as a participant; Zoe works at Ακμή too."""
    acme = make_record("account", name="Ακμή ΑΕ", email="info@akmi.example")
    anna = make_record(
        "person",
        first_name="Άννα",
        last_name="Παππά",
        email="anna@akmi.example",
        account_id=acme,
        language="el",
    )
    piotr = make_record("person", first_name="Piotr", last_name="Nowak", email="piotr@nowak.pl")
    zoe = make_record(
        "person", first_name="Zoe", last_name="K", email="zoe@akmi.example", account_id=acme
    )
    opp = web.post_json(
        "/api/v1/opportunities",
        {
            "name": "Νέα γραμμή παραγωγής",
            "account_id": acme,
            "person_id": anna,
            "stage_id": _stage(dbsession),
        },
    ).json["id"]
    web.post_json(
        "/api/v1/opportunity-participants",
        {"opportunity_id": opp, "person_id": piotr, "role": "Consultant"},
    )
    return {"opp": opp, "acme": acme, "anna": anna, "piotr": piotr, "zoe": zoe}


def test_an_opportunity_offers_its_people_and_sends_with_its_files(
    web, imap, smtp_server, deal, dbsession
):
    box = _box(web, imap, smtp_server)
    page = web.get(f"/opportunities/{deal['opp']}")
    link = page.html.find("a", string=lambda s: s and "Write an e-mail" in s)
    assert link is not None and link["href"].endswith(f"about=opportunity%3A{deal['opp']}")
    compose = web.get(link["href"])
    offered = [i["value"] for i in compose.html.select("input[name=to]")]
    # the contact first (ticked), then the participant, the account, its people
    assert offered == [
        "anna@akmi.example",
        "piotr@nowak.pl",
        "info@akmi.example",
        "zoe@akmi.example",
    ]
    assert [i["value"] for i in compose.html.select("input[name=to][checked]")] == [
        "anna@akmi.example"
    ]
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 40
    att = web.upload(f"/api/v1/opportunities/{deal['opp']}/attachments", "Προσφορά.pdf", pdf)
    # the same offer through the API
    offer = web.get("/api/v1/mail/recipients", {"about": f"opportunity:{deal['opp']}"}).json
    assert [r["address"] for r in offer["items"]] == offered
    assert offer["items"][0]["label"] == "Άννα Παππά <anna@akmi.example>"
    assert [(a["id"], a["filename"]) for a in offer["attachments"]] == [(att["id"], "Προσφορά.pdf")]
    res = web.app.get("/api/v1/mail/recipients", {"about": "mailbox:1"}, status=400)
    assert set(errors_of(res)) == {"about"}
    assert f'value="{att["id"]}"' in web.get(link["href"]).text  # offered on the form
    res = web.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@akmi.example", "piotr@nowak.pl"],
            "subject": "Η προσφορά μας",
            "body": "Καλημέρα,\nη προσφορά επισυνάπτεται.",
            "about": {"entity": "opportunity", "record_id": deal["opp"]},
            "attachment_ids": [att["id"]],
        },
    ).json
    sent = smtp_server.wait(1)[0]
    [part] = list(sent.iter_attachments())
    assert part.get_filename() == "Προσφορά.pdf"
    assert hashlib.sha256(part.get_content()).hexdigest() == hashlib.sha256(pdf).hexdigest()
    from kyklos_mail.models import Filing

    with dbsession() as db:
        filed = set(
            db.execute(
                select(Filing.entity, Filing.record_id).where(Filing.mail_id == res["id"])
            ).all()
        )
    assert filed == {
        ("opportunity", deal["opp"]),
        ("person", deal["anna"]),
        ("person", deal["piotr"]),
        ("account", deal["acme"]),
    }
    # on the opportunity's timeline and on the recipients'
    for path in (
        f"/opportunities/{deal['opp']}",
        f"/persons/{deal['piotr']}",
        f"/accounts/{deal['acme']}",
    ):
        assert "Η προσφορά μας" in web.get(path).text, path


def test_a_template_written_from_an_opportunity_merges_its_contact(web, imap, smtp_server, deal):
    _box(web, imap, smtp_server)
    main = web.post_json(
        "/api/v1/mail-templates",
        {"name": "Offer", "language": "en", "subject": "About {{ name }}", "body": "<p>Hi</p>"},
    ).json["id"]
    web.post_json(
        "/api/v1/mail-templates",
        {
            "name": "Offer (el)",
            "language": "el",
            "translation_of_id": main,
            "subject": "Σχετικά με {{ name }}",
            "body": "<p>Αγαπητή {{ first_name or 'πελάτισσα' }}, {{ account_name }}</p>",
        },
    )
    # the contact's language picks the Greek version; her first name fills the greeting
    out = web.get(
        f"/api/v1/mail-templates/{main}/render", {"about": f"opportunity:{deal['opp']}"}
    ).json
    assert out["language"] == "el"
    assert out["subject"] == "Σχετικά με Νέα γραμμή παραγωγής"
    assert "Αγαπητή Άννα, Ακμή ΑΕ" in out["html"]
    page = web.get(f"/mail/compose?about=opportunity:{deal['opp']}&template={main}")
    assert page.forms["k-compose"]["subject"].value == "Σχετικά με Νέα γραμμή παραγωγής"
    assert "Αγαπητή Άννα" in page.forms["k-compose"]["body_html"].value


def test_a_case_gets_its_tag_and_a_lead_its_address(web, imap, smtp_server, make_record):
    box = _box(web, imap, smtp_server)
    acme = make_record("account", name="Acme", email="help@acme.example")
    joe = make_record("person", first_name="Joe", last_name="Doe", email="joe@acme.example")
    case = web.post_json(
        "/api/v1/cases", {"subject": "Boiler shows E42", "account_id": acme, "person_id": joe}
    ).json
    compose = web.get(f"/mail/compose?about=case:{case['id']}")
    assert [i["value"] for i in compose.html.select("input[name=to]")] == [
        "joe@acme.example",
        "help@acme.example",
    ]
    tag = f"[{case['number']}]"
    assert compose.forms["k-compose"]["subject"].value == tag
    web.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["joe@acme.example"],
            "subject": "Your boiler",
            "body": "A technician comes on Monday.",
            "about": {"entity": "case", "record_id": case["id"]},
        },
    )
    # the answer finds its way back to the case even from a client dropping the headers
    assert smtp_server.wait(1)[0]["Subject"] == f"Your boiler {tag}"
    assert "Your boiler" in web.get(f"/cases/{case['id']}").text
    lead = web.post_json(
        "/api/v1/leads", {"first_name": "Ewa", "last_name": "Kowalska", "email": "ewa@firma.pl"}
    ).json["id"]
    compose = web.get(f"/mail/compose?about=lead:{lead}")
    assert [i["value"] for i in compose.html.select("input[name=to]")] == ["ewa@firma.pl"]


def test_a_record_naming_nobody_offers_no_e_mail_and_bad_input_is_named(
    web, imap, smtp_server, dbsession, make_record
):
    box = _box(web, imap, smtp_server)
    lonely = web.post_json(
        "/api/v1/opportunities", {"name": "No one yet", "stage_id": _stage(dbsession)}
    ).json["id"]
    assert "Write an e-mail" not in web.get(f"/opportunities/{lonely}").text
    # a type that names no one to write to is refused, field by field, nothing sent
    res = web.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["a@b.example"],
            "subject": "S",
            "body": "B",
            "about": {"entity": "mailbox", "record_id": box["id"]},
            "attachment_ids": [1],
        },
        status=400,
    )
    assert {"about", "attachment_ids"} <= set(errors_of(res))
    # another record's file cannot ride along
    other = make_record("account", name="Other")
    att = web.upload(f"/api/v1/accounts/{other}/attachments", "secret.txt", b"secret")
    res = web.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["a@b.example"],
            "subject": "S",
            "body": "B",
            "about": {"entity": "opportunity", "record_id": lonely},
            "attachment_ids": [att["id"]],
        },
        status=400,
    )
    assert set(errors_of(res)) == {"attachment_ids"}
    assert smtp_server.messages == []
    assert web.get("/api/v1/mail-messages").json["items"] == []


def test_a_plugin_adds_recipients_through_the_hook(web, imap, smtp_server, registry, make_record):
    """A release names nobody by its fields: no e-mail is offered, until a plugin says
    whom to write to about it (``kyklos_mail_recipients``)."""
    from kyklos_sdk import hookimpl

    _box(web, imap, smtp_server)
    product = make_record("product", sku="BOILER-1", name="Boiler")
    release = make_record("release", name="2.0", product_id=product)
    assert "Write an e-mail" not in web.get(f"/releases/{release}").text
    web.get(f"/mail/compose?about=release:{release}")  # no record: a blank e-mail

    class Watchers:
        @hookimpl
        def kyklos_mail_recipients(self, request, entity_type, record):
            if entity_type.name == "release":
                return [("watchers@example.com", "Release watchers <watchers@example.com>")]
            return None

    plugin = Watchers()
    registry.kyklos_pm.register(plugin, name="test-watchers")
    try:
        assert "Write an e-mail" in web.get(f"/releases/{release}").text
        compose = web.get(f"/mail/compose?about=release:{release}")
        assert [i["value"] for i in compose.html.select("input[name=to]")] == [
            "watchers@example.com"
        ]
    finally:
        registry.kyklos_pm.unregister(plugin)


def test_a_message_scheduled_from_an_opportunity_is_filed_there_when_sent(
    web, imap, smtp_server, deal, registry, dbsession
):
    import datetime as dt

    from kyklos.jobs.runner import run_scheduled

    box = _box(web, imap, smtp_server)
    att = web.upload(f"/api/v1/opportunities/{deal['opp']}/attachments", "plan.pdf", b"%PDF-1")
    when = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).replace(microsecond=0)
    res = web.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@akmi.example"],
            "subject": "Αύριο",
            "body": "Τα λέμε αύριο.",
            "about": {"entity": "opportunity", "record_id": deal["opp"]},
            "attachment_ids": [att["id"]],
            "send_at": when.isoformat(),
        },
        status=202,
    ).json
    assert res["status"] == "scheduled" and smtp_server.messages == []
    assert run_scheduled(registry, until=when + dt.timedelta(seconds=1)) == 1
    sent = smtp_server.wait(1)[0]
    assert [p.get_filename() for p in sent.iter_attachments()] == ["plan.pdf"]
    assert "/mail/t/" not in sent.as_string()  # tracking stays off unless asked
    mail_id = web.get("/api/v1/mail/scheduled").json["items"][0]["mail_id"]
    from kyklos_mail.models import Filing

    with dbsession() as db:
        assert ("opportunity", deal["opp"]) in db.execute(
            select(Filing.entity, Filing.record_id).where(Filing.mail_id == mail_id)
        ).all()
    assert "Αύριο" in web.get(f"/opportunities/{deal['opp']}").text

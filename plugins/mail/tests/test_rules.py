"""Mailbox rules (ACT-15) through the API and pages, against a real Dovecot: ordered
rules with conditions on sender, recipients, subject and attachments; actions that
file to a chosen record, assign, keep unfiled (ledger: ignored by a rule), make
private; checks naming each bad field; a dry run over the last messages."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from kyklos_sdk.testing import PASSWORD

PROBLEM = "application/problem+json"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def message(sender, subject, attachment=False, to="box@example.com") -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, subject
    m["Message-ID"] = make_msgid(domain="test.example")
    m.set_content("Body")
    if attachment:
        m.add_attachment(
            b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf", filename="invoice.pdf"
        )
    return m.as_bytes()


def new_box(app, dovecot, user, password, **extra) -> dict:
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Sales inbox",
            "address": "box@example.com",
            "kind": "shared",
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


def test_rules_apply_in_order_and_their_actions_are_done(
    api, imap, make_record, make_user, dbsession, testapp, login
):
    dovecot, user, password = imap
    app = api("mailadmin", "sales")
    clerk = make_user(email="clerk@example.com", roles=("sales",))
    acme = make_record("account", name="Acme Billing")
    box = new_box(app, dovecot, user, password)
    skip = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "Newsletters",
            "mailbox_id": box["id"],
            "position": 1,
            "from_contains": "NEWS@",
            "skip_filing": True,
        },
        status=201,
    ).json
    invoices = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "Invoices",
            "mailbox_id": box["id"],
            "position": 2,
            "subject_contains": "invoice",
            "has_attachment": "yes",
            "file_account_id": acme,
            "assign_to_id": clerk,
            "make_private": True,
        },
        status=201,
    ).json
    dovecot.append(
        user,
        password,
        message("news@shop.example", "Invoice of the week", attachment=True),  # rule 1 first
        message("billing@vendor.example", "Your INVOICE 42", attachment=True),
        message("billing@vendor.example", "Your invoice, text only"),  # no attachment
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    led = {e["uid"]: e for e in app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"]}
    assert led[1]["outcome"] == "ignored" and "Newsletters" in led[1]["reason"]
    assert led[2]["outcome"] == "filed" and "Invoices" in led[2]["reason"]
    assert led[3]["outcome"] == "unmatched"
    from kyklos_mail.models import Filing, Message

    with dbsession() as db:
        rows = {m.subject: m for m in db.execute(select(Message)).scalars()}
        got = {m.subject: (m.rule_id, m.private, m.owner_id) for m in rows.values()}
        filed = db.execute(select(Filing.mail_id, Filing.entity, Filing.record_id)).all()
    assert got["Invoice of the week"][0] == skip["id"]
    assert got["Your INVOICE 42"] == (invoices["id"], True, clerk)
    assert got["Your invoice, text only"][0] is None
    assert filed == [(rows["Your INVOICE 42"].id, "account", acme)]
    # private and assigned: the clerk sees it and was told, the rule's author does not
    app.get(f"/api/v1/mail-messages/{rows['Your INVOICE 42'].id}", status=404)
    login(testapp, "clerk@example.com", PASSWORD)
    mine = testapp.get(f"/api/v1/mail-messages/{rows['Your INVOICE 42'].id}").json
    assert mine["rule_id"] == invoices["id"]
    told = testapp.get("/api/v1/_notifications").json["items"]
    assert any("Your INVOICE 42" in n["title"] for n in told)
    detail = app.get(f"/api/v1/mail-messages/{rows['Invoice of the week'].id}").json
    assert detail["rule_id"] == skip["id"]


def test_a_rule_is_checked_field_by_field(api, imap, make_record):
    dovecot, user, password = imap
    owner, other = api("sales"), api("sales")
    box = new_box(owner, dovecot, user, password, kind="personal")
    res = owner.post_json(
        "/api/v1/mail-rules", {"name": "Nothing", "mailbox_id": box["id"]}, status=400
    )
    assert "skip_filing" in errors_of(res)
    acme = make_record("account", name="Acme")
    res = owner.post_json(
        "/api/v1/mail-rules",
        {"name": "Both", "mailbox_id": box["id"], "skip_filing": True, "file_account_id": acme},
        status=400,
    )
    assert "skip_filing" in errors_of(res)
    # helpdesk is not enabled here: no plugin opens cases
    res = owner.post_json(
        "/api/v1/mail-rules",
        {"name": "Cases", "mailbox_id": box["id"], "open_case": True},
        status=400,
    )
    assert "open_case" in errors_of(res)
    res = owner.post_json(
        "/api/v1/mail-rules",
        {"name": "Bad", "mailbox_id": box["id"], "skip_filing": True, "has_attachment": "maybe"},
        status=400,
    )
    assert "has_attachment" in errors_of(res)
    # someone else's mailbox is not one to attach rules to
    res = other.post_json(
        "/api/v1/mail-rules",
        {"name": "Theirs", "mailbox_id": box["id"], "skip_filing": True},
        status=400,
    )
    assert "mailbox_id" in errors_of(res)
    rule = owner.post_json(
        "/api/v1/mail-rules",
        {"name": "Mine", "mailbox_id": box["id"], "skip_filing": True},
        status=201,
    ).json
    other.get(f"/api/v1/mail-rules/{rule['id']}", status=404)
    other.get(f"/api/v1/mail-rules/{rule['id']}/dry-run", status=404)


def test_the_dry_run_shows_what_the_rules_would_do(api, client, imap):
    dovecot, user, password = imap
    app = api("mailadmin", "sales")
    box = new_box(app, dovecot, user, password)
    dovecot.append(
        user,
        password,
        message("a@one.example", "Order 1"),
        message("b@two.example", "Order 2", attachment=True),
        message("c@three.example", "Hello"),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    first = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "From two",
            "mailbox_id": box["id"],
            "position": 1,
            "from_contains": "two.example",
            "make_private": True,
        },
        status=201,
    ).json
    orders = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "Orders",
            "mailbox_id": box["id"],
            "position": 2,
            "subject_contains": "order",
            "make_private": True,
        },
        status=201,
    ).json
    items = app.get(f"/api/v1/mail-rules/{orders['id']}/dry-run").json["items"]
    by = {i["subject"]: i for i in items}
    assert len(items) == 3
    assert by["Order 1"]["matches"] and by["Order 1"]["applies"]["name"] == "Orders"
    assert by["Order 2"]["matches"] and by["Order 2"]["applies"]["id"] == first["id"]
    assert not by["Hello"]["matches"] and by["Hello"]["applies"] is None
    # the page, in the user's language, with the rule's action on its record page
    web = client("mailadmin", "sales")
    page = web.get(f"/mail/rules/{orders['id']}/dry-run")
    assert "Order 1" in page.text and page.html.select(".k-dry-run tbody tr.k-match")
    assert len(page.html.select(".k-dry-run tbody tr.k-match")) == 2

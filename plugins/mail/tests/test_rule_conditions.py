"""Rule conditions on the message's text and on a header (ACT-15), against a real
Dovecot: they decide which rule applies when mail arrives and in the rule's test (dry
run); a header condition is checked field by field on the API and shown in words on
the rule's form."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from .test_rules import errors_of, new_box


def message(sender, subject, body="Body", **headers) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "box@example.com", subject
    m["Message-ID"] = make_msgid(domain="test.example")
    for k, v in headers.items():
        m[k.replace("_", "-")] = v
    m.set_content(body)
    return m.as_bytes()


def test_body_and_header_conditions_apply_on_arrival_and_in_the_test(api, imap):
    dovecot, user, password = imap
    app = api("mailadmin", "sales")
    box = new_box(app, dovecot, user, password)
    invoices = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "Invoices",
            "mailbox_id": box["id"],
            "position": 1,
            "body_contains": "  Invoice number ",
            "make_private": True,
        },
        status=201,
    ).json
    assert invoices["body_contains"] == "Invoice number"
    lists = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "Mailing lists",
            "mailbox_id": box["id"],
            "position": 2,
            "header_name": "List-Id:",
            "header_op": "contains",
            "header_value": "announce.example.org",
            "skip_filing": True,
        },
        status=201,
    ).json
    assert lists["header_name"] == "List-Id"
    urgent = app.post_json(
        "/api/v1/mail-rules",
        {
            "name": "Urgent",
            "mailbox_id": box["id"],
            "position": 3,
            "header_name": "X-Priority",
            "header_op": "equals",
            "header_value": "1 (Highest)",
            "make_private": True,
        },
        status=201,
    ).json
    dovecot.append(
        user,
        password,
        message("a@one.example", "March", body="Please find INVOICE NUMBER 42 attached."),
        message("b@two.example", "News", List_Id="Announcements <announce.example.org>"),
        message("c@three.example", "Help!", X_Priority="1 (highest)"),
        message("d@four.example", "Later", X_Priority="1 (Highest) but not really"),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    msgs = {
        m["subject"]: m
        for m in app.get("/api/v1/mail-messages", {"mailbox_id": box["id"]}).json["items"]
    }
    assert msgs["March"]["rule_id"] == invoices["id"]
    assert msgs["News"]["rule_id"] == lists["id"]
    assert msgs["Help!"]["rule_id"] == urgent["id"]  # "is exactly", letter case aside
    assert msgs["Later"]["rule_id"] is None
    led = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json
    assert led["counts"].get("ignored") == 1  # the mailing list's, not filed
    # the test button reads the stored text and headers the same way
    items = app.get(f"/api/v1/mail-rules/{urgent['id']}/dry-run").json["items"]
    assert {i["subject"] for i in items if i["matches"]} == {"Help!"}
    items = app.get(f"/api/v1/mail-rules/{invoices['id']}/dry-run").json["items"]
    assert {i["subject"] for i in items if i["matches"]} == {"March"}
    # "is present": any value
    app.patch_json(
        f"/api/v1/mail-rules/{urgent['id']}",
        {"header_op": "present", "header_value": None, "version": urgent["version"]},
        status=200,
    )
    items = app.get(f"/api/v1/mail-rules/{urgent['id']}/dry-run").json["items"]
    assert {i["subject"] for i in items if i["matches"]} == {"Help!", "Later"}


def test_a_header_condition_is_checked_field_by_field(api, imap):
    dovecot, user, password = imap
    app = api("sales")
    box = new_box(app, dovecot, user, password, kind="personal")
    base = {"name": "H", "mailbox_id": box["id"], "skip_filing": True}
    cases = [
        ({"header_name": "List Id", "header_op": "contains", "header_value": "x"}, "header_name"),
        ({"header_name": "List-Id"}, "header_op"),
        ({"header_name": "List-Id", "header_op": "equals"}, "header_value"),
        ({"header_value": "x"}, "header_name"),
        ({"header_name": "List-Id", "header_op": "sounds-like", "header_value": "x"}, "header_op"),
    ]
    for extra, field in cases:
        res = app.post_json("/api/v1/mail-rules", {**base, **extra}, status=400)
        assert field in errors_of(res), extra
    assert app.get("/api/v1/mail-rules").json["items"] == []  # nothing half-written


def test_the_rule_form_offers_the_conditions_in_words(client):
    web = client("sales")
    page = web.get("/mail-rules/new")
    select = page.html.select_one("select[name=header_op]")
    assert select is not None
    assert [o.get_text(strip=True) for o in select.select("option") if o.get("value")] == [
        "contains",
        "is exactly",
        "is present",
    ]
    assert page.html.select_one("[name=body_contains]") is not None
    assert page.html.select_one("[name=header_name]") is not None

"""The outbox through its public surfaces, without a gateway: the API with problem+json
for each bad field, the "Send SMS" page, states in words on the list page and the
person's timeline, receipts and inbound messages through their token URLs, the
settling of a message a dead worker left half-sent, and greetings by SMS."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from sms_helpers import errs, make_person
from sqlalchemy import select

from kyklos_sdk.testing import check_plugin, csrf_of


def _messages(dbsession):
    from kyklos_sms.models import SmsMessage

    with dbsession() as db:
        rows = db.execute(select(SmsMessage).order_by(SmsMessage.id)).scalars().all()
        db.expunge_all()
        return rows


def test_plugin_shape():
    assert check_plugin("sms", raises=False) == []


def test_api_send_queues_with_counts(admin, dbsession):
    p = make_person(admin, country="GR")
    res = admin.post_json(
        "/api/v1/sms/send", {"person_id": p["id"], "body": "Καλημέρα, η παραγγελία σας έφτασε."}
    )
    assert res.status_int == 201
    body = res.json
    assert body["state"] == "queued" and body["number"] == "+306912345678"
    assert body["encoding"] == "ucs2" and body["parts"] == 1
    # the state is read back through the core's API of the entity type
    got = admin.get(f"/api/v1/sms-messages/{body['id']}").json
    assert got["state"] == "queued" and got["person_id"] == p["id"]
    listed = admin.get("/api/v1/sms-messages", {"state": "queued"}).json
    assert [m["id"] for m in listed["items"]] == [body["id"]]
    # a number typed in national form, read in the site's/the person's country
    res = admin.post_json(
        "/api/v1/sms/send", {"person_id": p["id"], "number": "697 000 0001", "body": "a" * 161}
    )
    assert res.json["number"] == "+306970000001"
    assert res.json["encoding"] == "gsm7" and res.json["parts"] == 2


def test_api_send_errors_name_each_field(admin, dbsession):
    p = make_person(admin, country="GR")
    res = admin.post_json(
        "/api/v1/sms/send", {"number": "2101234567", "body": "", "x": 1}, expect_errors=True
    )
    assert res.status_int == 400
    assert res.content_type == "application/problem+json"
    assert set(errs(res)) == {"x"}
    res = admin.post_json(
        "/api/v1/sms/send", {"person_id": p["id"], "number": "2101234567", "body": "  "},
        expect_errors=True,
    )  # fmt: skip
    assert res.status_int == 400
    assert "not a mobile" in errs(res)["number"]
    assert "Write the message" in errs(res)["body"]
    res = admin.post_json(
        "/api/v1/sms/send", {"person_id": 999999, "body": "hi"}, expect_errors=True
    )
    assert set(errs(res)) == {"person_id"}
    res = admin.post_json("/api/v1/sms/send", {"body": "x" * 1600}, expect_errors=True)
    assert set(errs(res)) == {"number", "body"}
    assert "At most 10 parts" in errs(res)["body"]
    res = admin.post_json("/api/v1/sms/send", ["x"], expect_errors=True)
    assert res.status_int == 400
    # nothing was written by any of these
    assert _messages(dbsession) == []


def test_permissions(api, admin):
    p = make_person(admin, country="GR")
    reader = api("user")
    reader.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": "hi"}, status=403)
    reader.get("/api/v1/sms/gateway", status=403)
    sales = api("sales")
    assert (
        sales.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": "hi"}).status_int == 201
    )
    sales.put_json("/api/v1/sms/gateway", {"url": "http://x"}, status=403)
    # the messages are not created through the generic entity API
    sales.post_json("/api/v1/sms-messages", {"number": "+306912345678"}, status=(403, 405))


def test_gateway_settings_keep_the_password_encrypted(admin, dbsession):
    from kyklos_sms.models import Gateway

    res = admin.put_json(
        "/api/v1/sms/gateway",
        {"url": "ftp://x", "username": "", "sender": "A very long sender", "per_minute": 0},
        expect_errors=True,
    )
    assert res.status_int == 400
    assert set(errs(res)) == {"url", "username", "sender", "per_minute", "password"}
    res = admin.put_json(
        "/api/v1/sms/gateway",
        {"url": "http://127.0.0.1:1401", "username": "kyklos", "password": "s3cret!",
         "sender": "Kyklos", "per_minute": 30},
    )  # fmt: skip
    assert res.json["configured"] and res.json["password_set"]
    assert "s3cret" not in res.text and "inbound" in res.json["inbound_url"]
    with dbsession() as db:
        gw = db.execute(select(Gateway)).scalar_one()
        assert gw.password_secret and "s3cret" not in gw.password_secret
        secret = gw.password_secret
    # saving without a password keeps it
    admin.put_json(
        "/api/v1/sms/gateway",
        {"url": "http://127.0.0.1:1402", "username": "kyklos", "sender": "Kyklos"},
    )
    with dbsession() as db:
        gw = db.execute(select(Gateway)).scalar_one()
        assert gw.password_secret == secret and gw.url == "http://127.0.0.1:1402"


def test_unreachable_gateway_fails_the_message_with_the_reason(admin, dbsession):
    admin.put_json(
        "/api/v1/sms/gateway",
        {"url": "http://127.0.0.1:9", "username": "k", "password": "p", "sender": "Kyklos"},
    )
    p = make_person(admin, country="GR")
    mid = admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": "hi"}).json["id"]
    # the send job ran after the commit (immediate job backend of the tests)
    got = admin.get(f"/api/v1/sms-messages/{mid}").json
    assert got["state"] == "failed" and got["error"]
    # sent again by hand: a new message, the failed one stays as it was
    again = admin.post_json(f"/api/v1/sms-messages/{mid}/resend", {}).json
    assert again["id"] != mid and again["body"] == "hi"
    res = admin.post_json(f"/api/v1/sms-messages/{again['id']}/resend", {}, expect_errors=True)
    assert res.status_int in (201, 409)


def test_send_page_from_person_and_account(client, admin, dbsession):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos", "country": "GR"}).json
    p = make_person(admin, country="GR", account_id=acc["id"])
    make_person(admin, first="Nikos", last="Dimas", mobile="+306970000002", account_id=acc["id"])
    c = client("sales")
    page = c.get(f"/persons/{p['id']}")
    assert "Send SMS" in page.text
    form_page = c.get("/sms/send", {"person": p["id"]})
    assert "+306912345678" in form_page.text and "1 message" in form_page.text
    form = form_page.forms["k-sms-send"]
    form["body"] = ""
    res = form.submit()
    assert "Write the message" in res.text
    form = res.forms["k-sms-send"]
    form["body"] = "Καλό ταξίδι!"
    res = form.submit()
    assert res.status_int == 303
    timeline = c.get(f"/persons/{p['id']}").text
    assert "Καλό ταξίδι!" in timeline and "Waiting to be sent" in timeline
    # from the account: its people's numbers in a drop-down
    page = c.get("/sms/send", {"account": acc["id"]})
    options = [o[0] for o in page.forms["k-sms-send"]["recipient"].options]
    assert len(options) == 2 and any("+306970000002" in o for o in options)
    # a forged recipient is refused
    res = c.post(
        f"/sms/send?account={acc['id']}",
        {"csrf_token": csrf_of(c), "recipient": "1:+306999999999", "body": "x"},
    )
    assert "Choose a number from the list" in res.text
    # the list page shows states in words
    listing = c.get("/sms-messages/")
    assert "Waiting to be sent" in listing.text and "Papadopoulou" in listing.text
    # the live count
    cnt = c.get("/api/v1/sms/count", {"text": "€" * 81}).json
    assert cnt["parts"] == 2 and cnt["encoding"] == "gsm7"
    assert "162 characters" in cnt["text"] and "2 messages" in cnt["text"]


def test_send_page_in_greek(client, admin):
    p = make_person(admin, country="GR")
    c = client("sales")
    c.post("/language", {"language": "el", "csrf_token": csrf_of(c)}, status="*")
    page = c.get("/sms/send", {"person": p["id"]}, headers={"Accept-Language": "el"})
    assert "Αποστολή SMS" in page.text


def test_receipts_and_inbound_through_token_urls(admin, testapp, dbsession):
    from kyklos_sms.models import Gateway, SmsMessage

    admin.put_json(
        "/api/v1/sms/gateway",
        {"url": "http://127.0.0.1:9", "username": "k", "password": "p", "sender": "Kyklos",
         "active": False},
    )  # fmt: skip
    p = make_person(admin, country="GR")
    mid = admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": "hi"}).json["id"]
    with dbsession() as db:
        token = db.get(SmsMessage, mid).token
        inbound = db.execute(select(Gateway)).scalar_one().inbound_token
    testapp.post(f"/sms/receipt/{mid}/wrong", {"level": "2", "message_status": "DELIVRD"},
                 status=404)  # fmt: skip
    res = testapp.post(
        f"/sms/receipt/{mid}/{token}", {"id": "abc", "level": "1", "message_status": "ESME_ROK"}
    )
    assert res.text == "ACK/Jasmin"
    assert admin.get(f"/api/v1/sms-messages/{mid}").json["state"] == "sent"
    testapp.post(f"/sms/receipt/{mid}/{token}", {"id": "abc", "level": "2",
                                                 "message_status": "DELIVRD"})  # fmt: skip
    got = admin.get(f"/api/v1/sms-messages/{mid}").json
    assert got["state"] == "delivered" and got["gateway_id"] == "abc" and got["delivered_at"]
    # an inbound message, matched by number, shown on the person's timeline
    testapp.post("/sms/inbound/nope", {"from": "306912345678", "content": "x"}, status=404)
    # as Jasmin posts it: ``content`` holds the raw UTF-16 bytes (no UTF-8), the text
    # is in ``binary`` and the coding is the raw byte 0x08
    text = "Ευχαριστώ!".encode("utf-16-be")
    params = urlencode(
        {"id": "mo-1", "from": "306912345678", "to": "Kyklos", "origin-connector": "smsc",
         "content": text, "binary": text.hex(), "priority": "0", "coding": b"\x08"}
    ).encode()  # fmt: skip
    ctype = "application/x-www-form-urlencoded"
    res = testapp.post(f"/sms/inbound/{inbound}", params, content_type=ctype)
    assert res.text == "ACK/Jasmin"
    # a retried callback is stored once
    testapp.post(f"/sms/inbound/{inbound}", params, content_type=ctype)
    rows = [m for m in _messages(dbsession) if m.direction == "in"]
    assert len(rows) == 1 and rows[0].body == "Ευχαριστώ!" and rows[0].person_id == p["id"]
    page = admin.get(f"/persons/{p['id']}")
    assert page.status_int == 200


def test_a_message_left_sending_is_settled_never_resent(admin, registry, dbsession):
    from kyklos_sms.models import SmsMessage
    from kyklos_sms.service import reconcile

    admin.put_json(
        "/api/v1/sms/gateway",
        {"url": "http://127.0.0.1:9", "username": "k", "password": "p", "sender": "Kyklos",
         "active": False},
    )  # fmt: skip
    p = make_person(admin, country="GR")
    ids = [
        admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": f"m{i}"}).json["id"]
        for i in range(3)
    ]
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with dbsession() as db:
        # a worker died after committing "sending" (two of them: one of which the
        # gateway had taken, and its receipt arrives later)
        for mid in ids[:2]:
            m = db.get(SmsMessage, mid)
            m.state, m.sending_at = "sending", long_ago
        token = db.get(SmsMessage, ids[1]).token
    assert reconcile(registry) == 2
    states = {m.id: (m.state, m.error) for m in _messages(dbsession)}
    assert states[ids[0]][0] == "failed" and "not sent again" in states[ids[0]][1]
    assert states[ids[2]][0] == "queued"
    # the receipt of the one the gateway had taken puts it right
    admin.post(f"/sms/receipt/{ids[1]}/{token}", {"id": "g", "level": "2",
                                                  "message_status": "DELIVRD"})  # fmt: skip
    assert admin.get(f"/api/v1/sms-messages/{ids[1]}").json["state"] == "delivered"


def test_name_day_greeting_goes_by_sms(admin, client, dbsession):
    from kyklos_sms.models import SmsMessage

    g = make_person(admin, first="Γιώργος", last="Οικονόμου", country="GR", gender="male")
    n = make_person(admin, first="Giorgos", last="Makris", country="GR", mobile="+306970000003")
    admin.post_json("/api/v1/consents", {"person_id": g["id"], "channel": "sms",
                                         "status": "opt_in", "source": "web form"})  # fmt: skip
    c = client("sales")
    page = c.get("/contacts/occasions", {"date": "2024-05-06", "range": "today"})
    forms = [
        f for f in page.forms.values()
        if f.action.endswith("/contacts/occasions/greet") and f.get("channel").value == "sms"
    ]  # fmt: skip
    assert [f["person_id"].value for f in forms] == [str(g["id"])]  # no consent, no button
    res = forms[0].submit().follow()
    assert "Greeting sent" in res.text
    rows = _messages(dbsession)
    assert len(rows) == 1
    m = rows[0]
    assert m.person_id == g["id"] and m.number == "+306912345678"
    assert m.source == "channel" and m.encoding == "ucs2"
    assert "Χρόνια πολλά" in m.body
    # the person without SMS consent is refused even when forged
    forged = c.post("/contacts/occasions/greet", {
        "csrf_token": forms[0]["csrf_token"].value, "person_id": n["id"],
        "kind": "name_day", "date": "2024-05-06", "channel": "sms"}).follow()  # fmt: skip
    assert "has not consented" in forged.text
    assert len(_messages(dbsession)) == 1
    with dbsession() as db:
        assert db.execute(select(SmsMessage.id)).scalars().all() == [m.id]

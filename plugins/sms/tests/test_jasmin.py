"""Against a real Jasmin gateway (HTTP API in, SMPP out to the test SMSC): the text
arrives at the SMSC in the encoding counted before sending, receipts come back to the
message's signed URL and move its state, inbound messages reach the person's timeline,
and the gateway's "Send a test" and wrong credentials are reported."""

from __future__ import annotations

import time

import pytest
from sms_helpers import errs, make_person

from kyklos_sms.encoding import gsm7_bytes


def _wait(predicate, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    return predicate()


@pytest.fixture
def wired(admin, jasmin, live_server):
    """The gateway's settings pointing at Jasmin, receipts and replies at the live app."""
    from jasmin_gateway import PASSWORD, USER

    res = admin.put_json(
        "/api/v1/sms/gateway",
        {"url": jasmin.url, "username": USER, "password": PASSWORD, "sender": "Kyklos",
         "per_minute": 600, "callback_base": live_server},
    )  # fmt: skip
    jasmin.route_inbound(res.json["inbound_url"])
    return jasmin


def _state(admin, mid):
    return admin.get(f"/api/v1/sms-messages/{mid}").json


def test_greek_goes_as_ucs2_and_is_delivered(admin, wired):
    p = make_person(admin, country="GR")
    text = "Καλημέρα! Η παραγγελία σας έφτασε."
    mid = admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": text}).json["id"]
    subs = _wait(lambda: list(wired.smsc.submitted))
    assert len(subs) == 1
    assert subs[0].destination == "306912345678" and subs[0].source == "Kyklos"
    assert subs[0].data_coding == 8 and subs[0].text == text
    got = _wait(lambda: _state(admin, mid)["state"] == "delivered" and _state(admin, mid))
    assert got, f"no receipt: {_state(admin, mid)}\n{wired.log()}"
    assert got["gateway_id"] and got["sent_at"] and got["delivered_at"]


def test_gsm7_with_extension_characters_and_long_text(admin, wired):
    p = make_person(admin, country="GR")
    short = "Price: 10€ [VAT incl.] {ok}"
    admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": short})
    subs = _wait(lambda: list(wired.smsc.submitted))
    assert subs[0].data_coding == 0 and subs[0].short_message == gsm7_bytes(short)
    wired.smsc.submitted.clear()
    long = "Dear customer, " + "your order is on its way. " * 10
    res = admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": long}).json
    assert res["parts"] == 2
    subs = _wait(lambda: len(wired.smsc.submitted) >= 2 and list(wired.smsc.submitted))
    assert len(subs) == 2  # the gateway split it as we counted


def test_undelivered_receipt_fails_the_message(admin, wired):
    wired.smsc.receipt_status = "UNDELIV"
    p = make_person(admin, country="GR")
    mid = admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": "hi"}).json["id"]
    got = _wait(lambda: _state(admin, mid)["state"] == "failed" and _state(admin, mid))
    assert got and "UNDELIV" in got["error"]


def test_inbound_message_reaches_the_timeline(admin, wired):
    p = make_person(admin, country="GR")
    wired.smsc.mo("306912345678", "Kyklos", "Thank you, see you Monday")
    found = _wait(lambda: admin.get("/api/v1/sms-messages", {"direction": "in"}).json["items"])
    assert found
    assert found[0]["person_id"] == p["id"]
    assert found[0]["body"] == "Thank you, see you Monday" and found[0]["state"] == "received"
    wired.smsc.mo("306912345678", "Kyklos", "Ευχαριστώ πολύ")
    greek = _wait(
        lambda: [
            m for m in admin.get("/api/v1/sms-messages", {"direction": "in"}).json["items"]
            if m["body"] == "Ευχαριστώ πολύ"
        ]
    )  # fmt: skip
    assert greek, admin.get("/api/v1/sms-messages", {"direction": "in"}).json["items"]
    page = admin.get(f"/persons/{p['id']}").text
    assert "Thank you, see you Monday" in page


def test_send_a_test_and_wrong_credentials(admin, wired):
    res = admin.post_json("/api/v1/sms/gateway/test", {"number": "+306912345678"})
    assert res.json["state"] == "sent" and res.json["gateway_id"]
    assert _wait(lambda: list(wired.smsc.submitted))
    admin.put_json(
        "/api/v1/sms/gateway",
        {"url": wired.url, "username": "kyklos", "password": "wrong", "sender": "Kyklos"},
    )
    res = admin.post_json(
        "/api/v1/sms/gateway/test", {"number": "+306912345678"}, expect_errors=True
    )
    assert res.status_int == 400 and "refused" in errs(res)["number"]
    p = make_person(admin, country="GR")
    mid = admin.post_json("/api/v1/sms/send", {"person_id": p["id"], "body": "x"}).json["id"]
    got = _state(admin, mid)
    assert got["state"] == "failed" and "Authentication" in got["error"]

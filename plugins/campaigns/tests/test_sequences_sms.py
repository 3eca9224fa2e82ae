"""A sequence's text message step through the sms plugin's channel (never imported by
the campaigns plugin: ``kyklos_message_channels``): one message per person queued in
the sms outbox, whose job sends them under the gateway's per-minute limit; a number
that is not a mobile is refused with the reason; run again, nothing is queued twice.
Then the same against the real Jasmin gateway (skipped where it cannot start)."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select

SMS_TESTS = Path(__file__).resolve().parents[2] / "sms" / "tests"
KEY = Fernet.generate_key().decode()


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "sms", "campaigns"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.encryption_keys": KEY, "kyklos.sms.timeout": "10",
            "kyklos.secret": "sequence-sms-secret"}  # fmt: skip


def _person(boss, dbsession, first, number):
    from kyklos_contacts.api import set_consent

    pid = boss.post_json(
        "/api/v1/persons",
        {
            "first_name": first,
            "last_name": "Kritikou",
            "city": "Rethymno",
            "country": "GR",
            "phones": [{"type": "mobile", "number": number, "primary": True}],
        },
        status=201,
    ).json["id"]
    with dbsession() as db:
        set_consent(db, pid, "sms", "opt_in")
    return pid


def _sequence(boss, text="Hi {{ first_name }}, the tour starts tomorrow."):
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Rethymno",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Rethymno"}]},
        },
        status=201,
    ).json["id"]
    tl = boss.post_json(
        "/api/v1/target-lists",
        {"name": "Rethymno", "segment_id": seg, "kind": "dynamic", "channel": "sms"},
        status=201,
    ).json
    seq = boss.post_json("/api/v1/sequences", {"name": "Tour", "list_id": tl["id"]},
                         status=201).json  # fmt: skip
    bad = boss.post_json(
        "/api/v1/sequence-steps",
        {"sequence_id": seq["id"], "kind": "message", "channel": "pigeon"},
        status=400,
    )
    assert {e["field"] for e in bad.json["errors"]} >= {"channel", "message"}
    step = boss.post_json(
        "/api/v1/sequence-steps",
        {"sequence_id": seq["id"], "kind": "message", "channel": "sms", "message": text},
        status=201,
    ).json
    return seq, step


def test_text_step_queues_in_the_sms_outbox_once(api, dbsession, registry):
    from kyklos_sms.models import SmsMessage

    from kyklos_campaigns.sequences import advance

    boss = api("manager")
    maria = _person(boss, dbsession, "Maria", "+306912345678")
    _person(boss, dbsession, "Nikos", "+306987654321")
    landline = _person(boss, dbsession, "Anna", "+302810123456")
    seq, step = _sequence(boss)
    assert boss.post(f"/api/v1/sequences/{seq['id']}/start").json["enrolled"] == 3
    with dbsession() as db:
        msgs = db.execute(select(SmsMessage).order_by(SmsMessage.id)).scalars().all()
        texts = {m.person_id: (m.body, m.state, m.number) for m in msgs}
    assert len(msgs) == 2  # queued in the outbox; no gateway here, so they wait
    assert texts[maria] == ("Hi Maria, the tour starts tomorrow.", "queued", "+306912345678")
    got = boss.get(f"/api/v1/sequence-steps/{step['id']}").json
    rows = boss.get(f"/api/v1/campaign-recipients?campaign_id={got['campaign_id']}").json["items"]
    by_person = {r["person_id"]: r for r in rows}
    assert by_person[maria]["state"] == "sent"
    assert by_person[landline]["state"] == "failed" and by_person[landline]["error"]
    # later runs queue nothing again
    import datetime as dt

    advance(registry, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=3))
    with dbsession() as db:
        assert len(db.execute(select(SmsMessage.id)).all()) == 2
    res = boss.get(f"/api/v1/sequences/{seq['id']}/results").json["steps"][0]
    assert res["messages"]["sent"] == 2 and res["messages"]["failed"] == 1
    assert res["words"] == "Send the SMS message “Hi {{ first_name }}, the tour starts tomorrow.”"


# --- the real gateway ------------------------------------------------------------------


@pytest.fixture(scope="module")
def jasmin():
    sys.path.insert(0, str(SMS_TESTS))
    try:
        from jasmin_gateway import Jasmin, Unavailable, ensure_venv
        from smsc import SMSC
    finally:
        sys.path.remove(str(SMS_TESTS))
    smsc = SMSC()
    gw = None
    try:
        gw = Jasmin(ensure_venv(), smsc)
        gw.start()
    except (Unavailable, OSError, Exception) as exc:  # noqa: B014 - any reason to skip
        if gw is not None:
            gw.stop()
        smsc.close()
        if os.environ.get("KYKLOS_REQUIRE_JASMIN") == "1":
            pytest.fail(f"Jasmin did not start: {exc}", pytrace=False)
        pytest.skip(f"no Jasmin gateway here ({exc}); see plugins/sms/README.md")
    try:
        yield gw
    finally:
        gw.stop()
        smsc.close()


def test_text_step_reaches_the_real_gateway(api, dbsession, jasmin, live_server):
    from jasmin_gateway import PASSWORD, USER

    admin = api("admin")
    admin.put_json(
        "/api/v1/sms/gateway",
        {"url": jasmin.url, "username": USER, "password": PASSWORD, "sender": "Kyklos",
         "per_minute": 600, "callback_base": live_server},
    )  # fmt: skip
    with jasmin.smsc.lock:
        jasmin.smsc.submitted.clear()
    jasmin.ensure_bound()
    boss = api("manager")
    _person(boss, dbsession, "Eleni", "+306912345678")
    seq, _step = _sequence(boss, text="Καλημέρα {{ first_name }}!")
    boss.post(f"/api/v1/sequences/{seq['id']}/start")
    deadline = time.time() + 30
    while time.time() < deadline and not jasmin.smsc.submitted:
        time.sleep(0.25)
    subs = list(jasmin.smsc.submitted)
    assert len(subs) == 1, jasmin.log()
    assert subs[0].destination == "306912345678" and subs[0].text == "Καλημέρα Eleni!"

"""Coupons (MKT-12) through the HTTP API and pages: one readable, unique code per
person of a campaign, merged into the messages as ``{{ coupon }}``, redeemed once
(idempotent with a reference, 409 for a used or expired code, one winner of two
concurrent redeems), by hand on the coupons page, and counted in the results."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import select, update

CODE = re.compile(r"[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}-[ABCDEFGHJKMNPQRSTUVWXYZ23456789]{4}")


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "campaign-tests-secret"}


def _fields(response) -> set:
    return {e["field"] for e in response.json["errors"]}


def _coupons(boss, cid):
    return boss.get(f"/api/v1/campaign-coupons?campaign_id={cid}").json["items"]


def test_codes_are_readable_and_normalised():
    from kyklos_campaigns.coupons import new_code, normalise

    codes = {new_code() for _i in range(2000)}
    assert len(codes) == 2000
    assert all(CODE.fullmatch(c) for c in codes)
    assert not any(ch in "".join(codes) for ch in "01OIL")
    assert normalise(" abcd efgh ") == "ABCD-EFGH"
    assert normalise("ABCDEFGH") == "ABCD-EFGH"
    assert normalise("ABCD-EFG0") is None  # a zero is never part of a code
    assert normalise("ABC") is None


def test_coupons_are_made_merged_redeemed_and_counted(rhodes_campaign, boss, smtp_server):
    c = rhodes_campaign()
    valid = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    made = boss.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {"valid_until": valid}).json
    assert (made["created"], made["issued"], made["redeemed"]) == (2, 2, 0)
    # made once per person: again makes none
    assert boss.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {}).json["created"] == 0
    items = _coupons(boss, c["id"])
    codes = {i["name"]: i["code"] for i in items}
    assert set(codes) == {"Maria Roditi", "Nikos Roditi"}
    assert all(CODE.fullmatch(x) for x in codes.values()) and len(set(codes.values())) == 2
    # each person's message carries their own code
    boss.post(f"/api/v1/campaigns/{c['id']}/send")
    msgs = {m["To"]: m for m in smtp_server.wait(2)}
    maria = msgs["maria@example.gr"].get_body(("html",)).get_content()
    assert codes["Maria Roditi"] in maria and codes["Nikos Roditi"] not in maria
    # redeemed as typed at a till (lower case, no dash), with the order number
    typed = codes["Maria Roditi"].replace("-", "").lower()
    r = boss.post_json(f"/api/v1/campaign-coupons/{typed}/redeem", {"reference": "order-1"}).json
    assert (r["code"], r["state"], r["reference"]) == (codes["Maria Roditi"], "redeemed", "order-1")
    assert r["campaign"] == "Summer coupons" and r["redeemed_at"]
    # the same redemption asked again (a retry after a lost answer): the same answer
    again = boss.post_json(
        f"/api/v1/campaign-coupons/{typed}/redeem", {"reference": "order-1"}
    ).json
    assert again["redeemed_at"] == r["redeemed_at"]
    # another sale with the used code is refused
    used = boss.post_json(
        f"/api/v1/campaign-coupons/{typed}/redeem", {"reference": "order-2"}, status=409
    )
    assert used.content_type == "application/problem+json"
    assert "code" in _fields(used) and "used already" in used.text
    boss.post(f"/api/v1/campaign-coupons/{typed}/redeem", status=409)  # no reference
    missing = boss.post("/api/v1/campaign-coupons/ZZZZ-ZZZZ/redeem", status=404)
    assert missing.content_type == "application/problem+json" and "code" in _fields(missing)
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert res["coupons"] == {"issued": 2, "redeemed": 1}
    page = boss.get(f"/campaigns/{c['id']}/results")
    assert "Coupons redeemed" in page.text


def test_expired_codes_and_bad_dates_are_refused(rhodes_campaign, boss, dbsession):
    from kyklos_campaigns.coupons import Coupon

    c = rhodes_campaign()
    bad = boss.post_json(
        f"/api/v1/campaigns/{c['id']}/coupons", {"valid_until": "31/12/2026"}, status=400
    )
    assert bad.content_type == "application/problem+json" and "valid_until" in _fields(bad)
    bad = boss.post_json(
        f"/api/v1/campaigns/{c['id']}/coupons", {"valid_until": "2000-01-01"}, status=400
    )
    assert "valid_until" in _fields(bad)
    assert _coupons(boss, c["id"]) == []  # nothing made by a refused request
    boss.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {})
    code = _coupons(boss, c["id"])[0]["code"]
    with dbsession() as db:
        db.execute(
            update(Coupon)
            .where(Coupon.code == code)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
        )
    r = boss.post(f"/api/v1/campaign-coupons/{code}/redeem", status=409)
    assert "expired" in r.text and "code" in _fields(r)
    with dbsession() as db:
        assert db.execute(select(Coupon.redeemed_at).where(Coupon.code == code)).scalar() is None


def test_two_concurrent_redeems_one_wins(rhodes_campaign, boss):
    c = rhodes_campaign()
    boss.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {})
    code = _coupons(boss, c["id"])[0]["code"]
    start = threading.Barrier(2)
    statuses = []

    def till(ref):
        start.wait()
        r = boss.post_json(
            f"/api/v1/campaign-coupons/{code}/redeem", {"reference": ref}, expect_errors=True
        )
        statuses.append(r.status_int)

    threads = [threading.Thread(target=till, args=(f"till-{i}",)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [200, 409]
    assert boss.get(f"/api/v1/campaigns/{c['id']}/results").json["coupons"]["redeemed"] == 1


def test_who_may_make_and_redeem(rhodes_campaign, api, boss):
    c = rhodes_campaign()
    rep = api("sales")
    rep.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {}, status=403)
    boss.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {})
    code = _coupons(boss, c["id"])[0]["code"]
    # coupons are made by the action only, never typed in or deleted
    boss.post_json(
        "/api/v1/campaign-coupons",
        {"campaign_id": c["id"], "code": "ABCD-EFGH"},
        status=403,
    )
    # a rep at the counter redeems one
    assert rep.post(f"/api/v1/campaign-coupons/{code}/redeem").json["state"] == "redeemed"
    nobody = api()
    nobody.post(f"/api/v1/campaign-coupons/{code}/redeem", status=403)


def test_coupons_page_makes_and_redeems_by_hand(rhodes_campaign, client, dbsession):
    c = rhodes_campaign()
    app = client("campaignmanager")
    detail = app.get(f"/campaigns/{c['id']}")
    assert f"/campaigns/{c['id']}/coupons" in detail.text
    page = app.get(f"/campaigns/{c['id']}/coupons")
    assert "No coupons yet." in page.text
    form = page.forms["cmp-generate-form"]
    form["valid_until"] = (dt.date.today() + dt.timedelta(days=10)).isoformat()
    page = form.submit().follow()
    assert "2 coupons made" in page.text
    codes = re.findall(r"<code>([A-Z0-9-]{9})</code>", page.text)
    assert len(codes) == 2 and "Maria Roditi" in page.text and "Valid" in page.text
    form = page.forms["cmp-redeem-form"]
    form["code"] = codes[0].lower()
    page = form.submit().follow()
    assert f"Coupon {codes[0]} of" in page.text and "Redeemed" in page.text
    # the same code again: a form error, no 500
    form = page.forms["cmp-redeem-form"]
    form["code"] = codes[0]
    page = form.submit()
    assert page.status_int == 200 and "This coupon was used already." in page.text
    form = page.forms["cmp-redeem-form"]
    form["code"] = "nonsense"
    assert "No such coupon." in form.submit().text
    # a forged form (no valid token) changes nothing
    app.post(f"/campaigns/{c['id']}/coupons", {"do": "redeem", "code": codes[1]}, status=400)
    with dbsession() as db:
        from kyklos_campaigns.coupons import Coupon

        assert (
            db.execute(select(Coupon.redeemed_at).where(Coupon.code == codes[1])).scalar() is None
        )

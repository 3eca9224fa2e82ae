"""A campaign's results broken down by a chosen saved segment, through the API and the
results page: the same counts for the recipients in the segment and for the others."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "campaign-tests-secret"}


def _coupons(boss, cid):
    return boss.get(f"/api/v1/campaign-coupons?campaign_id={cid}").json["items"]


def _marias(boss):
    return boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "The Marias",
            "kind": "dynamic",
            "definition": {"and": [{"field": "first_name", "op": "eq", "value": "Maria"}]},
        },
        status=201,
    ).json["id"]


def test_results_by_segment(rhodes_campaign, boss, smtp_server, testapp):
    c = rhodes_campaign()
    boss.post_json(f"/api/v1/campaigns/{c['id']}/coupons", {})
    boss.post(f"/api/v1/campaigns/{c['id']}/send")
    msgs = {m["To"]: m for m in smtp_server.wait(2)}
    # Maria opens her message; Nikos redeems his coupon
    html = msgs["maria@example.gr"].get_body(("html",)).get_content()
    pixel = re.search(r'src="http[^"]+(/t/o/[^"]+)"', html)[1]
    testapp.get(pixel)
    nikos = next(i["code"] for i in _coupons(boss, c["id"]) if i["name"] == "Nikos Roditi")
    boss.post(f"/api/v1/campaign-coupons/{nikos}/redeem")
    seg = _marias(boss)
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results?segment_id={seg}").json["by_segment"]
    assert res["segment"] == "The Marias"
    inside, others = res["in_segment"], res["others"]
    assert (inside["recipients"], inside["sent"], inside["opened"], inside["redeemed"]) == (
        1,
        1,
        1,
        0,
    )
    assert (others["recipients"], others["sent"], others["opened"], others["redeemed"]) == (
        1,
        1,
        0,
        1,
    )
    # without the parameter: no breakdown; a bad one is named
    assert "by_segment" not in boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    for bad in ("x", "999999"):
        r = boss.get(f"/api/v1/campaigns/{c['id']}/results?segment_id={bad}", status=400)
        assert r.content_type == "application/problem+json"
        assert {e["field"] for e in r.json["errors"]} == {"segment_id"}
    # the page: a drop-down of saved segments by name, then a table and a chart
    page = boss.get(f"/campaigns/{c['id']}/results")
    assert ">The Marias</option>" in page.text and "cmp-segment-chart" not in page.text
    page = boss.get(f"/campaigns/{c['id']}/results?segment_id={seg}")
    assert "cmp-segment-chart" in page.text and "Other recipients" in page.text
    table = page.text.split('id="cmp-segment-results"', 1)[1].split("</table>", 1)[0]
    assert re.search(r"Opened</th><td[^>]*>1</td><td[^>]*>0</td>", table)
    assert re.search(r"Coupons redeemed</th><td[^>]*>0</td><td[^>]*>1</td>", table)
    page = boss.get(f"/campaigns/{c['id']}/results?segment_id=abc")
    assert page.status_int == 200 and "Choose a segment" in page.text

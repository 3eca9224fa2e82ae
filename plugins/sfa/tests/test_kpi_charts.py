"""The sales charts as the reports page and the home page draw them (issue 16, point 8):
counts and amounts never share an axis (amounts on a second axis on the right), count
axes have whole ticks, every series has its own colour; and the same in real Chromium,
read back from the Chart.js charts on the page."""

from __future__ import annotations

import html
import json
import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot


def chart_specs(page_html: str) -> dict[str, dict]:
    """``{canvas id: spec}`` of every chart on a page."""
    return {
        cid: json.loads(html.unescape(raw))
        for cid, raw in re.findall(r'<canvas id="([^"]+)" data-chart="([^"]*)"', page_html)
    }


def check(spec: dict, cid: str) -> None:
    axes = {a["id"]: a for a in spec["axes"]}
    assert 1 <= len(axes) <= 2, cid
    for s in spec["series"]:
        axis = axes[s["axis"]]
        assert axis["format"] == s["format"], (cid, s["label"])
        if s["format"] == "count":
            assert axis["precision"] == 0, (cid, axis)
    # one axis per kind of value: never counts and money together
    assert len({a["format"] for a in axes.values()}) == len(axes), cid
    assert len({s["color"] for s in spec["series"]}) == len(spec["series"]), cid
    for a in axes.values():
        assert a["title"], (cid, a)


def test_reports_and_home_charts_keep_counts_and_money_apart(client, api, stages, make_opp):
    rep = api("sales")
    make_opp(rep, "Olive oil for Gdańsk", "qualification", 12000)
    make_opp(rep, "Feta for Bucharest", "offer_sent", 8000)
    ui = client("manager")
    specs = chart_specs(ui.get("/sfa/reports").text)
    assert {
        f"sfa-kpi-{n}" for n in ("by_stage", "per_month", "open_won_lost", "by_lead_source")
    } <= set(specs)
    for cid, spec in specs.items():
        check(spec, cid)
    by_stage = specs["sfa-kpi-by_stage"]
    formats = {a["id"]: (a["format"], a["position"]) for a in by_stage["axes"]}
    assert formats == {"y": ("count", "left"), "y1": ("money", "right")}
    assert {s["label"]: s["axis"] for s in by_stage["series"]} == {
        "Number": "y",
        "Amount": "y1",
        "Weighted amount": "y1",
    }
    assert by_stage["axes"][0]["title"] == "Opportunities"
    assert by_stage["axes"][1]["title"] == "Amount (EUR)"
    per_month = specs["sfa-kpi-per_month"]
    assert {s["label"]: s["axis"] for s in per_month["series"]} == {
        "Created": "y",
        "Won": "y",
        "Created amount": "y1",
        "Won amount": "y1",
    }
    rate = specs["sfa-kpi-by_lead_source"]
    assert {a["format"] for a in rate["axes"]} == {"count", "percent"}
    for cid, spec in chart_specs(ui.get("/").text).items():
        if cid.startswith("k-widget-sfa"):
            check(spec, cid)
    # the table under each chart shows money as money and counts as counts
    page = ui.get("/sfa/reports").text
    table = page.split('id="sfa-kpi-by_stage-table"', 1)[1].split("</table>", 1)[0]
    assert "€12,000.00" in table and "€8,000.00" in table


@pytest.mark.browser
def test_reports_charts_in_chromium(page, live_server, make_user, make_record, stages):
    email = "charts-manager@example.com"
    uid = make_user(email=email, roles=("manager",), name="Maria Manager")
    acc = make_record("account", name="Nowak Logistics Sp. z o.o.", owner_id=uid)
    for i, (stage, amount) in enumerate(
        [
            ("qualification", 12000),
            ("qualification", 3000),
            ("offer_sent", 8000),
            ("negotiation", 45000),
        ]
    ):
        make_record(
            "opportunity",
            name=f"Deal {i}",
            stage_id=stages[stage],
            account_id=acc,
            amount=amount,
            amount_currency="EUR",
            owner_id=uid,
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Manager")
    page.goto(f"{live_server}/sfa/reports")
    page.wait_for_function("() => window.Chart && Chart.getChart('sfa-kpi-by_stage')")
    cfg = page.evaluate(
        """() => {
        const c = Chart.getChart('sfa-kpi-by_stage');
        const s = c.options.scales;
        return {
          y: {position: s.y.position, precision: s.y.ticks.precision, title: s.y.title.text},
          y1: {position: s.y1.position, title: s.y1.title.text},
          ticks: c.scales.y.ticks.map(t => t.value),
          datasets: c.data.datasets.map(d => [d.label, d.yAxisID, d.backgroundColor]),
        };
    }"""
    )
    assert cfg["y"] == {"position": "left", "precision": 0, "title": "Opportunities"}
    assert cfg["y1"]["position"] == "right" and cfg["y1"]["title"] == "Amount (EUR)"
    assert all(float(v).is_integer() for v in cfg["ticks"]), cfg["ticks"]
    assert [d[1] for d in cfg["datasets"]] == ["y", "y1", "y1"]
    assert len({d[2] for d in cfg["datasets"]}) == 3
    page.locator("#sfa-kpi-by_stage").scroll_into_view_if_needed()
    save_screenshot(page, "sfa-reports-charts")
    save_screenshot(page, "sfa-reports-charts", phone=True)

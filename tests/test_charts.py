"""The chart configuration (issue 16, point 8): counts and money never share an axis,
count axes have whole ticks, every series has its own colour, and axis titles are
translated; checked on the spec the server writes and on the Chart.js configuration
that charts.js builds from it (run in Node when it is installed)."""

from __future__ import annotations

import json
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from pyramid.scripting import prepare

from kyklos.dashboard import ChartData, Series, render_chart

CHARTS_JS = Path(__file__).parents[1] / "core" / "kyklos" / "web" / "static" / "charts.js"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def prepared(registry, request=None):
    """A request outside any view, in a transaction (the locale is read from the
    database), for code that builds charts."""
    env = prepare(request=request, registry=registry)
    env["request"].tm.begin()
    return env


def done(env):
    env["request"].tm.abort()
    env["closer"]()


@pytest.fixture
def request_(registry):
    env = prepared(registry)
    try:
        yield env["request"]
    finally:
        done(env)


def deals_chart(**kw) -> ChartData:
    return ChartData(
        kind="bar",
        labels=["Open", "Won", "Lost"],
        series=[
            Series("Number", [3, 1, 2], format="count"),
            Series("Amount", [Decimal("1200.50"), Decimal("800"), Decimal("50")], format="money"),
            Series(
                "Weighted amount", [Decimal("600"), Decimal("800"), Decimal("0")], format="money"
            ),
        ],
        currency="EUR",
        label_title="Status",
        **kw,
    )


def test_counts_and_money_get_separate_axes_with_whole_count_ticks(request_):
    spec = deals_chart().spec(request_)
    axes = {a["id"]: a for a in spec["axes"]}
    assert set(axes) == {"y", "y1"}
    assert axes["y"]["format"] == "count" and axes["y"]["position"] == "left"
    assert axes["y"]["precision"] == 0
    assert axes["y1"]["format"] == "money" and axes["y1"]["position"] == "right"
    assert axes["y1"]["precision"] is None
    assert [s["axis"] for s in spec["series"]] == ["y", "y1", "y1"]
    # distinct colours, and the second axis' series drawn as lines over the bars
    assert len({s["color"] for s in spec["series"]}) == 3
    assert [s["kind"] for s in spec["series"]] == [None, "line", "line"]
    assert axes["y"]["title"] == "Number"
    assert axes["y1"]["title"] == "Amount (EUR)"
    assert spec["label_title"] == "Status"


def test_a_chart_of_plain_integers_has_whole_ticks_and_a_third_kind_is_refused(request_):
    spec = ChartData(kind="line", labels=["a", "b"], series=[Series("n", [1, 2])]).spec(request_)
    assert spec["axes"][0]["precision"] == 0
    spec = ChartData(kind="line", labels=["a"], series=[Series("x", [1.5])]).spec(request_)
    assert spec["axes"][0]["precision"] is None
    mixed = ChartData(
        labels=["a"],
        series=[
            Series("n", [1], format="count"),
            Series("m", [1], format="money"),
            Series("p", [1], format="percent"),
        ],
    )
    with pytest.raises(ValueError, match="two value axes"):
        mixed.spec(request_)
    with pytest.raises(ValueError):
        Series("x", [1], format="euros")


def test_axis_titles_are_translated(registry):
    from pyramid.request import Request

    req = Request.blank("/", headers={"Accept-Language": "el"})
    env = prepared(registry, req)
    try:
        req = env["request"]
        assert req.locale_name == "el"
        spec = deals_chart().spec(req)
    finally:
        done(env)
    titles = [a["title"] for a in spec["axes"]]
    assert titles[0] not in ("Number", "") and "EUR" in titles[1]
    assert not titles[1].startswith("Amount")


def test_table_fallback_formats_each_series_in_its_own_format(request_):
    html = render_chart(request_, deals_chart(), "c1", "Deals")
    assert "€1,200.50" in html  # money as money
    assert ">3<" in html  # a count as a count
    assert 'data-chart="{' in html


NODE_HARNESS = """
const fs = require("fs");
const src = fs.readFileSync(process.argv[2], "utf8");
const styles = {"--k-chart-1": "#0d6efd", "--k-chart-2": "#e8710a", "--k-chart-3": "#15803d",
  "--k-chart-4": "#9333ea"};
global.window = {Chart: function () {}};
window.Chart.getChart = function () { return null; };
global.document = {documentElement: {lang: "en"}, readyState: "complete",
  querySelectorAll: function () { return []; }, addEventListener: function () {}};
global.getComputedStyle = function () {
  return {getPropertyValue: function (k) { return styles[k] || ""; }};
};
eval(src);
const spec = JSON.parse(process.argv[3]);
const cfg = window.kyklosCharts.config(spec);
const out = {scales: {}, datasets: cfg.data.datasets.map(function (d) {
  return {label: d.label, yAxisID: d.yAxisID, type: d.type || cfg.type, colour: d.backgroundColor};
})};
Object.keys(cfg.options.scales).forEach(function (k) {
  const s = cfg.options.scales[k];
  out.scales[k] = {position: s.position, precision: s.ticks ? s.ticks.precision : undefined,
    title: s.title ? s.title.text : undefined,
    tick: s.ticks && s.ticks.callback ? s.ticks.callback(1500) : undefined};
});
console.log(JSON.stringify(out));
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_charts_js_builds_a_right_axis_for_money_and_whole_count_ticks(request_, tmp_path):
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    spec = json.dumps(deals_chart().spec(request_))
    run = subprocess.run(
        ["node", str(harness), str(CHARTS_JS), spec],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    cfg = json.loads(run.stdout)
    scales = cfg["scales"]
    assert scales["y"]["position"] == "left" and scales["y"]["precision"] == 0
    assert scales["y1"]["position"] == "right" and scales["y1"].get("precision") is None
    assert scales["y"]["title"] == "Number" and scales["y1"]["title"] == "Amount (EUR)"
    assert scales["x"]["title"] == "Status"
    assert scales["y1"]["tick"] == "€1,500" and scales["y"]["tick"] == "1,500"
    ds = cfg["datasets"]
    assert [d["yAxisID"] for d in ds] == ["y", "y1", "y1"]
    assert [d["type"] for d in ds] == ["bar", "line", "line"]
    colours = [d["colour"] for d in ds]
    assert colours == ["#0d6efd", "#e8710a", "#15803d"]  # the theme's palette, in order
    # more series than the palette: still all different
    many = ChartData(labels=["a"], series=[Series(f"s{i}", [i]) for i in range(12)])
    run = subprocess.run(
        ["node", str(harness), str(CHARTS_JS), json.dumps(many.spec(request_))],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    colours = [d["colour"] for d in json.loads(run.stdout)["datasets"]]
    assert len(set(colours)) == 12

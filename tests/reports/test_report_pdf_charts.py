"""The PDF draws every measure of a report, not only the first: counts, numbers and
money each on their own axis, the bars of one kind side by side with a legend naming
the measures in the reader's language and the values as the reader writes numbers; with
two groups a chart per measure (RPT-03)."""

from __future__ import annotations

import io
import re
from urllib.parse import quote

import pytest
from entities_support import roles_synced, thing_rules  # noqa: F401
from pypdf import PdfReader

from kyklos.security.models import User

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplemoney"]


def pdf_text(body: bytes) -> str:
    assert body[:5] == b"%PDF-"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def fill_colours(body: bytes) -> set[tuple[int, int, int]]:
    """The fill colours the first page sets (0-255), read from its drawing operators."""
    ops = PdfReader(io.BytesIO(body)).pages[0].get_contents().get_data().decode("latin-1")
    return {
        tuple(round(float(x) * 255) for x in m)
        for m in re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) rg", ops)
    }


def export(app, name, spec, colours=None):
    rep = app.post_json("/api/v1/_reports", {"name": name, "spec": spec}, status=201).json
    res = app.get(f"/api/v1/_reports/{rep['id']}/export", {"format": "pdf"})
    if not name.isascii():
        # a Greek name travels in UTF-8 (a header holds only latin-1)
        assert "filename*=UTF-8''" + quote(name) + ".pdf" in res.content_disposition
    if colours is not None:
        colours.update(fill_colours(res.body))
    return pdf_text(res.body)


@pytest.fixture
def things(api):
    ed = api("thingseditor")
    for name, colour, size in (("a", "red", 1200), ("b", "red", 34), ("c", "blue", 7)):
        ed.post_json("/api/v1/things", {"name": name, "colour": colour, "size": size}, status=201)
    return ed


SPEC = {
    "entity": "thing",
    "group_by": [{"field": "colour"}],
    "measures": [
        {"op": "count"},
        {"op": "sum", "field": "size"},
        {"op": "max", "field": "size"},
        {"op": "min", "field": "size"},
    ],
    "sort": "-m0",
}


def test_every_measure_has_its_bars_and_its_name(things, dbsession):
    ed = things
    colours: set = set()
    text = export(ed, "Every measure", SPEC, colours)
    # four measures, four colours of the palette (the first is the theme's own colour)
    assert {(220, 104, 3), (25, 135, 84), (111, 66, 193)} <= colours
    charts = text.split("Every measure", 1)[1]
    # the count on its own whole-number axis, titled with its name
    assert "Number of records" in charts
    # the three numbers share an axis: a legend names each of them
    for name in ("Sum of Size", "Largest Size", "Smallest Size"):
        assert charts.count(name) >= 2, (name, text)  # the legend and the table heading
    # each measure's value over its bar, as the reader writes numbers (1,234 = 1200 + 34)
    before_table = text.rsplit("Colour", 1)[0]
    for value in ("1,234", "1,200", "34", "7"):
        assert value in before_table.split(), (value, before_table)
    # in Greek: the measures' names translated, the numbers written the Greek way
    with dbsession() as db:
        db.get(User, ed.user_id).locale = "el"
    el = export(ed, "Κάθε μέτρο", SPEC)
    assert "Πλήθος εγγραφών" in el
    for value in ("1.234", "1.200"):
        assert value in el.rsplit("Χρώμα", 1)[0].split(), (value, el)
    assert "Sum of Size" not in el


def test_two_groups_draw_a_chart_per_measure(things):
    spec = {
        "entity": "thing",
        "group_by": [{"field": "colour"}, {"field": "name"}],
        "measures": [{"op": "count"}, {"op": "sum", "field": "size"}],
        "sort": "d0",
    }
    text = export(things, "Two groups", spec)
    charts = text.split("Two groups", 1)[1].rsplit("Colour", 1)[0]
    # a title per measure, and the second group's values in each chart's legend
    assert "Number of records" in charts and "Sum of Size" in charts
    words = charts.split()
    for name in ("a", "b", "c"):
        assert words.count(name) == 2, (name, charts)  # a legend entry in each chart
    assert "1,200" in words and "34" in words


def test_money_and_counts_each_on_their_axis(api):
    admin = api("admin")
    for name, amount in (("x", "1500"), ("y", "250.5")):
        admin.post_json(
            "/api/v1/deals",
            {"name": name, "value": {"amount": amount, "currency": "EUR"}},
            status=201,
        )
    spec = {
        "entity": "deal",
        "group_by": [{"field": "name"}],
        "measures": [{"op": "sum", "field": "value"}, {"op": "count"}],
        "currency": "EUR",
        "sort": "d0",
    }
    text = export(admin, "Deals", spec)
    charts = text.split("Deals", 1)[1].rsplit("Name", 1)[0]
    # the money measure's chart: its axis and bars in euros; the count's: whole numbers
    assert "€1,500.00" in charts and "€250.50" in charts
    assert "Number of records" in charts
    count_chart = charts.split("Number of records", 1)[1].split()
    assert "1" in count_chart and not any("." in w for w in count_chart if w[0].isdigit())

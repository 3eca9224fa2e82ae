"""The pipeline board (SFA-15) and the forecast against quotas (SFA-07), checked
against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from kyklos_sfa.models import Opportunity


def _close(set_columns, opp_id, status, when):
    col = "won_at" if status == "won" else "lost_at"
    set_columns(Opportunity, opp_id, status=status, **{col: when})


def test_board_totals_and_moves(api, client, stages, rates, make_opp, dbsession):
    rep = api("sales")
    make_opp(rep, "A", "qualification", 1000)
    make_opp(rep, "B", "qualification", 5000, "RON")  # = 1000 EUR
    make_opp(rep, "C", "offer_sent", 400, "PLN")  # = 100 EUR
    make_opp(rep, "D", "offer_sent", None)
    make_opp(api("sales"), "Someone else's", "offer_sent", 99999)  # not visible to rep
    board = {c["stage_id"]: c for c in rep.get("/api/v1/sfa/pipeline").json["columns"]}
    q, o = board[stages["qualification"]], board[stages["offer_sent"]]
    assert (q["count"], q["total"], q["weighted"]) == (2, "2000.00", "200.00")
    assert (o["count"], o["total"], o["weighted"]) == (2, "100.00", "30.00")
    assert board[stages["negotiation"]]["count"] == 0

    # The page shows the same, with a move form per card that works without JavaScript.
    ui = client("sales")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', ui.get("/").text).group(1)
    mine = ui.post_json("/api/v1/opportunities", {"name": "Board card",
                                                  "stage_id": stages["qualification"],
                                                  "amount": {"amount": "250", "currency": "EUR"}},
                        headers={"X-CSRF-Token": csrf}).json
    page = ui.get("/sfa/pipeline")
    assert "Board card" in page.text and 'id="sfa-funnel"' in page.text
    form = page.forms[f"sfa-move-form-{mine['id']}"]
    form["stage_id"] = str(stages["negotiation"])
    form.submit().follow()
    moved = ui.get(f"/api/v1/opportunities/{mine['id']}").json
    assert moved["stage_id"] == stages["negotiation"] and moved["probability"] == 50
    # A stale form is refused, not applied.
    form["stage_id"] = str(stages["offer_sent"])
    res = form.submit().follow()
    assert "changed this opportunity meanwhile" in res.text
    assert ui.get(f"/api/v1/opportunities/{mine['id']}").json["stage_id"] == stages["negotiation"]
    # Filters: by close date.
    ui.get("/sfa/pipeline?close_from=2099-01-01")
    api_board = ui.get("/api/v1/sfa/pipeline?close_from=2099-01-01").json
    assert all(c["count"] == 0 for c in api_board["columns"])
    ui.get("/api/v1/sfa/pipeline?close_from=nope", status=400)


def test_forecast_against_quotas(api, stages, rates, make_opp, set_columns, make_user):
    rep1, rep2 = api("sales"), api("sales")
    manager = api("manager")
    h1 = dt.datetime(2031, 3, 15, tzinfo=dt.UTC)
    # rep1: won 2000 EUR in the period, won 500 before it (ignored), open 10000 RON (=2000
    # EUR) at 30 % closing in the period, open 1000 EUR closing after it (ignored).
    a = make_opp(rep1, "won in H1", "negotiation", 2000)
    _close(set_columns, a["id"], "won", h1)
    b = make_opp(rep1, "won before", "negotiation", 500)
    _close(set_columns, b["id"], "won", dt.datetime(2030, 12, 31, 23, 0, tzinfo=dt.UTC))
    make_opp(rep1, "open in H1", "offer_sent", 10000, "RON", expected_close="2031-06-30")
    make_opp(rep1, "open later", "offer_sent", 1000, expected_close="2031-07-01")
    # rep2: open 800 PLN (=200 EUR) at 70 % in the period; lost one (ignored).
    make_opp(rep2, "open", "offer_accepted", 800, "PLN", expected_close="2031-01-01")
    c = make_opp(rep2, "lost", "negotiation", 3000, expected_close="2031-02-01")
    _close(set_columns, c["id"], "lost", h1)
    # Quotas: rep1 has two quarters (3000 + 12500 RON = 2500 EUR), rep2 the half-year;
    # a quota of the next half is not counted.
    for uid, period, amount, cur in ((rep1.user_id, "2031-Q1", "3000", "EUR"),
                                     (rep1.user_id, "2031-Q2", "12500", "RON"),
                                     (rep2.user_id, "2031-H1", "1000", "EUR"),
                                     (rep2.user_id, "2031-H2", "7777", "EUR")):
        manager.post_json("/api/v1/sales-quotas", {"user_id": uid, "period": period,
                                                   "amount": {"amount": amount,
                                                              "currency": cur}})
    manager.post_json("/api/v1/sales-quotas", {"user_id": rep1.user_id, "period": "2031-Q5",
                                               "amount": {"amount": "1", "currency": "EUR"}},
                      status=400)

    fc = manager.get("/api/v1/sfa/forecast?period=2031-H1").json
    assert fc["start"] == "2031-01-01" and fc["end"] == "2031-06-30"
    rows = {r["key"]: r for r in fc["rows"]}
    r1, r2 = rows[rep1.user_id], rows[rep2.user_id]
    assert (r1["quota"], r1["won"], r1["pipeline"], r1["weighted"]) == (
        "5500.00", "2000.00", "2000.00", "600.00")
    assert (r1["best_case"], r1["gap"]) == ("4000.00", "2900.00")
    assert (r2["quota"], r2["won"], r2["pipeline"], r2["weighted"]) == (
        "1000.00", "0.00", "200.00", "140.00")
    assert r2["gap"] == "860.00"
    assert fc["total"]["weighted"] == "740.00" and fc["total"]["quota"] == "6500.00"

    # A rep's forecast covers only what the rep may see.
    own = rep1.get("/api/v1/sfa/forecast?period=2031-H1").json
    assert [r["key"] for r in own["rows"] if r["won"] != "0.00" or r["pipeline"] != "0.00"] == [
        rep1.user_id]
    assert own["total"]["weighted"] == "600.00"

    # The page shows the table and the chart with its numbers.
    page = manager.get("/sfa/forecast?period=2031-H1")
    assert "sfa-forecast-chart" in page.text
    assert re.search(r"2,900\.00|2900\.00", page.text)
    manager.get("/api/v1/sfa/forecast?period=2031-H3", status=400)
    assert Decimal(manager.get("/api/v1/sfa/forecast?period=2031-Q1").json["total"]["won"]) \
        == Decimal("2000.00")


def test_team_filter_covers_the_departments_below(api, stages, rates, make_opp, dbsession):
    """A regional manager filtering the board by their region sees the opportunities of
    every team under it, not only of people placed directly in the region."""
    from kyklos.security.models import User
    from kyklos.security.org import create_department

    with dbsession() as db:
        region = create_department(db, "North")
        team = create_department(db, "North / Team 1", parent_id=region.id)
        other = create_department(db, "South")
        region_id, team_id, other_id = region.id, team.id, other.id
    in_team, elsewhere = api("sales"), api("sales")
    with dbsession() as db:
        db.get(User, in_team.user_id).department_id = team_id
        db.get(User, elsewhere.user_id).department_id = other_id
    make_opp(in_team, "Team deal", "qualification", 700)
    make_opp(elsewhere, "South deal", "qualification", 300)
    admin = api("admin")

    def qualification(team):
        board = admin.get(f"/api/v1/sfa/pipeline?team={team}").json["columns"]
        return next(c for c in board if c["stage_id"] == stages["qualification"])

    assert (qualification(region_id)["count"], qualification(region_id)["total"]) == (1, "700.00")
    assert qualification(team_id)["count"] == 1
    assert qualification(other_id)["total"] == "300.00"

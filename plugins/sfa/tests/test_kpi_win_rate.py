"""RPT-04: win rate and days to win per sales rep, over the deals closed in the period
that the viewer may read."""

from __future__ import annotations

import datetime as dt

from kyklos_sfa.models import Opportunity

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_win_rate_and_cycle_time_per_rep(admin, api, make_opp, set_columns):
    rep1, rep2 = api("sales"), api("sales")
    plan = (
        # (rep, status, created, closed)
        (rep1, "won", at(2030, 1, 1), at(2030, 1, 11)),  # 10 days
        (rep1, "won", at(2030, 1, 1), at(2030, 1, 31)),  # 30 days
        (rep1, "lost", at(2030, 1, 1), at(2030, 1, 20)),
        (rep1, "lost", at(2029, 1, 1), at(2029, 2, 1)),  # closed before the period
        (rep2, "lost", at(2030, 1, 5), at(2030, 1, 6)),
        (rep2, "open", at(2030, 1, 5), None),
    )
    for i, (rep, status, created, closed) in enumerate(plan):
        opp = make_opp(rep, f"deal {i}")
        values = {"status": status, "created_at": created}
        if status == "won":
            values["won_at"] = closed
        elif status == "lost":
            values["lost_at"] = closed
        set_columns(Opportunity, opp["id"], **values)
    k = admin.get("/api/v1/sfa/kpi/win_rate?from=2030-01-01&to=2030-12-31").json
    rows = dict(
        zip(k["labels"], zip(*[s["values"] for s in k["series"]], strict=True), strict=True)
    )
    assert sorted(rows.values()) == [(0, 1, 0.0), (2, 1, 66.7)]
    assert [s["format"] for s in k["series"]] == ["count", "count", "percent"]
    c = admin.get("/api/v1/sfa/kpi/cycle_time?from=2030-01-01&to=2030-12-31").json
    assert sorted(v for v in c["series"][0]["values"] if v is not None) == [20.0]
    # a rep reads only their own deals
    own = rep2.get("/api/v1/sfa/kpi/win_rate?from=2030-01-01&to=2030-12-31").json
    assert len(own["labels"]) == 1 and own["series"][1]["values"] == [1]

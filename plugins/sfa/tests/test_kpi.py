"""Sales KPIs and charts (RPT-01, RPT-02, SFA-13) against hand-computed numbers and
raw SQL, the record rules applied; the dashboard built from contributed widgets."""

from __future__ import annotations

import datetime as dt
import re

from kyklos_sfa.models import Lead, Opportunity, StageChange
from sqlalchemy import text, update

UTC = dt.UTC


def _raw_by_stage(dbsession, owner_id=None):
    sql = ("SELECT stage_id, COUNT(*) FROM sfa_opportunity WHERE deleted_at IS NULL"
           + (" AND owner_id = :o" if owner_id else "") + " GROUP BY stage_id")
    with dbsession() as db:
        return dict(db.execute(text(sql), {"o": owner_id}).all())


def test_by_stage_and_record_rules(api, admin, stages, rates, make_opp, dbsession):
    rep1, rep2 = api("sales"), api("sales")
    make_opp(rep1, "a", "qualification", 100)
    make_opp(rep1, "b", "qualification", 500, "RON")  # 100 EUR
    make_opp(rep1, "c", "negotiation", 1000)
    make_opp(rep2, "d", "negotiation", 4000, "PLN")  # 1000 EUR
    make_opp(rep2, "e", "offer_sent", 300)
    order = [s for s in ("qualification", "needs_analysis", "offer_sent", "negotiation",
                         "offer_accepted", "contract_signed", "lost")]

    k = admin.get("/api/v1/sfa/kpi/by_stage").json
    count, amount, weighted = (s["values"] for s in k["series"])
    raw = _raw_by_stage(dbsession)
    assert count == [raw.get(stages[c], 0) for c in order]
    assert amount[0] == "200.00" and amount[3] == "2000.00" and amount[2] == "300.00"
    assert weighted[3] == "1000.00"  # 2000 at 50 %
    assert k["labels"][:3] == ["Qualification", "Needs analysis", "Offer sent"]

    # A rep's numbers cover the rep's own deals only (the record rules).
    mine = rep1.get("/api/v1/sfa/kpi/by_stage").json
    raw1 = _raw_by_stage(dbsession, rep1.user_id)
    assert mine["series"][0]["values"] == [raw1.get(stages[c], 0) for c in order]
    assert mine["series"][1]["values"][3] == "1000.00"
    assert sum(mine["series"][0]["values"]) == 3
    # Users without the reports permission get nothing.
    api("user").get("/api/v1/sfa/kpi/by_stage", status=403)
    admin.get("/api/v1/sfa/kpi/nope", status=404)
    admin.get("/api/v1/sfa/kpi/by_stage?evil=1", status=400)


def test_open_won_lost_per_month_and_stage_over_time(admin, api, stages, make_opp,
                                                     set_columns, dbsession):
    rep = api("sales")
    o1 = make_opp(rep, "won Jan", "negotiation", 1000)
    o2 = make_opp(rep, "won Feb", "negotiation", 2000)
    o3 = make_opp(rep, "lost Feb", "negotiation", 700)
    make_opp(rep, "open", "qualification", 50)
    set_columns(Opportunity, o1["id"], status="won", won_at=dt.datetime(2030, 1, 20, tzinfo=UTC),
                created_at=dt.datetime(2029, 12, 5, tzinfo=UTC))
    set_columns(Opportunity, o2["id"], status="won", won_at=dt.datetime(2030, 2, 3, tzinfo=UTC),
                created_at=dt.datetime(2030, 1, 10, tzinfo=UTC))
    set_columns(Opportunity, o3["id"], status="lost",
                lost_at=dt.datetime(2030, 2, 28, 23, 59, tzinfo=UTC),
                created_at=dt.datetime(2030, 1, 11, tzinfo=UTC))
    owl = admin.get("/api/v1/sfa/kpi/open_won_lost?from=2030-02-01&to=2030-02-28").json
    assert owl["series"][0]["values"] == [1, 1, 1]
    assert owl["series"][1]["values"] == ["50.00", "2000.00", "700.00"]

    pm = admin.get("/api/v1/sfa/kpi/per_month?from=2029-12-01&to=2030-02-28").json
    # the axis shows months in words, the API keeps the keys beside them
    assert pm["labels"] == ["Dec 2029", "Jan 2030", "Feb 2030"]
    assert pm["keys"] == ["2029-12", "2030-01", "2030-02"]
    series = {s["label"]: s["values"] for s in pm["series"]}
    assert series["Created"] == [1, 2, 0]
    assert series["Won"] == [0, 1, 1]
    assert series["Won amount"] == ["0.00", "1000.00", "2000.00"]
    with dbsession() as db:
        raw = dict(db.execute(text(
            "SELECT status, COUNT(*) FROM sfa_opportunity WHERE won_at >= '2030-01-01' "
            "AND won_at < '2030-03-01' GROUP BY status")).all())
    assert sum(series["Won"]) == raw["won"]

    # Stage history: o1 in qualification from Nov, negotiation from 15 Dec, won in Jan.
    with dbsession() as db:
        db.execute(text("DELETE FROM sfa_stage_change WHERE opportunity_id = :o"),
                   {"o": o1["id"]})
        for frm, to, when in ((None, "qualification", dt.datetime(2029, 11, 2, tzinfo=UTC)),
                              ("qualification", "negotiation",
                               dt.datetime(2029, 12, 15, tzinfo=UTC)),
                              ("negotiation", "contract_signed",
                               dt.datetime(2030, 1, 20, tzinfo=UTC))):
            db.add(StageChange(opportunity_id=o1["id"], from_stage_id=stages.get(frm),
                               to_stage_id=stages[to], at=when))
    sot = admin.get("/api/v1/sfa/kpi/stage_over_time?from=2029-11-01&to=2030-01-31").json
    assert sot["labels"] == ["Nov 2029", "Dec 2029", "Jan 2030"]
    assert sot["keys"] == ["2029-11", "2029-12", "2030-01"]
    by = {s["label"]: s["values"] for s in sot["series"]}
    # The other three deals' histories started today (before these month ends): "open"
    # in qualification, o2 and o3 in negotiation.
    assert by["Qualification"] == [2, 1, 1]
    assert by["Negotiation"] == [2, 3, 2]
    assert by["Contract signed"] == [0, 0, 1]


def test_lead_sources_and_rep_activity(admin, api, stages, make_opp, dbsession, set_columns):
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import Activity

    rep1, rep2 = api("sales"), api("sales")
    for src, n in (("web", 3), ("trade_show", 2)):
        for i in range(n):
            rep1.post_json("/api/v1/leads", {"last_name": f"{src}{i}", "source": src})
    with dbsession() as db:
        db.execute(update(Lead).where(Lead.last_name == "web0").values(status="converted"))
    k = admin.get("/api/v1/sfa/kpi/by_lead_source").json
    rows = dict(zip(k["labels"], zip(*[s["values"] for s in k["series"]], strict=True),
                    strict=True))
    assert rows["Web"] == (3, 1, 33.3) and rows["Trade show"] == (2, 0, 0)

    with dbsession() as db:
        types = ensure_defaults(db)
        call = next(iter(types.values()))
        for owner, n in ((rep1.user_id, 4), (rep2.user_id, 1)):
            for i in range(n):
                db.add(Activity(type_id=call.id, subject=f"call {i}", owner_id=owner))
        call_title = call.title
    opp = make_opp(rep2, "moved", "qualification", 10)
    rep2.patch_json(f"/api/v1/opportunities/{opp['id']}", {"stage_id": stages["offer_sent"]})
    act = admin.get("/api/v1/sfa/kpi/rep_activity").json
    series = {s["label"]: s["values"] for s in act["series"]}
    names = act["labels"]
    assert len(names) == 2
    assert sorted(series[call_title]) == [1, 4]
    assert sorted(series["Opportunities moved"]) == [0, 1]
    # A rep sees their own row only.
    own = rep1.get("/api/v1/sfa/kpi/rep_activity").json
    assert len(own["labels"]) == 1 and own["series"][0]["values"] == [4]


def test_reports_page_and_dashboard(client, api, stages, make_opp):
    rep = api("sales")
    make_opp(rep, "<script>alert(1)</script>", "qualification", 100)
    ui = client("manager")
    page = ui.get("/sfa/reports")
    for name in ("by_stage", "stage_over_time", "per_month", "by_lead_source",
                 "open_won_lost", "rep_activity"):
        assert f'id="sfa-kpi-{name}"' in page.text
    assert "vendor/chartjs/chart.umd.min.js" in page.text
    assert "<table" in page.text and "Show the numbers" in page.text
    home = ui.get("/")
    assert 'id="k-widget-sfa-funnel"' in home.text
    assert re.search(r'<canvas id="k-widget-sfa-funnel-chart" data-chart="\{', home.text)
    # The funnel's table holds the numbers: 100.00 EUR in qualification.
    assert "Qualification" in home.text and "100" in home.text
    # Users without the reports permission see no sales widgets.
    plain = client("user").get("/")
    assert "k-widget-sfa" not in plain.text
    # Chart labels are user data: escaped in the table and the attribute.
    pipe = ui.get("/sfa/pipeline")
    assert "<script>alert(1)</script>" not in pipe.text

"""An amount a field rule hides from a role is never summed for it: not in the
pipeline's per-stage totals (page and API), the KPIs, the funnel or the forecast
(security review: every aggregate goes through the core's field rules)."""

from __future__ import annotations

from sqlalchemy import select


def hide(dbsession, role_name, field):
    from kyklos.security.models import FieldPermission, Role

    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == role_name)).scalar_one()
        db.add(FieldPermission(role_id=role.id, entity="opportunity", field=field,
                               access="none"))


def test_hidden_amounts_are_not_summed(api, client, stages, make_opp, dbsession):
    rep = api("sales")
    make_opp(rep, "Secret deal", "qualification", 987654)
    column = {c["stage_id"]: c for c in rep.get("/api/v1/sfa/pipeline").json["columns"]}
    assert column[stages["qualification"]]["total"] == "987654.00"  # the rule below hides it
    hide(dbsession, "sales", "amount")
    column = {c["stage_id"]: c for c in rep.get("/api/v1/sfa/pipeline").json["columns"]}
    q = column[stages["qualification"]]
    assert q["count"] == 1 and q["total"] is None and q["weighted"] is None
    kpi = rep.get("/api/v1/sfa/kpi/by_stage", expect_errors=True)
    if kpi.status_int == 200:
        money = [s for s in kpi.json["series"] if s["format"] == "money"]
        assert money and all(v is None for s in money for v in s["values"])
    fc = rep.get("/api/v1/sfa/forecast", expect_errors=True)
    if fc.status_int == 200:
        assert fc.json["total"]["pipeline"] is None and fc.json["total"]["won"] is None
    manager = api("manager")  # another role still reads (and sums) amounts
    column = {c["stage_id"]: c for c in manager.get("/api/v1/sfa/pipeline").json["columns"]}
    assert column[stages["qualification"]]["total"] == "987654.00"

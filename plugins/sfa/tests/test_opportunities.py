"""Opportunities (SFA-05, SFA-06, SFA-08, SFA-12): stages with probabilities, the stage
history with the time spent in each stage, won and lost with a reason."""

from __future__ import annotations

import datetime as dt

from kyklos_sfa.models import Opportunity, StageChange
from sqlalchemy import select


def _patch(client, rec, body, status=200):
    return client.patch_json(f"/api/v1/opportunities/{rec['id']}", body,
                             headers={"If-Match": f'"{rec["version"]}"'}, status=status)


def test_stage_probability_and_history(api, stages, make_opp, dbsession, set_columns):
    rep = api("sales")
    opp = make_opp(rep, "Warehouse racks", "qualification", 12000, "PLN",
                   competitors="Rackmax", estimated_hours="40.5")
    assert opp["probability"] == 10
    assert opp["status"] == "open"
    assert opp["amount"] == {"amount": "12000.00", "currency": "PLN"}
    opp = _patch(rep, opp, {"stage_id": stages["offer_sent"]}).json
    assert opp["probability"] == 30  # SFA-06: offer sent 30 %
    opp = _patch(rep, opp, {"stage_id": stages["offer_accepted"]}).json
    assert opp["probability"] == 70
    # A probability set by hand stays when the deal moves on between open stages.
    opp = _patch(rep, opp, {"probability": 80}).json
    opp = _patch(rep, opp, {"stage_id": stages["negotiation"]}).json
    assert opp["probability"] == 80

    with dbsession() as db:
        rows = db.execute(
            select(StageChange.from_stage_id, StageChange.to_stage_id, StageChange.id)
            .where(StageChange.opportunity_id == opp["id"]).order_by(StageChange.id)
        ).all()
        ids = [r.id for r in rows]
    assert [(r[0], r[1]) for r in rows] == [
        (None, stages["qualification"]),
        (stages["qualification"], stages["offer_sent"]),
        (stages["offer_sent"], stages["offer_accepted"]),
        (stages["offer_accepted"], stages["negotiation"]),
    ]
    # Put the history in the past to measure time in stage: 20 days in qualification
    # (expected 14: overdue), 3 in offer sent, 1 in offer accepted.
    now = dt.datetime.now(dt.UTC)
    for rid, days_ago in zip(ids, (24, 4, 1, 0), strict=True):
        set_columns(StageChange, rid, at=now - dt.timedelta(days=days_ago))

    from kyklos_sfa import pipeline

    with dbsession() as db:
        spans = pipeline.history(db, opp["id"])
        days = pipeline.days_per_stage(spans)
    assert days[stages["qualification"]] == pytest_approx(20)
    assert days[stages["offer_sent"]] == pytest_approx(3)
    assert spans[0].overdue and not spans[1].overdue

    page = rep.get(f"/opportunities/{opp['id']}")
    assert "Time in each stage" in page.text
    assert "sfa-overdue" in page.text
    assert "Stage: Negotiation" in page.text  # the timeline
    assert "Rackmax" in page.text


def pytest_approx(days):
    import pytest

    return pytest.approx(days, abs=0.15)


def test_won_and_lost_need_the_close_permission_and_a_reason(
    api, stages, loss_reasons, make_opp, error_fields, dbsession
):
    rep = api("sales")
    director = api("salesdirector")
    opp = make_opp(rep, "Fleet", "negotiation", 5000)
    err = _patch(rep, opp, {"stage_id": stages["contract_signed"]}, status=400).json
    assert "stage_id" in error_fields(err)
    # Creating a deal straight into a closed stage is closing it, too.
    make_opp(rep, "Closed", "contract_signed", 10, status=400)

    won = _patch(director, opp, {"stage_id": stages["contract_signed"]}).json
    assert won["status"] == "won" and won["probability"] == 100 and won["won_at"]

    other = make_opp(rep, "Printers", "offer_sent", 800)
    err = _patch(director, other, {"stage_id": stages["lost"]}, status=400).json
    assert "loss_reason_id" in error_fields(err)
    lost = _patch(director, other, {"stage_id": stages["lost"],
                                    "loss_reason_id": loss_reasons["Price"],
                                    "loss_details": "20 % cheaper elsewhere"}).json
    assert lost["status"] == "lost" and lost["probability"] == 0 and lost["lost_at"]
    assert lost["loss_reason_id"] == loss_reasons["Price"]
    # The rep cannot reopen it either.
    lost = director.get(f"/api/v1/opportunities/{lost['id']}").json
    err = _patch(rep, lost, {"stage_id": stages["negotiation"]}, status=400).json
    assert "stage_id" in error_fields(err)
    reopened = _patch(director, lost, {"stage_id": stages["negotiation"]}).json
    assert reopened["status"] == "open" and reopened["lost_at"] is None
    assert reopened["loss_reason_id"] is None
    with dbsession() as db:
        assert db.get(Opportunity, reopened["id"]).status == "open"


def test_participants_and_stage_admin(api, admin, make_opp, error_fields, stages):
    rep = api("sales")
    opp = make_opp(rep, "Kiosk")
    person = rep.post_json("/api/v1/persons", {"first_name": "Ion", "last_name": "Pop"}).json
    part = rep.post_json("/api/v1/opportunity-participants",
                         {"opportunity_id": opp["id"], "person_id": person["id"],
                          "role": "Decision maker"}).json
    assert part["role"] == "Decision maker"
    err = rep.post_json("/api/v1/opportunity-participants", {"opportunity_id": opp["id"]},
                        status=400).json
    assert "user_id" in error_fields(err)
    # A stage in use cannot be deleted; a new one can be added by an administrator.
    admin.delete(f"/api/v1/pipeline-stages/{stages['qualification']}", status=409)
    new = admin.post_json("/api/v1/pipeline-stages",
                          {"name": "Demo", "position": 25, "probability": 25,
                           "expected_days": 7}).json
    assert new["probability"] == 25
    rep.post_json("/api/v1/pipeline-stages", {"name": "X"}, status=403)
    err = admin.post_json("/api/v1/pipeline-stages",
                          {"name": "Y", "is_won": True, "is_lost": True}, status=400).json
    assert "is_lost" in error_fields(err)

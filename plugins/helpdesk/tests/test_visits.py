"""Scheduled maintenance visits (HD-11): a contract's visit frequency plans visits as
activities for its term; planning again duplicates nothing; a new frequency replaces
the future visits still open and keeps those done; they show on the contract's page
and in the calendar."""

from __future__ import annotations

import datetime as dt

from kyklos_helpdesk.visits import _add_months

TODAY = dt.date.today()
START = TODAY + dt.timedelta(days=10)


def _visits(admin, contract):
    return admin.post_json(f"/api/v1/support-contracts/{contract['id']}/visits", {}).json


def _days(out):
    return [v["starts_at"][:10] for v in out["visits"]]


def test_visits_follow_the_frequency_idempotently(admin, dbsession):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    contract = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Boiler care",
            "account_id": acc["id"],
            "starts_on": START.isoformat(),
            "ends_on": (_add_months(START, 12) - dt.timedelta(days=1)).isoformat(),
            "quantity": "10",
            "visit_frequency": "quarterly",
        },
        status=201,
    ).json
    # saving the contract planned them: four, every three months from the start
    out = _visits(admin, contract)
    assert out["created"] == 0 and out["kept"] == 4
    quarterly = [_add_months(START, m) for m in (0, 3, 6, 9)]
    # 09:00 local time in Europe is the same day in UTC
    assert [dt.date.fromisoformat(d) for d in _days(out)] == quarterly
    # again: nothing new
    assert _visits(admin, contract)["created"] == 0
    assert len(_visits(admin, contract)["visits"]) == 4
    # the second visit was done
    from kyklos_activities.models import Activity, ActivityType

    second = out["visits"][1]["id"]
    with dbsession() as db:
        db.get(Activity, second).state = "done"
    # monthly: the quarterly days stay, the eight others are added
    got = admin.get(f"/api/v1/support-contracts/{contract['id']}").json
    admin.patch_json(
        f"/api/v1/support-contracts/{contract['id']}",
        {"visit_frequency": "monthly", "version": got["version"]},
        status=200,
    )
    out = _visits(admin, contract)
    assert len(out["visits"]) == 12 and out["created"] == 0
    assert second in [v["id"] for v in out["visits"]]
    # yearly: only the first is planned; the done one stays, the open ones go
    got = admin.get(f"/api/v1/support-contracts/{contract['id']}").json
    admin.patch_json(
        f"/api/v1/support-contracts/{contract['id']}",
        {"visit_frequency": "yearly", "version": got["version"]},
        status=200,
    )
    out = _visits(admin, contract)
    ids = [v["id"] for v in out["visits"]]
    assert len(ids) == 2 and second in ids
    assert [v["state"] for v in out["visits"]] == ["open", "done"]
    # the visits are activities of the type "visit" about the contract, for its customer
    with dbsession() as db:
        act = db.get(Activity, ids[0])
        assert db.get(ActivityType, act.type_id).code == "visit"
        assert (act.about_type, act.about_id) == ("supportcontract", contract["id"])
        assert act.account_id == acc["id"]
        assert act.subject == "Maintenance visit: Boiler care"
    # on the contract's page, and in the owner's calendar on that day
    page = admin.get(f"/support-contracts/{contract['id']}").text
    assert "Maintenance visits" in page and "Plan the visits" in page
    cal = admin.get("/activities/calendar", {"view": "month", "date": START.isoformat()}).text
    assert "Maintenance visit: Boiler care" in cal


def test_no_frequency_is_a_named_error_and_others_may_not_plan(admin, api):
    acc = admin.post_json("/api/v1/accounts", {"name": "A"}, status=201).json
    contract = admin.post_json(
        "/api/v1/support-contracts",
        {"name": "No visits", "account_id": acc["id"], "starts_on": START.isoformat()},
        status=201,
    ).json
    res = admin.post_json(f"/api/v1/support-contracts/{contract['id']}/visits", {}, status=400)
    assert res.content_type == "application/problem+json"
    assert [e["field"] for e in res.json["errors"]] == ["visit_frequency"]
    # an agent reads contracts but does not change them
    api("agent").post_json(f"/api/v1/support-contracts/{contract['id']}/visits", {}, status=403)

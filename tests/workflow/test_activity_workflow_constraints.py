"""A workflow on activities must not break their own rules: the status set of each
activity type and "Mark done". The check (activities answer
``kyklos_workflow_constraints``) refuses one that would, with a reason per problem; one
that fits keeps task creation and "Mark done" working."""

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


@pytest.fixture
def types(registry, dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


TASK_FLOW = {
    "field": "status",
    "initial": "requested",
    "states": [{"name": n} for n in ("requested", "in_progress", "done", "cancelled")],
    "transitions": [
        {"name": "start", "source": ["requested"], "target": "in_progress"},
        {"name": "finish", "source": ["in_progress"], "target": "done"},
        {"name": "cancel", "source": ["*"], "target": "cancelled"},
    ],
}


def test_breaking_workflow_is_refused_with_reasons(api, types):
    admin = api("admin")
    res = admin.put_json("/api/v1/_workflows/activity", TASK_FLOW, status=400)
    assert res.content_type == "application/problem+json"
    text = " | ".join(res.json["problems"])
    # meetings start in "planned" (their status set's default), not in "requested"
    assert "planned" in text.lower() and "Standard" in text
    assert "State “Requested” is not a status of the set “Standard”" in text
    # tasks (status set "Approval") cannot be marked done from "Requested"
    assert "“Mark done” would not work from “Requested” (Task)" in text
    assert "The status “For approval” of the set “Approval” (Task) is not a state" in text
    # nothing was saved: activities still work as before
    admin.get("/api/v1/_workflows/activity", status=404)
    rep = api("sales")
    task = rep.post_json(
        "/api/v1/activities", {"type_id": types["task"], "subject": "x"}, status=201
    ).json
    rep.post(f"/api/v1/activities/{task['id']}/complete")


def test_derived_state_field_is_refused(api, types):
    admin = api("admin")
    doc = {
        "field": "state",
        "initial": "open",
        "states": [{"name": "open"}, {"name": "done"}],
        "transitions": [{"name": "finish", "source": ["open"], "target": "done"}],
    }
    res = admin.put_json("/api/v1/_workflows/activity", doc, status=400)
    assert any("state" in p for p in res.json["problems"])


def _one_status_set(dbsession, name="Approval"):
    """Every activity type uses the status set ``name``: one workflow can fit them all."""
    from kyklos_activities.models import ActivityType, StatusSet
    from sqlalchemy import select

    with dbsession() as db:
        target = db.execute(select(StatusSet).where(StatusSet.name == name)).scalar_one()
        for t in db.execute(select(ActivityType)).scalars():
            t.status_set_id = target.id


APPROVAL_FLOW = {
    "field": "status",
    "initial": "requested",
    "states": [
        {"name": n}
        for n in (
            "requested",
            "for_approval",
            "approved",
            "in_progress",
            "done",
            "rejected",
            "cancelled",
        )
    ],
    "transitions": [
        {"name": "ask", "source": ["requested"], "target": "for_approval"},
        {"name": "approve", "source": ["for_approval"], "target": "approved"},
        {"name": "reject", "source": ["for_approval"], "target": "rejected"},
        {"name": "start", "source": ["approved"], "target": "in_progress"},
        {
            "name": "finish",
            "source": ["requested", "for_approval", "approved", "in_progress"],
            "target": "done",
        },
        {"name": "cancel", "source": ["*"], "target": "cancelled"},
    ],
}


def test_fitting_workflow_keeps_creation_and_mark_done(api, types, dbsession):
    _one_status_set(dbsession)
    admin = api("admin")
    admin.put_json("/api/v1/_workflows/activity", APPROVAL_FLOW)
    rep = api("sales")
    task = rep.post_json(
        "/api/v1/activities", {"type_id": types["task"], "subject": "x"}, status=201
    ).json
    assert task["status"] == "requested"
    meeting = rep.post_json(
        "/api/v1/activities", {"type_id": types["call"], "subject": "y"}, status=201
    ).json
    assert meeting["status"] == "requested"
    rep.post_json(f"/api/v1/activities/{task['id']}/transitions/ask", {})
    res = rep.post(f"/api/v1/activities/{task['id']}/complete")
    assert res.json["status"] == "done" and res.json["state"] == "done"
    # "Mark done" is the workflow's step: it is on the record's workflow history.
    from sqlalchemy import select

    from kyklos.workflow.models import WorkflowEvent

    with dbsession() as db:
        steps = db.execute(
            select(WorkflowEvent.transition, WorkflowEvent.to_state)
            .where(WorkflowEvent.entity == "activity", WorkflowEvent.record_id == task["id"])
            .order_by(WorkflowEvent.id)
        ).all()
    assert [tuple(s) for s in steps] == [("ask", "for_approval"), ("finish", "done")]
    # A write the workflow has no step for is still refused, with the reason.
    res = rep.patch_json(f"/api/v1/activities/{meeting['id']}", {"status": "approved"}, status=400)
    assert res.content_type == "application/problem+json"
    assert any(e["field"] == "status" for e in res.json["errors"])

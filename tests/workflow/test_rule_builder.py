"""Automation with the shipped plugins: "one day after a meeting ends, create a
follow-up task for its owner" (the task lands on the person's timeline), a rule on an
opportunity's derived status, and a time rule on a custom date field."""

import datetime as dt

import pytest
from sqlalchemy import select

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.workflow import automation
from kyklos.workflow.models import AutomationRun


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.fixture
def types(dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


def scan(registry, at):
    with jobs.job_request(registry) as request:
        jobs.enqueue(request, automation.SCAN_JOB, args={"now": at.isoformat()})


def iso(value):
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def test_follow_up_task_one_day_after_a_meeting(api, client, registry, types, dbsession):
    admin = api("admin")
    rule = admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "activity",
            "name": "Follow up meetings",
            "trigger": {"kind": "time", "field": "ends_at", "offset": 1, "unit": "days"},
            "conditions": {"type_id": types["meeting"]},
            "actions": [
                {
                    "type": "create_activity",
                    "activity_type": "task",
                    "subject": "Follow up: $record_title",
                    "due_in_days": 1,
                }
            ],
        },
        status=201,
    ).json
    rep = api("sales")
    person = rep.post_json(
        "/api/v1/persons", {"first_name": "Ioana", "last_name": "Pop"}, status=201
    ).json
    ends = utcnow() - dt.timedelta(hours=23)
    meeting = rep.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "Kick-off",
            "starts_at": iso(ends - dt.timedelta(hours=1)),
            "ends_at": iso(ends),
            "about_type": "person",
            "about_id": person["id"],
        },
        status=201,
    ).json
    scan(registry, utcnow())
    assert rep.get("/api/v1/activities?subject=Follow up: Kick-off").json["items"] == []
    scan(registry, utcnow() + dt.timedelta(hours=2))
    scan(registry, utcnow() + dt.timedelta(hours=3))  # once per meeting end
    found = rep.get("/api/v1/activities?subject=Follow up: Kick-off").json["items"]
    assert len(found) == 1
    task = rep.get(f"/api/v1/activities/{found[0]['id']}").json
    assert task["type_code"] == "task" or task["type_id"] == types["task"]
    assert task["owner_id"] == rep.user_id and task["about_id"] == person["id"]
    with dbsession() as db:
        run = db.execute(
            select(AutomationRun).where(AutomationRun.record_id == meeting["id"])
        ).scalar_one()
        assert (run.rule_id, run.outcome) == (rule["id"], "done")
    # The follow-up is on the person's timeline.
    page = client("admin").get(f"/persons/{person['id']}")
    assert "Follow up: Kick-off" in page.text


def test_rule_on_the_derived_status_fires_when_won(api, types, dbsession):
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)
        stages = dict(db.execute(select(Stage.code, Stage.id)).all())
    admin = api("admin")
    admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "opportunity",
            "name": "Won",
            "trigger": {"kind": "field_changed", "field": "status", "to": "won"},
            "actions": [
                {
                    "type": "create_activity",
                    "activity_type": "task",
                    "subject": "Hand over to delivery",
                    "due_in_days": 1,
                }
            ],
        },
        status=201,
    )
    director = api("salesdirector")
    opp = director.post_json(
        "/api/v1/opportunities", {"name": "Fleet", "stage_id": stages["negotiation"]}, status=201
    ).json
    assert admin.get("/api/v1/activities?subject=Hand over to delivery").json["items"] == []
    director.patch_json(
        f"/api/v1/opportunities/{opp['id']}",
        {"stage_id": stages["contract_signed"]},
        headers={"If-Match": f'"{opp["version"]}"'},
    )
    found = admin.get("/api/v1/activities?subject=Hand over to delivery").json["items"]
    assert len(found) == 1
    with dbsession() as db:
        run = db.execute(select(AutomationRun)).scalar_one()
        assert run.event_key.startswith("changed:status:") and run.outcome == "done"


def test_time_rule_on_a_custom_date_field(api, registry, dbsession):
    admin = api("admin")
    admin.post_json(
        "/api/v1/_custom-fields",
        {
            "entity": "person",
            "name": "cf_renewal",
            "type": "date",
            "label": {"en": "Renewal", "el": "Ανανέωση"},
        },
        status=201,
    )
    admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "person",
            "name": "r",
            "trigger": {
                "kind": "time",
                "field": "cf_renewal",
                "offset": 2,
                "unit": "days",
                "direction": "before",
            },
            "actions": [{"type": "notify", "to": ["owner"], "title": "renew $record_title"}],
        },
        status=201,
    )
    refused = admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "person",
            "name": "r",
            "trigger": {"kind": "time", "field": "first_name"},
            "actions": [{"type": "notify", "to": ["owner"]}],
        },
        status=400,
    )
    assert refused.content_type == "application/problem+json"
    assert [e["field"] for e in refused.json["errors"]] == ["trigger"]
    rep = api("sales")
    day = (utcnow() + dt.timedelta(days=3)).date()
    p = rep.post_json(
        "/api/v1/persons",
        {"first_name": "A", "last_name": "B", "cf_renewal": day.isoformat()},
        status=201,
    ).json
    scan(registry, utcnow())
    with dbsession() as db:
        assert db.execute(select(AutomationRun)).first() is None
    scan(
        registry,
        dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
        - dt.timedelta(days=2)
        + dt.timedelta(minutes=1),
    )
    with dbsession() as db:
        run = db.execute(select(AutomationRun)).scalar_one()
        assert (run.record_id, run.event_key) == (p["id"], f"time:cf_renewal:{day}")

"""Automation rules (WF-03, WF-04, WF-06, D7): triggers, conditions in the filter
language, actions run after commit, once per event, a run log that explains, dry runs,
parents following their children, time rules, and rules refused when invalid."""

import datetime as dt

import pytest
from sqlalchemy import func, select

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.notifications import Notification
from kyklos.workflow import automation
from kyklos.workflow.models import AutomationRule, AutomationRun


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


@pytest.fixture
def admin(api):
    return api("admin")


def rule(admin, **doc):
    body = {"entity": "ticket", "name": "r", **doc}
    return admin.post_json("/api/v1/_automation/rules", body, status=201).json


def runs(dbsession, record_id=None):
    with dbsession() as db:
        stmt = select(AutomationRun).order_by(AutomationRun.id)
        if record_id is not None:
            stmt = stmt.where(AutomationRun.record_id == record_id)
        return [(r.rule_id, r.event_key, r.outcome, r.reason) for r in db.execute(stmt).scalars()]


def test_created_rule_with_condition_sets_a_field(admin, api, dbsession):
    r = rule(admin, trigger={"kind": "created"}, conditions={"amount__gte": 100},
             actions=[{"type": "set_field", "field": "due_on", "value": "2026-12-31"}])
    u = api("ticketeer")
    big = u.post_json("/api/v1/tickets", {"name": "big", "amount": 150}, status=201).json
    small = u.post_json("/api/v1/tickets", {"name": "small", "amount": 10}, status=201).json
    assert u.get(f"/api/v1/tickets/{big['id']}").json["due_on"] == "2026-12-31"
    assert u.get(f"/api/v1/tickets/{small['id']}").json["due_on"] is None
    assert runs(dbsession, big["id"]) == [(r["id"], "created", "done", "all conditions held")]
    assert runs(dbsession, small["id"]) == [
        (r["id"], "created", "skipped", "condition amount__gte=100 false (was 10)")]
    log = admin.get(f"/api/v1/tickets/{small['id']}/automation-runs").json["items"]
    assert log[0]["reason"] == "condition amount__gte=100 false (was 10)"
    u.get(f"/api/v1/tickets/{small['id']}/automation-runs", status=403)  # not for everyone


def test_field_changed_fires_once_per_change(admin, api, dbsession):
    rule(admin, trigger={"kind": "field_changed", "field": "amount"},
         actions=[{"type": "notify", "to": ["owner"], "title": "amount now $amount"}])
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "t", "amount": 1}, status=201).json
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"name": "renamed"})  # not the field
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 2})
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 2})  # no change: no event
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 3})
    assert [k for _r, k, _o, _w in runs(dbsession, t["id"])] == [
        "changed:amount:v3", "changed:amount:v4"]
    with dbsession() as db:
        titles = db.execute(select(Notification.title).where(
            Notification.user_id == u.user_id).order_by(Notification.id)).scalars().all()
    assert titles == ["amount now 2", "amount now 3"]


def test_an_event_fires_a_rule_at_most_once(admin, api, registry, dbsession):
    r = rule(admin, trigger={"kind": "updated"},
             actions=[{"type": "set_field", "field": "amount", "value": 7}])
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "t"}, status=201).json
    with jobs.job_request(registry) as request:
        from kyklos_sampleflow import Ticket

        rec = request.dbsession.get(Ticket, t["id"])
        db_rule = request.dbsession.get(AutomationRule, r["id"])
        first = automation.fire(request, db_rule, registry.kyklos_entities["ticket"], rec, "x:1")
        again = automation.fire(request, db_rule, registry.kyklos_entities["ticket"], rec, "x:1")
    assert first is not None and again is None
    assert [k for _r, k, _o, _w in runs(dbsession, t["id"])].count("x:1") == 1


def test_transition_trigger_and_plugin_action(admin, api, dbsession):
    """WF-03: "create a task the day after" through an action type a plugin adds."""
    rule(admin, trigger={"kind": "transition", "transition": "finish"},
         actions=[{"type": "sampleflow.create_ticket", "name": "check $name", "due_in_days": 1}])
    u = api("ticketeer")
    due = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
    t = u.post_json("/api/v1/tickets", {"name": "meeting", "due_at": due.isoformat()},
                    status=201).json
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {})
    res = u.get("/api/v1/tickets?name=check meeting").json
    assert res["items"] == []
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/finish", {})
    found = u.get("/api/v1/tickets?name=check meeting").json["items"]
    assert len(found) == 1
    follow = u.get(f"/api/v1/tickets/{found[0]['id']}").json
    assert follow["due_at"].startswith((due + dt.timedelta(days=1)).date().isoformat())


def test_parent_moves_when_all_children_are_done(admin, api, dbsession):
    """WF-04."""
    rule(admin, trigger={"kind": "transition", "transition": "finish"},
         actions=[{"type": "advance_parent", "parent_field": "parent_id",
                   "children_states": ["done", "closed"], "target": "done"}])
    u = api("ticketeer")
    parent = u.post_json("/api/v1/tickets", {"name": "project"}, status=201).json
    u.post_json(f"/api/v1/tickets/{parent['id']}/transitions/start", {})
    kids = [u.post_json("/api/v1/tickets", {"name": f"task {i}", "parent_id": parent["id"]},
                        status=201).json for i in range(2)]
    for k in kids:
        u.post_json(f"/api/v1/tickets/{k['id']}/transitions/start", {})
    u.post_json(f"/api/v1/tickets/{kids[0]['id']}/transitions/finish", {})
    assert u.get(f"/api/v1/tickets/{parent['id']}").json["status"] == "open"
    u.post_json(f"/api/v1/tickets/{kids[1]['id']}/transitions/finish", {})
    assert u.get(f"/api/v1/tickets/{parent['id']}").json["status"] == "done"
    with dbsession() as db:
        first = db.execute(select(AutomationRun).where(AutomationRun.record_id == kids[0]["id"])
                           ).scalar_one()
        assert first.results == [{"type": "advance_parent",
                                  "skipped": "1 of 2 children not done"}]


def test_rules_triggering_rules_stop(admin, api, dbsession):
    rule(admin, trigger={"kind": "created"},
         actions=[{"type": "sampleflow.create_ticket", "name": "echo"}])
    u = api("ticketeer")
    u.post_json("/api/v1/tickets", {"name": "seed"}, status=201)
    with dbsession() as db:
        from kyklos_sampleflow import Ticket

        assert db.execute(select(func.count(Ticket.id))).scalar_one() == 1 + automation.MAX_DEPTH
        last = db.execute(select(AutomationRun).order_by(AutomationRun.id.desc())).scalars().first()
        assert last.outcome == "skipped" and last.reason.startswith("stopped")


def test_time_rule_fires_once_per_date_value(admin, api, registry, dbsession):
    """WF-06: 30 days before the contract ends, remind the owner; once per end date."""
    r = rule(admin, trigger={"kind": "time", "field": "due_on", "offset": 30, "unit": "days",
                             "direction": "before"},
             actions=[{"type": "notify", "to": ["owner"], "title": "$name ends on $due_on"}])
    u = api("ticketeer")
    ends = (utcnow() + dt.timedelta(days=31)).date()  # due tomorrow at 00:00 UTC
    t = u.post_json("/api/v1/tickets", {"name": "contract", "due_on": ends.isoformat()},
                    status=201).json
    later = u.post_json("/api/v1/tickets", {"name": "later",
                                            "due_on": (ends + dt.timedelta(days=5)).isoformat()},
                        status=201).json

    def scan(at):
        with jobs.job_request(registry) as request:
            jobs.enqueue(request, automation.SCAN_JOB, args={"now": at.isoformat()})

    scan(utcnow())
    assert runs(dbsession, t["id"]) == []  # not due yet
    tomorrow = utcnow() + dt.timedelta(days=1, minutes=1)
    scan(tomorrow)
    scan(tomorrow + dt.timedelta(minutes=1))
    assert [k for _r, k, _o, _w in runs(dbsession, t["id"])] == [f"time:due_on:{ends}"]
    assert runs(dbsession, later["id"]) == []
    with dbsession() as db:
        titles = db.execute(select(Notification.title).where(
            Notification.user_id == u.user_id)).scalars().all()
    assert titles == [f"contract ends on {ends}"]
    # A new end date is a new event.
    new_end = ends + dt.timedelta(days=1)
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"due_on": new_end.isoformat()})
    scan(tomorrow + dt.timedelta(days=1))
    assert [k for _r, k, _o, _w in runs(dbsession, t["id"])] == [
        f"time:due_on:{ends}", f"time:due_on:{new_end}"]
    with dbsession() as db:
        assert db.get(AutomationRule, r["id"]).scanned_until is not None


def test_changing_a_time_rule_does_not_fire_for_the_past(admin, dbsession):
    r = rule(admin, trigger={"kind": "time", "field": "due_on", "offset": 1, "unit": "days"},
             actions=[{"type": "notify", "to": ["owner"]}])
    with dbsession() as db:
        assert db.get(AutomationRule, r["id"]).scanned_until is None
    before = utcnow()
    admin.put_json(f"/api/v1/_automation/rules/{r['id']}",
                   {**r, "trigger": {**r["trigger"], "offset": 2}})
    with dbsession() as db:
        assert db.get(AutomationRule, r["id"]).scanned_until >= before


def test_dry_run_explains_without_doing(admin, api, dbsession):
    r = rule(admin, trigger={"kind": "field_changed", "field": "amount"},
             conditions={"amount__gt": 5},
             actions=[{"type": "set_field", "field": "due_on", "value": "2027-01-01"},
                      {"type": "notify", "to": ["owner"], "title": "hello $name"}])
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "x", "amount": 9}, status=201).json
    res = admin.post_json(f"/api/v1/_automation/rules/{r['id']}/dry-run",
                          {"record_id": t["id"]}).json
    assert res["would_fire"] is True
    assert res["actions"][0] == "set due_on to '2027-01-01'"
    assert res["actions"][1].endswith(": hello x")
    assert u.get(f"/api/v1/tickets/{t['id']}").json["due_on"] is None
    assert runs(dbsession) == []
    res = admin.post_json("/api/v1/_automation/dry-run", {
        "record_id": t["id"],
        "rule": {"entity": "ticket", "name": "try", "trigger": "created",
                 "conditions": {"any": [{"amount__lt": 3}, {"name__startswith": "y"}]},
                 "actions": [{"type": "notify", "to": ["owner"]}]}}).json
    assert res["would_fire"] is False and "none of the 'any' groups held" in res["reason"]


@pytest.mark.parametrize("doc, field", [
    ({"trigger": {"kind": "nope"}}, "trigger"),
    ({"trigger": {"kind": "field_changed", "field": "nosuch"}}, "trigger"),
    ({"trigger": {"kind": "time", "field": "name", "offset": 1}}, "trigger"),
    ({"trigger": {"kind": "transition", "transition": "fly"}}, "trigger"),
    ({"conditions": {"nosuch__eq": 1}}, "conditions"),
    ({"conditions": {"amount__contains": "1"}}, "conditions"),
    ({"conditions": {"amount__eq": "lots"}}, "conditions"),
    ({"conditions": {"name__eq": "x'); DROP TABLE kyklos_user;--", "id__in": "1,2"}}, None),
    ({"actions": [{"type": "rm_rf"}]}, "actions.0"),
    ({"actions": [{"type": "set_field", "field": "status", "value": "closed"}]}, "actions.0"),
    ({"actions": [{"type": "set_field", "field": "owner_id", "value": 1}]}, None),
    ({"actions": [{"type": "set_field", "field": "version", "value": 1}]}, "actions.0"),
    ({"actions": [{"type": "webhook", "url": "file:///etc/passwd"}]}, "actions.0"),
    ({"actions": [{"type": "send_email", "to": ["nobody"], "body": "x"}]}, "actions.0"),
    ({"actions": []}, "actions"),
])
def test_invalid_rules_are_refused(admin, doc, field, dbsession):
    body = {"entity": "ticket", "name": "bad", "trigger": {"kind": "created"},
            "actions": [{"type": "notify", "to": ["owner"]}], **doc}
    if field is None:
        admin.post_json("/api/v1/_automation/rules", body, status=201)
        return
    res = admin.post_json("/api/v1/_automation/rules", body, status=400)
    assert field in [e["field"] for e in res.json["errors"]]


def test_only_managers_edit_rules(api):
    u = api("ticketeer")
    u.get("/api/v1/_automation/rules", status=403)
    u.post_json("/api/v1/_automation/rules", {"entity": "ticket"}, status=403)


def test_rules_admin_pages(client, api, dbsession):
    app = client("admin")
    page = app.get("/admin/automation")
    form = next(f for f in page.forms.values() if "trigger_kind" in f.fields)
    form["name"] = "Follow up"
    form["entity"] = "ticket"
    form["trigger_kind"] = "created"
    form["conditions"] = '{"amount__gte": 1}'
    form["actions"] = '[{"type": "notify", "to": ["owner"], "title": "new $name"}]'
    page = form.submit().follow()
    assert "Follow up" in page.text
    # A dry run from the page
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "zero", "amount": 0}, status=201).json
    dry = next(f for f in page.forms.values() if "record_id" in f.fields)
    dry["record_id"] = str(t["id"])
    res = dry.submit()
    assert "Would not fire." in res.text and "amount__gte=1 false (was 0)" in res.text
    # The record page shows the run log to managers.
    u2 = api("ticketeer")
    t2 = u2.post_json("/api/v1/tickets", {"name": "one", "amount": 1}, status=201).json
    detail = app.get(f"/tickets/{t2['id']}")
    assert "Automation runs" in detail.text and "all conditions held" in detail.text
    # Bad JSON is reported, not saved.
    form = next(f for f in app.get("/admin/automation").forms.values()
                if "trigger_kind" in f.fields)
    form["name"] = "broken"
    form["actions"] = "[not json"
    res = form.submit(status=400)
    assert "not valid JSON" in res.text

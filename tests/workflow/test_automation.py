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
    r = rule(
        admin,
        trigger={"kind": "created"},
        conditions={"amount__gte": 100},
        actions=[{"type": "set_field", "field": "due_on", "value": "2026-12-31"}],
    )
    u = api("ticketeer")
    big = u.post_json("/api/v1/tickets", {"name": "big", "amount": 150}, status=201).json
    small = u.post_json("/api/v1/tickets", {"name": "small", "amount": 10}, status=201).json
    assert u.get(f"/api/v1/tickets/{big['id']}").json["due_on"] == "2026-12-31"
    assert u.get(f"/api/v1/tickets/{small['id']}").json["due_on"] is None
    assert runs(dbsession, big["id"]) == [(r["id"], "created", "done", "all conditions held")]
    assert runs(dbsession, small["id"]) == [
        (r["id"], "created", "skipped", "condition amount__gte=100 false (was 10)")
    ]
    log = admin.get(f"/api/v1/tickets/{small['id']}/automation-runs").json["items"]
    assert log[0]["reason"] == "condition amount__gte=100 false (was 10)"
    u.get(f"/api/v1/tickets/{small['id']}/automation-runs", status=403)  # not for everyone


def test_field_changed_fires_once_per_change(admin, api, dbsession):
    rule(
        admin,
        trigger={"kind": "field_changed", "field": "amount"},
        actions=[{"type": "notify", "to": ["owner"], "title": "amount now $amount"}],
    )
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "t", "amount": 1}, status=201).json
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"name": "renamed"})  # not the field
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 2})
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 2})  # no change: no event
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 3})
    assert [k for _r, k, _o, _w in runs(dbsession, t["id"])] == [
        "changed:amount:v3",
        "changed:amount:v4",
    ]
    with dbsession() as db:
        titles = (
            db.execute(
                select(Notification.title)
                .where(Notification.user_id == u.user_id)
                .order_by(Notification.id)
            )
            .scalars()
            .all()
        )
    assert titles == ["amount now 2", "amount now 3"]


def test_an_event_fires_a_rule_at_most_once(admin, api, registry, dbsession):
    r = rule(
        admin,
        trigger={"kind": "updated"},
        actions=[{"type": "set_field", "field": "amount", "value": 7}],
    )
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
    rule(
        admin,
        trigger={"kind": "transition", "transition": "finish"},
        actions=[{"type": "sampleflow.create_ticket", "name": "check $name", "due_in_days": 1}],
    )
    u = api("ticketeer")
    due = (utcnow() + dt.timedelta(days=2)).replace(microsecond=0)
    t = u.post_json(
        "/api/v1/tickets", {"name": "meeting", "due_at": due.isoformat()}, status=201
    ).json
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
    rule(
        admin,
        trigger={"kind": "transition", "transition": "finish"},
        actions=[
            {
                "type": "advance_parent",
                "parent_field": "parent_id",
                "children_states": ["done", "closed"],
                "target": "done",
            }
        ],
    )
    u = api("ticketeer")
    parent = u.post_json("/api/v1/tickets", {"name": "project"}, status=201).json
    u.post_json(f"/api/v1/tickets/{parent['id']}/transitions/start", {})
    kids = [
        u.post_json(
            "/api/v1/tickets", {"name": f"task {i}", "parent_id": parent["id"]}, status=201
        ).json
        for i in range(2)
    ]
    for k in kids:
        u.post_json(f"/api/v1/tickets/{k['id']}/transitions/start", {})
    u.post_json(f"/api/v1/tickets/{kids[0]['id']}/transitions/finish", {})
    assert u.get(f"/api/v1/tickets/{parent['id']}").json["status"] == "open"
    u.post_json(f"/api/v1/tickets/{kids[1]['id']}/transitions/finish", {})
    assert u.get(f"/api/v1/tickets/{parent['id']}").json["status"] == "done"
    with dbsession() as db:
        first = db.execute(
            select(AutomationRun).where(AutomationRun.record_id == kids[0]["id"])
        ).scalar_one()
        assert first.results == [{"type": "advance_parent", "skipped": "1 of 2 children not done"}]


def test_rules_triggering_rules_stop(admin, api, dbsession):
    rule(
        admin,
        trigger={"kind": "created"},
        actions=[{"type": "sampleflow.create_ticket", "name": "echo"}],
    )
    u = api("ticketeer")
    u.post_json("/api/v1/tickets", {"name": "seed"}, status=201)
    with dbsession() as db:
        from kyklos_sampleflow import Ticket

        assert db.execute(select(func.count(Ticket.id))).scalar_one() == 1 + automation.MAX_DEPTH
        last = db.execute(select(AutomationRun).order_by(AutomationRun.id.desc())).scalars().first()
        assert last.outcome == "skipped" and last.reason.startswith("stopped")


def test_time_rule_fires_once_per_date_value(admin, api, registry, dbsession):
    """WF-06: 30 days before the contract ends, remind the owner; once per end date."""
    r = rule(
        admin,
        trigger={
            "kind": "time",
            "field": "due_on",
            "offset": 30,
            "unit": "days",
            "direction": "before",
        },
        actions=[{"type": "notify", "to": ["owner"], "title": "$name ends on $due_on"}],
    )
    u = api("ticketeer")
    ends = (utcnow() + dt.timedelta(days=31)).date()  # due tomorrow at 00:00 UTC
    t = u.post_json(
        "/api/v1/tickets", {"name": "contract", "due_on": ends.isoformat()}, status=201
    ).json
    later = u.post_json(
        "/api/v1/tickets",
        {"name": "later", "due_on": (ends + dt.timedelta(days=5)).isoformat()},
        status=201,
    ).json

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
        titles = (
            db.execute(select(Notification.title).where(Notification.user_id == u.user_id))
            .scalars()
            .all()
        )
    assert titles == [f"contract ends on {ends}"]
    # A new end date is a new event.
    new_end = ends + dt.timedelta(days=1)
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"due_on": new_end.isoformat()})
    scan(tomorrow + dt.timedelta(days=1))
    assert [k for _r, k, _o, _w in runs(dbsession, t["id"])] == [
        f"time:due_on:{ends}",
        f"time:due_on:{new_end}",
    ]
    with dbsession() as db:
        assert db.get(AutomationRule, r["id"]).scanned_until is not None


def test_changing_a_time_rule_does_not_fire_for_the_past(admin, dbsession):
    r = rule(
        admin,
        trigger={"kind": "time", "field": "due_on", "offset": 1, "unit": "days"},
        actions=[{"type": "notify", "to": ["owner"]}],
    )
    with dbsession() as db:
        assert db.get(AutomationRule, r["id"]).scanned_until is None
    before = utcnow()
    admin.put_json(
        f"/api/v1/_automation/rules/{r['id']}", {**r, "trigger": {**r["trigger"], "offset": 2}}
    )
    with dbsession() as db:
        assert db.get(AutomationRule, r["id"]).scanned_until >= before


def test_dry_run_explains_without_doing(admin, api, dbsession):
    r = rule(
        admin,
        trigger={"kind": "field_changed", "field": "amount"},
        conditions={"amount__gt": 5},
        actions=[
            {"type": "set_field", "field": "due_on", "value": "2027-01-01"},
            {"type": "notify", "to": ["owner"], "title": "hello $name"},
        ],
    )
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "x", "amount": 9}, status=201).json
    res = admin.post_json(
        f"/api/v1/_automation/rules/{r['id']}/dry-run", {"record_id": t["id"]}
    ).json
    assert res["would_fire"] is True
    assert res["actions"][0] == "set due_on to '2027-01-01'"
    assert res["actions"][1].endswith(": hello x")
    assert u.get(f"/api/v1/tickets/{t['id']}").json["due_on"] is None
    assert runs(dbsession) == []
    res = admin.post_json(
        "/api/v1/_automation/dry-run",
        {
            "record_id": t["id"],
            "rule": {
                "entity": "ticket",
                "name": "try",
                "trigger": "created",
                "conditions": {"any": [{"amount__lt": 3}, {"name__startswith": "y"}]},
                "actions": [{"type": "notify", "to": ["owner"]}],
            },
        },
    ).json
    assert res["would_fire"] is False and "none of the 'any' groups held" in res["reason"]


@pytest.mark.parametrize(
    "doc, field",
    [
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
    ],
)
def test_invalid_rules_are_refused(admin, doc, field, dbsession):
    body = {
        "entity": "ticket",
        "name": "bad",
        "trigger": {"kind": "created"},
        "actions": [{"type": "notify", "to": ["owner"]}],
        **doc,
    }
    if field is None:
        admin.post_json("/api/v1/_automation/rules", body, status=201)
        return
    res = admin.post_json("/api/v1/_automation/rules", body, status=400)
    assert field in [e["field"] for e in res.json["errors"]]


def test_only_managers_edit_rules(api):
    u = api("ticketeer")
    u.get("/api/v1/_automation/rules", status=403)
    u.post_json("/api/v1/_automation/rules", {"entity": "ticket"}, status=403)


def builder_form(page):
    return next(f for f in page.forms.values() if "trigger_kind" in f.fields)


def test_rule_builder_page_makes_a_rule_without_json(client, api, dbsession):
    """The builder: lists in words, a value input per field type, a sentence, a dry
    run that writes nothing, then the rule works."""
    app = client("admin")
    assert "No rules yet." in app.get("/admin/automation").text
    page = app.get("/admin/automation/new?entity=ticket")
    assert "{" not in builder_form(page)["name"].value  # no JSON anywhere
    form = builder_form(page)
    form["name"] = "Big tickets"
    form["trigger_kind"] = "created"
    form["cond-0-field"] = "amount"
    page = form.submit("action", value="refresh")  # the inputs follow the field
    form = builder_form(page)
    assert [o for o, _s, _t in form["cond-0-op"].options][:2] == ["eq", "ne"]
    assert "is at least" in page.text
    form["cond-0-op"] = "gte"
    form["cond-0-value"] = "100"
    form["act-0-type"] = "set_field"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    form["act-0-field"] = "due_on"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    assert form["act-0-value"].attrs["type"] == "date"
    form["act-0-value"] = "2026-12-31"
    u = api("ticketeer")
    big = u.post_json("/api/v1/tickets", {"name": "big", "amount": 150}, status=201).json
    u.post_json("/api/v1/tickets", {"name": "small", "amount": 5}, status=201)
    dry = form.submit("action", value="dry_run")
    summary = dry.html.select_one("#k-rule-summary").text
    assert (
        summary
        == (
            "When a “Ticket” record is created, if “Amount” is at least “100”: "
            "set “Due on” to “12/31/2026”."
        )
        or "Due on" in summary
    )
    rows = dry.html.select(".k-dry-run tbody tr")
    assert {r.select_one("a").text: "k-dry-match" in r["class"] for r in rows} == {
        "big": True,
        "small": False,
    }
    assert "amount__gte=100 false (was 5)" in dry.text
    with dbsession() as db:  # the dry run wrote nothing
        assert db.execute(select(func.count(AutomationRule.id))).scalar_one() == 0
        assert runs(dbsession) == []
    assert u.get(f"/api/v1/tickets/{big['id']}").json["due_on"] is None
    saved = builder_form(dry).submit("action", value="save").follow()
    assert "Rule created." in saved.text
    with dbsession() as db:
        r = db.execute(select(AutomationRule)).scalar_one()
        assert (r.trigger, r.conditions, r.actions) == (
            {"kind": "created"},
            {"amount__gte": 100},
            [{"type": "set_field", "field": "due_on", "value": "2026-12-31"}],
        )
    t = u.post_json("/api/v1/tickets", {"name": "huge", "amount": 500}, status=201).json
    assert u.get(f"/api/v1/tickets/{t['id']}").json["due_on"] == "2026-12-31"
    listing = app.get("/admin/automation")
    assert "Big tickets" in listing.text and "is at least" in listing.text
    # The rule's page shows its run log in words.
    rule_page = app.get(f"/admin/automation/{r.id}")
    assert "Run log" in rule_page.text and "all conditions held" in rule_page.text
    # The record page shows the run log to managers.
    detail = app.get(f"/tickets/{t['id']}")
    assert "Automation runs" in detail.text and "all conditions held" in detail.text
    # A refused rule says why and saves nothing.
    form = builder_form(app.get("/admin/automation/new?entity=ticket"))
    form["name"] = ""
    res = form.submit("action", value="save", status=400)
    assert res.html.select_one(".k-rule-errors")
    with dbsession() as db:
        assert db.execute(select(func.count(AutomationRule.id))).scalar_one() == 1


def test_builder_in_greek_speaks_greek(client, make_user, login, testapp):
    make_user(email="el-admin@example.com", roles=("admin",), locale="el")
    login(testapp, "el-admin@example.com")
    page = testapp.get("/admin/automation/new?entity=ticket")
    assert "Όταν" in page.html.select_one("#k-rule-summary").text
    assert "Δοκιμαστική εκτέλεση" in page.text


def test_state_trigger_and_transition_action(admin, api, dbsession):
    rule(
        admin,
        trigger={"kind": "state", "state": "done"},
        actions=[{"type": "transition", "transition": "reopen"}],
    )
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "t"}, status=201).json
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {})
    assert runs(dbsession, t["id"]) == []
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/finish", {})
    # done -> the rule reopens it (and fires once more when it is done again)
    assert u.get(f"/api/v1/tickets/{t['id']}").json["status"] == "open"
    assert [(k.split(":")[0], o) for _r, k, o, _w in runs(dbsession, t["id"])] == [
        ("state", "done")
    ]
    admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "ticket",
            "name": "bad",
            "trigger": {"kind": "state", "state": "nowhere"},
            "actions": [{"type": "notify", "to": ["owner"]}],
        },
        status=400,
    )


def test_start_approval_action_asks_the_line_manager(admin, api, dbsession):
    from kyklos.security.models import Department, User
    from kyklos.workflow.models import ApprovalRequest

    boss = api("ticketeer", email="boss@example.com")
    rep = api("ticketeer", email="rep@example.com")
    api("finance", email="fin@example.com")  # the second level's approvers
    with dbsession() as db:
        dep = Department(name="Desk", manager_id=boss.user_id)
        db.add(dep)
        db.flush()
        dep.path = f"/{dep.id}/"
        db.get(User, rep.user_id).department_id = dep.id
    rule(
        admin,
        trigger={"kind": "field_changed", "field": "amount", "to": 0},
        actions=[{"type": "start_approval", "transition": "write_off"}],
    )
    t = rep.post_json("/api/v1/tickets", {"name": "lost cause", "amount": 5}, status=201).json
    rep.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 1})  # not to 0: nothing
    with dbsession() as db:
        assert db.execute(select(ApprovalRequest)).first() is None
    rep.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 0})
    with dbsession() as db:
        req = db.execute(select(ApprovalRequest)).scalar_one()
        assert (req.record_id, req.transition, req.requester_id) == (
            t["id"],
            "write_off",
            rep.user_id,
        )
        assert [r.outcome for r in db.execute(select(AutomationRun)).scalars()] == ["done"]
    with dbsession() as db:
        for dep in db.execute(select(Department)).scalars():
            dep.parent_id = None


def test_failed_action_states_the_exact_reason(admin, api, dbsession):
    """A run whose action fails says which action and why, not "all conditions held"."""
    r = rule(
        admin, trigger={"kind": "created"}, actions=[{"type": "transition", "transition": "start"}]
    )
    with dbsession() as db:  # the workflow lost the step since the rule was saved
        db.get(AutomationRule, r["id"]).actions = [{"type": "transition", "transition": "vanished"}]
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "t"}, status=201).json
    log = admin.get(f"/api/v1/tickets/{t['id']}/automation-runs").json["items"]
    assert log[0]["outcome"] in ("retrying", "failed")
    assert log[0]["reason"] == ("no conditions; action 1 (transition): no transition 'vanished'")

"""SLA targets (HD-03/04) through the API and the case page: business hours with public
holidays, the policy chosen by priority and type, the clock stopped while waiting on the
customer, targets in words in the user's language, and escalation by an automation rule
whose time trigger fires once when the resolution due time passes (WF-06)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from kyklos_helpdesk.sla import add_business_minutes, business_minutes_between, clock_of

PROBLEM = "application/problem+json"
ATHENS = ZoneInfo("Europe/Athens")


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ATHENS).astimezone(dt.UTC)


def step(app, case, name) -> dict:
    """Take a workflow step; the case as it is then."""
    app.post(f"/api/v1/cases/{case['id']}/transitions/{name}", status=200)
    return app.get(f"/api/v1/cases/{case['id']}").json


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


class Hours:
    """A business-hours record as the model has it, for the pure functions."""

    def __init__(self, **kw):
        self.timezone, self.country = "Europe/Athens", "GR"
        days = [d for d in ("mon", "tue", "wed", "thu", "fri") if kw.pop(d, True)]
        self.week = [{"day": d, "opens": "09:00", "closes": "17:00"} for d in days]
        self.__dict__.update(kw)


def test_business_time_skips_nights_weekends_and_public_holidays():
    clock = clock_of(Hours())
    # Friday 16:00 + 2 business hours: Monday 10:00
    assert add_business_minutes(at(2026, 3, 20, 16), 120, clock) == at(2026, 3, 23, 10)
    # Tuesday 16:00 + 2 h: Wednesday 25 March is Greek Independence Day, so Thursday
    assert add_business_minutes(at(2026, 3, 24, 16), 120, clock) == at(2026, 3, 26, 10)
    # ...which is a working day in Romania
    ro = clock_of(Hours(country="RO", timezone="Europe/Bucharest"))
    start = dt.datetime(2026, 3, 24, 16, tzinfo=ZoneInfo("Europe/Bucharest"))
    assert add_business_minutes(start, 120, ro) == start + dt.timedelta(hours=18)
    # Orthodox Good Friday and Easter Monday 2026 (10 and 13 April) are off in Greece
    assert add_business_minutes(at(2026, 4, 9, 16), 120, clock) == at(2026, 4, 14, 10)
    # across the change to summer time (29 March): still 10:00 local time
    assert add_business_minutes(at(2026, 3, 27, 16), 120, clock) == at(2026, 3, 30, 10)
    # opened at night: the clock starts at opening time
    assert add_business_minutes(at(2026, 3, 23, 3), 30, clock) == at(2026, 3, 23, 9, 30)
    assert business_minutes_between(at(2026, 3, 20, 16), at(2026, 3, 23, 10), clock) == 120
    # round the clock without business hours
    assert add_business_minutes(at(2026, 3, 20, 16), 120, None) == at(2026, 3, 20, 18)
    # a week without working days gives no due time rather than looping
    none = clock_of(Hours(mon=False, tue=False, wed=False, thu=False, fri=False))
    assert add_business_minutes(at(2026, 3, 20, 16), 60, none) is None


@pytest.fixture
def setup(admin, types):
    hours = admin.post_json(
        "/api/v1/business-hours",
        {"name": "Athens office", "timezone": "Europe/Athens", "country": "GR"},
        status=201,
    ).json
    team = admin.post_json(
        "/api/v1/support-teams", {"name": "First line", "hours_id": hours["id"]}, status=201
    ).json
    urgent = admin.post_json(
        "/api/v1/sla-policies",
        {
            "name": "Urgent",
            "position": 1,
            "priority": "urgent",
            "first_response_hours": "1",
            "resolution_hours": "4",
        },
        status=201,
    ).json
    complaints = admin.post_json(
        "/api/v1/sla-policies",
        {
            "name": "Complaints",
            "position": 2,
            "type_id": types["complaint"],
            "first_response_hours": "4",
            "resolution_hours": "16",
        },
        status=201,
    ).json
    default = admin.post_json(
        "/api/v1/sla-policies",
        {"name": "Default", "position": 3, "resolution_hours": "40"},
        status=201,
    ).json
    return {
        "hours": hours,
        "team": team,
        "urgent": urgent,
        "complaints": complaints,
        "default": default,
    }


def _clock(setup):
    return clock_of(Hours(**{k: setup["hours"][k] for k in ("timezone", "country")}))


def test_a_case_gets_its_policy_and_due_times_in_business_hours(admin, types, setup):
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Boiler leaks", "type_id": types["complaint"], "team_id": setup["team"]["id"]},
        status=201,
    ).json
    assert case["sla_policy_id"] == setup["complaints"]["id"]
    opened = parse(case["created_at"])
    clock = _clock(setup)
    assert parse(case["first_response_due"]) == add_business_minutes(opened, 240, clock)
    assert parse(case["resolution_due"]) == add_business_minutes(opened, 960, clock)
    # raised to urgent: the urgent policy's targets, still counted from the opening
    case = admin.patch_json(
        f"/api/v1/cases/{case['id']}", {"priority": "urgent", "version": case["version"]}
    ).json
    assert case["sla_policy_id"] == setup["urgent"]["id"]
    assert parse(case["resolution_due"]) == add_business_minutes(opened, 240, clock)
    # the due times are the system's
    res = admin.patch_json(
        f"/api/v1/cases/{case['id']}",
        {"resolution_due": "2030-01-01T00:00:00Z", "version": case["version"]},
        status=400,
    )
    assert "resolution_due" in errors_of(res)
    # no team: round the clock; a question falls to the default policy
    other = admin.post_json(
        "/api/v1/cases", {"subject": "How to?", "type_id": types["question"]}, status=201
    ).json
    assert other["sla_policy_id"] == setup["default"]["id"]
    assert other["first_response_due"] is None
    assert parse(other["resolution_due"]) == parse(other["created_at"]) + dt.timedelta(hours=40)


def test_waiting_on_the_customer_stops_the_clock(admin, types, setup):
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Printer", "priority": "urgent"}, status=201
    ).json
    due = parse(case["resolution_due"])
    assert case["first_response_at"] is None
    case = step(admin, case, "wait")
    # asking the customer is the first response; the resolution clock stops
    assert case["first_response_at"] is not None
    assert case["resolution_due"] is None
    assert 238 <= case["sla_paused_minutes"] <= 240
    case = step(admin, case, "resume")
    assert case["sla_paused_minutes"] is None
    resumed = parse(case["resolution_due"])
    assert resumed >= due - dt.timedelta(minutes=2)
    # resolving keeps the due time, to tell whether it was met
    case = step(admin, case, "resolve")
    assert parse(case["resolution_due"]) == resumed


def test_bad_business_hours_and_policies_name_the_field(admin):
    res = admin.post_json(
        "/api/v1/business-hours",
        {
            "name": "Night",
            "timezone": "Mars/Olympus",
            "week": [{"day": "mon", "opens": "17:00", "closes": "09:00"}],
        },
        status=400,
    )
    assert {"timezone", "week"} <= set(errors_of(res))
    assert "after opening" in errors_of(res)["week"]
    for week, words in (
        ([], "at least one working day"),
        ([{"day": "someday", "opens": "09:00", "closes": "17:00"}], "day of the week"),
        ([{"day": "mon", "opens": "nine", "closes": "17:00"}], "opening and closing"),
        (
            [
                {"day": "mon", "opens": "09:00", "closes": "13:00"},
                {"day": "mon", "opens": "12:00", "closes": "17:00"},
            ],
            "overlap",
        ),
        ({"mon": "9-17"}, "list of days"),
    ):
        res = admin.post_json("/api/v1/business-hours", {"name": "Never", "week": week}, status=400)
        assert words in errors_of(res)["week"]
    res = admin.post_json(
        "/api/v1/sla-policies",
        {"name": "x", "resolution_hours": "-2", "priority": "whenever"},
        status=400,
    )
    assert {"resolution_hours", "priority"} <= set(errors_of(res))
    assert admin.get("/api/v1/sla-policies").json["items"] == []
    assert admin.get("/api/v1/business-hours").json["items"] == []


def test_the_case_page_says_the_targets_in_words(admin, types, setup, make_user, testapp, login):
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Printer", "priority": "urgent"}, status=201
    ).json
    text = admin.get(f"/cases/{case['id']}").text
    assert "Service level" in text and "First response" in text
    assert "due in 3 h" in text or "due in 4 h" in text
    make_user(
        email="el@example.com", roles=("helpdeskmanager",), locale="el", timezone="Europe/Athens"
    )
    login(testapp, "el@example.com")
    text = testapp.get(f"/cases/{case['id']}").text
    assert "Επίπεδο εξυπηρέτησης" in text and "Πρώτη απάντηση" in text
    assert "λήγει σε 3 ώρες" in text or "λήγει σε 4 ώρες" in text
    assert "due in" not in text


def test_an_overdue_case_is_escalated_once_by_an_automation_rule(
    admin, api, types, setup, registry, dbsession, make_user
):
    """WF-06: when the resolution due time passes and the case is still open, raise its
    priority and tell its assignee; once, however often the scheduler looks."""
    from kyklos import jobs
    from kyklos.notifications import Notification
    from kyklos.workflow import automation
    from kyklos.workflow.models import AutomationRun

    rule = admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "case",
            "name": "Escalate overdue cases",
            "trigger": {
                "kind": "time",
                "field": "resolution_due",
                "offset": 0,
                "unit": "minutes",
                "direction": "after",
            },
            "conditions": {"status__in": ["new", "assigned"]},
            "actions": [
                {"type": "set_field", "field": "priority", "value": "urgent"},
                {"type": "notify", "to": ["owner"], "title": "Overdue: $subject"},
            ],
        },
        status=201,
    ).json
    agent = make_user(email="agent@example.com", roles=("helpdeskmanager",))
    late = admin.post_json(
        "/api/v1/cases",
        {"subject": "Late", "type_id": types["complaint"], "owner_id": agent},
        status=201,
    ).json
    done = admin.post_json(
        "/api/v1/cases",
        {"subject": "Done", "type_id": types["complaint"], "owner_id": agent},
        status=201,
    ).json
    admin.post(f"/api/v1/cases/{done['id']}/transitions/resolve")
    due = parse(late["resolution_due"])

    def scan(when):
        with jobs.job_request(registry) as request:
            jobs.enqueue(request, automation.SCAN_JOB, args={"now": when.isoformat()})

    def runs(record_id):
        with dbsession() as db:
            q = select(AutomationRun.outcome).where(
                AutomationRun.rule_id == rule["id"], AutomationRun.record_id == record_id
            )
            return db.execute(q).scalars().all()

    scan(due - dt.timedelta(minutes=5))
    assert runs(late["id"]) == []
    assert admin.get(f"/api/v1/cases/{late['id']}").json["priority"] == "normal"
    scan(due + dt.timedelta(minutes=1))
    scan(due + dt.timedelta(minutes=2))  # the scheduler looks again: nothing doubles
    assert runs(late["id"]) == ["done"]
    assert admin.get(f"/api/v1/cases/{late['id']}").json["priority"] == "urgent"
    assert runs(done["id"]) in ([], ["skipped"])
    assert admin.get(f"/api/v1/cases/{done['id']}").json["priority"] == "normal"
    with dbsession() as db:
        titles = (
            db.execute(select(Notification.title).where(Notification.user_id == agent))
            .scalars()
            .all()
        )
    assert titles == ["Overdue: Late"]


# --- business hours per weekday ----------------------------------------------------------

SHOP_WEEK = [
    *({"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")),
    {"day": "sat", "opens": "09:00", "closes": "13:00"},
]


def test_the_clock_counts_a_saturday_half_day_and_closed_sundays():
    clock = clock_of(Hours(week=SHOP_WEEK))
    # Friday 16:00 + 3 business hours: 1 h on Friday, 2 h on Saturday morning -> 11:00
    assert add_business_minutes(at(2026, 3, 20, 16), 180, clock) == at(2026, 3, 21, 11)
    # Friday 16:00 + 6 h: Friday 1 h, Saturday 4 h (to 13:00), Sunday closed, Monday 1 h
    assert add_business_minutes(at(2026, 3, 20, 16), 360, clock) == at(2026, 3, 23, 10)
    assert business_minutes_between(at(2026, 3, 20, 16), at(2026, 3, 23, 10), clock) == 360
    # opened on Saturday after closing: Monday morning
    assert add_business_minutes(at(2026, 3, 21, 14), 60, clock) == at(2026, 3, 23, 10)
    # two spans a day (a lunch break): Monday 12:00 + 2 h -> 15:00
    lunch = clock_of(
        Hours(
            week=[
                {"day": "mon", "opens": "09:00", "closes": "13:00"},
                {"day": "mon", "opens": "14:00", "closes": "18:00"},
            ]
        )
    )
    assert add_business_minutes(at(2026, 3, 23, 12), 120, lunch) == at(2026, 3, 23, 15)
    # a public holiday on a Saturday is off too (Greek Independence Day, 25 March 2028)
    assert add_business_minutes(at(2028, 3, 24, 16), 120, clock) == at(2028, 3, 27, 10)


def test_business_hours_per_weekday_through_the_api_and_the_form(admin, types, dbsession):
    hours = admin.post_json(
        "/api/v1/business-hours",
        {"name": "Shop", "timezone": "Europe/Athens", "country": "GR", "week": SHOP_WEEK[::-1]},
        status=201,
    ).json
    # stored in weekday order
    assert [s["day"] for s in hours["week"]] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    # a record without a week gets Monday to Friday 9 to 5
    plain = admin.post_json("/api/v1/business-hours", {"name": "Office"}, status=201).json
    assert [s["day"] for s in plain["week"]] == ["mon", "tue", "wed", "thu", "fri"]
    # the page shows days in words; the form edits times with time inputs, not text
    page = admin.get(f"/business-hours/{hours['id']}").text
    assert "Saturday 09:00–13:00" in page and "Sunday" not in page
    el = admin.get(f"/business-hours/{hours['id']}", headers={"Accept-Language": "el"}).text
    assert "Σάββατο 09:00–13:00" in el
    form = admin.get(f"/business-hours/{hours['id']}/edit").text
    assert 'type="time"' in form and 'value="13:00"' in form
    # a case opened on Friday 16:00 of a team on these hours, resolution in 3 h: due
    # Saturday 11:00 Athens time
    team = admin.post_json(
        "/api/v1/support-teams", {"name": "Shop desk", "hours_id": hours["id"]}, status=201
    ).json
    admin.post_json(
        "/api/v1/sla-policies", {"name": "Fast", "position": 1, "resolution_hours": "3"}, status=201
    )
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Till", "team_id": team["id"]}, status=201
    ).json
    assert case["resolution_due"] is not None
    # the same case as if opened on Friday 20 March 2026, 16:00 Athens time
    from kyklos_helpdesk.models import Case
    from kyklos_helpdesk.sla import set_targets

    with dbsession() as db:
        row = db.get(Case, case["id"])
        row.created_at = at(2026, 3, 20, 16)
        set_targets(db, row)
        assert row.resolution_due == at(2026, 3, 21, 11)

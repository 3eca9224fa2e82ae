"""Activities about any record (about_type / about_id): the API, the "Activities" panel,
quick actions and timeline of every entity type declared ``about=True``, times in the
user's zone, and the inline double-booking check of the meeting form."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from activities_helpers import error_fields
from sqlalchemy import select

ATHENS = ZoneInfo("Europe/Athens")


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def _csrf(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _weekday_ahead(days=8):
    day = dt.datetime.now(ATHENS).date() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


@pytest.fixture
def crm(make_record):
    acc = make_record("account", name="Ολυμπιακή Ζυθοποιία ΑΕ")
    person = make_record("person", first_name="Γιώργος", last_name="Καραγιάννης", account_id=acc)
    return {"account": acc, "person": person}


def test_api_activity_about_a_person_fills_person_and_account(client, types, crm):
    app = client("sales")
    h = {"X-CSRF-Token": _csrf(app.get("/activities/mine"))}
    res = app.post_json(
        "/api/v1/activities",
        {
            "type_code": "call",
            "subject": "Τηλεφώνημα",
            "about_type": "person",
            "about_id": crm["person"],
        },
        headers=h,
        status=201,
    )
    body = res.json
    assert (body["about_type"], body["about_id"]) == ("person", crm["person"])
    assert body["person_id"] == crm["person"]
    assert body["account_id"] == crm["account"]
    # An activity naming only its account (an older client) is about the account.
    app.post_json(
        "/api/v1/activities",
        {"type_code": "task", "subject": "Offer", "account_id": crm["account"]},
        headers=h,
        status=201,
    )
    found = app.get(
        "/api/v1/activities", {"about_type": "person", "about_id": str(crm["person"])}
    ).json
    assert [r["subject"] for r in found["items"]] == ["Τηλεφώνημα"]
    found = app.get("/api/v1/activities", {"about_type": "account"}).json
    assert [r["subject"] for r in found["items"]] == ["Offer"]
    # Only declared types, only existing records, both halves.
    res = app.post_json(
        "/api/v1/activities",
        {"type_code": "call", "subject": "x", "about_type": "resource", "about_id": 1},
        headers=h,
        status=400,
    )
    assert "about_type" in error_fields(res)
    res = app.post_json(
        "/api/v1/activities",
        {"type_code": "call", "subject": "x", "about_type": "person", "about_id": 999999},
        headers=h,
        status=400,
    )
    assert "about_id" in error_fields(res)
    res = app.post_json(
        "/api/v1/activities",
        {"type_code": "call", "subject": "x", "about_type": "person"},
        headers=h,
        status=400,
    )
    assert "about_id" in error_fields(res)


@pytest.fixture
def stages(dbsession):
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults

    with dbsession() as db:
        ensure_defaults(db)
        return dict(db.execute(select(Stage.code, Stage.id)).all())


def test_opportunity_page_has_activities_panel_quick_actions_and_timeline(
    client, types, crm, stages
):
    app = client("sales")
    opp = app.post_json(
        "/api/v1/opportunities",
        {
            "name": "Ψυγεία για 12 καταστήματα",
            "account_id": crm["account"],
            "person_id": crm["person"],
            "stage_id": stages["qualification"],
        },
        headers={"X-CSRF-Token": _csrf(app.get("/activities/mine"))},
        status=201,
    ).json["id"]
    page = app.get(f"/opportunities/{opp}")
    assert "Log a call" in page.text and "Schedule a meeting" in page.text
    assert "New task" in page.text
    # Log a call from the opportunity: about it, with its account and contact.
    form = app.get(f"/activities/quick/call?about=opportunity:{opp}")
    res = app.post(
        f"/activities/quick/call?about=opportunity:{opp}",
        {
            "csrf_token": _csrf(form),
            "subject": "Τιμές εγκρίθηκαν",
            "description": "Ο πελάτης δέχτηκε την τιμή",
        },
        status=303,
    )
    assert res.location.endswith(f"/opportunities/{opp}")
    call = app.get("/api/v1/activities", {"about_type": "opportunity", "about_id": str(opp)}).json[
        "items"
    ][0]
    assert call["state"] == "done" and call["status"] == "done"
    assert (call["account_id"], call["person_id"]) == (crm["account"], crm["person"])
    page = app.get(f"/opportunities/{opp}")
    panel = page.html.select_one("#k-activities")
    assert panel is not None and "Τιμές εγκρίθηκαν" in panel.text
    assert page.html.select_one(".k-act-done") is not None
    timeline = page.html.select_one("#k-timeline") or page.html
    assert "Τιμές εγκρίθηκαν" in timeline.text
    # The person's page shows it too (the activity is about their deal, with them).
    assert "Τιμές εγκρίθηκαν" in app.get(f"/persons/{crm['person']}").text


def test_task_with_a_reminder_and_paged_panel(client, types, crm):
    app = client("sales")
    url = f"/activities/quick/task?about=person:{crm['person']}"
    day = _weekday_ahead()
    res = app.post(
        url,
        {
            "csrf_token": _csrf(app.get(url)),
            "subject": "Αποστολή προσφοράς",
            "date": day.isoformat(),
            "due_time": "10:30",
            "remind_n": "2",
            "remind_unit": "hours",
        },
        status=303,
    )
    task = app.get(
        "/api/v1/activities", {"about_type": "person", "about_id": str(crm["person"])}
    ).json["items"][0]
    assert task["reminders"] == [120]
    due = dt.datetime.fromisoformat(task["due_at"].replace("Z", "+00:00"))
    assert due.astimezone(ATHENS).time() == dt.time(10, 30)
    for i in range(11):
        app.post(
            url,
            {
                "csrf_token": _csrf(app.get(url)),
                "subject": f"Task {i:02d}",
                "date": day.isoformat(),
                "due_time": "11:00",
            },
            status=303,
        )
    page = app.get(f"/persons/{crm['person']}")
    assert res.location.endswith(f"/persons/{crm['person']}")
    rows = page.html.select(".k-act-open .k-act-row")
    assert len(rows) == 10
    page2 = app.get(f"/persons/{crm['person']}?act_open=2")
    assert len(page2.html.select(".k-act-open .k-act-row")) == 2


def test_meeting_at_11_athens_and_the_double_booking_refused_inline(client, types, crm, resource):
    room = resource("Αίθουσα 1", "room")
    car = resource("Toyota Corolla ΙΚΥ-1234", "car")
    app = client("sales")
    url = f"/activities/quick/meeting?about=person:{crm['person']}"
    form = app.get(url)
    # The person is already an attendee; the room and car are offered.
    assert form.html.select_one("#k-q-people option[selected]")["value"] == str(crm["person"])
    day = _weekday_ahead()
    data = {
        "csrf_token": _csrf(form),
        "subject": "Παρουσίαση",
        "date": day.isoformat(),
        "start": "11:00",
        "end": "12:00",
        "people": str(crm["person"]),
        "resources": [str(room), str(car)],
        "remind_n": "15",
        "remind_unit": "minutes",
    }
    res = app.post(url, data, status=303)
    detail = app.get(res.location)
    assert "11:00" in detail.text and "13:00" not in detail.text
    meeting = app.get(
        "/api/v1/activities", {"about_type": "person", "about_id": str(crm["person"])}
    ).json["items"][0]
    start = dt.datetime.fromisoformat(meeting["starts_at"].replace("Z", "+00:00"))
    assert start.astimezone(ATHENS) == dt.datetime.combine(day, dt.time(11), tzinfo=ATHENS)
    kinds = sorted(p["kind"] for p in meeting["participants"])
    assert kinds == ["account", "person", "resource", "resource", "user"]
    assert meeting["reminders"] == [15]
    # The check endpoint the form calls before saving.
    check = app.get(
        "/activities/resource-check",
        {"date": day.isoformat(), "start": "11:30", "end": "12:30", "resources": str(room)},
    ).json
    assert not check["free"] and "Αίθουσα 1" in check["conflicts"][0]["message"]
    assert app.get(
        "/activities/resource-check",
        {"date": day.isoformat(), "start": "12:00", "end": "13:00", "resources": str(room)},
    ).json["free"]
    # On save: refused, the message next to the resources field, what was typed kept.
    other = client("sales")
    url2 = f"/activities/quick/meeting?about=account:{crm['account']}"
    res = other.post(
        url2,
        dict(data, csrf_token=_csrf(other.get(url2)), subject="Δεύτερη", resources=str(room)),
        status=400,
    )
    msg = res.html.select_one("#k-q-resources-check")
    assert "Αίθουσα 1" in msg.text and "invalid-feedback" in msg["class"]
    assert res.html.select_one("#k-q-subject")["value"] == "Δεύτερη"


def test_quick_forms_need_a_visible_about_record(client, types, crm):
    app = client("sales")
    app.get("/activities/quick/call?about=person:999999", status=404)
    app.get("/activities/quick/call?about=resource:1", status=404)
    app.get(f"/activities/quick/dance?about=person:{crm['person']}", status=404)


def test_record_defaults_hook_fills_about_person_and_account(registry, client, crm):
    """``kyklos_record_defaults``: an activity started from a person is about them."""
    hook = getattr(registry.kyklos_pm.hook, "kyklos_record_defaults", None)
    if hook is None or hook.spec is None:
        pytest.skip("the core has no kyklos_record_defaults yet")
    from kyklos_activities.home import DefaultsHooks

    class Parent:
        id = crm["person"]
        account_id = crm["account"]

    et = registry.kyklos_entities
    out = DefaultsHooks().kyklos_record_defaults(
        request=None, entity_type=et["activity"], parent_type=et["person"], parent=Parent()
    )
    assert out == {
        "about_type": "person",
        "about_id": crm["person"],
        "person_id": crm["person"],
        "account_id": crm["account"],
    }


def test_activity_form_reads_as_a_person_would(client, types, crm, resource):
    room = resource("Αίθουσα 2", "room")
    app = client("sales")
    page = app.get(f"/activities/new?from=person:{crm['person']}")
    form = page.forms["k-record-form"]
    names = set(form.fields)
    # No technical field, no JSON, no id to type.
    for name in (
        "external_uid",
        "series_id",
        "recurrence_id",
        "parent_id",
        "mass_batch",
        "exdates",
        "timezone",
        "type_code",
    ):
        assert name not in names, name
    assert form["about_type"].value == "person"
    assert form["about_id"].value == str(crm["person"])
    assert form["person_id"].value == str(crm["person"])
    assert form["account_id"].value == str(crm["account"])
    html = page.html
    statuses = [o.text for o in html.select("select[name=status] option")]
    assert "Planned" in statuses and "Done" in statuses
    assert [o["value"] for o in html.select("select[name=freq] option")][:3] == [
        "",
        "DAILY",
        "WEEKLY",
    ]
    assert html.select_one("select[name=resource][data-k-picker]") is not None
    assert html.select_one("select[name=person][data-k-picker]") is not None
    open("/tmp/k_form.html", "w").write(page.text)
    # A weekly meeting at 11:00 Athens time, with a room and a reminder a day before.
    day = _weekday_ahead()
    form["type_id"] = str(types["meeting"])
    form["subject"] = "Εβδομαδιαία σύσκεψη"
    form.set("date", day.isoformat(), index=0)
    form.set("time", "11:00", index=0)
    form.set("date", day.isoformat(), index=1)
    form.set("time", "12:00", index=1)
    form["freq"] = "WEEKLY"
    form.set("checkbox", True, index=day.weekday())
    form["ends"] = "count"
    form["count"] = "4"
    form["r0-n"] = "1"
    form["r0-unit"] = "days"
    form["resource"] = [str(room)]
    res = form.submit("save")
    assert res.status_int == 303, res.text[:3000]
    detail = res.follow()
    a = app.get(
        "/api/v1/activities", {"about_type": "person", "about_id": str(crm["person"])}
    ).json["items"][0]
    weekday = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"][day.weekday()]
    assert a["rrule"] == f"FREQ=WEEKLY;BYDAY={weekday};COUNT=4"
    assert a["reminders"] == [1440]
    start = dt.datetime.fromisoformat(a["starts_at"].replace("Z", "+00:00"))
    assert start.astimezone(ATHENS).time() == dt.time(11, 0)
    assert ("resource", room) in {(p["kind"], p["id"]) for p in a["participants"]}
    assert "11:00" in detail.text and "1 days before" not in detail.text
    assert "Αίθουσα 2" in detail.text and '{"kind"' not in detail.text
    # The edit form shows it back as typed.
    edit = app.get(f"/activities/{a['id']}/edit").forms["k-record-form"]
    assert edit.get("time", index=0).value == "11:00"
    assert edit["freq"].value == "WEEKLY" and edit["count"].value == "4"
    assert (edit["r0-n"].value, edit["r0-unit"].value) == ("1", "days")
    assert edit["resource"].value == [str(room)]


def test_my_open_items_grouped_by_due_date_with_their_record(client, types, crm):
    app = client("sales")
    h = {"X-CSRF-Token": _csrf(app.get("/activities/mine"))}
    now = dt.datetime.now(ATHENS)
    today = now.date()

    def due(day, hour=23, minute=59):
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ATHENS).isoformat()

    plan = {
        "Yesterday's task": due(today - dt.timedelta(days=1), 9),
        "Tonight's task": due(today),
        "Tomorrow's task": due(today + dt.timedelta(days=1), 9),
        "Next month's task": due(today + dt.timedelta(days=40), 9),
    }
    for subject, when in plan.items():
        app.post_json(
            "/api/v1/activities",
            {
                "type_code": "task",
                "subject": subject,
                "due_at": when,
                "about_type": "person",
                "about_id": crm["person"],
            },
            headers=h,
            status=201,
        )
    app.post_json(
        "/api/v1/activities", {"type_code": "task", "subject": "Someday"}, headers=h, status=201
    )
    page = app.get("/activities/mine")
    groups = {
        g["data-group"]: [a.text for a in g.select(".k-mine a.fw-semibold")]
        for g in page.html.select(".k-mine-group")
    }
    assert groups["overdue"] == ["Yesterday's task"]
    assert groups["today"] == ["Tonight's task"]
    assert groups["tomorrow"] == ["Tomorrow's task"]
    assert groups["later"] == ["Next month's task"]
    assert groups["none"] == ["Someday"]
    about = page.html.select_one(".k-mine-group[data-group=overdue] .k-act-about")
    assert about.text == "Γιώργος Καραγιάννης"
    # Paged: 25 a page.
    for i in range(25):
        app.post_json(
            "/api/v1/activities",
            {"type_code": "task", "subject": f"Batch {i}"},
            headers=h,
            status=201,
        )
    first = app.get("/activities/mine").html
    assert len(first.select(".k-mine li")) == 25
    second = app.get("/activities/mine?page=2").html
    assert len(second.select(".k-mine li")) == 5


def test_home_page_is_the_users_day(client, types, crm, make_user, dbsession):
    from kyklos_sdk import User

    app = client("sales")
    other = client("sales")
    with dbsession() as db:
        me = db.execute(select(User.id).where(User.email == app.email)).scalar_one()
    h = {"X-CSRF-Token": _csrf(app.get("/activities/mine"))}
    now = dt.datetime.now(ATHENS)
    # Later today (or, near midnight, in a minute), tomorrow+: today's agenda / upcoming.
    soon = min(
        now + dt.timedelta(minutes=30),
        dt.datetime.combine(now.date(), dt.time(23, 58), tzinfo=ATHENS),
    )
    app.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "Today's meeting",
            "starts_at": soon.isoformat(),
            "ends_at": (soon + dt.timedelta(minutes=1)).isoformat(),
            "about_type": "person",
            "about_id": crm["person"],
        },
        headers=h,
        status=201,
    )
    later = dt.datetime.combine(now.date() + dt.timedelta(days=2), dt.time(10), tzinfo=ATHENS)
    app.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "Meeting in two days",
            "starts_at": later.isoformat(),
            "ends_at": (later + dt.timedelta(hours=1)).isoformat(),
        },
        headers=h,
        status=201,
    )
    app.post_json(
        "/api/v1/activities",
        {
            "type_code": "task",
            "subject": "Overdue offer",
            "due_at": (now - dt.timedelta(days=2)).isoformat(),
        },
        headers=h,
        status=201,
    )
    oh = {"X-CSRF-Token": _csrf(other.get("/activities/mine"))}
    other.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": "Join my demo",
            "starts_at": (later + dt.timedelta(hours=3)).isoformat(),
            "ends_at": (later + dt.timedelta(hours=4)).isoformat(),
            "participants": [{"kind": "user", "id": me}],
        },
        headers=oh,
        status=201,
    )
    home = app.get("/").html

    def section(name):
        found = home.select_one(f"#k-home-activities-{name}")
        assert found is not None, name
        return found.text

    assert "Today's meeting" in section("today") and "Καραγιάννης" in section("today")
    assert "Overdue offer" in section("due")
    assert "Meeting in two days" in section("upcoming")
    assert "Join my demo" in section("invitations")
    assert "Join my demo" not in section("today")

"""Web pages: calendars (day, week, month, agenda; colleague, department, resource),
the 360° view of people and accounts (timeline, open activities), invitations, moving
an event, participants, mass activities."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

from activities_helpers import error_fields, iso, meeting
from sqlalchemy import select

ATHENS = ZoneInfo("Europe/Athens")


def _csrf(page):
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def _me(app, dbsession):
    from kyklos_sdk import User

    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == app.email)).scalar_one()


def _monday_next_week():
    today = dt.datetime.now(dt.UTC).astimezone(ATHENS).date()
    return today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)


def _at(day, h, m=0):
    return dt.datetime.combine(day, dt.time(h, m), tzinfo=ATHENS).astimezone(dt.UTC)


def test_calendar_views_show_the_right_events(client, types, dbsession):
    app = client("sales")
    csrf = _csrf(app.get("/activities/mine"))
    monday = _monday_next_week()
    h = {"X-CSRF-Token": csrf}
    app.post_json("/api/v1/activities", meeting(types, _at(monday, 10), subject="Monday sync"),
                  headers=h, status=201)
    app.post_json("/api/v1/activities", meeting(
        types, _at(monday + dt.timedelta(days=2), 15), subject="Wednesday demo"),
        headers=h, status=201)
    app.post_json("/api/v1/activities", meeting(
        types, _at(monday + dt.timedelta(days=14), 9), subject="Far away"), headers=h,
        status=201)
    app.post_json("/api/v1/activities", meeting(
        types, _at(monday, 8), subject="Daily standup", rrule="FREQ=DAILY;COUNT=10",
        timezone="Europe/Athens"), headers=h, status=201)

    # Overlapping the sync, a call; a task due on Tuesday with no start; an all-day visit.
    app.post_json("/api/v1/activities", meeting(types, _at(monday, 10, 30), 30,
                                                subject="Overlapping call"),
                  headers=h, status=201)
    app.post_json("/api/v1/activities", {"type_id": types["task"], "subject": "Send offer",
                                         "due_at": iso(_at(monday + dt.timedelta(days=1), 12))},
                  headers=h, status=201)
    app.post_json("/api/v1/activities", {
        "type_id": types["visit"], "subject": "Trade fair", "all_day": True,
        "starts_at": iso(_at(monday + dt.timedelta(days=3), 0)),
        "ends_at": iso(_at(monday + dt.timedelta(days=4), 0))}, headers=h, status=201)

    week = app.get("/activities/calendar", {"view": "week", "date": monday.isoformat()})
    # An hour grid: seven day columns of quarter-hour rows, an all-day row above.
    days = week.html.select(".k-tg-week .k-tg-col")
    assert len(days) == 7
    assert days[0]["data-date"] == monday.isoformat()
    titles = [[t.text for t in d.select(".k-ev-title")] for d in days]
    assert titles[0] == ["Daily standup", "Monday sync", "Overlapping call"]
    assert titles[2] == ["Daily standup", "Wednesday demo"]
    assert all("Daily standup" in t for t in titles)
    assert "Far away" not in week.text
    time = days[0].select_one(".k-ev-time").text  # in the user's zone (Athens)
    assert time.startswith("8:00") and "9:00" in time

    def place(ev):
        return {c.split("-")[1]: int(c.split("-")[2]) for c in ev["class"]
                if c[:4] in ("k-r-", "k-s-", "k-c-", "k-w-")}

    evs = {e.select_one(".k-ev-title").text: e for e in days[0].select(".k-ev")}
    # 08:00-09:00 is rows 33-36 at full width; 10:00-11:00 and 10:30-11:00 share the width.
    assert place(evs["Daily standup"]) == {"r": 33, "s": 4, "c": 1, "w": 12}
    assert place(evs["Monday sync"]) == {"r": 41, "s": 4, "c": 1, "w": 6}
    assert place(evs["Overlapping call"]) == {"r": 43, "s": 2, "c": 7, "w": 6}
    assert place(days[2].select(".k-ev")[1]) == {"r": 61, "s": 4, "c": 1, "w": 12}
    # Half-hour drop targets; working hours (09:00-17:00) shaded on working days only.
    slots = {s["data-time"]: s["class"] for s in days[0].select(".k-slot")}
    assert len(slots) == 48 and "k-hour" in slots["10:00"] and "k-hour" not in slots["10:30"]
    from kyklos_activities.availability import public_holidays

    if monday not in public_holidays("GR", monday.year):
        assert "k-work" in slots["09:00"] and "k-work" in slots["16:30"]
    assert "k-work" not in slots["08:30"] and "k-work" not in slots["17:00"]
    sunday = {s["data-time"]: s["class"] for s in days[6].select(".k-slot")}
    assert not any("k-work" in c for c in sunday.values())
    # Tasks with only a due date and all-day events sit in the row above the hours.
    allday = week.html.select(".k-tg-allday section[data-date]")
    assert [[t.text for t in c.select(".k-ev-title")] for c in allday] == [
        [], ["Send offer"], [], ["Trade fair"], [], [], []]
    assert allday[1].select_one(".k-ev")["data-allday"] == "1"
    assert week.html.select_one("#k-cal")["data-timezone"] == "Europe/Athens"

    day = app.get("/activities/calendar", {"view": "day",
                                           "date": (monday + dt.timedelta(days=2)).isoformat()})
    assert len(day.html.select(".k-tg-day .k-tg-col")) == 1
    assert [t.text for t in day.html.select(".k-ev-title")] == ["Daily standup",
                                                                  "Wednesday demo"]
    month = app.get("/activities/calendar", {"view": "month", "date": monday.isoformat()})
    assert len(month.html.select(".k-cal-month .k-day")) == 42
    assert "Monday sync" in month.text
    agenda = app.get("/activities/calendar", {"view": "agenda", "date": monday.isoformat()})
    agenda_titles = [t.text for t in agenda.html.select(".k-ev-title")]
    assert "Far away" in agenda_titles and agenda_titles.count("Daily standup") == 10
    assert "Trade fair" in agenda.text and "Send offer" in agenda.text
    # Next/previous links move by a week.
    nxt = week.html.select_one("a[rel=next]")["href"]
    assert (monday + dt.timedelta(days=7)).isoformat() in nxt


def test_colleague_calendar_shows_busy_for_what_i_may_not_read(client, api, types, dbsession,
                                                              resource):
    from kyklos_sdk import Department, User

    viewer = client("sales")
    colleague = api("sales")
    monday = _monday_next_week()
    colleague.post_json("/api/v1/activities", meeting(types, _at(monday, 11),
                                                      subject="Secret pricing"), status=201)
    colleague.post_json("/api/v1/activities", meeting(
        types, _at(monday, 14), subject="Team lunch",
        participants=[{"kind": "user", "id": _me(viewer, dbsession)}]), status=201)
    page = viewer.get("/activities/calendar", {"view": "week", "date": monday.isoformat(),
                                               "user": str(colleague.user_id)})
    assert "Secret pricing" not in page.text
    titles = [t.text for t in page.html.select(".k-ev-title")]
    assert titles == ["Busy", "Team lunch"]
    # A department calendar lists its members' events.
    with dbsession() as db:
        dept = Department(name="Athens office", path="/")
        db.add(dept)
        db.flush()
        dept.path = f"/{dept.id}/"
        db.get(User, colleague.user_id).department_id = dept.id
        dept_id = dept.id
    page = viewer.get("/activities/calendar", {"view": "week", "date": monday.isoformat(),
                                               "department": str(dept_id)})
    assert [t.text for t in page.html.select(".k-ev-title")] == ["Busy", "Team lunch"]
    assert "Athens office" in page.html.select_one("h1").text
    # ... and the members of its sub-departments (a member two levels down), but not of
    # a department beside it.
    deep = api("sales")
    beside = api("sales")
    with dbsession() as db:
        parent = db.get(Department, dept_id)
        north = Department(name="North", parent_id=dept_id, path="/")
        other = Department(name="Thessaloniki office", path="/")
        db.add_all([north, other])
        db.flush()
        north.path, other.path = f"{parent.path}{north.id}/", f"/{other.id}/"
        team = Department(name="North key accounts", parent_id=north.id, path="/")
        db.add(team)
        db.flush()
        team.path = f"{north.path}{team.id}/"
        db.get(User, deep.user_id).department_id = team.id
        db.get(User, beside.user_id).department_id = other.id
    deep.post_json("/api/v1/activities", meeting(types, _at(monday, 9), subject="Deep"),
                   status=201)
    beside.post_json("/api/v1/activities", meeting(types, _at(monday, 9), subject="Beside"),
                     status=201)
    page = viewer.get("/activities/calendar", {"view": "week", "date": monday.isoformat(),
                                               "department": str(dept_id)})
    assert [t.text for t in page.html.select(".k-ev-title")] == ["Busy", "Busy", "Team lunch"]
    viewer.get("/activities/calendar", {"department": "999999"}, status=404)
    # A resource calendar shows what books it.
    room = resource()
    colleague.post_json("/api/v1/activities", meeting(
        types, _at(monday, 16), subject="Room use",
        participants=[{"kind": "resource", "id": room}]), status=201)
    page = viewer.get("/activities/calendar", {"view": "week", "date": monday.isoformat(),
                                               "resource": str(room)})
    assert [t.text for t in page.html.select(".k-ev-title")] == ["Busy"]
    page = colleague.get("/api/v1/activities/_calendar", {
        "resources": str(room), "from": monday.isoformat(),
        "to": (monday + dt.timedelta(days=6)).isoformat()})
    assert [i["activity"]["subject"] for i in page.json["items"]] == ["Room use"]


def test_timeline_and_open_activities_on_person_and_account(client, types, make_record):
    app = client("manager")
    csrf = _csrf(app.get("/activities/mine"))
    account = make_record("account", name="Ελαιώνας Α.Ε.")
    person = make_record("person", first_name="Ελένη", last_name="Γεωργίου",
                         account_id=account)
    h = {"X-CSRF-Token": csrf}
    app.post_json("/api/v1/activities", {"type_id": types["call"], "subject": "Asked for a quote",
                                         "person_id": person, "status": "done",
                                         "starts_at": iso(dt.datetime.now(dt.UTC))},
                  headers=h, status=201)
    app.post_json("/api/v1/activities", {"type_id": types["task"], "subject": "Send the quote",
                                         "account_id": account}, headers=h, status=201)
    page = app.get(f"/persons/{person}")
    assert "Call: Asked for a quote" in page.text
    assert "Send the quote" not in page.text  # not linked to the person
    acct = app.get(f"/accounts/{account}")
    assert "Task: Send the quote" in acct.text
    panel = [s for s in acct.html.select("section.card") if "Open activities" in s.text]
    assert panel and "Send the quote" in panel[0].text
    assert "Asked for a quote" not in panel[0].text  # done, so not open
    # The "New activity" action starts from the person ("new from here").
    new = [a["href"] for a in page.html.select("a[href^='/activities/new']")]
    assert any(f"from=person%3A{person}" in h and f"person_id={person}" in h for h in new)


def test_invitation_page_accept_and_move(client, api, types, dbsession):
    guest = client("sales")
    organiser = client("sales")
    me = _me(guest, dbsession)
    monday = _monday_next_week()
    csrf = _csrf(organiser.get("/activities/mine"))
    a = organiser.post_json("/api/v1/activities", meeting(
        types, _at(monday, 10), subject="Quarterly plan",
        participants=[{"kind": "user", "id": me}]), headers={"X-CSRF-Token": csrf},
        status=201).json
    # The guest cannot open the record, but the invitation page shows it.
    guest.get(f"/activities/{a['id']}", status=404)
    page = guest.get(f"/activities/{a['id']}/invitation")
    assert "Quarterly plan" in page.text
    form = next(f for f in page.forms.values() if "response" in f.fields)
    page = form.submit("response", value="accepted").follow()
    assert page.html.select_one(".k-my-answer").text == "accepted"
    # The organiser moves it to Wednesday, keeping the local time.
    res = organiser.post(f"/activities/{a['id']}/move",
                         {"date": (monday + dt.timedelta(days=2)).isoformat(),
                          "version": str(a["version"])}, headers={"X-CSRF-Token": csrf})
    assert res.json["starts_at"].startswith(
        _at(monday + dt.timedelta(days=2), 10).isoformat()[:16])
    stale = organiser.post(f"/activities/{a['id']}/move",
                           {"date": monday.isoformat(), "version": str(a["version"])},
                           headers={"X-CSRF-Token": csrf}, status=409)
    assert stale.content_type == "application/problem+json"
    # Without the CSRF token a browser session cannot move it.
    organiser.post(f"/activities/{a['id']}/move", {"date": monday.isoformat()}, status=400)
    # Someone who cannot see it cannot move it (nor learn that it exists).
    api("sales").post(f"/activities/{a['id']}/move", {"date": monday.isoformat()}, status=404)


def test_participants_panel_add_and_remove(client, types, make_record, resource):
    app = client("sales")
    csrf = _csrf(app.get("/activities/mine"))
    room = resource()
    a = app.post_json("/api/v1/activities", meeting(types, _at(_monday_next_week(), 9)),
                      headers={"X-CSRF-Token": csrf}, status=201).json
    page = app.get(f"/activities/{a['id']}")
    # Chosen with a picker (the rooms are listed by name), never typed as an id.
    form = next(f for f in page.forms.values() if f.action.endswith("/participants")
                and "resource" in f.fields)
    form["resource"] = [str(room)]
    page = form.submit().follow()
    assert "Αίθουσα συσκέψεων" in page.text
    got = app.get(f"/api/v1/activities/{a['id']}").json
    assert {"kind": "resource", "id": room, "status": "accepted"} in got["participants"]


def test_mass_activity_for_selected_people(api, types, make_record, dbsession):
    manager = api("manager")
    acc = make_record("account", name="Zakłady Północ Sp. z o.o.")
    people = [make_record("person", first_name=f"Osoba{i}", last_name="Nowak", country="PL",
                          account_id=acc if i == 0 else None) for i in range(3)]
    make_record("person", first_name="Ana", last_name="Pop", country="RO")
    template = {"type_id": types["letter"], "subject": "Zaproszenie na targi",
                "due_at": iso(dt.datetime.now(dt.UTC) + dt.timedelta(days=5))}
    res = manager.post_json("/api/v1/activities/_mass", {"template": template,
                                                         "person_ids": people}, status=201)
    assert res.json["count"] == 3
    batch = res.json["batch"]
    items = manager.get("/api/v1/activities", {"mass_batch": batch}).json["items"]
    assert sorted(i["person_id"] for i in items) == sorted(people)
    assert [i["account_id"] for i in items if i["person_id"] == people[0]] == [acc]
    # Each is in its person's history (created) and timeline.
    hist = manager.get(f"/api/v1/activities/{items[0]['id']}/history").json["items"]
    assert hist and hist[-1]["action"] == "create"
    # By a list filter (the generic query language), e.g. everyone in Poland.
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": template, "filter": {"country": "PL"}}, status=201)
    assert res.json["count"] == 3
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": template, "person_ids": [999999]}, status=404)
    assert "person_ids" in error_fields(res)
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": {"type_id": types["meeting"], "subject": "x"}, "person_ids": people},
        status=400)
    assert any(k.endswith(".starts_at") or k.endswith(".ends_at") for k in error_fields(res))
    assert len(manager.get("/api/v1/activities", {"limit": "50"}).json["items"]) == 6


def test_mass_activity_for_a_segment(api, types, make_record):
    """The same letter for every member of a (dynamic) segment, each in its history."""
    manager = api("manager")
    ro = [make_record("person", first_name=f"Ioana{i}", last_name="Pop", country="RO")
          for i in range(3)]
    make_record("person", first_name="Jan", last_name="Kowalski", country="PL")
    seg = manager.post_json("/api/v1/_segments", {
        "entity": "person", "name": "Romania", "kind": "dynamic",
        "definition": {"field": "country", "op": "eq", "value": "RO"}}, status=201).json
    template = {"type_id": types["letter"], "subject": "Invitație la târg",
                "due_at": iso(dt.datetime.now(dt.UTC) + dt.timedelta(days=5))}
    res = manager.post_json("/api/v1/activities/_mass", {"template": template,
                                                         "segment_id": seg["id"]}, status=201)
    assert res.json["count"] == 3
    items = manager.get("/api/v1/activities", {"mass_batch": res.json["batch"]}).json["items"]
    assert sorted(i["person_id"] for i in items) == sorted(ro)
    for item in items:
        hist = manager.get(f"/api/v1/activities/{item['id']}/history").json["items"]
        assert hist[-1]["action"] == "create"
    # A dynamic segment is evaluated when used: a new member gets the next run's letter.
    ro.append(make_record("person", first_name="Mihai", last_name="Ionescu", country="RO"))
    res = manager.post_json("/api/v1/activities/_mass", {"template": template,
                                                         "segment_id": seg["id"]}, status=201)
    assert res.json["count"] == 4
    accounts = manager.post_json("/api/v1/_segments", {
        "entity": "account", "name": "All accounts", "kind": "dynamic",
        "definition": {"and": []}}, status=201).json
    make_record("account", name="SC Exemplu SRL")
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": template, "segment_id": accounts["id"]}, status=400)
    assert error_fields(res) == {"segment_id": "Not a segment of people."}
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": template, "segment_id": 999999}, status=404)
    assert set(error_fields(res)) == {"segment_id"}
    res = manager.post_json("/api/v1/activities/_mass", {
        "template": template, "segment_id": seg["id"], "person_ids": ro}, status=400)
    assert set(error_fields(res)) == {"person_ids"}


def test_mass_activity_page_for_a_segment(client, api, types, make_record):
    app = client("manager")
    people = [make_record("person", first_name=f"Eleni{i}", last_name="Papa", country="GR")
              for i in range(2)]
    seg = api("manager").post_json("/api/v1/_segments", {
        "entity": "person", "name": "Greece", "kind": "static",
        "definition": {"field": "country", "op": "eq", "value": "GR"}}, status=201).json
    page = app.get("/activities/mass")
    # segments and types are offered by name, never by number
    options = {o.text: o.get("value") for o in page.html.select("#k-mass-segment option")}
    assert options["Greece"] == str(seg["id"])
    assert "Letter" in [o.text for o in page.html.select("#k-mass-type option")]
    assert "Mass activity" in app.get("/activities/mine").text  # in the menu
    form = next(f for f in page.forms.values() if "segment" in f.fields)
    assert form["type_id"].value == str(types["letter"])
    form["segment"] = str(seg["id"])
    form["subject"] = "Πρόσκληση στην έκθεση"
    form["due"] = "2027-03-01T10:00"
    res = form.submit()
    assert res.status_int == 303 and "mass_batch=" in res.location
    listing = res.follow()
    assert "2 activities created." in listing.text
    batch = res.location.split("mass_batch=")[1]
    items = app.get("/api/v1/activities", {"mass_batch": batch}).json["items"]
    assert sorted(i["person_id"] for i in items) == sorted(people)
    due = dt.datetime.fromisoformat(items[0]["due_at"].replace("Z", "+00:00"))
    assert due.astimezone(ATHENS) == dt.datetime(2027, 3, 1, 10, tzinfo=ATHENS)
    # Refusals are shown on the form, and nothing is created.
    form["segment"].force_value("999999")
    res = form.submit(status=400)
    assert "No such segment." in res.html.select_one(".k-mass-errors").text
    form["segment"] = str(seg["id"])
    form["subject"] = ""
    res = form.submit(status=400)
    assert res.html.select_one(".k-mass-errors").text.strip()
    assert len(app.get("/api/v1/activities").json["items"]) == 2


def test_automation_action_creates_a_follow_up_once(registry, types, make_record, make_user):
    from kyklos.jobs import job_request
    from kyklos.workflow.actions import action_types

    owner = make_user(roles=("sales",))
    person = make_record("person", first_name="Ioana", last_name="Popescu", owner_id=owner)
    action = action_types(registry)["create_activity"]
    et = registry.kyklos_entities["person"]
    config = {"type": "create_activity", "activity_type": "call",
              "subject": "Follow up $record_title", "due_in_days": 2}
    assert action.validate(registry, et, config) == []
    assert action.validate(registry, et, {"type": "create_activity", "activity_type": "call",
                                          "subject": ""})
    with job_request(registry) as request:
        rec = request.dbsession.get(et.model, person)
        first = action.run(request, et, rec, config, "run-1")
        again = action.run(request, et, rec, config, "run-1")
    assert first["created"] and not again["created"] and first["activity"] == again["activity"]
    with job_request(registry) as request:
        from kyklos_activities.models import Activity

        a = request.dbsession.get(Activity, first["activity"])
        assert a.subject == "Follow up Ioana Popescu" and a.responsible_id == owner
        assert a.state == "open" and a.ids_of("person") == [person]
        # recorded like any other new record: a history entry with its values, and a
        # row in the search index (once: the repeated run created nothing)
        from sqlalchemy import func, select

        from kyklos.entities import history
        from kyklos.entities.search import SearchDoc

        act = registry.kyklos_entities["activity"]
        made = [e for e, _who in history.entries(request, act, a.id) if e.action == "create"]
        assert len(made) == 1 and made[0].source == "job"
        assert made[0].changes["subject"] == [None, "Follow up Ioana Popescu"]
        docs = request.dbsession.execute(
            select(func.count()).select_from(SearchDoc).where(
                SearchDoc.entity == "activity", SearchDoc.record_id == a.id)).scalar()
        assert docs == 1

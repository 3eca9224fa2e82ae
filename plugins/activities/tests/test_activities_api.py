"""Activities through the REST API: CRUD with participants, type behaviour (ACT-10),
status sets (ACT-12), assignment to subordinates and invitations (ACT-04)."""

import datetime as dt

from activities_helpers import error_fields, future, iso, meeting


def test_create_read_update_delete_with_participants(api, types, make_record, make_user,
                                                     resource):
    rep = api("sales")
    colleague = make_user(roles=("sales",))
    person = make_record("person", first_name="Νίκος", last_name="Παπαδάκης")
    account = make_record("account", name="Ελαιώνας Α.Ε.")
    room = resource()
    start = future()
    body = meeting(types, start, participants=[
        {"kind": "user", "id": colleague},
        {"kind": "person", "id": person},
        {"kind": "account", "id": account},
        {"kind": "resource", "id": room},
    ])
    res = rep.post_json("/api/v1/activities", body, status=201)
    a = res.json
    assert a["status"] == "planned" and a["state"] == "open"
    assert a["responsible_id"] == rep.user_id and a["owner_id"] == rep.user_id
    parts = {(p["kind"], p["id"]): p["status"] for p in a["participants"]}
    assert parts == {
        ("user", colleague): "needs-action",
        ("person", person): "needs-action",
        ("account", account): "accepted",
        ("resource", room): "accepted",
        ("user", rep.user_id): "accepted",  # the responsible user takes part
    }
    assert a["span_start"] == iso(start)
    assert a["span_end"] == iso(start + dt.timedelta(hours=1))

    got = rep.get(f"/api/v1/activities/{a['id']}").json
    assert got["participants"] == a["participants"]

    # Dropping the colleague and the room keeps the others and frees the room.
    keep = [p for p in a["participants"] if p["kind"] in ("person", "account")]
    res = rep.patch_json(f"/api/v1/activities/{a['id']}", {"participants": keep})
    kinds = sorted((p["kind"], p["id"]) for p in res.json["participants"])
    assert kinds == sorted([("person", person), ("account", account), ("user", rep.user_id)])
    other = rep.post_json("/api/v1/activities", meeting(
        types, start, participants=[{"kind": "resource", "id": room}]), status=201)
    assert other.json["id"] != a["id"]

    rep.delete(f"/api/v1/activities/{a['id']}", status=204)
    rep.get(f"/api/v1/activities/{a['id']}", status=404)


def test_unknown_participants_are_refused(api, types):
    rep = api("sales")
    res = rep.post_json("/api/v1/activities", meeting(types, future(), participants=[
        {"kind": "resource", "id": 999999}, {"kind": "user", "id": 888888}]), status=400)
    assert "resource 999999" in error_fields(res)["participants"]
    res = rep.post_json("/api/v1/activities", meeting(types, future(), participants=[
        {"kind": "robot", "id": 1}]), status=400)
    assert "participants" in error_fields(res)


def test_meeting_needs_a_duration(api, types):
    rep = api("sales")
    body = {"type_id": types["meeting"], "subject": "Kick-off", "starts_at": iso(future())}
    res = rep.post_json("/api/v1/activities", body, status=400)
    assert "ends_at" in error_fields(res)
    # A call may be pending (no date) and gets its default duration from a start.
    res = rep.post_json("/api/v1/activities", {"type_id": types["call"], "subject": "Call back"},
                        status=201)
    assert res.json["starts_at"] is None and res.json["state"] == "open"
    start = future()
    res = rep.post_json("/api/v1/activities", {"type_id": types["call"], "subject": "Call",
                                               "starts_at": iso(start)}, status=201)
    assert res.json["ends_at"] == iso(start + dt.timedelta(minutes=15))
    # A visit cannot be pending.
    res = rep.post_json("/api/v1/activities", {"type_id": types["visit"], "subject": "Visit"},
                        status=400)
    assert "starts_at" in error_fields(res)


def test_end_before_start_refused(api, types):
    rep = api("sales")
    start = future()
    body = meeting(types, start)
    body["ends_at"] = iso(start - dt.timedelta(minutes=5))
    res = rep.post_json("/api/v1/activities", body, status=400)
    assert "ends_at" in error_fields(res)


def test_private_by_default_follows_the_type(api, types, dbsession):
    from kyklos_activities.models import ActivityType

    with dbsession() as db:
        db.get(ActivityType, types["call"]).private_by_default = True
    rep = api("sales")
    res = rep.post_json("/api/v1/activities", {"type_id": types["call"], "subject": "Doctor"},
                        status=201)
    assert res.json["private"] is True
    res = rep.post_json("/api/v1/activities", {"type_id": types["call"], "subject": "Open",
                                               "private": False}, status=201)
    assert res.json["private"] is False


def test_status_sets_per_type(api, types):
    rep = api("sales")
    task = rep.post_json("/api/v1/activities", {"type_id": types["task"], "subject": "Offer",
                                                "due_at": iso(future())}, status=201).json
    assert task["status"] == "requested"
    url = f"/api/v1/activities/{task['id']}"
    for code in ("for_approval", "approved", "in_progress"):
        res = rep.patch_json(url, {"status": code})
        assert res.json["status"] == code and res.json["state"] == "open"
    res = rep.patch_json(url, {"status": "done"})
    assert res.json["state"] == "done" and res.json["completed_at"]
    # "sent" belongs to the correspondence set, not to tasks.
    res = rep.patch_json(url, {"status": "sent"}, status=400)
    assert "status" in error_fields(res)
    res = rep.patch_json(url, {"status": "rejected"})
    assert res.json["state"] == "cancelled" and res.json["completed_at"] is None
    mail = rep.post_json("/api/v1/activities", {"type_id": types["email"], "subject": "Quote",
                                                "status": "sent"}, status=201).json
    assert mail["state"] == "done"
    # The derived columns are the server's.
    res = rep.patch_json(url, {"state": "open"}, status=400)
    assert "state" in error_fields(res)


def test_open_filter_and_complete_endpoint(api, types):
    rep = api("sales")
    a = rep.post_json("/api/v1/activities", {"type_id": types["task"], "subject": "Do it"},
                      status=201).json
    items = rep.get("/api/v1/activities", {"state": "open"}).json["items"]
    assert [i["id"] for i in items] == [a["id"]]
    res = rep.post(f"/api/v1/activities/{a['id']}/complete")
    assert res.json["status"] == "done" and res.json["state"] == "done"
    assert rep.get("/api/v1/activities", {"state": "open"}).json["items"] == []


def test_assign_only_to_subordinates(api, types, make_user, dbsession):
    from kyklos_sdk import Department, User

    manager = api("manager")
    with dbsession() as db:
        top = Department(name="Sales", path="/", manager_id=manager.user_id)
        db.add(top)
        db.flush()
        top.path = f"/{top.id}/"
        athens = Department(name="Athens", parent_id=top.id, path="/")
        db.add(athens)
        db.flush()
        athens.path = f"{top.path}{athens.id}/"
        db.get(User, manager.user_id).department_id = top.id
        athens_id, top_id = athens.id, top.id
    sub = make_user(roles=("sales",), department_id=athens_id)
    stranger = make_user(roles=("sales",))
    body = {"type_id": types["task"], "subject": "Call the bank", "responsible_id": sub}
    res = manager.post_json("/api/v1/activities", body, status=201)
    assert res.json["responsible_id"] == sub
    # Ownership follows: the subordinate may complete it, the manager still sees it.
    assert res.json["owner_id"] == sub
    manager.get(f"/api/v1/activities/{res.json['id']}")
    body["responsible_id"] = stranger
    res = manager.post_json("/api/v1/activities", body, status=400)
    assert "responsible_id" in error_fields(res)
    rep = api("sales")
    res = rep.post_json("/api/v1/activities", dict(body, responsible_id=sub), status=400)
    assert "responsible_id" in error_fields(res)
    drop_departments(dbsession, [athens_id, top_id])


def drop_departments(dbsession, ids):
    """Children first: the test database is emptied table by table, and a department's
    parent reference is RESTRICT."""
    from kyklos_sdk import Department

    with dbsession() as db:
        for i in ids:
            db.delete(db.get(Department, i))
            db.flush()


def test_invitation_accept_and_decline(api, types, registry, dbsession):
    organiser = api("sales")
    guest = api("sales")
    body = meeting(types, future(), participants=[{"kind": "user", "id": guest.user_id}])
    a = organiser.post_json("/api/v1/activities", body, status=201).json
    from sqlalchemy import select

    from kyklos.notifications import Notification

    with dbsession() as db:
        notes = db.execute(select(Notification).where(
            Notification.user_id == guest.user_id)).scalars().all()
        assert [n.kind for n in notes] == ["invitation"]
        assert "Project meeting" in notes[0].title
    url = f"/api/v1/activities/{a['id']}/respond"
    res = guest.post_json(url, {"response": "accepted"})
    assert res.json["status"] == "accepted" and res.json["responded_at"]
    got = organiser.get(f"/api/v1/activities/{a['id']}").json
    assert {"kind": "user", "id": guest.user_id, "status": "accepted"} in got["participants"]
    guest.post_json(url, {"response": "declined"})
    got = organiser.get(f"/api/v1/activities/{a['id']}").json
    assert {"kind": "user", "id": guest.user_id, "status": "declined"} in got["participants"]
    with dbsession() as db:
        told = db.execute(select(Notification.title).where(
            Notification.user_id == organiser.user_id)).scalars().all()
        assert any("declined" in t for t in told)
    # Each answer is in the activity's history, as the invitee's own change.
    answers = [e for e in organiser.get(f"/api/v1/activities/{a['id']}/history").json["items"]
               if "participants" in e["changes"] and e["user_id"] == guest.user_id]
    assert [e["changes"]["participants"][1]["status"] for e in answers] == [
        "declined", "accepted"] and {e["source"] for e in answers} == {"api"}
    res = guest.post_json(url, {"response": "maybe"}, status=400)
    assert "response" in error_fields(res)
    # Someone not invited has nothing to answer.
    api("sales").post_json(url, {"response": "accepted"}, status=404)


def test_requires_permission(api, types):
    nobody = api("user")
    nobody.get("/api/v1/activities", status=403)
    nobody.post_json("/api/v1/activities", meeting(types, future()), status=403)
    nobody.get("/api/v1/activities/_availability", status=403)


def test_private_activity_is_hidden_from_non_participants_everywhere(api, types, make_user):
    """Even an administrator, whom record rules show everything, does not see a private
    activity unless taking part (kyklos_visibility_restrictions)."""
    rep = api("sales")
    guest = make_user(roles=("sales",))
    boss = api("admin")
    private = rep.post_json("/api/v1/activities", {
        "type_id": types["call"], "subject": "Doctor", "private": True,
        "participants": [{"kind": "user", "id": guest}]}, status=201).json
    public = rep.post_json("/api/v1/activities", {
        "type_id": types["call"], "subject": "Customer call", "private": False},
        status=201).json

    listed = {a["id"] for a in boss.get("/api/v1/activities").json["items"]}
    assert public["id"] in listed and private["id"] not in listed
    boss.get(f"/api/v1/activities/{private['id']}", status=404)
    boss.patch_json(f"/api/v1/activities/{private['id']}", {"subject": "x"}, status=404)
    assert boss.get(f"/api/v1/activities/{public['id']}").status_int == 200
    # The owner still sees it.
    assert rep.get(f"/api/v1/activities/{private['id']}").json["subject"] == "Doctor"

"""Resources are never double-booked (ACT-06): the database refuses it, also under
concurrent requests, and the API answers 409 naming the resource."""

import datetime as dt

from activities_helpers import error_fields, future, iso, meeting


def _with_room(types, start, room, minutes=60, **extra):
    return meeting(types, start, minutes, participants=[{"kind": "resource", "id": room}],
                   **extra)


def test_second_booking_of_a_room_is_refused(api, types, resource):
    rep = api("sales")
    room = resource("Sala de ședințe")
    start = future()
    rep.post_json("/api/v1/activities", _with_room(types, start, room), status=201)
    res = rep.post_json("/api/v1/activities",
                        _with_room(types, start + dt.timedelta(minutes=30), room), status=409)
    assert res.content_type == "application/problem+json"
    assert res.json["title"] == "Resource already booked"
    assert "Sala de ședințe" in error_fields(res)["participants"]
    # Back to back is fine; another room at the same time too.
    rep.post_json("/api/v1/activities",
                  _with_room(types, start + dt.timedelta(hours=1), room), status=201)
    other = resource("Sala konferencyjna")
    rep.post_json("/api/v1/activities", _with_room(types, start, other), status=201)
    items = rep.get("/api/v1/activities").json["items"]
    assert len(items) == 3  # the refused one left nothing behind


def test_moving_into_a_booked_slot_is_refused(api, types, resource):
    rep = api("sales")
    room = resource()
    start = future()
    rep.post_json("/api/v1/activities", _with_room(types, start, room), status=201)
    b = rep.post_json("/api/v1/activities",
                      _with_room(types, start + dt.timedelta(hours=2), room), status=201).json
    res = rep.patch_json(f"/api/v1/activities/{b['id']}", {
        "starts_at": iso(start + dt.timedelta(minutes=15)),
        "ends_at": iso(start + dt.timedelta(minutes=75)),
    }, status=409)
    assert "Αίθουσα συσκέψεων" in error_fields(res)["participants"]
    assert rep.get(f"/api/v1/activities/{b['id']}").json["starts_at"] == iso(
        start + dt.timedelta(hours=2))
    # Cancelling the first frees the room.
    first = [i for i in rep.get("/api/v1/activities").json["items"] if i["id"] != b["id"]][0]
    rep.patch_json(f"/api/v1/activities/{first['id']}", {"status": "cancelled"})
    rep.patch_json(f"/api/v1/activities/{b['id']}", {
        "starts_at": iso(start), "ends_at": iso(start + dt.timedelta(hours=1))})


def test_recurring_booking_blocks_every_occurrence(api, types, resource):
    rep = api("sales")
    room = resource()
    start = future(days=7, hour=8)
    rep.post_json("/api/v1/activities", _with_room(
        types, start, room, rrule="FREQ=WEEKLY;COUNT=4", timezone="Europe/Athens"), status=201)
    third = start + dt.timedelta(weeks=2, minutes=30)
    res = rep.post_json("/api/v1/activities", _with_room(types, third, room), status=409)
    assert "participants" in error_fields(res)
    after = start + dt.timedelta(weeks=4)
    rep.post_json("/api/v1/activities", _with_room(types, after, room), status=201)


def test_database_refuses_overlap_without_the_application(registry, types, resource,
                                                          dbsession, make_record):
    """The guarantee is the database's: a raw insert of an overlapping booking fails."""
    import pytest
    from kyklos_activities.models import Booking
    from sqlalchemy import insert
    from sqlalchemy.exc import IntegrityError

    room = resource()
    a1 = make_record("activity", type_id=types["meeting"], subject="A")
    a2 = make_record("activity", type_id=types["meeting"], subject="B")
    start = future()
    with dbsession() as db:
        db.execute(insert(Booking), [{"resource_id": room, "activity_id": a1,
                                      "starts_at": start,
                                      "ends_at": start + dt.timedelta(hours=1)}])
    with pytest.raises(IntegrityError), dbsession() as db:
        db.execute(insert(Booking), [{"resource_id": room, "activity_id": a2,
                                      "starts_at": start + dt.timedelta(minutes=59),
                                      "ends_at": start + dt.timedelta(hours=2)}])

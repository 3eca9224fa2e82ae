"""Reminders (ACT-08) go out through the job queue, once per person and occurrence, and
"my open items" (ACT-09) lists what is open, overdue first."""

import datetime as dt

from activities_helpers import iso, meeting
from sqlalchemy import func, select


def _notifications(dbsession, user_id, kind="reminder"):
    from kyklos.notifications import Notification

    with dbsession() as db:
        return db.execute(
            select(Notification.title).where(Notification.user_id == user_id,
                                             Notification.kind == kind)
        ).scalars().all()


def test_reminder_job_fires_once(api, types, registry, dbsession):
    from kyklos_activities.models import Reminder

    from kyklos.jobs import tick

    rep = api("sales")
    guest = api("sales")
    now = dt.datetime.now(dt.UTC)
    start = now + dt.timedelta(minutes=10)
    body = meeting(types, start, reminders=[15, 5],
                   participants=[{"kind": "user", "id": guest.user_id}])
    a = rep.post_json("/api/v1/activities", body, status=201).json
    assert a["reminders"] == [5, 15]
    # A meeting without reminders and one far ahead stay quiet.
    rep.post_json("/api/v1/activities", meeting(types, start, subject="No reminder"))
    rep.post_json("/api/v1/activities", meeting(types, start + dt.timedelta(days=3),
                                                subject="Later", reminders=[15]))
    tick(registry, now)  # the periodic job runs (the test backend runs jobs at once)
    tick(registry, now + dt.timedelta(minutes=1))
    assert _notifications(dbsession, rep.user_id) == ["Reminder: Project meeting"]
    assert _notifications(dbsession, guest.user_id) == ["Reminder: Project meeting"]
    # Declining stops further reminders for that person; the 5-minute one comes later.
    guest.post_json(f"/api/v1/activities/{a['id']}/respond", {"response": "declined"})
    with dbsession() as db:
        assert db.execute(select(func.count()).select_from(Reminder)).scalar_one() == 2
    # Four minutes before the start, the 5-minute reminder is due (run as the job does).
    from kyklos_activities.reminders import send_due

    from kyklos.jobs import job_request

    later = start - dt.timedelta(minutes=4)
    with job_request(registry) as request:
        sent = send_due(request, later)
    assert sent == 1
    assert len(_notifications(dbsession, rep.user_id)) == 2
    assert len(_notifications(dbsession, guest.user_id)) == 1
    with job_request(registry) as request:
        assert send_due(request, later) == 0


def test_bad_reminders_refused(api, types):
    rep = api("sales")
    res = rep.post_json("/api/v1/activities", meeting(
        types, dt.datetime.now(dt.UTC) + dt.timedelta(days=1), reminders=[-5]), status=400)
    assert res.json["errors"][0]["field"] == "reminders"


def test_my_open_items_overdue_first(client, api, types, dbsession):
    app = client("sales")
    from kyklos_sdk import User

    with dbsession() as db:
        me = db.execute(select(User.id).where(User.email == app.email)).scalar_one()
    now = dt.datetime.now(dt.UTC)
    other = api("sales")
    other.post_json("/api/v1/activities", {"type_id": types["task"], "subject": "Not mine"})
    # Overdue, future and undated tasks of the user, one done, one invitation.
    for subject, due in (("Future task", now + dt.timedelta(days=2)),
                         ("Overdue task", now - dt.timedelta(days=1)),
                         ("Someday", None)):
        body = {"type_id": types["task"], "subject": subject}
        if due:
            body["due_at"] = iso(due)
        _post_as(app, "/api/v1/activities", body)
    inv = other.post_json("/api/v1/activities", meeting(
        types, now + dt.timedelta(days=1), subject="Invited",
        participants=[{"kind": "user", "id": me}]), status=201).json
    done = _post_as(app, "/api/v1/activities", {"type_id": types["task"], "subject": "Finished",
                                                 "status": "done"})
    assert done["state"] == "done"
    page = app.get("/activities/mine")
    text = page.text
    order = [text.index(s) for s in ("Overdue task", "Invited", "Future task", "Someday")]
    assert order == sorted(order)
    assert "Not mine" not in text and "Finished" not in text
    assert "overdue" in text
    # "Done" on the list completes it.
    form = next(f for f in page.forms.values() if "/complete" in (f.action or ""))
    form.submit().follow()
    assert "Overdue task" not in app.get("/activities/mine").text
    assert inv["id"]


def _post_as(app, url, body):
    """POST JSON from a logged-in browser session (CSRF header from a page)."""
    import re

    page = app.get("/activities/mine")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    return app.post_json(url, body, headers={"X-CSRF-Token": token}, status=201).json

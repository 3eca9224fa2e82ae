"""Reminders (ACT-08) go out through the job queue: the minute tick enqueues the
periodic job, the job runner runs it (a job row, its result), and each person gets the
notification and its e-mail copy through a real SMTP server, once."""

import datetime as dt

import pytest
from activities_helpers import meeting
from sqlalchemy import select


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return _smtp_sink.settings


def _jobs(dbsession):
    from kyklos.jobs.models import Job

    with dbsession() as db:
        return [(j.state, j.result) for j in db.execute(
            select(Job).where(Job.name == "activities.reminders").order_by(Job.created_at)
        ).scalars()]


def test_reminder_job_sends_mail_once(api, types, registry, dbsession, smtp_server):
    from kyklos.jobs import tick
    from kyklos_sdk import User

    rep = api("sales")
    guest = api("sales")
    with dbsession() as db:
        emails = {u.id: u.email for u in db.execute(
            select(User).where(User.id.in_([rep.user_id, guest.user_id]))).scalars()}
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    body = meeting(types, now + dt.timedelta(minutes=10), subject="Budget review",
                   reminders=[15], participants=[{"kind": "user", "id": guest.user_id}])
    a = rep.post_json("/api/v1/activities", body, status=201).json
    # The guest got the invitation; nobody has a reminder yet.
    assert [m["To"] for m in smtp_server.wait(1)] == [emails[guest.user_id]]
    smtp_server.messages.clear()

    tick(registry, now)
    assert _jobs(dbsession) == [("done", {"sent": 2})]
    msgs = smtp_server.wait(2)
    assert sorted(m["To"] for m in msgs) == sorted(emails.values())
    assert {m["Subject"] for m in msgs} == {"Reminder: Budget review"}
    assert all(f"/activities/{a['id']}/invitation" in m.get_content() for m in msgs)
    # The same minute again (a second scheduler) makes no second job; the next minute's
    # job finds nothing left to send.
    tick(registry, now)
    tick(registry, now + dt.timedelta(minutes=1))
    assert _jobs(dbsession) == [("done", {"sent": 2}), ("done", {"sent": 0})]
    assert len(smtp_server.wait(3, timeout=0.5)) == 2


def test_invitation_and_reminder_show_each_recipients_time(api, types, registry, dbsession,
                                                            smtp_server):
    """An organiser in Athens and a guest in Warsaw each read the meeting's time in their
    own zone, in the invitation and in the reminder."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_time

    from kyklos.jobs import tick
    from kyklos_sdk import User

    rep = api("sales")
    guest = api("sales")
    with dbsession() as db:
        db.get(User, guest.user_id).timezone = "Europe/Warsaw"
        db.get(User, rep.user_id).timezone = "Europe/Athens"
        emails = {u.id: u.email for u in db.execute(
            select(User).where(User.id.in_([rep.user_id, guest.user_id]))).scalars()}
    now = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0)
    start = now + dt.timedelta(minutes=30)

    def local(zone):
        return format_time(start, "short", tzinfo=ZoneInfo(zone), locale="en")

    athens, warsaw = local("Europe/Athens"), local("Europe/Warsaw")
    assert athens != warsaw
    rep.post_json("/api/v1/activities", meeting(
        types, start, subject="Budget review", reminders=[60],
        participants=[{"kind": "user", "id": guest.user_id}]), status=201)
    invitation = smtp_server.wait(1)[0].get_content()
    assert warsaw in invitation and athens not in invitation
    smtp_server.messages.clear()
    tick(registry, now)
    bodies = {m["To"]: m.get_content() for m in smtp_server.wait(2)}
    assert athens in bodies[emails[rep.user_id]]
    assert warsaw in bodies[emails[guest.user_id]]

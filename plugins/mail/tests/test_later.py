"""Scheduled send through the API and the compose page, with a real SMTP server
(aiosmtpd): checked when written (bad fields named, nothing queued), sent by the job
at its time in the user's zone and filed, cancellable until then, and still sent when
the queue lost its delayed task (a restarted worker: the sweeper re-sends it from the
database)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import update

PROBLEM = "application/problem+json"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def sending_box(app, imap, smtp_server) -> dict:
    dovecot, user, password = imap
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Sales inbox",
            "address": "box@example.com",
            "kind": "personal",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        },
        status=201,
    ).json
    app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": password}, status=204)
    return box


def fast_forward(registry, to):
    from kyklos.jobs.runner import run_scheduled

    return run_scheduled(registry, until=to)


def test_a_message_is_sent_at_its_time_in_the_users_zone(
    api, imap, smtp_server, make_record, registry, dbsession
):
    app = api("sales")
    box = sending_box(app, imap, smtp_server)
    anna = make_record("person", first_name="Anna", last_name="P", email="anna@acme.example")
    athens = ZoneInfo("Europe/Athens")
    local = (dt.datetime.now(athens) + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0, tzinfo=None
    )
    from kyklos_sdk import User

    with dbsession() as db:  # the user works in Athens
        db.execute(update(User).where(User.id == app.user_id).values(timezone="Europe/Athens"))
    res = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@acme.example"],
            "subject": "Καλημέρα",
            "body": "Στις 9 το πρωί.",
            "about": {"entity": "person", "record_id": anna},
            "send_at": local.isoformat(),
        },
        status=202,
    ).json
    when = dt.datetime.fromisoformat(res["send_at"])
    assert when == local.replace(tzinfo=athens)  # 09:00 in Athens, stored in UTC
    assert res["status"] == "scheduled" and smtp_server.messages == []
    assert app.get("/api/v1/mail-messages").json["items"] == []
    # not yet: a minute before, nothing leaves
    assert fast_forward(registry, when - dt.timedelta(minutes=1)) == 0
    assert smtp_server.messages == []
    assert fast_forward(registry, when + dt.timedelta(seconds=1)) == 1
    sent = smtp_server.wait(1)[0]
    assert sent["Subject"] == "Καλημέρα"
    listed = app.get("/api/v1/mail/scheduled").json["items"]
    assert listed[0]["status"] == "sent" and listed[0]["mail_id"]
    filed = app.get(f"/api/v1/mail-messages/{listed[0]['mail_id']}").json
    assert filed["direction"] == "out"
    # sent: too late to cancel
    res = app.post(f"/api/v1/mail/scheduled/{listed[0]['scheduled_id']}/cancel", status=409)
    assert "status" in errors_of(res)


def test_bad_input_is_named_and_nothing_is_queued(api, imap, smtp_server):
    app = api("sales")
    box = sending_box(app, imap, smtp_server)
    for when, word in (("yesterday", "send_at"), ("2001-01-01T10:00", "send_at")):
        res = app.post_json(
            "/api/v1/mail/send",
            {"mailbox_id": box["id"], "to": ["bad"], "subject": "", "body": "x", "send_at": when},
            status=400,
        )
        assert {word, "to", "subject"} <= set(errors_of(res))
    assert app.get("/api/v1/mail/scheduled").json["items"] == []


def test_a_cancelled_message_is_never_sent_and_others_cannot_touch_it(
    api, imap, smtp_server, registry
):
    app, other = api("sales"), api("sales")
    box = sending_box(app, imap, smtp_server)
    at = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    res = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["x@y.example"],
            "subject": "Later",
            "body": "x",
            "send_at": at.isoformat(),
        },
        status=202,
    ).json
    other.post(f"/api/v1/mail/scheduled/{res['scheduled_id']}/cancel", status=404)
    assert other.get("/api/v1/mail/scheduled").json["items"] == []
    got = app.post(f"/api/v1/mail/scheduled/{res['scheduled_id']}/cancel", status=200).json
    assert got["status"] == "cancelled"
    fast_forward(registry, at + dt.timedelta(minutes=1))
    assert smtp_server.messages == []
    assert app.get("/api/v1/mail/scheduled").json["items"][0]["status"] == "cancelled"


def test_a_restarted_worker_still_sends_it(api, imap, smtp_server, registry):
    """The queue's delayed task is lost (a worker restarted with an empty schedule):
    the job is a row in the database, and the sweeper hands it to the queue again."""
    from kyklos.jobs.backend import get_huey
    from kyklos.jobs.runner import sweep

    app = api("sales")
    box = sending_box(app, imap, smtp_server)
    at = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)
    app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["x@y.example"],
            "subject": "Survives",
            "body": "x",
            "send_at": at.isoformat(),
        },
        status=202,
    )
    get_huey(registry).flush()  # the queue forgets everything it held
    assert fast_forward(registry, at + dt.timedelta(minutes=1)) == 0
    assert smtp_server.messages == []
    # the worker comes back after the time was due: the job's row is still waiting
    from kyklos.jobs.models import Job

    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with registry["dbengine"].begin() as conn:
        conn.execute(
            update(Job).where(Job.name == "mail.send_later").values(run_at=past, enqueued_at=past)
        )
    assert sweep(registry)["resent"]
    assert smtp_server.wait(1)[0]["Subject"] == "Survives"
    assert app.get("/api/v1/mail/scheduled").json["items"][0]["status"] == "sent"


def test_the_compose_page_schedules_and_lists_and_cancels(client, imap, make_record, smtp_server):
    dovecot, user, password = imap
    web = client("sales")
    anna = make_record("person", first_name="Anna", last_name="Pappa", email="anna@acme.example")
    from kyklos_sdk.testing import csrf_of

    web.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        },
        headers={"X-CSRF-Token": csrf_of(web)},
        status=201,
    )
    box_id = web.get("/api/v1/mailboxes").json["items"][0]["id"]
    form = web.get(f"/mail/mailboxes/{box_id}/password").forms["k-mail-password"]
    form["password"] = password
    form.submit(status=303)
    form = web.get(f"/mail/compose?about=person:{anna}").forms["k-compose"]
    form["subject"] = "Tomorrow"
    form["body_html"] = "<p>Hi Anna</p>"
    form["send_at"] = "2001-01-01T09:00"
    page = form.submit(status=200)  # in the past: refused, said, nothing sent
    assert page.html.select(".k-compose-errors") and smtp_server.messages == []
    form = page.forms["k-compose"]
    tomorrow = dt.date.today() + dt.timedelta(days=2)
    form["send_at"] = f"{tomorrow.isoformat()}T09:00"
    res = form.submit(status=303)
    assert res.location.endswith(f"/persons/{anna}")
    assert smtp_server.messages == []
    listed = web.get("/mail/scheduled")
    rows = listed.html.select(".k-scheduled tbody tr.k-scheduled-scheduled")
    assert len(rows) == 1 and "Tomorrow" in rows[0].text
    cancel = [f for f in listed.forms.values() if "/cancel" in (f.action or "")][0]
    cancel.submit(status=303)
    listed = web.get("/mail/scheduled")
    assert listed.html.select(".k-scheduled tbody tr.k-scheduled-cancelled")

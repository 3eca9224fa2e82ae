"""The notification centre: in-app notifications with an e-mail copy (real SMTP server)
per the user's choice, the unread bell, mark-read, and reminders at a set time that
can be moved or cancelled."""

import datetime as dt

import pytest
from sqlalchemy import select

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.jobs.models import Job
from kyklos.notifications import Notification, cancel_reminder, notify, remind


@pytest.fixture
def kyklos_settings(smtp_server):
    return {**smtp_server.settings, "kyklos.base_url": "https://crm.example.com"}


def test_notify_in_app_and_by_email(api, registry, smtp_server):
    a = api("user", email="ann@example.com")
    with jobs.job_request(registry) as request:
        notify(request, [a.user_id], "Contract expires", "in 30 days", url="/contracts/4")
    res = a.get("/api/v1/_notifications").json
    assert res["unread"] == 1
    item = res["items"][0]
    assert (item["title"], item["body"], item["url"]) == (
        "Contract expires",
        "in 30 days",
        "/contracts/4",
    )
    m = smtp_server.wait(1)[0]
    assert m.envelope_to == ["ann@example.com"] and m["Subject"] == "Contract expires"
    assert "https://crm.example.com/contracts/4" in m.get_body(("plain",)).get_content()
    a.post_json(f"/api/v1/_notifications/{item['id']}/read", {})
    assert a.get("/api/v1/_notifications?unread=1").json == {"items": [], "unread": 0}


def test_email_copy_follows_the_users_choice(api, registry, smtp_server):
    a = api("user", email="quiet@example.com")
    assert a.put_json("/api/v1/_notifications/settings", {"email_copy": False}).json == {
        "email_copy": False
    }
    a.put_json("/api/v1/_notifications/settings", {"email_copy": "no"}, status=400)
    with jobs.job_request(registry) as request:
        notify(request, a.user_id, "Hello")
    assert a.get("/api/v1/_notifications").json["unread"] == 1
    assert smtp_server.wait(1, timeout=1) == []


def test_notification_is_written_in_the_recipients_language(
    api, registry, make_user, dbsession, smtp_server
):
    """A Greek-speaking user notified by an English-speaking sender reads Greek, in the
    app and in the e-mail; an English-speaking one reads English."""
    from kyklos.i18n import _
    from kyklos.security.models import User

    greek, english = api("user", email="eleni@example.com"), api("user")
    with dbsession() as db:
        db.get(User, greek.user_id).locale = "el"
    with jobs.job_request(registry) as request:
        notify(request, [greek.user_id, english.user_id], _("Settings saved."))
    assert greek.get("/api/v1/_notifications").json["items"][0]["title"] == (
        "Οι ρυθμίσεις αποθηκεύτηκαν."
    )
    assert english.get("/api/v1/_notifications").json["items"][0]["title"] == "Settings saved."
    subjects = {m.envelope_to[0]: m["Subject"] for m in smtp_server.wait(2)}
    assert subjects["eleni@example.com"] == "Οι ρυθμίσεις αποθηκεύτηκαν."


def test_notifications_are_private(api, registry):
    a, b = api("user"), api("user")
    with jobs.job_request(registry) as request:
        (nid,) = notify(request, [a.user_id], "for a only", email=False)
    assert b.get("/api/v1/_notifications").json["items"] == []
    b.post_json(f"/api/v1/_notifications/{nid}/read", {}, status=404)
    assert a.get("/api/v1/_notifications").json["unread"] == 1


def test_bell_shows_unread_count_and_page_marks_read(client, registry, dbsession):
    from kyklos.security import find_user

    app = client("user")
    with dbsession() as db:
        uid = find_user(db, app.email).id
    with jobs.job_request(registry) as request:
        notify(request, [uid], "<b>first</b>", email=False)
        notify(request, [uid], "second", email=False)
    page = app.get("/notifications")
    assert page.html.select_one("#k-notifications .k-unread").text.strip() == "2"
    assert "&lt;b&gt;first&lt;/b&gt;" in page.text  # encoded, never markup
    form = next(
        f
        for f in page.forms.values()
        if f.get("action", default=None) and f["action"].value == "read-all"
    )
    page = form.submit().follow()
    assert page.html.select_one("#k-notifications .k-unread") is None
    form = next(
        f
        for f in page.forms.values()
        if f.get("action", default=None) and f["action"].value == "settings"
    )
    form["email_copy"] = False
    form.submit().follow()
    assert app.get("/api/v1/_notifications/settings").json["email_copy"] is False


def test_reminder_fires_at_its_time_once_and_can_move_or_be_cancelled(api, registry, dbsession):
    a = api("user")
    when = utcnow() + dt.timedelta(hours=2)
    with jobs.job_request(registry) as request:
        job_id = remind(request, a.user_id, when, "Call back", url="/x", key="call-7")
    assert a.get("/api/v1/_notifications").json["items"] == []
    # Moving it keeps one reminder.
    later = when + dt.timedelta(hours=1)
    with jobs.job_request(registry) as request:
        assert remind(request, a.user_id, later, "Call back (moved)", key="call-7") == job_id
    jobs.run_scheduled(registry, until=when + dt.timedelta(minutes=5))
    assert a.get("/api/v1/_notifications").json["items"] == []  # not yet: it moved
    jobs.run_scheduled(registry, until=later + dt.timedelta(minutes=5))
    titles = [n["title"] for n in a.get("/api/v1/_notifications").json["items"]]
    assert titles == ["Call back (moved)"]
    jobs.run_scheduled(registry, until=later + dt.timedelta(hours=5))
    assert len(a.get("/api/v1/_notifications").json["items"]) == 1
    # A cancelled reminder never comes.
    with jobs.job_request(registry) as request:
        remind(request, a.user_id, when, "Never", key="call-8")
    with jobs.job_request(registry) as request:
        assert cancel_reminder(request, "call-8")
    jobs.run_scheduled(registry, until=when + dt.timedelta(days=1))
    with dbsession() as db:
        assert (
            db.execute(select(Job.state).where(Job.key == "remind:call-8")).scalar_one()
            == "cancelled"
        )
        assert db.execute(select(Notification).where(Notification.title == "Never")).first() is None

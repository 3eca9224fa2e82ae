"""Delegation that hands over the work (SEC-03): while it runs, the deputy's home lists
the absent person's due tasks and says whom they stand in for, and notifications to
the absent person reach the deputy too; windows are entered and shown in the users'
time zones."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from secsupport import add_delegation, csrf
from sqlalchemy import select

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.notifications import notify
from kyklos.security.models import Delegation, User


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


def _titles(app):
    return [n["title"] for n in app.get("/api/v1/_notifications").json["items"]]


def test_notifications_to_the_absent_person_reach_the_deputy(api, dbsession, registry):
    maria = api("sales", email="maria@example.com")
    nikos = api("sales", email="nikos@example.com")
    other = api("sales", email="other@example.com")
    with dbsession() as db:
        db.get(User, maria.user_id).name = "Maria"
        add_delegation(db, maria.user_id, nikos.user_id)  # everything, active
        add_delegation(db, maria.user_id, other.user_id, start_days=1, end_days=3)  # later
    with jobs.job_request(registry) as request:
        notify(request, [maria.user_id], "Contract expires", "in 30 days", url="/x/1")
    assert _titles(maria) == ["Contract expires"]
    assert _titles(nikos) == ["For Maria: Contract expires"]
    assert _titles(other) == []
    # Sent to both at once, the deputy gets one notification, not a copy as well.
    with jobs.job_request(registry) as request:
        notify(request, [maria.user_id, nikos.user_id], "Both")
    assert _titles(nikos).count("Both") == 1 and "For Maria: Both" not in _titles(nikos)
    # Ended, or limited to some record types: nothing is forwarded.
    with dbsession() as db:
        for d in db.execute(select(Delegation)).scalars():
            d.ended_at = utcnow()
        add_delegation(db, maria.user_id, other.user_id, scope=["account"])
    with jobs.job_request(registry) as request:
        notify(request, [maria.user_id], "Later news")
    assert "For Maria: Later news" not in _titles(nikos) + _titles(other)


def test_the_deputys_home_carries_the_absent_persons_due_tasks(client, api, dbsession):
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import Activity

    maria = api("sales", email="maria.h@example.com")
    nikos = client("sales", email="nikos.h@example.com")
    with dbsession() as db:
        types = {code: t.id for code, t in ensure_defaults(db).items()}
        nikos_id = db.execute(
            select(User.id).where(User.email == "nikos.h@example.com")
        ).scalar_one()
        db.get(User, maria.user_id).name = "Maria Absent"
        yesterday = utcnow() - dt.timedelta(days=1)
        db.add(
            Activity(
                type_id=types["task"],
                subject="Call the Zorbas plant",
                owner_id=maria.user_id,
                responsible_id=maria.user_id,
                due_at=yesterday,
                span_start=yesterday,
                span_end=yesterday,
            )
        )
    home = nikos.get("/")
    assert "Call the Zorbas plant" not in home.text
    assert 'id="home-standing-in"' not in home.text
    with dbsession() as db:
        add_delegation(db, maria.user_id, nikos_id)
    home = nikos.get("/")
    assert "Call the Zorbas plant" in home.text
    assert "Maria Absent" in home.text and 'id="home-standing-in"' in home.text


def test_delegation_days_start_in_the_absent_persons_time_zone(client, make_user, dbsession):
    admin = client("admin")
    make_user(email="ny@example.com", roles=("sales",))
    make_user(email="dep@example.com", roles=("sales",))
    with dbsession() as db:
        db.execute(
            select(User).where(User.email == "ny@example.com")
        ).scalar_one().timezone = "America/New_York"
    page = admin.get("/admin/delegations")
    assert 'id="delegations-empty"' in page.text
    day = utcnow().date() + dt.timedelta(days=30)
    admin.post(
        "/admin/delegations",
        {
            "csrf_token": csrf(admin),
            "from_email": "ny@example.com",
            "to_email": "dep@example.com",
            "starts": day.isoformat(),
            "ends": (day + dt.timedelta(days=7)).isoformat(),
            "reason": "Holidays",
        },
        status=303,
    )
    with dbsession() as db:
        d = db.execute(select(Delegation)).scalar_one()
        local = d.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        assert (local.date(), local.hour, local.minute) == (day, 0, 0)
        assert d.starts_at.hour in (4, 5)  # midnight in New York is not midnight UTC
    page = admin.get("/admin/delegations")
    assert "Holidays" in page.text and not re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d", page.text)

"""Delegation hands over the open work (SEC-03, issue #17): during an active delegation
the deputy's "My open items" lists the absent person's open items, each marked "for
<name>", and the deputy may mark them done; the delegation forms pick people with the
user picker and show windows in the viewer's time zone."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo

import pytest
from secsupport import add_delegation, csrf
from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.security.models import Delegation, User


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


def _uid(dbsession, email):
    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()


def _task(dbsession, subject, owner_id, due):
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import Activity

    with dbsession() as db:
        types = {code: t.id for code, t in ensure_defaults(db).items()}
        a = Activity(
            type_id=types["task"],
            subject=subject,
            owner_id=owner_id,
            responsible_id=owner_id,
            due_at=due,
            span_start=due,
            span_end=due,
        )
        db.add(a)
        db.flush()
        return a.id


def _mine_rows(page) -> dict[str, str]:
    """``{subject: the row's html}`` of the "My open items" page."""
    rows = re.findall(r'<li class="list-group-item[^"]*"[^>]*>(.*?)</li>', page.text, re.S)
    out = {}
    for row in rows:
        m = re.search(r'class="fw-semibold">([^<]*)</a>', row)
        if m:
            out[m.group(1)] = row
    return out


def test_the_deputys_open_items_carry_the_absent_persons_marked_for_them(client, dbsession):
    maria = client("sales", email="maria.w@example.com")
    nikos = client("sales", email="nikos.w@example.com")
    maria_id = _uid(dbsession, maria.email)
    nikos_id = _uid(dbsession, nikos.email)
    with dbsession() as db:
        db.get(User, maria_id).name = "Maria Away"
    soon = utcnow() + dt.timedelta(days=2)
    mine_id = _task(dbsession, "Nikos own call", nikos_id, soon)
    hers_id = _task(dbsession, "Send the Zorbas offer", maria_id, soon)

    rows = _mine_rows(nikos.get("/activities/mine"))
    assert set(rows) == {"Nikos own call"}
    assert 'id="mine-standing-in"' not in nikos.get("/activities/mine").text

    with dbsession() as db:
        add_delegation(db, maria_id, nikos_id)
    page = nikos.get("/activities/mine")
    rows = _mine_rows(page)
    assert set(rows) == {"Nikos own call", "Send the Zorbas offer"}
    assert "k-mine-for" not in rows["Nikos own call"]
    marker = re.search(r'k-mine-for">(.*?)</span>', rows["Send the Zorbas offer"], re.S)
    assert marker and "Maria Away" in marker.group(1)
    assert 'id="mine-standing-in"' in page.text and "Maria Away" in page.text
    # the deputy marks the absent person's task done from the list
    done = f"/activities/{hers_id}/complete"
    assert done in rows["Send the Zorbas offer"]
    nikos.post(done, {"csrf_token": csrf(nikos), "came_from": "/activities/mine"}, status=303)
    from kyklos_activities.models import Activity

    with dbsession() as db:
        assert db.get(Activity, hers_id).state == "done"
        assert db.get(Activity, mine_id).state == "open"
    # Maria's own list is hers only; a delegation limited to accounts hands over no tasks
    assert set(_mine_rows(maria.get("/activities/mine"))) == set()
    _task(dbsession, "Another of Maria's", maria_id, soon)
    with dbsession() as db:
        for d in db.execute(select(Delegation)).scalars():
            d.ended_at = utcnow()
        add_delegation(db, maria_id, nikos_id, scope=["account"])
    assert set(_mine_rows(nikos.get("/activities/mine"))) == {"Nikos own call"}


def test_the_admin_picks_both_people_and_sees_the_window_in_their_own_zone(
    client, make_user, dbsession
):
    admin = client("admin")
    make_user(email="away@example.com", name="Eleni Away", roles=("sales",))
    make_user(email="deputy@example.com", name="Kostas Deputy", roles=("sales",))
    away = _uid(dbsession, "away@example.com")
    deputy = _uid(dbsession, "deputy@example.com")
    with dbsession() as db:
        db.get(User, away).timezone = "America/New_York"
    page = admin.get("/admin/delegations")
    # the people are chosen with the searchable user picker, not typed e-mails
    assert re.search(
        r'<select[^>]*name="from_user_id"[^>]*data-k-picker="[^"]*/_lookup/users"', page.text
    )
    assert re.search(
        r'<select[^>]*name="to_user_id"[^>]*data-k-picker="[^"]*/_lookup/users"', page.text
    )
    assert 'name="from_email"' not in page.text and 'name="to_email"' not in page.text
    found = admin.get("/_lookup/users", {"q": "Kostas"}).json
    assert [u["id"] for u in found] == [deputy]
    day = utcnow().date() + dt.timedelta(days=10)
    form = page.forms[[k for k, f in page.forms.items() if "from_user_id" in f.fields][0]]
    form["from_user_id"].force_value(str(away))
    form["to_user_id"].force_value("999999")
    form["starts"] = day.isoformat()
    form["ends"] = (day + dt.timedelta(days=5)).isoformat()
    form["scope"].force_value(["account"])
    res = form.submit(status=400)
    assert "No active user" in res.text
    # the chosen absent person is shown again by name after the error
    assert re.search(rf'<option value="{away}" selected="selected">Eleni Away</option>', res.text)
    form = res.forms[[k for k, f in res.forms.items() if "from_user_id" in f.fields][0]]
    form["to_user_id"].force_value(str(deputy))
    form["starts"] = day.isoformat()
    form["ends"] = (day + dt.timedelta(days=5)).isoformat()
    form["scope"].force_value(["account"])
    form.submit(status=303)
    with dbsession() as db:
        d = db.execute(select(Delegation)).scalar_one()
        assert (d.from_user_id, d.to_user_id) == (away, deputy)
        local = d.starts_at.astimezone(zoneinfo.ZoneInfo("America/New_York"))
        assert (local.date(), local.hour) == (day, 0)
    page = admin.get("/admin/delegations")
    # scope in words, names not e-mails
    assert "Eleni Away" in page.text and "Kostas Deputy" in page.text
    assert re.search(r"<td>\s*Accounts\s*</td>", page.text)


def test_self_service_picks_the_deputy_and_days_start_in_the_users_zone(
    client, make_user, dbsession
):
    me = client("sales", email="me.tz@example.com")
    make_user(email="cover@example.com", name="Cover Person", roles=("sales",))
    me_id = _uid(dbsession, me.email)
    cover = _uid(dbsession, "cover@example.com")
    with dbsession() as db:
        db.get(User, me_id).timezone = "Pacific/Auckland"
    page = me.get("/account")
    form = next(f for f in page.forms.values() if f.action.endswith("/account/delegations"))
    assert re.search(r'<select[^>]*name="to_user_id"[^>]*data-k-picker=', page.text)
    day = utcnow().date() + dt.timedelta(days=20)
    form["to_user_id"].force_value(str(cover))
    form["starts"] = day.isoformat()
    form["ends"] = (day + dt.timedelta(days=3)).isoformat()
    form.submit(status=303)
    with dbsession() as db:
        d = db.execute(select(Delegation)).scalar_one()
        local = d.starts_at.astimezone(zoneinfo.ZoneInfo("Pacific/Auckland"))
        assert (local.date(), local.hour, local.minute) == (day, 0, 0)
        # midnight in Auckland is the previous day in UTC
        assert d.starts_at.astimezone(dt.UTC).date() == day - dt.timedelta(days=1)
    page = me.get("/account")
    # shown as the user's own days, in words, not as UTC dates
    assert day.isoformat() not in page.text
    assert "Cover Person" in page.text

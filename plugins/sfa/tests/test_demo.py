"""The demo data of the three plugins tells a believable story, through the CLI and the
API: deals on accounts of the rep's country in its currency, open deals closing in the
future, activities on working days in the owner's office hours, quotes with the
country's VAT, an org chart that shows the manager her team's records, and search
finding demo records by name like any other."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import webtest
from kyklos_activities.models import Activity, Booking
from kyklos_contacts.models import Account, Person
from kyklos_sfa.models import Opportunity, Quote, QuoteLine, StageChange
from sqlalchemy import select

from kyklos_sdk import User
from kyklos_sdk.testing import run_cli, write_ini

SIZE = 40
CURRENCY = {"GR": "EUR", "RO": "RON", "PL": "PLN", "GB": "GBP"}
VAT = {"GR": 24, "RO": 21, "PL": 23, "GB": 20}
REPS = ("rep.gr@example.com", "rep.ro@example.com", "rep.pl@example.com")


@pytest.fixture
def demo(db_url, tmp_path, registry):
    ini = write_ini(tmp_path, plugins="contacts activities catalog sfa", url=db_url)
    started = dt.datetime.now()
    proc = run_cli("demo-data", ini, "--size", SIZE, "--seed", 3, check=True)
    return proc, dt.datetime.now() - started


def as_user(kyklos_app, dbsession, email):
    """The API as a demo user (a token of theirs), as an evaluator would log in."""
    from kyklos.security.tokens import create_token

    with dbsession() as db:
        user = db.execute(select(User).where(User.email == email)).scalar_one()
        token, _row = create_token(db, user, name="test")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    return app


def test_deals_and_quotes_make_sense(demo, dbsession):
    proc, took = demo
    assert "sfa:" in proc.stdout
    # Size 200 takes about 13 s of CPU on SQLite; the bound only catches a pathological
    # slowdown on a busy CI machine (the command's start-up alone takes seconds there).
    assert took < dt.timedelta(seconds=150)
    today = dt.date.today()
    with dbsession() as db:
        accounts = {a.id: a for a in db.execute(select(Account)).scalars()}
        opps = db.execute(select(Opportunity)).scalars().all()
        assert len(opps) >= 12
        statuses = set()
        for o in opps:
            account = accounts[o.account_id]
            statuses.add(o.status)
            # The deal is the account owner's, in the account's country's currency.
            assert o.owner_id == account.owner_id
            assert o.amount_currency == CURRENCY[account.country], (o.name, account.country)
            assert account.name in o.name
            if o.person_id is not None:
                assert db.get(Person, o.person_id).account_id == account.id
            history = (
                db.execute(
                    select(StageChange)
                    .where(StageChange.opportunity_id == o.id)
                    .order_by(StageChange.at)
                )
                .scalars()
                .all()
            )
            assert history[0].from_stage_id is None and history[-1].to_stage_id == o.stage_id
            for before, after in zip(history, history[1:], strict=False):
                assert after.from_stage_id == before.to_stage_id
            assert all(h.at.date() < today for h in history)
            if o.status == "open":
                assert o.expected_close >= today, o.name
            else:
                assert o.expected_close < today
                assert (o.won_at or o.lost_at).date() < today
            if o.status == "lost":
                assert o.loss_reason_id is not None
        assert statuses == {"open", "won", "lost"}
        quotes = db.execute(select(Quote)).scalars().all()
        assert quotes
        for q in quotes:
            country = accounts[q.account_id].country
            assert q.currency == CURRENCY[country]
            lines = db.execute(select(QuoteLine).where(QuoteLine.quote_id == q.id)).scalars().all()
            assert 2 <= len(lines) <= 5
            for line in lines:
                assert line.tax_rate == VAT[country]
                assert line.quantity >= 1 and line.unit_price > 0
            assert q.total > q.net_total > 0


def test_activities_on_working_days_in_office_hours(demo, dbsession):
    now = dt.datetime.now(dt.UTC)
    with dbsession() as db:
        zones = {u.id: u.timezone for u in db.execute(select(User)).scalars()}
        assert {
            zones[u.id] for u in db.execute(select(User).where(User.email.in_(REPS))).scalars()
        } == {"Europe/Athens", "Europe/Bucharest", "Europe/Warsaw"}
        acts = db.execute(select(Activity)).scalars().all()
        assert len(acts) >= SIZE * 5
        soon: dict[int, int] = {}
        for a in acts:
            zone = ZoneInfo(zones[a.owner_id])
            assert a.timezone == zones[a.owner_id]
            start = (a.starts_at or a.due_at).astimezone(zone)
            end = (a.ends_at or a.due_at).astimezone(zone)
            assert start.weekday() < 5, (a.subject, start)
            assert start.time() >= dt.time(8) and end.time() <= dt.time(19), (a.subject, start)
            assert end.date() == start.date()
            if (
                a.state == "open"
                and now - dt.timedelta(days=5)
                < start.astimezone(dt.UTC)
                < now + dt.timedelta(days=7)
                and not a.rrule
            ):
                soon[a.owner_id] = soon.get(a.owner_id, 0) + 1
        # Every demo user has open items around today: their home page is alive.
        assert len(soon) == 4 and min(soon.values()) >= 5
        # No room or car is booked twice at once.
        bookings = (
            db.execute(select(Booking).order_by(Booking.resource_id, Booking.starts_at))
            .scalars()
            .all()
        )
        assert bookings
        for a, b in zip(bookings, bookings[1:], strict=False):
            if a.resource_id == b.resource_id:
                assert a.ends_at <= b.starts_at


def test_manager_sees_the_team_and_search_finds_demo_records(demo, kyklos_app, dbsession):
    manager = as_user(kyklos_app, dbsession, "manager@example.com")
    with dbsession() as db:
        reps = [u.id for u in db.execute(select(User).where(User.email.in_(REPS))).scalars()]
        person = db.execute(select(Person).order_by(Person.id)).scalars().first()
        account = db.execute(select(Account).order_by(Account.id)).scalars().first()
        quote = db.execute(select(Quote).order_by(Quote.id)).scalars().first()
        names = (f"{person.first_name} {person.last_name}", account.name, quote.number)
    # The org chart puts the reps under the manager: their activities are hers to see.
    seen = set()
    for rep in reps:
        items = manager.get("/api/v1/activities", {"owner_id": rep, "limit": 5}).json["items"]
        assert items, rep
        seen.update(i["owner_id"] for i in items)
    assert set(reps) <= seen
    # A rep sees their own, not a colleague's.
    rep = as_user(kyklos_app, dbsession, REPS[0])
    for other in reps:
        visible = rep.get("/api/v1/activities", {"owner_id": other, "limit": 5}).json["items"]
        assert bool(visible) == (other == rep_id(dbsession, REPS[0]))
    # Search finds a demo person, account and quote by name, as for any written record.
    for q, kind in zip(names, ("person", "account", "quote"), strict=True):
        found = manager.get("/api/v1/_search", {"q": q}).json["groups"]
        assert any(g["type"] == kind and g["items"] for g in found), (q, found)


def rep_id(dbsession, email):
    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()

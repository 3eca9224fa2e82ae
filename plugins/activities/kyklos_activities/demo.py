"""Demo data: resources of a Greek, Romanian and Polish office, and about ``size * 5``
activities with the demo people and accounts over the past and next months.

Deterministic (``env.seed``) and fast at bench sizes: rows are generated as dicts with
ids assigned here and written with batched Core inserts, one transaction per batch.
Room bookings never overlap, so the database's no-double-booking rule holds.
"""

from __future__ import annotations

import datetime as dt
import random

import click
from sqlalchemy import func, insert, select, text
from zope.sqlalchemy import mark_changed

from kyklos_sdk import DEMO_USERS, find_user, utcnow

from . import recurrence
from .defaults import ensure_defaults
from .models import Activity, Booking, Participant, Resource, Status

BATCH = 10_000
TZ = "Europe/Athens"
RESOURCES = [
    ("Αίθουσα συσκέψεων", "room", 12, "Αθήνα"),
    ("Sala de ședințe", "room", 8, "București"),
    ("Sala konferencyjna", "room", 10, "Warszawa"),
    ("Toyota Corolla ΙΚΥ-4512", "car", 5, "Αθήνα"),
    ("Dacia Logan B-123-KYK", "car", 5, "București"),
    ("Škoda Octavia WX 4821K", "car", 5, "Warszawa"),
    ("Laptop ThinkPad T14 #1", "laptop", None, None),
    ("Laptop ThinkPad T14 #2", "laptop", None, None),
    ("Projektor Epson", "projector", None, "Warszawa"),
]
#: type code -> weight
TYPE_WEIGHTS = [("call", 30), ("email", 25), ("meeting", 15), ("task", 15), ("visit", 5),
                ("sms", 5), ("letter", 3), ("fax", 2)]
SUBJECTS = {
    "GR": {
        "call": ["Τηλεφωνική επικοινωνία", "Follow-up για την προσφορά", "Κλήση εξυπηρέτησης"],
        "email": ["Αποστολή προσφοράς", "Ενημέρωση τιμοκαταλόγου"],
        "meeting": ["Συνάντηση για νέα παραγγελία", "Παρουσίαση προϊόντων"],
        "task": ["Ετοιμασία προσφοράς", "Έλεγχος πληρωμής"],
        "visit": ["Επίσκεψη στον πελάτη"],
        "sms": ["Υπενθύμιση ραντεβού"],
        "letter": ["Επιστολή ανανέωσης σύμβασης"],
        "fax": ["Αποστολή τιμολογίου με φαξ"],
    },
    "RO": {
        "call": ["Apel telefonic", "Revenire la ofertă", "Apel de suport"],
        "email": ["Trimitere ofertă", "Actualizare listă de prețuri"],
        "meeting": ["Întâlnire pentru comanda nouă", "Prezentare produse"],
        "task": ["Pregătire ofertă", "Verificare plată"],
        "visit": ["Vizită la client"],
        "sms": ["Reamintire întâlnire"],
        "letter": ["Scrisoare de reînnoire a contractului"],
        "fax": ["Factură trimisă prin fax"],
    },
    "PL": {
        "call": ["Rozmowa telefoniczna", "Kontakt w sprawie oferty", "Zgłoszenie serwisowe"],
        "email": ["Wysłanie oferty", "Aktualizacja cennika"],
        "meeting": ["Spotkanie w sprawie zamówienia", "Prezentacja produktów"],
        "task": ["Przygotowanie oferty", "Sprawdzenie płatności"],
        "visit": ["Wizyta u klienta"],
        "sms": ["Przypomnienie o spotkaniu"],
        "letter": ["Pismo w sprawie przedłużenia umowy"],
        "fax": ["Faktura wysłana faksem"],
    },
    "EN": {
        "call": ["Phone call", "Follow-up on the quote", "Support call"],
        "email": ["Quote sent", "Price list update"],
        "meeting": ["Meeting about the new order", "Product presentation"],
        "task": ["Prepare the quote", "Check the payment"],
        "visit": ["Customer visit"],
        "sms": ["Appointment reminder"],
        "letter": ["Contract renewal letter"],
        "fax": ["Invoice sent by fax"],
    },
}
CITY_ROOM = {"GR": 0, "RO": 1, "PL": 2}


def demo_data(env, size: int) -> None:
    """Write resources and about ``size * 5`` activities. Skipped when activities exist."""
    seed = getattr(env, "seed", 1)
    rnd = random.Random(f"activities-{seed}")
    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count()).select_from(Activity)).scalar_one():
            click.echo("activities: the database already has activities; demo data skipped")
            return
        users = [u.id for e, _n, _r in DEMO_USERS for u in [find_user(db, e)] if u is not None]
        resource_ids = _resources(db)
        types = ensure_defaults(db)
        statuses = _statuses(db)
        people = db.execute(
            text("SELECT id, account_id, owner_id, country FROM contacts_person "
                 "WHERE deleted_at IS NULL ORDER BY id LIMIT :n"),
            {"n": max(size, 1)},
        ).all()
        next_id = (db.execute(select(func.max(Activity.id))).scalar_one() or 0) + 1
    if not people:
        click.echo("activities: no people to link activities to; run contacts demo data first")
    gen = _Generator(rnd, users, resource_ids, types, statuses, people, next_id)
    total = size * 5 if people else 0
    written = 0
    with click.progressbar(length=max(total, 1), label="activities") as bar:
        while written < total:
            n = min(BATCH, total - written)
            acts, parts, books = gen.batch(n)
            with env.request() as request:
                db = request.dbsession
                db.execute(insert(Activity.__table__), acts)
                db.execute(insert(Participant.__table__), parts)
                if books:
                    db.execute(insert(Booking.__table__), books)
                mark_changed(db)
            written += n
            bar.update(n)
    if users:
        with env.request() as request:
            _team_meeting(request.dbsession, users, resource_ids[0], types, statuses,
                          gen.next_id)
            mark_changed(request.dbsession)
            gen.next_id += 1
    with env.request() as request:
        _fix_sequence(request.dbsession)
        mark_changed(request.dbsession)
    click.echo(f"activities: {len(resource_ids)} resources, {written + bool(users)} activities")


def _resources(db) -> list[int]:
    ids = []
    for name, kind, capacity, location in RESOURCES:
        found = db.execute(select(Resource.id).where(Resource.name == name)).scalar_one_or_none()
        if found is None:
            r = Resource(name=name, kind=kind, capacity=capacity, location=location, active=True)
            db.add(r)
            db.flush()
            found = r.id
        ids.append(found)
    return ids


def _statuses(db) -> dict[int, dict[str, str]]:
    """Status set id -> {"open": default code, "done": first done code}."""
    out: dict[int, dict[str, str]] = {}
    rows = db.execute(select(Status).order_by(Status.position, Status.id)).scalars()
    for s in rows:
        d = out.setdefault(s.status_set_id, {})
        if s.is_default:
            d["open"] = s.code
        if s.category == "done":
            d.setdefault("done", s.code)
        if s.category == "cancelled":
            d.setdefault("cancelled", s.code)
    return out


class _Generator:
    def __init__(self, rnd, users, resource_ids, types, statuses, people, next_id):
        self.rnd = rnd
        self.users = users
        self.rooms = resource_ids[:3]
        self.types = types
        self.statuses = statuses
        self.people = people
        self.next_id = next_id
        self.codes = [c for c, _w in TYPE_WEIGHTS if c in types]
        self.weights = [w for c, w in TYPE_WEIGHTS if c in types]
        self.taken: set[tuple] = set()
        self.now = utcnow().replace(minute=0, second=0, microsecond=0)
        self.tz = recurrence.zone(TZ)

    def batch(self, n):
        acts, parts, books = [], [], []
        rnd = self.rnd
        created = utcnow()
        for _i in range(n):
            pid, account_id, owner_id, country = rnd.choice(self.people)
            owner = owner_id or (rnd.choice(self.users) if self.users else None)
            code = rnd.choices(self.codes, self.weights)[0]
            atype = self.types[code]
            lang = country if country in ("GR", "RO", "PL") else "EN"
            subject = rnd.choice(SUBJECTS[lang][code])
            day = rnd.randint(-120, 90)
            local = (self.now.astimezone(self.tz) + dt.timedelta(days=day)).replace(
                hour=rnd.randint(9, 16), minute=rnd.choice((0, 30)), tzinfo=None
            )
            if local.weekday() >= 5:
                local -= dt.timedelta(days=local.weekday() - 4)
            start = local.replace(tzinfo=self.tz).astimezone(dt.UTC)
            aid = self.next_id
            self.next_id += 1
            st = self.statuses.get(atype.status_set_id, {})
            past = start < self.now
            state = "done" if past and rnd.random() < 0.85 else (
                "cancelled" if past else "open")
            status = st.get(state) or st.get("open") or ""
            if not status:
                state = "open"
            row = {
                "id": aid, "type_id": atype.id, "subject": subject, "description": None,
                "status": status, "state": state, "priority": rnd.choice(
                    ("normal", "normal", "normal", "high", "low")),
                "starts_at": None, "ends_at": None, "due_at": None, "all_day": False,
                "timezone": TZ, "location": None, "private": rnd.random() < 0.03,
                "responsible_id": owner, "completed_at": start if state == "done" else None,
                "rrule": None, "exdates": [], "span_start": None, "span_end": None,
                "reminders": [15] if code in ("meeting", "visit") and not past else [],
                "parent_id": None, "account_id": account_id, "person_id": pid,
                "external_uid": None, "mass_batch": None, "version": 1, "custom": {},
                "owner_id": owner, "created_by_id": owner, "updated_by_id": owner,
                "created_at": created, "updated_at": created,
            }
            if code in ("task", "email", "sms", "letter", "fax"):
                row["due_at"] = start
                row["span_start"] = row["span_end"] = start
            else:
                minutes = atype.default_duration or 30
                row["starts_at"] = start
                row["ends_at"] = start + dt.timedelta(minutes=minutes)
                row["span_start"], row["span_end"] = start, row["ends_at"]
            acts.append(row)
            if owner:
                parts.append(_part(aid, "user", owner, "accepted"))
            parts.append(_part(aid, "person", pid, "accepted" if past else "needs-action"))
            if account_id:
                parts.append(_part(aid, "account", account_id, "accepted"))
            if code == "meeting" and country in CITY_ROOM and state != "cancelled":
                # Whole hours from 11:00 on; Monday 10:00 is the team meeting's.
                key = (CITY_ROOM[country], local.date(), local.hour)
                if key not in self.taken and local.hour >= 11:
                    self.taken.add(key)
                    room = self.rooms[CITY_ROOM[country]]
                    hour_start = local.replace(minute=0).replace(tzinfo=self.tz) \
                        .astimezone(dt.UTC)
                    row["starts_at"] = row["span_start"] = hour_start
                    row["ends_at"] = row["span_end"] = hour_start + dt.timedelta(hours=1)
                    row["location"] = RESOURCES[CITY_ROOM[country]][0]
                    parts.append(_part(aid, "resource", room, "accepted"))
                    books.append({"resource_id": room, "activity_id": aid,
                                  "starts_at": row["starts_at"], "ends_at": row["ends_at"]})
        return acts, parts, books


def _part(aid, kind, ref, status):
    row = {"activity_id": aid, "kind": kind, "user_id": None, "person_id": None,
           "account_id": None, "resource_id": None, "status": status, "responded_at": None}
    row[f"{kind}_id"] = ref
    return row


def _team_meeting(db, users, room, types, statuses, aid) -> None:
    """A weekly team meeting of the demo users, Monday 10:00 Athens time, in the room."""
    atype = types["meeting"]
    tz = recurrence.zone(TZ)
    today = utcnow().astimezone(tz).date()
    monday = today - dt.timedelta(days=today.weekday() + 28)
    start = dt.datetime.combine(monday, dt.time(10), tzinfo=tz).astimezone(dt.UTC)
    end = start + dt.timedelta(hours=1)
    rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=40"
    now = utcnow()
    span_end = recurrence.last_end(start, end, rule, TZ, [])
    db.execute(insert(Activity.__table__), [{
        "id": aid, "type_id": atype.id, "subject": "Εβδομαδιαία σύσκεψη πωλήσεων",
        "status": statuses.get(atype.status_set_id, {}).get("open", "planned"),
        "state": "open", "priority": "normal", "starts_at": start, "ends_at": end,
        "due_at": None, "all_day": False, "timezone": TZ, "location": RESOURCES[0][0],
        "private": False, "responsible_id": users[0], "rrule": rule, "exdates": [],
        "span_start": start, "span_end": span_end, "reminders": [15], "version": 1,
        "custom": {}, "owner_id": users[0], "created_by_id": users[0],
        "updated_by_id": users[0], "created_at": now, "updated_at": now,
    }])
    parts = [_part(aid, "user", u, "accepted" if i == 0 else "needs-action")
             for i, u in enumerate(users)]
    parts.append(_part(aid, "resource", room, "accepted"))
    db.execute(insert(Participant.__table__), parts)
    occ = recurrence.occurrences(start, end, rule, TZ, [], start, span_end)
    db.execute(insert(Booking.__table__), [
        {"resource_id": room, "activity_id": aid, "starts_at": s, "ends_at": e} for s, e in occ
    ])


def _fix_sequence(db) -> None:
    if db.get_bind().dialect.name != "postgresql":
        return
    db.execute(text(
        "SELECT setval(pg_get_serial_sequence('activities_activity', 'id'), "
        "GREATEST((SELECT COALESCE(MAX(id), 0) FROM activities_activity), 1))"
    ))

"""Demo data: the resources of a Greek, Romanian and Polish office, and about
``size * 5`` activities with the demo people over the past four months and the next
three.

What makes them believable: every activity is planned in its owner's time zone
(Europe/Athens, Europe/Bucharest, Europe/Warsaw), on a working day of the owner's
country (no weekends, no public holidays), between 08:00 and 19:00; each demo user has
a few items today (or on the next working day) and in the coming days, and a couple of
overdue tasks, so the home page and "my open items" have something to show; meetings
book their office's room and visits its car, and neither a resource nor a person is
ever in two places at once.

Activities are written with the ORM and then go through the SDK's ``record_created``,
like a record the plugin creates itself: history, search index, duplicate keys, and this
plugin's own hooks (the bookings of rooms and cars are made by :func:`bookings.sync`,
so the no-double-booking rule is the one every other write path obeys). Deterministic
for a seed (``env.seed``), apart from the dates, which follow today.
"""

from __future__ import annotations

import datetime as dt
import random
from functools import lru_cache

import click
import holidays as holidays_lib
from kyklos_contacts.demo import records_written
from sqlalchemy import func, select, text

from kyklos_sdk import DEMO_USERS, User, utcnow

from . import recurrence
from .defaults import ensure_defaults
from .models import Activity, Resource, Status

BATCH = 250
#: (name, kind, capacity, location, country)
RESOURCES = [
    ("Αίθουσα συσκέψεων", "room", 12, "Αθήνα", "GR"),
    ("Sala de ședințe", "room", 8, "București", "RO"),
    ("Sala konferencyjna", "room", 10, "Warszawa", "PL"),
    ("Toyota Corolla ΙΚΥ-4512", "car", 5, "Αθήνα", "GR"),
    ("Dacia Logan B-123-KYK", "car", 5, "București", "RO"),
    ("Škoda Octavia WX 4821K", "car", 5, "Warszawa", "PL"),
    ("Laptop ThinkPad T14 #1", "laptop", None, None, None),
    ("Laptop ThinkPad T14 #2", "laptop", None, None, None),
    ("Projektor Epson", "projector", None, "Warszawa", "PL"),
]
#: a time zone's country (the public holidays a user does not work on)
ZONE_COUNTRY = {
    "Europe/Athens": "GR",
    "Europe/Bucharest": "RO",
    "Europe/Warsaw": "PL",
    "Europe/London": "GB",
}
#: type code -> weight
TYPE_WEIGHTS = [
    ("call", 30),
    ("email", 25),
    ("meeting", 15),
    ("task", 15),
    ("visit", 5),
    ("sms", 5),
    ("letter", 3),
    ("fax", 2),
]
#: types with a due time rather than a start and an end
DUE_TYPES = ("task", "email", "sms", "letter", "fax")
#: the working day: nothing starts before, nothing ends after (local time)
DAY_START, DAY_END = 8, 19
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
TEAM_MEETING = "Weekly sales team meeting"


def demo_data(env, size: int) -> None:
    """Write resources and about ``size * 5`` activities. Skipped when activities exist."""
    seed = getattr(env, "seed", 1)
    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count()).select_from(Activity)).scalar_one():
            click.echo("activities: the database already has activities; demo data skipped")
            return
        users = _users(db)
        resources = _resources(db)
        types = {
            code: (t.id, t.status_set_id, t.default_duration)
            for code, t in ensure_defaults(db).items()
        }
        statuses = _statuses(db)
        people = db.execute(
            text(
                "SELECT id, account_id, owner_id, country FROM contacts_person "
                "WHERE deleted_at IS NULL ORDER BY id LIMIT :n"
            ),
            {"n": max(size, 1)},
        ).all()
    if not people:
        click.echo("activities: no people to link activities to; run contacts demo data first")
    plan = Planner(random.Random(f"activities-{seed}"), users, resources, types, statuses, people)
    specs = plan.team_meeting() + plan.agenda() + (plan.history(size * 5) if people else [])
    written, ids = 0, []
    with click.progressbar(length=max(len(specs), 1), label="activities") as bar:
        for start in range(0, len(specs), BATCH):
            chunk = specs[start : start + BATCH]
            with env.request() as request:
                ids += _write(request, chunk)
            written += len(chunk)
            bar.update(len(chunk))
    # History, search, the bookings of rooms and cars: as their owners created them.
    records_written(env, Activity, ids=ids)
    click.echo(f"activities: {len(resources)} resources, {written} activities")


def _users(db) -> list[tuple[int, str]]:
    """``(id, time zone)`` of the demo users that exist."""
    emails = [e for e, _n, _r in DEMO_USERS]
    found = {u.email: u for u in db.execute(select(User).where(User.email.in_(emails))).scalars()}
    return [(found[e].id, found[e].timezone or "Europe/Athens") for e in emails if e in found]


def _resources(db) -> list[tuple[int, str, str, str | None]]:
    """``(id, name, kind, country)`` of the demo resources, created if missing."""
    out = []
    for name, kind, capacity, location, country in RESOURCES:
        found = db.execute(select(Resource.id).where(Resource.name == name)).scalar_one_or_none()
        if found is None:
            r = Resource(name=name, kind=kind, capacity=capacity, location=location, active=True)
            db.add(r)
            db.flush()
            found = r.id
        out.append((found, name, kind, country))
    return out


def _statuses(db) -> dict[int, dict[str, str]]:
    """Status set id -> {"open": default code, "done": first done code, ...}."""
    out: dict[int, dict[str, str]] = {}
    rows = db.execute(select(Status).order_by(Status.position, Status.id)).scalars()
    for s in rows:
        d = out.setdefault(s.status_set_id, {})
        if s.is_default:
            d["open"] = s.code
        if s.category in ("done", "cancelled"):
            d.setdefault(s.category, s.code)
    return out


@lru_cache(maxsize=16)
def _holidays(country: str | None, year: int) -> frozenset:
    if country is None:
        return frozenset()
    try:
        return frozenset(holidays_lib.country_holidays(country, years=[year]))
    except NotImplementedError:  # pragma: no cover - a country the library lacks
        return frozenset()


def working_day(day: dt.date, country: str | None) -> bool:
    return day.weekday() < 5 and day not in _holidays(country, day.year)


def next_working_day(day: dt.date, country: str | None, step: int = 1) -> dt.date:
    while not working_day(day, country):
        day += dt.timedelta(days=step)
    return day


class Planner:
    """The activities to write, as dicts of the model's attributes plus ``participants``
    - decided before anything is written, so that rooms, cars and people are never
    double-booked."""

    def __init__(self, rnd, users, resources, types, statuses, people):
        self.rnd = rnd
        self.users = users
        self.zones = dict(users)
        self.types = types
        self.statuses = statuses
        self.people = people
        self.rooms = {c: i for i, _n, k, c in resources if k == "room" and c}
        self.cars = {c: i for i, _n, k, c in resources if k == "car" and c}
        self.names = {i: n for i, n, _k, _c in resources}
        self.codes = [c for c, _w in TYPE_WEIGHTS if c in types]
        self.weights = [w for c, w in TYPE_WEIGHTS if c in types]
        #: resource id or ("user", id) -> [(start, end)] in UTC
        self.busy: dict = {}
        self.now = utcnow()
        self.by_owner: dict[int | None, list] = {}
        for p in people:
            self.by_owner.setdefault(p.owner_id, []).append(p)

    # --- time ------------------------------------------------------------------------

    def zone_of(self, owner: int | None) -> str:
        return self.zones.get(owner, "Europe/Athens")

    def local_today(self, zone: str) -> dt.date:
        return self.now.astimezone(recurrence.zone(zone)).date()

    @staticmethod
    def at(day: dt.date, minutes: int, zone: str) -> dt.datetime:
        """``day`` at ``minutes`` after midnight, wall-clock time of ``zone``, in UTC."""
        local = dt.datetime.combine(
            day, dt.time(minutes // 60, minutes % 60), tzinfo=recurrence.zone(zone)
        )
        return local.astimezone(dt.UTC)

    def free(self, key, start, end) -> bool:
        return all(e <= start or end <= s for s, e in self.busy.get(key, ()))

    def take(self, key, start, end) -> None:
        self.busy.setdefault(key, []).append((start, end))

    # --- one activity ----------------------------------------------------------------

    def make(
        self,
        code,
        owner,
        day,
        minutes,
        person=None,
        state=None,
        subject=None,
        room=False,
        car=False,
    ) -> dict | None:
        """The activity of type ``code`` on ``day`` (local to the owner) at ``minutes``,
        or ``None`` when the owner (or the room or car it needs) is taken then."""
        type_id, set_id, default_minutes = self.types[code]
        zone = self.zone_of(owner)
        start = self.at(day, minutes, zone)
        timed = code not in DUE_TYPES
        length = (default_minutes or 30) if timed else 0
        end = start + dt.timedelta(minutes=length)
        if minutes < DAY_START * 60 or minutes + length > DAY_END * 60:
            return None
        needs = []
        if timed:
            needs.append(("user", owner))
            if person is not None:
                needs.append(("person", person.id))
        country = ZONE_COUNTRY.get(zone)
        if room and country in self.rooms:
            needs.append(self.rooms[country])
        if car and country in self.cars:
            needs.append(self.cars[country])
        if timed and not all(self.free(k, start, end) for k in needs):
            return None
        if state is None:
            past = (end if timed else start) < self.now
            # What is past was done (or called off); only the last days' stay to do.
            recent = self.now - start < dt.timedelta(days=10)
            x = self.rnd.random()
            state = "open"
            if past:
                state = "done" if x < 0.88 else "open" if x < 0.94 and recent else "cancelled"
        if state != "cancelled" and timed:
            for k in needs:
                self.take(k, start, end)
        st = self.statuses.get(set_id, {})
        status = st.get(state) or st.get("open") or ""
        if not status:
            state = "open"
        lang = (person.country if person is not None else country) or "GR"
        lang = lang if lang in SUBJECTS else "EN"
        participants = []
        if owner:
            participants.append({"kind": "user", "id": owner, "status": "accepted"})
        row = {
            "type_id": type_id,
            "subject": subject or self.rnd.choice(SUBJECTS[lang][code]),
            "status": status,
            "state": state,
            "priority": self.rnd.choice(("normal", "normal", "normal", "high", "low")),
            "timezone": zone,
            "private": False,
            "responsible_id": owner,
            "owner_id": owner,
            "created_by_id": owner,
            "updated_by_id": owner,
            "completed_at": (end if timed else start) if state == "done" else None,
            "exdates": [],
            "custom": {},
            "reminders": [15] if timed and start > self.now else [],
        }
        if timed:
            row.update(starts_at=start, ends_at=end, span_start=start, span_end=end)
        else:
            row.update(due_at=start, span_start=start, span_end=start)
        if person is not None:
            row.update(
                person_id=person.id,
                account_id=person.account_id,
                about_type="person",
                about_id=person.id,
            )
            participants.append(
                {
                    "kind": "person",
                    "id": person.id,
                    "status": "accepted" if state == "done" else "needs-action",
                }
            )
            if person.account_id:
                participants.append(
                    {"kind": "account", "id": person.account_id, "status": "accepted"}
                )
        for k in needs:
            if isinstance(k, int):
                participants.append({"kind": "resource", "id": k, "status": "accepted"})
                row["location"] = self.names[k] if code == "meeting" else row.get("location")
        row["participants"] = participants
        return row

    # --- what each user has on their plate --------------------------------------------

    def agenda(self) -> list[dict]:
        """For each demo user: a call, a meeting in the office's room and a task on the
        focus day (today, or the next working day), a few items on the following working
        days, and two overdue tasks."""
        out = []
        for owner, zone in self.users:
            country = ZONE_COUNTRY.get(zone)
            mine = self.by_owner.get(owner) or [p for ps in self.by_owner.values() for p in ps]
            if not mine:
                continue
            day = next_working_day(self.local_today(zone), country)
            plan = [
                ("call", day, 9 * 60 + 30, {}),
                ("meeting", day, 12 * 60, {"room": True}),
                ("task", day, 17 * 60, {}),
                ("call", day, 15 * 60, {}),
            ]
            later = day
            for code, minutes, extra in (
                ("visit", 10 * 60, {"car": True}),
                ("meeting", 14 * 60, {"room": True}),
                ("call", 11 * 60, {}),
                ("task", 16 * 60, {}),
            ):
                later = next_working_day(later + dt.timedelta(days=1), country)
                plan.append((code, later, minutes, extra))
            overdue = self.local_today(zone)
            for minutes in (12 * 60, 16 * 60):
                overdue = next_working_day(overdue - dt.timedelta(days=1), country, step=-1)
                plan.append(("task", overdue, minutes, {"state": "open"}))
            for code, d, minutes, extra in plan:
                if code not in self.types:
                    continue
                for shift in (0, 30, 60, 90, 120, -60, -120):
                    row = self.make(code, owner, d, minutes + shift, self.rnd.choice(mine), **extra)
                    if row is not None:
                        out.append(row)
                        break
        return out

    def history(self, n: int) -> list[dict]:
        """``n`` activities with the demo people, from four months ago to three ahead."""
        out = []
        attempts = 0
        while len(out) < n and attempts < n * 4:
            attempts += 1
            rnd = self.rnd
            person = rnd.choice(self.people)
            owner = person.owner_id or (self.users[0][0] if self.users else None)
            zone = self.zone_of(owner)
            country = ZONE_COUNTRY.get(zone)
            code = rnd.choices(self.codes, self.weights)[0]
            day = self.local_today(zone) + dt.timedelta(days=rnd.randint(-120, 90))
            day = next_working_day(day, country)
            if code == "meeting":
                minutes = rnd.randint(9, 17) * 60
            elif code == "visit":
                minutes = rnd.randint(9, 15) * 60 + rnd.choice((0, 30))
            else:
                minutes = rnd.randint(8 * 4, 18 * 4 - 1) * 15
            row = self.make(
                code,
                owner,
                day,
                minutes,
                person,
                room=code == "meeting" and rnd.random() < 0.5,
                car=code == "visit",
            )
            if row is not None:
                out.append(row)
        return out

    def team_meeting(self) -> list[dict]:
        """The sales team's weekly meeting, Mondays 10:00 Athens time, in the Athens room
        (booked for every occurrence), four weeks of it behind and 36 ahead."""
        if not self.users or "meeting" not in self.types or "GR" not in self.rooms:
            return []
        zone = "Europe/Athens"
        type_id, set_id, _minutes = self.types["meeting"]
        today = self.local_today(zone)
        monday = today - dt.timedelta(days=today.weekday() + 28)
        start = self.at(monday, 10 * 60, zone)
        end = start + dt.timedelta(hours=1)
        rule = "FREQ=WEEKLY;BYDAY=MO;COUNT=40"
        occ = recurrence.occurrences(
            start, end, rule, zone, [], start, recurrence.last_end(start, end, rule, zone, [])
        )
        room = self.rooms["GR"]
        for s, e in occ:
            self.take(room, s, e)
            for uid, _z in self.users:
                self.take(("user", uid), s, e)
        organiser = self.users[0][0]
        participants = [
            {"kind": "user", "id": uid, "status": "accepted" if i == 0 else "needs-action"}
            for i, (uid, _z) in enumerate(self.users)
        ]
        participants.append({"kind": "resource", "id": room, "status": "accepted"})
        return [
            {
                "type_id": type_id,
                "subject": TEAM_MEETING,
                "status": self.statuses.get(set_id, {}).get("open", "planned"),
                "state": "open",
                "priority": "normal",
                "starts_at": start,
                "ends_at": end,
                "timezone": zone,
                "location": self.names[room],
                "private": False,
                "responsible_id": organiser,
                "owner_id": organiser,
                "created_by_id": organiser,
                "updated_by_id": organiser,
                "rrule": rule,
                "exdates": [],
                "span_start": start,
                "span_end": occ[-1][1],
                "reminders": [15],
                "custom": {},
                "participants": participants,
            }
        ]


def _write(request, specs: list[dict]) -> list[int]:
    """Create the activities; returns their ids."""
    db = request.dbsession
    made = []
    for spec in specs:
        spec = dict(spec)
        participants = spec.pop("participants")
        activity = Activity(**spec)
        activity.participants = participants
        made.append(activity)
    db.add_all(made)
    db.flush()
    return [a.id for a in made]

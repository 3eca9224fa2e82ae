"""Deterministic bench data: a 3-level sales org chart with its users and roles, people
with 50 custom fields owned across that org chart, and activities.

Everything comes from ``random.Random(f"{seed}:{stream}")``: the same seed and size give
the same rows on SQLite and PostgreSQL. Rows are written with batched Core inserts
(``insert(table)`` with a list of dicts), as the contacts demo data does; ids are
assigned here, so nothing is read back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
from array import array
from dataclasses import dataclass, field

from sqlalchemy import func, insert, select, text

BATCH = 10_000
BASE_TIME = dt.datetime(2026, 1, 1, 9, 0)  # naive UTC, as UTCDateTime stores it
N_CUSTOM = 50
REGIONS = (("GR", "Greece"), ("RO", "Romania"), ("PL", "Poland"))
TEAMS_PER_REGION = 3
REPS_PER_TEAM = 4

NAMES = {
    "GR": {
        "m": ["Γιώργος", "Νίκος", "Κώστας", "Δημήτρης", "Γιάννης", "Παναγιώτης", "Βασίλης",
              "Χρήστος", "Michalis", "Spyros", "Antonis", "Ilias"],
        "f": ["Μαρία", "Ελένη", "Αικατερίνη", "Σοφία", "Αγγελική", "Γεωργία", "Δήμητρα",
              "Ειρήνη", "Christina", "Anastasia", "Eleni", "Sofia"],
        "last_m": ["Παπαδόπουλος", "Νικολάου", "Γεωργίου", "Οικονόμου", "Παπαδάκης",
                   "Βλάχος", "Papadopoulos", "Ioannou", "Makris", "Alexiou"],
        "last_f": ["Παπαδοπούλου", "Νικολάου", "Γεωργίου", "Οικονόμου", "Παπαδάκη",
                   "Βλάχου", "Papadopoulou", "Ioannou", "Makri", "Alexiou"],
        "cities": ["Αθήνα", "Θεσσαλονίκη", "Πάτρα", "Ηράκλειο", "Larisa", "Volos"],
        "lang": "el", "phone": ("+3069", 8),
    },
    "RO": {
        "m": ["Andrei", "Mihai", "Ion", "Alexandru", "Ștefan", "Gabriel", "Florin", "Cristian",
              "Bogdan", "Radu", "Vlad", "Dan"],
        "f": ["Maria", "Elena", "Ioana", "Ana", "Andreea", "Cristina", "Mihaela", "Alexandra",
              "Gabriela", "Ramona", "Irina", "Diana"],
        "last_m": ["Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe",
                   "Munteanu", "Constantinescu", "Ștefănescu"],
        "last_f": ["Popescu", "Ionescu", "Popa", "Dumitru", "Stan", "Stoica", "Gheorghe",
                   "Munteanu", "Constantinescu", "Ștefănescu"],
        "cities": ["București", "Cluj-Napoca", "Timișoara", "Iași", "Constanța", "Brașov"],
        "lang": "ro", "phone": ("+4072", 7),
    },
    "PL": {
        "m": ["Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał", "Marcin", "Łukasz",
              "Jakub", "Grzegorz", "Adam", "Marek"],
        "f": ["Anna", "Maria", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa",
              "Magdalena", "Joanna", "Aleksandra", "Zofia", "Monika"],
        "last_m": ["Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński",
                   "Lewandowski", "Zieliński", "Szymański", "Woźniak"],
        "last_f": ["Nowak", "Kowalska", "Wiśniewska", "Wójcik", "Kowalczyk", "Kamińska",
                   "Lewandowska", "Zielińska", "Szymańska", "Woźniak"],
        "cities": ["Warszawa", "Kraków", "Łódź", "Wrocław", "Poznań", "Gdańsk"],
        "lang": "pl", "phone": ("+4850", 7),
    },
    "GB": {
        "m": ["James", "John", "Robert", "Michael", "David", "William", "Richard", "Thomas",
              "Daniel", "Paul", "Mark", "George"],
        "f": ["Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica",
              "Sarah", "Karen", "Emma", "Olivia", "Sophie"],
        "last_m": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
                   "Davies", "Evans", "Thomas"],
        "last_f": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Johnson",
                   "Davies", "Evans", "Thomas"],
        "cities": ["London", "Manchester", "Birmingham", "Leeds", "Bristol", "Glasgow"],
        "lang": "en", "phone": ("+4477", 8),
    },
}
SOURCES = ("advert", "partner", "web", "trade_show", "referral", "cold_call", "other")
FREEMAIL = ("gmail.com", "yahoo.com", "outlook.com", "mail.gr", "wp.pl", "yahoo.ro")
CF_CHOICES = ("bronze", "silver", "gold", "platinum", "none", "lead", "vip", "churned")
WORDS = ("alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "lambda", "theta",
         "zeta", "nova", "terra", "aqua", "ignis", "ventus", "lux")


def custom_field_specs() -> list[tuple[str, str]]:
    """``(name, type)`` of the 50 custom fields: cf_01 a choice and cf_02 an integer
    (the filtered ones), then a mix of string, integer, date, boolean and choice."""
    kinds = ("string", "integer", "date", "boolean", "choice")
    out = [("cf_01", "choice"), ("cf_02", "integer")]
    for i in range(3, N_CUSTOM + 1):
        out.append((f"cf_{i:02d}", kinds[i % len(kinds)]))
    return out


@dataclass
class Org:
    """The org chart as created, for building oracles without asking the rules code."""

    admin_id: int = 0
    #: department id -> (parent id, manager user id, path)
    departments: dict[int, tuple] = field(default_factory=dict)
    #: user id -> department id
    member_of: dict[int, int] = field(default_factory=dict)
    #: user id -> record-rule scope of the user's bench role
    scope_of: dict[int, str] = field(default_factory=dict)
    #: user id -> region code (GR/RO/PL) or None for the director
    region_of: dict[int, str | None] = field(default_factory=dict)
    director: int = 0
    region_managers: list[int] = field(default_factory=list)
    leads: list[int] = field(default_factory=list)
    reps: list[int] = field(default_factory=list)

    def visible_owners(self, uid: int) -> set[int] | None:
        """Owners whose records ``uid`` may read (``None``: every record). Worked out
        here from the chart, independently of kyklos.security.rules (the oracle)."""
        scope = self.scope_of.get(uid)
        if uid == self.admin_id or scope == "all":
            return None
        if scope == "own":
            return {uid}
        mine = self.member_of.get(uid)
        if scope == "team":
            return {u for u, d in self.member_of.items() if d == mine}
        managed = {d for d, (_p, m, _path) in self.departments.items() if m == uid}
        depts = ({mine} if mine else set()) | managed
        if scope == "subtree":
            roots = [self.departments[d][2] for d in depts]
            depts = {d for d, (_p, _m, path) in self.departments.items()
                     if any(path.startswith(r) for r in roots)}
        return {u for u, d in self.member_of.items() if d in depts}


def create_org(registry) -> Org:
    """Users, departments (root -> 3 regions -> 3 teams each), bench roles with record
    rules of each scope, and the administrator."""
    from kyklos.security.models import RecordRule, Role, User
    from kyklos.security.org import create_department

    from .env import session

    org = Org()
    perms = [f"contacts.person.{v}" for v in ("read", "create", "update", "export", "import")]
    perms += ["activities.activity.read", "contacts.account.read"]
    with session(registry) as db:
        roles = {r.name: r for r in db.execute(select(Role)).scalars()}
        bench_roles = {}
        for scope in ("own", "team", "subtree"):
            role = Role(name=f"bench_{scope}", title=f"Bench ({scope})", permissions=perms)
            db.add(role)
            db.flush()
            bench_roles[scope] = role
            for entity in ("person", "activity", "account"):
                db.add(RecordRule(role_id=role.id, entity=entity, action="read", scope=scope))
                db.add(RecordRule(role_id=role.id, entity=entity, action="write", scope=scope))
        seq = iter(range(1, 10_000))

        def user(name, scope=None):
            u = User(email=f"bench{next(seq):03d}@example.com", name=name, password_hash=None)
            u.roles = [bench_roles[scope]] if scope else [roles["admin"]]
            db.add(u)
            db.flush()
            if scope:
                org.scope_of[u.id] = scope
            return u

        admin = user("Bench Admin")
        org.admin_id = admin.id
        director = user("Director", "subtree")
        org.director = director.id
        root = create_department(db, "Sales", None, director.id)
        director.department_id = root.id
        org.region_of[director.id] = None
        for cc, cname in REGIONS:
            mgr = user(f"Manager {cname}", "subtree")
            org.region_managers.append(mgr.id)
            region = create_department(db, f"Sales {cname}", root.id, mgr.id)
            mgr.department_id = region.id
            org.region_of[mgr.id] = cc
            for t in range(1, TEAMS_PER_REGION + 1):
                lead = user(f"Lead {cc}{t}", "team")
                org.leads.append(lead.id)
                team = create_department(db, f"Team {cc}{t}", region.id, lead.id)
                lead.department_id = team.id
                org.region_of[lead.id] = cc
                for k in range(1, REPS_PER_TEAM + 1):
                    rep = user(f"Rep {cc}{t}.{k}", "own")
                    rep.department_id = team.id
                    org.reps.append(rep.id)
                    org.region_of[rep.id] = cc
        db.flush()
        from kyklos.security.models import Department

        for d in db.execute(select(Department)).scalars():
            org.departments[d.id] = (d.parent_id, d.manager_id, d.path)
        for u in db.execute(select(User).where(User.department_id.is_not(None))).scalars():
            org.member_of[u.id] = u.department_id
    return org


@dataclass
class People:
    """What the generator wrote, for oracles: owner and country per person id."""

    first_id: int
    owners: array
    countries: bytearray  # index into COUNTRY_CODES
    specs: list

    def owner(self, pid: int) -> int:
        return self.owners[pid - self.first_id]

    @property
    def ids(self) -> range:
        return range(self.first_id, self.first_id + len(self.owners))


COUNTRY_CODES = ("GR", "RO", "PL", "GB")


class _Keys:
    """Folded name keys, computed once per distinct name with the contacts plugin's own
    functions (the values its ORM validators would store)."""

    def __init__(self):
        from kyklos_contacts.domain.translit import fold
        from kyklos_contacts.models.people import name_day_key

        self.fold, self.nd = fold, name_day_key
        self.cache: dict = {}

    def __call__(self, first, last):
        key = (first, last)
        if key not in self.cache:
            self.cache[key] = (self.fold(first)[:100], self.fold(last)[:100], self.nd(first))
        return self.cache[key]


def _templates(seed: int, specs, n: int = 1024) -> list[dict]:
    r = random.Random(f"{seed}:custom")
    out = []
    for _ in range(n):
        d = {}
        for name, kind in specs[2:]:
            if kind == "string":
                d[name] = f"{r.choice(WORDS)}-{r.randrange(1000)}"
            elif kind == "integer":
                d[name] = r.randrange(100_000)
            elif kind == "date":
                d[name] = (dt.date(2020, 1, 1) + dt.timedelta(days=r.randrange(2000))).isoformat()
            elif kind == "boolean":
                d[name] = r.random() < 0.5
            else:
                d[name] = r.choice(CF_CHOICES)
        out.append(d)
    return out


def person_rows(seed: int, n: int, org: Org, first_id: int = 1):
    """``(rows generator, People)``; rows come in batches (lists of dicts)."""
    specs = custom_field_specs()
    owners = array("i", bytes(4 * n))
    countries = bytearray(n)
    people = People(first_id, owners, countries, specs)

    def gen():
        r = random.Random(f"{seed}:people")
        keys = _Keys()
        templates = _templates(seed, specs)
        # Owners: reps mostly, leads and managers a little; people live mostly in
        # their owner's region.
        weighted = ([(u, 20) for u in org.reps] + [(u, 8) for u in org.leads]
                    + [(u, 3) for u in org.region_managers] + [(org.director, 1)])
        pool = [u for u, w in weighted for _ in range(w)]
        batch = []
        for i in range(n):
            pid = first_id + i
            owner = pool[r.randrange(len(pool))]
            cc = org.region_of.get(owner) or "GB"
            if r.random() < 0.15:
                cc = COUNTRY_CODES[r.randrange(4)]
            pack = NAMES[cc]
            prefix, digits = pack["phone"]
            g = "m" if r.random() < 0.52 else "f"
            first = pack[g][r.randrange(len(pack[g]))]
            li = r.randrange(len(pack["last_m"]))
            last = pack["last_" + g][li]
            fk, lk, nd = keys(first, last)
            latin = pack["last_m"][li] if cc != "GR" else f"p{li}"
            email = f"{fk.replace(' ', '')[:12]}.{pid}@{FREEMAIL[r.randrange(6)]}"
            if latin and cc == "GB":
                email = f"{latin.lower()}.{pid}@{FREEMAIL[r.randrange(3)]}"
            born = dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(365 * 52))
            when = BASE_TIME - dt.timedelta(days=r.randrange(1500), minutes=r.randrange(1440))
            custom = dict(templates[r.randrange(len(templates))])
            custom["cf_01"] = CF_CHOICES[r.randrange(len(CF_CHOICES))]
            custom["cf_02"] = r.randrange(10_000)
            owners[i] = owner
            countries[i] = COUNTRY_CODES.index(cc)
            batch.append({
                "id": pid,
                "first_name": first,
                "last_name": last,
                "first_name_key": fk,
                "last_name_key": lk,
                "name_day_key": nd,
                "email": email,
                "phone": f"{prefix}{r.randrange(10 ** (digits - 1), 10 ** digits)}",
                "gender": "male" if g == "m" else "female",
                "language": pack["lang"],
                "birth_date": born,
                "birth_md": born.month * 100 + born.day,
                "city": pack["cities"][r.randrange(len(pack["cities"]))],
                "country": cc,
                "roles": ["customer"] if r.random() < 0.5 else [],
                "source": SOURCES[r.randrange(len(SOURCES))],
                "job_title": None,
                "custom": custom,
                "version": 1,
                "owner_id": owner,
                "created_by_id": owner,
                "updated_by_id": owner,
                "created_at": when.replace(tzinfo=dt.UTC),
                "updated_at": when.replace(tzinfo=dt.UTC),
                "deleted_at": None,
            })
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch

    return gen(), people


def load_people(registry, seed: int, n: int, org: Org) -> People:
    from kyklos_contacts.models import Person

    engine = registry["dbengine"]
    with engine.connect() as c:
        top = c.execute(select(func.max(Person.id))).scalar_one() or 0
    batches, people = person_rows(seed, n, org, first_id=top + 1)
    for rows in batches:
        with engine.begin() as conn:
            conn.execute(insert(Person.__table__), rows)
    fix_sequence(engine, "contacts_person")
    return people


#: rows per transaction of the activities load (each batch is one COPY / executemany)
ACTIVITY_BATCH = 50_000


def load_activities(registry, seed: int, n: int, org: Org, people: People) -> dict:
    """``n`` activities owned by the org's users, about random people; returns
    ``{(owner_id, type_id): count}`` of those created in :func:`kpi_range` (oracle).

    Set-based, so that ``--report-5m`` (5 000 000 rows) loads in minutes: the table's
    secondary indexes (and on PostgreSQL its foreign keys) are dropped, the rows go in
    through the core's raw bulk path (COPY on PostgreSQL, one DBAPI executemany per
    batch on SQLite), then the indexes are rebuilt in one sort each and the foreign
    keys re-added, which validates every row in one join instead of a look-up per row.
    Each row holds what an INSERT would store: the constant columns (and the Python-side
    defaults of the others) go through their column types' bind processing once, the
    date-times through the ``DateTime`` type's own processing per row. The search index
    is not written (the bench's scenarios reading activities do not search them), as
    before with Core inserts."""
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import Activity
    from sqlalchemy import DateTime

    from kyklos.db import _raw_rows, raw_insert

    from .env import session

    with session(registry) as db:
        types = sorted(t.id for t in ensure_defaults(db).values())
    engine = registry["dbengine"]
    dialect = engine.dialect
    table = Activity.__table__
    r = random.Random(f"{seed}:activities")
    rand = r.randrange
    users = org.reps + org.leads + org.region_managers
    nusers, ntypes = len(users), len(types)
    subjects = ("Call back", "Offer follow-up", "Meeting", "Send brochure", "Visit",
                "Κλήση", "Spotkanie", "Întâlnire")
    states = ("open", "done", "done", "cancelled")
    status_of = {"open": "planned", "done": "done", "cancelled": "cancelled"}
    lo, hi = kpi_range()
    three_days = dt.timedelta(days=3)
    day, minute = dt.timedelta(days=1), dt.timedelta(minutes=1)
    npeople = len(people.owners)
    first_person = people.first_id
    # one template row through the core's bind processing: the column order, the
    # constants and the defaults; the varying columns are put in per row below
    template = {
        "id": 1, "type_id": types[0], "subject": subjects[0], "status": "done",
        "state": "done", "priority": "normal", "all_day": False, "private": False,
        "exdates": [], "reminders": [], "due_at": BASE_TIME.replace(tzinfo=dt.UTC),
        "person_id": first_person if npeople else None, "responsible_id": users[0],
        "custom": {}, "version": 1, "owner_id": users[0], "created_by_id": users[0],
        "updated_by_id": users[0], "created_at": BASE_TIME.replace(tzinfo=dt.UTC),
        "updated_at": BASE_TIME.replace(tzinfo=dt.UTC),
    }
    cols, (constant,) = _raw_rows(dialect, table, [template])
    pos = {c.name: i for i, c in enumerate(cols)}
    varying = ("id", "type_id", "subject", "status", "state", "due_at", "person_id",
               "responsible_id", "owner_id", "created_by_id", "updated_by_id",
               "created_at", "updated_at")
    for name in varying:
        if name.endswith("_at"):
            continue
        # integers and strings: stored as given (no bind processing to repeat)
        assert table.c[name].type._cached_bind_processor(dialect) is None, name
    # naive UTC, as UTCDateTime hands it to DateTime after converting to UTC
    stamp = DateTime()._cached_bind_processor(dialect) or (lambda v: v)
    (p_id, p_type, p_subject, p_status, p_state, p_due, p_person, p_resp, p_owner, p_cby,
     p_uby, p_cat, p_uat) = (pos[name] for name in varying)
    oracle: dict = {}
    with _without_secondary_indexes(engine, table.name):
        batch = []
        row = list(constant)
        for i in range(n):
            owner = users[rand(nusers)]
            tid = types[rand(ntypes)]
            when = BASE_TIME - day * rand(730) - minute * rand(1440)
            due = when + three_days
            # the KPI counts an activity when it happened: here its due time (SFA-13)
            if lo <= due < hi:
                key = (owner, tid)
                oracle[key] = oracle.get(key, 0) + 1
            state = states[rand(4)]
            subject = subjects[rand(8)]
            person = first_person + rand(npeople) if npeople else None
            created = stamp(when)
            row[p_id], row[p_type], row[p_subject] = i + 1, tid, subject
            row[p_status], row[p_state], row[p_due] = status_of[state], state, stamp(due)
            row[p_person], row[p_resp], row[p_owner] = person, owner, owner
            row[p_cby], row[p_uby], row[p_cat], row[p_uat] = owner, owner, created, created
            batch.append(tuple(row))
            if len(batch) >= ACTIVITY_BATCH:
                with engine.begin() as conn:
                    raw_insert(conn, table, cols, batch)
                batch = []
        if batch:
            with engine.begin() as conn:
                raw_insert(conn, table, cols, batch)
    fix_sequence(engine, "activities_activity")
    return oracle


@contextlib.contextmanager
def _without_secondary_indexes(engine, table: str):
    """Drop ``table``'s secondary indexes (and, on PostgreSQL, its foreign keys) for a
    bulk load, and put back exactly the same definitions afterwards, read from the
    database's catalogue (what the migrations created, not what the model says)."""
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:
            indexes = conn.execute(text(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = :t "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass))"), {"t": table}).all()
            fks = conn.execute(text(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype = 'f'"), {"t": table}).all()
            for name, _d in fks:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        else:
            indexes = conn.execute(text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                "AND tbl_name = :t AND sql IS NOT NULL"), {"t": table}).all()
            fks = []
        for name, _d in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with engine.begin() as conn:
            if pg:
                conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
            for _name, ddl in indexes:
                conn.exec_driver_sql(ddl)
            for name, ddl in fks:
                conn.exec_driver_sql(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {ddl}')


def kpi_range() -> tuple[dt.datetime, dt.datetime]:
    """The KPI period: the twelve months of 2025 (naive UTC)."""
    return dt.datetime(2025, 1, 1), dt.datetime(2026, 1, 1)


def fix_sequence(engine, table: str) -> None:
    if engine.dialect.name != "postgresql":
        return
    with engine.begin() as conn:
        conn.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {table}), 1))"
        ))


def analyze(engine) -> None:
    """Planner statistics after the bulk load."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def define_custom_fields(registry) -> bool:
    """The 50 custom fields of people as an administrator would define them (cf_01 and
    cf_02 filterable); ``False`` when the core has no custom fields."""
    try:
        from kyklos.entities.customfields import CustomField
    except ImportError:
        return False
    from .env import session

    with session(registry) as db:
        for pos, (name, kind) in enumerate(custom_field_specs()):
            db.add(CustomField(
                entity="person", name=name, type=kind,
                label={"en": name.replace("_", " ").upper()},
                choices=[{"value": c, "label": {"en": c.title()}} for c in CF_CHOICES]
                if kind == "choice" else None,
                position=pos, filterable=name in ("cf_01", "cf_02"),
            ))
    return True


def mirror_custom_fields(registry) -> None:
    """Fill the indexed mirror of the filterable custom fields from the loaded JSON, with
    the core's own function, and merge the definitions into the entity type."""
    from kyklos.entities import customfields as cf

    from .env import session

    with session(registry) as db:
        et = registry.kyklos_entities["person"]
        for d in db.execute(select(cf.CustomField).where(
                cf.CustomField.entity == "person",
                cf.CustomField.filterable.is_(True))).scalars():
            cf.rebuild_mirror(db, registry, et, d, batch=5000)
        cf.invalidate(registry)
        cf.refresh(registry, db, force=True)


def index_people(registry) -> int:
    """The search index rows of the loaded people, as every write path of the app keeps
    them (the batched Core inserts above go around it): the list's quick search and
    global search both read the index."""
    from types import SimpleNamespace

    from kyklos.entities import search

    from .env import session

    with session(registry) as db:
        req = SimpleNamespace(dbsession=db, registry=registry)
        return search.reindex(req, registry.kyklos_entities["person"], batch=2000)


def searchable_people(registry, n: int, seed: int = 2026) -> tuple[Org, People]:
    """The org chart and ``n`` people with their custom fields, mirror and search rows,
    analysed: the data the in-process tools (``profile_*``, ``children_ab``) measure on."""
    org = create_org(registry)
    define_custom_fields(registry)
    people = load_people(registry, seed, n, org)
    mirror_custom_fields(registry)
    index_people(registry)
    analyze(registry["dbengine"])
    return org, people

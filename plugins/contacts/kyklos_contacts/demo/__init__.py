"""Demo data: Greek, Romanian, Polish and English companies and people.

Deterministic from ``env.seed`` (same seed, same data): rows are generated as plain
dicts and written with the SDK's ``bulk_insert`` in batches, with ids assigned here so
that people, addresses, affiliations and relationships can point at each other without
reading anything back; then every record goes through the SDK's ``record_created`` as its
owner (:func:`records_written`: history, search index, duplicate keys, hooks), as on any
other write path. Tax and personal numbers carry valid check digits (python-stdnum's
algorithms), phones follow each country's numbering plan, names and streets use each
language's own script, and what must match does: a person works for a company of their
own country and city, first and last name come from one country, and the e-mail address
is the name in Latin letters (ELOT 743 for Greek) at the company's domain, which is the
company's name.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

import click
from sqlalchemy import func, select, text

from kyklos_sdk import DEMO_USERS, bulk_insert, find_user, record_created

from ..models import (
    Account,
    Address,
    Affiliation,
    Consent,
    InstalledProduct,
    Person,
    PersonEmail,
    PersonPhone,
    Relationship,
)
from ..relations import ensure_default_types
from . import data as D
from .numbers import afm, amka, cnp, cui, gb_vat, nip, pesel, regon

BATCH = 10_000
BASE_TIME = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)
COUNTRY_WEIGHTS = (("GR", 35), ("RO", 25), ("PL", 25), ("GB", 15))
#: the demo sales rep who owns each country's records (the manager owns the rest)
COUNTRY_REP = {"GR": "rep.gr@example.com", "RO": "rep.ro@example.com", "PL": "rep.pl@example.com"}


def demo_data(env, size: int) -> None:
    """Write about ``size`` people (and ``size // 4`` accounts) with everything around
    them. Skipped when the database already has people (demo data is for empty ones)."""
    seed = getattr(env, "seed", 1)
    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count()).select_from(Person)).scalar_one():
            click.echo("contacts: the database already has people; demo data skipped")
            return
        owners = _owners(db)
        types = {code: t.id for code, t in ensure_default_types(db).items()}
    gen = Generator(seed, max(size, 1), owners, types)
    with env.request() as request:
        gen.start_ids(request.dbsession)
    first_ids = dict(gen.ids)
    order = (Account, Address, InstalledProduct)
    counts = write(env, gen.accounts(), order, "accounts", gen.n_accounts, Account)
    order = (Person, PersonPhone, PersonEmail, Affiliation, Consent, Relationship)
    counts.update(write(env, gen.people(), order, "people", gen.n_people, Person))
    for model, n in counts.items():
        click.echo(f"contacts: {n} rows in {model.__tablename__}")
    with env.engine.begin() as conn:
        fix_sequences(conn)
    for model in (Account, Address, InstalledProduct, Person, Affiliation, Consent, Relationship):
        records_written(env, model, first_ids[model.__tablename__])


def records_written(env, model, first_id: int = 0, ids=None, batch: int = 500) -> int:
    """What the core does after any record is created - history entry, search index,
    duplicate keys, workflow and plugin hooks - for the rows of ``model`` from
    ``first_id`` on, or those of ``ids`` (the SDK's ``record_created``: the rows were
    written in bulk). Each record goes through it as its owner, when the core offers
    ``env.request_as``: the history then says who created it. Returns the count."""
    with env.request() as request:
        if entity_type_of(request, model) is None:
            return 0
        stmt = select(model.id, model.owner_id).order_by(model.id)
        if ids is None:
            stmt = stmt.where(model.id >= first_id)
        rows = request.dbsession.execute(stmt).all()
    wanted = None if ids is None else set(ids)
    by_owner: dict = {}
    for rid, owner in rows:
        if wanted is None or rid in wanted:
            by_owner.setdefault(owner, []).append(rid)
    request_as = getattr(env, "request_as", None)
    done = 0
    for owner, rids in by_owner.items():
        for start in range(0, len(rids), batch):
            chunk = rids[start : start + batch]
            with request_as(owner) if request_as else env.request() as request:
                et = entity_type_of(request, model)
                records = request.dbsession.execute(
                    select(model).where(model.id.in_(chunk)).order_by(model.id)
                ).scalars()
                for record in records:
                    record_created(request, et, record, source="import")
                    done += 1
    return done


def entity_type_of(request, model):
    return next((et for et in request.registry.kyklos_entities.values() if et.model is model), None)


def _owners(db) -> dict[str, int | None]:
    users = {email: find_user(db, email) for email, _n, _r in DEMO_USERS}
    manager = next(
        (u.id for e, _n, r in DEMO_USERS if r == "manager" for u in [users[e]] if u is not None),
        None,
    )
    out: dict[str, int | None] = {"manager": manager}
    for cc, email in COUNTRY_REP.items():
        user = users.get(email)
        out[cc] = user.id if user is not None else manager
    out["GB"] = manager
    return out


def write(env, rows: Iterator[tuple], order, label: str, expected: int, main) -> dict:
    """Bulk-insert ``(model, row)`` pairs in batches of about :data:`BATCH` rows of
    ``main``, one transaction per batch, tables in ``order`` (parents first)."""
    buffers: dict = {m: [] for m in order}
    counts: dict = {m: 0 for m in order}
    with click.progressbar(length=max(expected, 1), label=f"contacts: {label}") as bar:
        for model, row in rows:
            buffers[model].append(row)
            if len(buffers[main]) >= BATCH:
                bar.update(len(buffers[main]))
                _flush(env, buffers, counts, order)
        bar.update(len(buffers[main]))
        _flush(env, buffers, counts, order)
    return counts


def _flush(env, buffers: dict, counts: dict, order) -> None:
    # Straight on the engine: a bulk load needs no ORM session, and its transaction is
    # committed here, batch by batch.
    with env.engine.begin() as conn:
        for model in order:
            if buffers[model]:
                bulk_insert(conn, model.__table__, buffers[model])
                counts[model] += len(buffers[model])
                buffers[model] = []


def fix_sequences(conn) -> None:
    """Ids were assigned here; move PostgreSQL's sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for model in (
        Account,
        Address,
        Person,
        PersonPhone,
        PersonEmail,
        Affiliation,
        Consent,
        Relationship,
        InstalledProduct,
    ):
        name = model.__tablename__
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f"GREATEST((SELECT COALESCE(MAX(id), 0) FROM {name}), 1))"
            )
        )


def _audit(owner: int | None, when: dt.datetime) -> dict:
    return {
        "version": 1,
        "custom": {},
        "owner_id": owner,
        "created_by_id": owner,
        "updated_by_id": owner,
        "created_at": when,
        "updated_at": when,
    }


class Generator:
    """The rows of every table as ``(model, row)`` pairs, parents before children.

    Each kind of data draws from its own seeded random stream, so the data is the same
    for the same seed and size whatever the database.
    """

    def __init__(self, seed: int, size: int, owners: dict, types: dict[str, int]):
        self.seed = seed
        self.n_people = size
        self.n_accounts = max(size // 4, 3)
        self.owners = owners
        self.types = types
        self.ids: dict[str, int] = {}
        #: (id, country, city, e-mail domain) of every account, in id order
        self.account_list: list[tuple[int, str, str, str]] = []

    def rng(self, stream: str) -> random.Random:
        return random.Random(f"{self.seed}:{stream}")

    def start_ids(self, db) -> None:
        for model in (
            Account,
            Address,
            Person,
            PersonPhone,
            PersonEmail,
            Affiliation,
            Consent,
            Relationship,
            InstalledProduct,
        ):
            top = db.execute(select(func.max(model.id))).scalar_one() or 0
            self.ids[model.__tablename__] = top + 1

    def next_id(self, model) -> int:
        name = model.__tablename__
        value = self.ids[name]
        self.ids[name] = value + 1
        return value

    def when(self, r: random.Random, days: int = 1500) -> dt.datetime:
        return BASE_TIME - dt.timedelta(days=r.randrange(days), minutes=r.randrange(1440))

    def account_of(self, account_id: int) -> tuple[int, str, str, str]:
        return self.account_list[account_id - self.account_list[0][0]]

    # --- accounts, their addresses and installed base ----------------------------------

    def accounts(self) -> Iterator[tuple]:
        r = self.rng("accounts")
        countries = [c for c, w in COUNTRY_WEIGHTS for _ in range(w)]
        partners: dict[str, list[int]] = {c: [] for c, _w in COUNTRY_WEIGHTS}
        heads: dict[str, list[tuple]] = {c: [] for c, _w in COUNTRY_WEIGHTS}
        taken: set[str] = set()  # company names and domains: each company has its own
        for _i in range(self.n_accounts):
            cc = r.choice(countries)
            pack = D.COUNTRIES[cc]
            aid = self.next_id(Account)
            city, postcode = r.choice(pack["cities"])
            for _try in range(50):
                name, form, base = company_name(r, cc)
                domain = D.domain_for(base)
                if name not in taken and domain not in taken:
                    break
            else:  # the word lists are exhausted: the city tells them apart
                name, domain = f"{base} {city} {form}", D.domain_for(f"{base} {city}")
            roles = r.choices(D.ROLE_SETS, weights=D.ROLE_WEIGHTS)[0]
            owner = self.owners.get(cc)
            parent_id, is_branch = None, False
            if heads[cc] and r.random() < 0.08:
                parent_id, parent_name, parent_form, parent_domain = r.choice(heads[cc])
                if r.random() < 0.5 and f"{parent_name} – {city}" not in taken:
                    # A branch: the head office's name, form and domain.
                    is_branch, form, domain = True, parent_form, parent_domain
                    name = f"{parent_name} – {city}"
            taken.update((name, domain))
            partner_id, invoice_partner = None, False
            if "customer" in roles and partners[cc] and r.random() < 0.1:
                partner_id = r.choice(partners[cc])
                invoice_partner = r.random() < 0.3
            if "partner" in roles and len(partners[cc]) < 500:
                partners[cc].append(aid)
            if parent_id is None and len(heads[cc]) < 2000 and r.random() < 0.2:
                heads[cc].append((aid, name, form, domain))
            vat, company_id = tax_numbers(cc, aid) if not is_branch else (None, None)
            self.account_list.append((aid, cc, city, domain))
            yield (
                Account,
                {
                    "id": aid,
                    "name": name,
                    "name_key": D.key(name)[:200],
                    "legal_form": form,
                    "roles": list(roles),
                    "country": cc,
                    "city": city,
                    "vat_number": vat,
                    "company_id": company_id,
                    "tax_office": r.choice(D.TAX_OFFICES) if cc == "GR" else None,
                    "email": f"info@{domain}",
                    "phone": phone(r, cc, "landline", city),
                    "website": f"https://www.{domain}",
                    "industry": r.choice(D.INDUSTRIES),
                    "parent_id": parent_id,
                    "is_branch": is_branch,
                    "payment_terms": r.choice((0, 15, 30, 30, 30, 45, 60, 90)),
                    "discount_level": r.choice((None, 0, 2.5, 5, 5, 10, 15)),
                    "satisfaction_level": r.choice((None, 2, 3, 3, 4, 4, 4, 5, 5)),
                    "source": r.choice(D.SOURCES),
                    "partner_id": partner_id,
                    "invoice_partner": invoice_partner,
                    "notes": None,
                    "deleted_at": None,
                    **_audit(owner, self.when(r)),
                },
            )
            yield (
                Address,
                {
                    "id": self.next_id(Address),
                    "account_id": aid,
                    "person_id": None,
                    "kind": r.choice(("office", "billing", "office")),
                    "street": street(r, cc),
                    "city": city,
                    "postcode": postcode,
                    "region": None,
                    "country": cc,
                    "is_primary": True,
                    **_audit(owner, self.when(r)),
                },
            )
            if "customer" in roles and r.random() < 0.4:
                for _k in range(r.randint(1, 3)):
                    bought = (BASE_TIME - dt.timedelta(days=r.randrange(2500))).date()
                    product, serial_prefix = r.choice(D.PRODUCTS)
                    yield (
                        InstalledProduct,
                        {
                            "id": self.next_id(InstalledProduct),
                            "account_id": aid,
                            "person_id": None,
                            "product": product,
                            "serial_number": f"{serial_prefix}-{r.randrange(10**7):07d}",
                            "quantity": r.choice((1, 1, 1, 2, 5, 10)),
                            "purchased_on": bought,
                            "warranty_until": bought + dt.timedelta(days=730),
                            "active": r.random() < 0.85,
                            "notes": None,
                            **_audit(owner, self.when(r)),
                        },
                    )

    # --- people and everything about them ---------------------------------------------

    def people(self) -> Iterator[tuple]:
        r = self.rng("people")
        countries = [c for c, w in COUNTRY_WEIGHTS for _ in range(w)]
        seen_emails: set[str] = set()
        previous = None
        for _i in range(self.n_people):
            account = None
            if self.account_list and r.random() >= 0.15:
                account = r.choice(self.account_list)
            cc = account[1] if account else r.choice(countries)
            pack = D.COUNTRIES[cc]
            lang = pack["language"]
            owner = self.owners.get(cc)
            gender = "female" if r.random() < 0.48 else "male"
            first, last, latin = person_name(r, cc, gender)
            pid = self.next_id(Person)
            born = dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(365 * 52))
            married = r.random() < 0.45
            anniversary = None
            if married:
                anniversary = dt.date(
                    born.year + r.randrange(22, 38), born.month, min(born.day, 28)
                )
            pid_number = personal_number(r, cc, born, gender) if r.random() < 0.4 else None
            domain = account[3] if account else r.choice(D.FREEMAIL[cc])
            # The local part is the name in Latin letters (Καραγιάννης -> karagiannis,
            # Łukasz -> lukasz), as a company's mail server would spell it.
            user = f"{D.ascii_slug(latin[0])}.{D.ascii_slug(latin[1])}"
            email = f"{user}@{domain}"
            if email in seen_emails:  # a namesake at the same firm: first initial
                email = f"{D.ascii_slug(latin[0])[:1]}.{D.ascii_slug(latin[1])}@{domain}"
            if email in seen_emails:
                email = f"{user}{pid % 100}@{domain}"
            seen_emails.add(email)
            city = account[2] if account else r.choice(pack["cities"])[0]
            mobile = phone(r, cc, "mobile", city)
            title = r.choice(D.JOB_TITLES[lang]) if account else None
            yield (
                Person,
                {
                    "id": pid,
                    "first_name": first,
                    "middle_name": None,
                    "last_name": last,
                    "first_name_key": D.key(first)[:100],
                    "last_name_key": D.key(last)[:100],
                    "name_day_key": D.name_day_key(first),
                    "name_prefix": None,
                    "name_suffix": None,
                    "email": email,
                    "phone": mobile,
                    "salutation": D.salutation(first, last, gender, lang, cc),
                    "gender": gender,
                    "language": lang,
                    "birth_date": born,
                    "birth_md": born.month * 100 + born.day,
                    "anniversary_date": anniversary,
                    "anniversary_md": (
                        anniversary.month * 100 + anniversary.day if anniversary else None
                    ),
                    "name_day_calendar": pack["calendar"],
                    "marital_status": "married"
                    if married
                    else r.choice(("single", "single", "divorced", None)),
                    "personal_id": pid_number,
                    "tax_id": None,
                    "account_id": account[0] if account else None,
                    "job_title": title,
                    "department": r.choice(D.DEPARTMENTS[lang]) if account else None,
                    "roles": [] if account else ["customer"],
                    "source": r.choice(D.SOURCES),
                    "partner_id": None,
                    "city": city,
                    "country": cc,
                    "website": None,
                    "notes": None,
                    "deleted_at": None,
                    **_audit(owner, self.when(r)),
                },
            )
            yield (
                PersonPhone,
                {
                    "id": self.next_id(PersonPhone),
                    "person_id": pid,
                    "kind": "mobile",
                    "number": mobile,
                    "is_primary": True,
                    "position": 0,
                },
            )
            if account and r.random() < 0.6:
                yield (
                    PersonPhone,
                    {
                        "id": self.next_id(PersonPhone),
                        "person_id": pid,
                        "kind": "work",
                        "number": phone(r, cc, "landline", city),
                        "is_primary": False,
                        "position": 1,
                    },
                )
            yield (
                PersonEmail,
                {
                    "id": self.next_id(PersonEmail),
                    "person_id": pid,
                    "kind": "work" if account else "home",
                    "email": email,
                    "is_primary": True,
                    "position": 0,
                },
            )
            if account and r.random() < 0.2:
                yield (
                    PersonEmail,
                    {
                        "id": self.next_id(PersonEmail),
                        "person_id": pid,
                        "kind": "home",
                        "email": f"{user}{pid % 97}@{r.choice(D.FREEMAIL[cc])}",
                        "is_primary": False,
                        "position": 1,
                    },
                )
            if account:
                yield from self._affiliations(r, pid, account[0], born, title, owner)
            yield from self._consents(r, pid, owner)
            me = (pid, cc, gender, born)
            if previous is not None:
                yield from self._relationships(r, previous, me, owner)
                previous = None
            else:
                previous = me

    def _affiliations(self, r, pid, account_id, born, title, owner):
        started = max(dt.date(born.year + 23, born.month, 1), dt.date(1995, 1, 1))
        started = min(started + dt.timedelta(days=r.randrange(3000)), dt.date(2025, 6, 1))
        if r.random() < 0.2 and len(self.account_list) > 1:
            # An earlier job: the person's employment history (CON-16).
            before = r.choice(self.account_list)
            if before[0] != account_id:
                begun = started - dt.timedelta(days=r.randrange(400, 3000))
                yield (
                    Affiliation,
                    {
                        "id": self.next_id(Affiliation),
                        "person_id": pid,
                        "account_id": before[0],
                        "role": title,
                        "department": None,
                        "start_date": begun,
                        "end_date": started - dt.timedelta(days=1),
                        "is_primary": False,
                        "notes": None,
                        **_audit(owner, self.when(r)),
                    },
                )
        yield (
            Affiliation,
            {
                "id": self.next_id(Affiliation),
                "person_id": pid,
                "account_id": account_id,
                "role": title,
                "department": None,
                "start_date": started,
                "end_date": None,
                "is_primary": True,
                "notes": None,
                **_audit(owner, self.when(r)),
            },
        )

    def _consents(self, r, pid, owner):
        for channel, p_in, p_out in (("email", 0.7, 0.1), ("sms", 0.4, 0.1), ("post", 0.2, 0.05)):
            x = r.random()
            if x >= p_in + p_out:
                continue
            at = self.when(r, 900)
            yield (
                Consent,
                {
                    "id": self.next_id(Consent),
                    "person_id": pid,
                    "channel": channel,
                    "status": "opt_in" if x < p_in else "opt_out",
                    "source": r.choice(D.CONSENT_SOURCES),
                    "at": at,
                    "notes": None,
                    **_audit(owner, at),
                },
            )

    def _relationships(self, r, a, b, owner):
        """Relationships between two people generated one after the other."""
        x = r.random()
        base = {"start_date": None, "end_date": None, "notes": None}

        def rel(code, from_person=None, to_person=None, to_account=None):
            return Relationship, {
                "id": self.next_id(Relationship),
                "type_id": self.types[code],
                "from_person_id": from_person,
                "from_account_id": None,
                "to_person_id": to_person,
                "to_account_id": to_account,
                **base,
                **_audit(owner, self.when(r)),
            }

        same_country = a[1] == b[1]
        if same_country and a[2] != b[2] and x < 0.12:
            yield rel("spouse", a[0], b[0])
        elif same_country and a[2] == "male" and x < 0.16 and a[3].year + 20 <= b[3].year:
            yield rel("father" if b[2] == "male" else "parent", a[0], b[0])
        elif x < 0.19 and self.account_list:
            # An accountant (or lawyer) serving several firms (CON-04).
            code = "accountant" if r.random() < 0.7 else "lawyer"
            for acc in r.sample(self.account_list, min(3, len(self.account_list))):
                yield rel(code, a[0], to_account=acc[0])
        elif x < 0.21:
            yield rel("associate", a[0], b[0])


# --- names, numbers, places -------------------------------------------------------------


def company_name(r: random.Random, cc: str) -> tuple[str, str, str]:
    """``(name, legal form, name without the form)``."""
    pack = D.COUNTRIES[cc]
    form = r.choice(pack["forms"])
    pattern = r.random()
    if pattern < 0.4:
        base = f"{r.choice(pack['words'])} {r.choice(pack['activities'])}"
    elif pattern < 0.75:
        base = f"{r.choice(pack['surnames_m'])} {r.choice(pack['activities'])}"
    else:
        a, b = r.sample(pack["surnames_m"], 2)
        base = f"{a} {pack['and']} {b}"
    if cc == "GR" and r.random() < 0.25:  # a Greek firm with a Latin-script name
        base = D.latin(base.replace(" και ", " & "))
        form = D.latin_form(form)
    return f"{base} {form}", form, base


def person_name(r: random.Random, cc: str, gender: str) -> tuple[str, str, tuple[str, str]]:
    """``(first, last, (first, last) in Latin script)``."""
    pack = D.COUNTRIES[cc]
    key = "m" if gender == "male" else "f"
    first = r.choice(pack[f"first_{key}"])
    idx = r.randrange(len(pack["surnames_m"]))
    last = pack["surnames_m" if key == "m" else "surnames_f"][idx]
    if cc == "GR":
        latin = (D.latin(first), D.latin(last))
        if r.random() < 0.3:  # people who write their name in Latin script
            return latin[0], latin[1], latin
        return first, last, latin
    return first, last, (first, last)


def tax_numbers(cc: str, seq: int) -> tuple[str | None, str | None]:
    """``(vat_number, company_id)`` unique for ``seq``, in their stored (compact) form."""
    if cc == "GR":
        return "EL" + afm(seq), None
    if cc == "RO":
        number = cui(seq)
        return "RO" + number, number
    if cc == "PL":
        return "PL" + nip(seq), regon(seq)
    return "GB" + gb_vat(seq), None


def personal_number(r: random.Random, cc: str, born: dt.date, gender: str) -> str | None:
    if cc == "PL":
        return pesel(born, gender, r.randrange(1000))
    if cc == "RO":
        return cnp(born, gender, r.randrange(1, 47), r.randrange(1, 1000))
    if cc == "GR":
        return amka(born, gender, r.randrange(1000))
    return None


def phone(r: random.Random, cc: str, kind: str, city: str) -> str:
    pack = D.COUNTRIES[cc]
    if kind == "mobile":
        plan = r.choice(pack["mobile"])
    else:
        plan = pack["landline"].get(city) or next(iter(pack["landline"].values()))
    prefix, digits, *first = plan
    lead = r.choice(first[0]) if first else str(r.randrange(10))
    return prefix + lead + "".join(str(r.randrange(10)) for _ in range(digits - 1))


def street(r: random.Random, cc: str) -> str:
    pack = D.COUNTRIES[cc]
    return pack["street"].format(name=r.choice(pack["streets"]), no=r.randint(1, 180))

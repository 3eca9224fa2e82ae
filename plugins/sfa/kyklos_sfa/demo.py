"""Demo data: leads, opportunities across the pipeline with their stage history, quotes
with lines, and quotas for the demo sales team.

A believable story: each rep's deals are on accounts of the rep's country, in the
country's currency (EUR in Greece, RON in Romania, PLN in Poland, GBP in the UK), named
after what is sold and to whom, with a contact of that account; open deals close in the
future, won and lost ones closed in the past (the lost ones with a loss reason); the
stage history walks the pipeline in order, in the past. Leads are people of the lead's
country with an e-mail address made of their name at their company's domain. Quotes list
services and products at realistic prices with the country's VAT rate.

Records are written with the ORM and then go through the SDK's ``record_created`` like
any record a plugin creates itself (history, search index, duplicate keys, hooks).
Deterministic for a seed (``env.seed``), apart from the dates, which follow today.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from zoneinfo import ZoneInfo

import click
from kyklos_contacts.demo import COUNTRY_REP, company_name, phone, records_written
from kyklos_contacts.demo import data as CD
from sqlalchemy import delete, func, insert, select, text

from kyklos_sdk import (
    DEMO_USERS,
    NoRate,
    User,
    find_user,
    set_rate,
    utcnow,
)

from . import quoting
from .models import (
    Lead,
    LossReason,
    Opportunity,
    Quota,
    Quote,
    QuoteLine,
    ScoringRule,
    StageChange,
)
from .models.choices import LEAD_SOURCES
from .pipeline import ensure_defaults, stages

#: a country's currency and standard VAT rate (Romania: 21 % since August 2025)
COUNTRY_MONEY = {
    "GR": ("EUR", Decimal(24)),
    "RO": ("RON", Decimal(21)),
    "PL": ("PLN", Decimal(23)),
    "GB": ("GBP", Decimal(20)),
}
#: EUR 1 = ... (demo rates, so reports can add the currencies up)
RATES = {"RON": Decimal("5.0900"), "PLN": Decimal("4.2300"), "GBP": Decimal("0.8700")}
LEAD_COUNTRIES = (("GR", 35), ("RO", 25), ("PL", 25), ("GB", 15))
#: the catalogue: (code, unit price in EUR, quantities, service?) and the line's wording
CATALOGUE = [
    ("licence", Decimal("420.00"), (5, 10, 15, 25, 40), False),
    ("implementation", Decimal("650.00"), (5, 8, 10, 15, 20), True),
    ("training", Decimal("180.00"), (4, 6, 8, 12), True),
    ("support", Decimal("2400.00"), (1,), True),
    ("migration", Decimal("3500.00"), (1,), True),
    ("terminal", Decimal("890.00"), (2, 4, 6, 10), False),
    ("printer", Decimal("310.00"), (1, 2, 3, 5), False),
]
WORDING = {
    "el": {
        "licence": "Άδεια χρήσης Kyklos ERP (ανά χρήστη, ετήσια)",
        "implementation": "Ημέρες υλοποίησης και παραμετροποίησης",
        "training": "Εκπαίδευση χρηστών (ανά άτομο)",
        "support": "Συμβόλαιο υποστήριξης (ετήσιο)",
        "migration": "Μεταφορά δεδομένων από το παλιό σύστημα",
        "terminal": "Τερματικό POS",
        "printer": "Θερμικός εκτυπωτής αποδείξεων",
    },
    "ro": {
        "licence": "Licență Kyklos ERP (per utilizator, anuală)",
        "implementation": "Zile de implementare și configurare",
        "training": "Instruire utilizatori (per persoană)",
        "support": "Contract de suport (anual)",
        "migration": "Migrarea datelor din sistemul vechi",
        "terminal": "Terminal POS",
        "printer": "Imprimantă termică de bonuri",
    },
    "pl": {
        "licence": "Licencja Kyklos ERP (na użytkownika, roczna)",
        "implementation": "Dni wdrożeniowe i konfiguracja",
        "training": "Szkolenie użytkowników (na osobę)",
        "support": "Umowa serwisowa (roczna)",
        "migration": "Migracja danych ze starego systemu",
        "terminal": "Terminal POS",
        "printer": "Drukarka termiczna paragonów",
    },
    "en": {
        "licence": "Kyklos ERP licence (per user, annual)",
        "implementation": "Implementation and configuration days",
        "training": "User training (per person)",
        "support": "Support contract (annual)",
        "migration": "Data migration from the old system",
        "terminal": "POS terminal",
        "printer": "Thermal receipt printer",
    },
}
#: what a deal is about, in the account's language
DEALS = {
    "el": [
        "Εγκατάσταση ERP",
        "Ανανέωση αδειών",
        "Επέκταση σε νέο υποκατάστημα",
        "Σύστημα ταμείων POS",
        "Συμβόλαιο υποστήριξης",
    ],
    "ro": [
        "Implementare ERP",
        "Reînnoire licențe",
        "Extindere la o filială nouă",
        "Sistem de case de marcat POS",
        "Contract de suport",
    ],
    "pl": [
        "Wdrożenie ERP",
        "Odnowienie licencji",
        "Rozszerzenie na nowy oddział",
        "System kas POS",
        "Umowa serwisowa",
    ],
    "en": [
        "ERP roll-out",
        "Licence renewal",
        "New branch roll-out",
        "POS tills",
        "Support contract",
    ],
}
OPEN_QUOTE = ("draft", "sent")
LOSS_DETAILS = {
    "Price": "Cheaper offer elsewhere",
    "Competitor": "Chose a competitor",
    "No budget": "Budget frozen this year",
    "No decision": "Project postponed",
    "Timing": "Not before next year",
    "Other": None,
}
SCORING = [
    ("Source is trade show", "source", "eq", "trade_show", 20),
    ("Came through a partner or referral", "source", "in", "partner,referral", 15),
    ("Large company (50+ employees)", "employees", "gte", "50", 15),
    ("No e-mail address", "email", "isnull", "true", -10),
]


def demo_data(env, size: int) -> None:
    """About ``size // 2`` leads and ``size // 5`` opportunities (at least a few),
    skipped when opportunities already exist."""
    rng = random.Random(getattr(env, "seed", 1) * 7919 + 11)
    today = dt.date.today()
    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count(Opportunity.id))).scalar_one():
            click.echo("sfa: the database already has opportunities; demo data skipped")
            return
        ensure_defaults(db)
        _rates(db, today)
        _scoring(db)
        owners = _owners(db)
        written: list = []
        n_leads = _leads(request, rng, max(size // 2, 10), owners, today, written)
    with env.request() as request:
        n_opps, n_quotes, history = _opportunities(request, rng, max(size // 5, 12), today, written)
    with env.request() as request:
        _quotas(request, today, written)
    # History, search, duplicate keys and hooks, as their owners created them.
    for model, ids in written:
        records_written(env, model, ids=ids)
    with env.request() as request:
        # The stage history walks the path (the create hook recorded only the last stage).
        db = request.dbsession
        ids = sorted({row["opportunity_id"] for row in history})
        db.execute(delete(StageChange).where(StageChange.opportunity_id.in_(ids)))
        db.execute(insert(StageChange), history)
    click.echo(f"sfa: {n_leads} leads, {n_opps} opportunities, {n_quotes} quotes")


def _owners(db) -> dict[str, int | None]:
    """Country -> the demo rep who sells there (the manager for the rest)."""
    users = {e: find_user(db, e) for e, _n, _r in DEMO_USERS}
    manager = next((users[e].id for e, _n, r in DEMO_USERS if r == "manager" and users[e]), None)
    out = {cc: (users[e].id if users.get(e) else manager) for cc, e in COUNTRY_REP.items()}
    out["GB"] = manager
    return out


def _created(request, records, written: list) -> None:
    """Note the new records: once written, they go through what the core does for any
    created record (``records_written``)."""
    if not records:
        return
    request.dbsession.flush()
    written.append((type(records[0]), [r.id for r in records]))


def _rates(db, today):
    start = today.replace(day=1) - dt.timedelta(days=400)
    for cur, rate in RATES.items():
        try:
            set_rate(db, cur, start, rate)
        except (NoRate, ValueError):
            continue


def _scoring(db):
    if db.execute(select(func.count(ScoringRule.id))).scalar_one():
        return
    db.execute(
        insert(ScoringRule),
        [
            {
                "label": lbl,
                "field": f,
                "op": op,
                "value": v,
                "points": p,
                "active": True,
                "position": i * 10,
                "version": 1,
                "custom": {},
            }
            for i, (lbl, f, op, v, p) in enumerate(SCORING, start=1)
        ],
    )


def _at(rng, day: dt.date) -> dt.datetime:
    """A moment of a working day's office hours (UTC, Central/Eastern European time)."""
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return dt.datetime(
        day.year, day.month, day.day, rng.randint(7, 15), rng.randint(0, 59), tzinfo=dt.UTC
    )


def _leads(request, rng, n, owners, today, written) -> int:
    from . import scoring

    db = request.dbsession
    rules = scoring.active_rules(db)
    sources = [s for s, _t in LEAD_SOURCES]
    countries = [c for c, w in LEAD_COUNTRIES for _ in range(w)]
    made = []
    for _i in range(n):
        cc = rng.choice(countries)
        pack = CD.COUNTRIES[cc]
        gender = "female" if rng.random() < 0.48 else "male"
        key = "m" if gender == "male" else "f"
        first = rng.choice(pack[f"first_{key}"])
        idx = rng.randrange(len(pack["surnames_m"]))
        last = pack["surnames_m" if key == "m" else "surnames_f"][idx]
        company, _form, base = company_name(rng, cc)
        email = None
        if rng.random() < 0.85:
            email = f"{CD.ascii_slug(first)}.{CD.ascii_slug(last)}@{CD.domain_for(base)}"
        values = {
            "first_name": first,
            "last_name": last,
            "company": company,
            "email": email,
            "phone": phone(rng, cc, "mobile", ""),
            "country": cc,
            "job_title": rng.choice(CD.JOB_TITLES[pack["language"]]),
            "industry": rng.choice(CD.INDUSTRIES),
            "source": rng.choice(sources),
            "employees": rng.choice([5, 20, 60, 250]),
            "rating": rng.choice(["hot", "warm", "cold"]),
            "status": rng.choice(["new", "new", "contacted", "qualified", "unqualified"]),
        }
        score, why = scoring.score(rules, values)
        created = _at(rng, today - dt.timedelta(days=rng.randint(0, 365)))
        owner = owners.get(cc)
        made.append(
            Lead(
                **values,
                score=score,
                score_explanation=why,
                owner_id=owner,
                created_by_id=owner,
                updated_by_id=owner,
                created_at=created,
                updated_at=created,
            )
        )
    db.add_all(made)
    _created(request, made, written)
    return n


def _opportunities(request, rng, n, today, written) -> tuple[int, int, list]:
    db = request.dbsession
    stage_list = [s for s in stages(db) if s.active]
    open_stages = [s for s in stage_list if not (s.is_won or s.is_lost)]
    won = next((s for s in stage_list if s.is_won), None)
    lost = next((s for s in stage_list if s.is_lost), None)
    reasons = (
        db.execute(
            select(LossReason).where(LossReason.active.is_(True)).order_by(LossReason.position)
        )
        .scalars()
        .all()
    )
    accounts = db.execute(
        text(
            "SELECT id, name, country, owner_id FROM contacts_account "
            "WHERE deleted_at IS NULL AND is_branch = :f ORDER BY id LIMIT 2000"
        ),
        {"f": False},
    ).all()
    contacts: dict[int, list[int]] = {}
    for pid, aid in db.execute(
        text(
            "SELECT id, account_id FROM contacts_person WHERE account_id IS NOT NULL "
            "AND deleted_at IS NULL ORDER BY id"
        )
    ).all():
        contacts.setdefault(aid, []).append(pid)
    accounts = [a for a in accounts if a.country in COUNTRY_MONEY]
    if not accounts or not open_stages:
        return 0, 0
    now = utcnow()
    made, paths = [], []
    for _i in range(n):
        account = rng.choice(accounts)
        lang = CD.COUNTRIES[account.country]["language"]
        currency, _vat = COUNTRY_MONEY[account.country]
        end = rng.random()
        final = won if end < 0.25 and won else lost if end < 0.4 and lost else None
        if final is None:
            # Open: somewhere along the pipeline, moved there in the last few months.
            path = open_stages[: rng.randint(1, len(open_stages))]
            created = now - dt.timedelta(days=rng.randint(20, 150))
        else:
            path = [*open_stages[: rng.randint(1, len(open_stages))], final]
            # Some closed in the last weeks (this month's figures), most long ago.
            back = rng.randint(30, 70) if rng.random() < 0.4 else rng.randint(90, 400)
            created = now - dt.timedelta(days=back)
        created = _at(rng, created.date())
        times = [created]
        for _s in path[1:]:
            times.append(times[-1] + dt.timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 6)))
        limit = now - dt.timedelta(days=1)
        if times[-1] > limit:  # squeeze the path into the time up to yesterday
            span = (limit - created) / max(len(path), 1)
            times = [created] + sorted(
                max(min(_at(rng, (created + span * i).date()), limit), created + span / 2)
                for i in range(1, len(path))
            )
        stage = path[-1]
        amount = _price(sum(Decimal(rng.randrange(8, 160)) * 250 for _ in range(2)), currency)
        if final is None:
            close = today + dt.timedelta(days=rng.randint(7, 120))
        else:
            close = times[-1].date()
        reason = rng.choice(reasons) if stage.is_lost and reasons else None
        owner = account.owner_id
        opp = Opportunity(
            name=f"{rng.choice(DEALS[lang])} – {account.name}",
            account_id=account.id,
            person_id=rng.choice(contacts[account.id]) if contacts.get(account.id) else None,
            stage_id=stage.id,
            amount=amount,
            amount_currency=currency,
            expected_close=close,
            probability=stage.probability,
            probability_manual=False,
            status=stage.status,
            won_at=times[-1] if stage.is_won else None,
            lost_at=times[-1] if stage.is_lost else None,
            loss_reason_id=reason.id if reason else None,
            loss_details=LOSS_DETAILS.get(reason.name) if reason else None,
            stage_entered_at=times[-1],
            source=rng.choice([s for s, _t in LEAD_SOURCES]),
            competitors=rng.choice([None, None, "Acme CRM", "Nordic Soft"]),
            owner_id=owner,
            created_by_id=owner,
            updated_by_id=owner,
            created_at=created,
            updated_at=times[-1],
        )
        made.append(opp)
        paths.append(list(zip(path, times, strict=True)))
    db.add_all(made)
    db.flush()
    # A quote went out when the deal reached the offer (or the stage it ended in).
    offers = {}
    for opp, path in zip(made, paths, strict=True):
        sent = [when for stage, when in path if stage.probability >= 30 or stage.is_lost]
        offers[opp.id] = sent[0] if sent else path[-1][1]
    quotes, lines = _quotes(request, rng, made, offers, today)
    _created(request, made, written)
    changes = []
    for opp, path in zip(made, paths, strict=True):
        prev = None
        for stage, when in path:
            changes.append(
                {
                    "opportunity_id": opp.id,
                    "from_stage_id": prev,
                    "to_stage_id": stage.id,
                    "at": when,
                    "user_id": opp.owner_id,
                }
            )
            prev = stage.id
    _created(request, quotes, written)
    _created(request, lines, written)
    _deal_activities(request, rng, made, written)
    return len(made), len(quotes), changes


#: what a rep does about a deal, in the account's language: (call done when it opened,
#: task to follow the offer up)
DEAL_ACTIVITIES = {
    "el": ("Πρώτη επικοινωνία για την ευκαιρία", "Follow-up της προσφοράς"),
    "ro": ("Primul contact pentru oportunitate", "Urmărirea ofertei"),
    "pl": ("Pierwszy kontakt w sprawie szansy", "Kontakt w sprawie oferty"),
    "en": ("First call about the opportunity", "Follow up the offer"),
}


def _deal_activities(request, rng, opps, written) -> None:
    """Activities about the deals (their Activities panel is not empty): the first call,
    done, two working days after the deal opened; for the open deals with an offer out,
    a task to follow it up on one of the next working days. In the owner's time zone and
    office hours, like every demo activity."""
    from kyklos_activities.defaults import ensure_defaults as activity_types
    from kyklos_activities.demo import ZONE_COUNTRY, next_working_day
    from kyklos_activities.models import Activity, Status

    db = request.dbsession
    types = activity_types(db)
    if "call" not in types or "task" not in types:
        return
    statuses: dict = {}
    for st in db.execute(select(Status).order_by(Status.position, Status.id)).scalars():
        d = statuses.setdefault(st.status_set_id, {})
        if st.is_default:
            d.setdefault("open", st.code)
        if st.category == "done":
            d.setdefault("done", st.code)
    zones = dict(db.execute(select(User.id, User.timezone)).all())
    countries = dict(db.execute(text("SELECT id, country FROM contacts_account")).all())
    now = utcnow()
    made = []

    def at(day, minutes, zone):
        local = dt.datetime.combine(
            day, dt.time(minutes // 60, minutes % 60), tzinfo=ZoneInfo(zone)
        )
        return local.astimezone(dt.UTC)

    for opp in opps:
        zone = zones.get(opp.owner_id) or "Europe/Athens"
        home = ZONE_COUNTRY.get(zone)
        lang = CD.COUNTRIES[countries.get(opp.account_id, "GR")]["language"]
        first, follow = DEAL_ACTIVITIES[lang]
        common = {
            "about_type": "opportunity",
            "about_id": opp.id,
            "account_id": opp.account_id,
            "person_id": opp.person_id,
            "owner_id": opp.owner_id,
            "responsible_id": opp.owner_id,
            "created_by_id": opp.owner_id,
            "updated_by_id": opp.owner_id,
            "timezone": zone,
            "priority": "normal",
            "private": False,
            "exdates": [],
            "reminders": [],
            "custom": {},
        }
        call = types["call"]
        day = next_working_day(
            opp.created_at.astimezone(ZoneInfo(zone)).date() + dt.timedelta(days=2), home
        )
        start = at(day, rng.randint(9 * 4, 17 * 4) * 15, zone)
        if start < now:
            end = start + dt.timedelta(minutes=call.default_duration or 15)
            made.append(
                Activity(
                    type_id=call.id,
                    subject=first,
                    state="done",
                    status=statuses.get(call.status_set_id, {}).get("done", ""),
                    starts_at=start,
                    ends_at=end,
                    span_start=start,
                    span_end=end,
                    completed_at=end,
                    **common,
                )
            )
        if opp.status == "open" and opp.probability >= 30:
            task = types["task"]
            today = now.astimezone(ZoneInfo(zone)).date()
            day = next_working_day(today + dt.timedelta(days=rng.randint(1, 8)), home)
            due = at(day, rng.randint(9, 16) * 60, zone)
            made.append(
                Activity(
                    type_id=task.id,
                    subject=follow,
                    state="open",
                    status=statuses.get(task.status_set_id, {}).get("open", ""),
                    due_at=due,
                    span_start=due,
                    span_end=due,
                    **{**common, "reminders": [60]},
                )
            )
    for activity in made:
        participants = [{"kind": "user", "id": activity.owner_id, "status": "accepted"}]
        if activity.person_id:
            participants.append({"kind": "person", "id": activity.person_id, "status": "accepted"})
        activity.participants = participants
    db.add_all(made)
    _created(request, made, written)


def _price(eur: Decimal, currency: str) -> Decimal:
    """A EUR price in ``currency``, rounded as a price list would (to 5 or 10)."""
    value = eur * RATES.get(currency, Decimal(1))
    step = Decimal(10) if value >= 100 else Decimal(1)
    return (value / step).quantize(Decimal(1)) * step


def _quotes(request, rng, opps, offers, today) -> tuple[list, list]:
    """A quote for the deals that got to the offer (and further), with two to five lines
    of the catalogue in the account's language and the country's VAT."""
    db = request.dbsession
    countries = dict(
        db.execute(
            text(
                "SELECT id, country FROM contacts_account WHERE id IN "
                f"({','.join(str(int(o.account_id)) for o in opps if o.account_id) or 0})"
            )
        ).all()
    )
    quotes, lines = [], []
    for opp in opps:
        if opp.probability < 30 and not opp.lost_at:
            continue
        if opp.lost_at and rng.random() < 0.5:
            continue
        cc = countries.get(opp.account_id, "GR")
        lang = CD.COUNTRIES[cc]["language"]
        currency, vat = COUNTRY_MONEY[cc]
        offered = offers[opp.id]
        status = (
            "accepted"
            if opp.won_at
            else "rejected"
            if opp.lost_at
            else rng.choice(["sent", "sent", "draft"])
        )
        q = Quote(
            title=opp.name,
            opportunity_id=opp.id,
            account_id=opp.account_id,
            person_id=opp.person_id,
            currency=currency,
            owner_id=opp.owner_id,
            created_by_id=opp.owner_id,
            updated_by_id=opp.owner_id,
            # an open offer is still valid (extended if need be)
            valid_until=max(
                offered.date() + dt.timedelta(days=30),
                today + dt.timedelta(days=rng.randint(7, 30))
                if status in OPEN_QUOTE
                else offered.date(),
            ),
            status=status,
            created_at=offered,
            updated_at=offered,
        )
        quotes.append(q)
        items = rng.sample(CATALOGUE, rng.randint(2, 5))
        mine = []
        for pos, (code, eur, quantities, _service) in enumerate(items, start=1):
            qty = Decimal(rng.choice(quantities))
            price = _price(eur, currency)
            disc = Decimal(rng.choice([0, 0, 0, 5, 10]))
            mine.append(
                QuoteLine(
                    position=pos,
                    description=WORDING[lang][code],
                    quantity=qty,
                    unit_price=price,
                    discount_percent=disc,
                    tax_rate=vat,
                    line_total=quoting.line_net(qty, price, disc),
                    owner_id=opp.owner_id,
                    created_by_id=opp.owner_id,
                    updated_by_id=opp.owner_id,
                )
            )
        lines.append(mine)
    # Numbered in the order they were sent, in the year they were sent.
    for q in sorted(quotes, key=lambda q: q.created_at):
        quoting.assign_number(db, q, q.created_at.date())
    db.add_all(quotes)
    db.flush()
    for q, mine in zip(quotes, lines, strict=True):
        for line in mine:
            line.quote_id = q.id
        db.add_all(mine)
    db.flush()
    for q in quotes:
        quoting.recompute(db, q)
        opp = next(o for o in opps if o.id == q.opportunity_id)
        opp.amount = q.net_total  # the deal is worth what was offered
    return quotes, [line for mine in lines for line in mine]


def _quotas(request, today, written) -> None:
    from .periods import parse_period

    db = request.dbsession
    made = []
    for email, _n, role in DEMO_USERS:
        user = find_user(db, email)
        if user is None:
            continue
        for year in (today.year, today.year + 1):
            for q in (1, 2, 3, 4):
                period = f"{year}-Q{q}"
                start, end = parse_period(period)
                made.append(
                    Quota(
                        user_id=user.id,
                        period=period,
                        period_start=start,
                        period_end=end,
                        amount=Decimal(150000 if role == "manager" else 60000),
                        amount_currency="EUR",
                        owner_id=user.id,
                    )
                )
    db.add_all(made)
    _created(request, made, written)

"""Demo data: leads, opportunities across the pipeline with a year of stage history,
quotes with lines and quotas for the demo sales team.

Deterministic from ``env.seed``; rows are written with bulk Core inserts (RETURNING the
new ids, so the stage history and quote lines can point at them without reading back).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import click
from sqlalchemy import func, insert, select

from kyklos_sdk import DEMO_USERS, NoRate, find_user, get_entity_type, set_rate

from . import quoting
from .models import Lead, Opportunity, Quota, Quote, QuoteLine, ScoringRule, StageChange
from .models.choices import LEAD_SOURCES
from .pipeline import ensure_defaults, stages

CURRENCIES = (("EUR", 50), ("RON", 25), ("PLN", 25))
#: EUR 1 = ... (demo rates, so reports can add the currencies up)
RATES = {"RON": Decimal("4.9750"), "PLN": Decimal("4.2600")}
FIRST = ["Eleni", "Nikos", "Andrei", "Ioana", "Piotr", "Agnieszka", "Maria", "Jan", "Sofia",
         "Mihai"]
LAST = ["Papadopoulou", "Georgiou", "Popescu", "Ionescu", "Kowalski", "Nowak", "Dimitriou",
        "Wiśniewska", "Stan", "Lewandowski"]
COMPANIES = ["Αιγαίο Τρόφιμα Α.Ε.", "Carpați Logistic SRL", "Bałtyk Meble Sp. z o.o.",
             "Olympus Software", "Dunărea Agro", "Mazury Energia", "Kritiki Marine",
             "Transilvania Print", "Wawel Systems", "Hellas Pharma"]
PRODUCTS = ["Annual licence", "Implementation days", "Training (per person)", "Support plan",
            "Hardware bundle", "Data migration"]
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
        users = [u.id for e, _n, _r in DEMO_USERS for u in [find_user(db, e)] if u is not None]
        if not users:
            users = [None]
        account_et = get_entity_type(request, "account")
        accounts = list(db.execute(select(account_et.model.id).limit(500)).scalars())
        stage_list = [s for s in stages(db) if s.active]
        n_leads = _leads(db, rng, max(size // 2, 10), users, today)
        n_opps = _opportunities(db, rng, max(size // 5, 12), users, accounts, stage_list, today)
        n_quotes = _quotes(db, rng, users, today)
        _quotas(db, users, today)
    click.echo(f"sfa: {n_leads} leads, {n_opps} opportunities, {n_quotes} quotes")


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
    db.execute(insert(ScoringRule), [
        {"label": lbl, "field": f, "op": op, "value": v, "points": p, "active": True,
         "position": i * 10, "version": 1, "custom": {}}
        for i, (lbl, f, op, v, p) in enumerate(SCORING, start=1)
    ])


def _when(rng, today, days_back: int) -> dt.datetime:
    day = today - dt.timedelta(days=rng.randint(0, days_back))
    return dt.datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59),
                       tzinfo=dt.UTC)


def _currency(rng) -> str:
    return rng.choices([c for c, _w in CURRENCIES], [w for _c, w in CURRENCIES])[0]


def _leads(db, rng, n, users, today) -> int:
    from . import scoring

    rules = scoring.active_rules(db)
    rows = []
    sources = [s for s, _t in LEAD_SOURCES]
    for i in range(n):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        company = rng.choice(COMPANIES) if rng.random() < 0.8 else None
        values = {
            "first_name": first, "last_name": last, "company": company,
            "email": f"{first.lower()}.{i}@example.com" if rng.random() < 0.85 else None,
            "country": rng.choice(["GR", "RO", "PL"]), "source": rng.choice(sources),
            "employees": rng.choice([5, 20, 60, 250]), "rating": rng.choice(["hot", "warm",
                                                                             "cold"]),
            "status": rng.choice(["new", "new", "contacted", "qualified", "unqualified"]),
        }
        score, why = scoring.score(rules, values)
        created = _when(rng, today, 365)
        rows.append({**values, "score": score, "score_explanation": why,
                     "owner_id": rng.choice(users), "version": 1, "custom": {},
                     "created_at": created, "updated_at": created})
    db.execute(insert(Lead), rows)
    return n


def _opportunities(db, rng, n, users, accounts, stage_list, today) -> int:
    open_stages = [s for s in stage_list if not (s.is_won or s.is_lost)]
    won = next((s for s in stage_list if s.is_won), None)
    lost = next((s for s in stage_list if s.is_lost), None)
    rows, paths = [], []
    for _i in range(n):
        created = _when(rng, today, 365)
        # How far along the pipeline it got, and how it ended.
        depth = rng.randint(1, len(open_stages))
        path = open_stages[:depth]
        end = rng.random()
        final = won if end < 0.25 and won else lost if end < 0.4 and lost else None
        if final is not None:
            path = [*path, final]
        t = created
        times = []
        for _s in path:
            times.append(t)
            t = t + dt.timedelta(days=rng.randint(3, 30))
        times = [min(x, dt.datetime.now(dt.UTC)) for x in times]
        stage = path[-1]
        cur = _currency(rng)
        amount = Decimal(rng.randrange(20, 400) * 250) * (RATES.get(cur, 1) if cur != "EUR"
                                                          else 1)
        close = (times[-1] + dt.timedelta(days=rng.randint(10, 120))).date()
        rows.append({
            "name": f"{rng.choice(PRODUCTS)} — {rng.choice(COMPANIES)}",
            "account_id": rng.choice(accounts) if accounts else None,
            "stage_id": stage.id, "amount": amount.quantize(Decimal("1")),
            "amount_currency": cur, "expected_close": close,
            "probability": stage.probability, "probability_manual": False,
            "status": stage.status,
            "won_at": times[-1] if stage.is_won else None,
            "lost_at": times[-1] if stage.is_lost else None,
            "stage_entered_at": times[-1], "source": rng.choice([s for s, _t in LEAD_SOURCES]),
            "competitors": rng.choice([None, "Acme CRM", "Nordic Soft"]),
            "owner_id": rng.choice(users), "version": 1, "custom": {},
            "created_at": created, "updated_at": times[-1],
        })
        paths.append(list(zip(path, times, strict=True)))
    ids = list(db.scalars(
        insert(Opportunity).returning(Opportunity.id, sort_by_parameter_order=True), rows))
    changes = []
    for oid, row, path in zip(ids, rows, paths, strict=True):
        prev = None
        for stage, when in path:
            changes.append({"opportunity_id": oid, "from_stage_id": prev, "to_stage_id": stage.id,
                            "at": when, "user_id": row["owner_id"]})
            prev = stage.id
    db.execute(insert(StageChange), changes)
    return n


def _quotes(db, rng, users, today) -> int:
    opps = db.execute(
        select(Opportunity).where(Opportunity.probability.between(30, 70))
    ).scalars().all()
    count = 0
    for opp in opps[: max(len(opps) // 2, 1)]:
        q = Quote(title=opp.name, opportunity_id=opp.id, account_id=opp.account_id,
                  currency=opp.amount_currency or "EUR", owner_id=opp.owner_id,
                  valid_until=today + dt.timedelta(days=30), status=rng.choice(["draft", "sent"]))
        quoting.assign_number(db, q, today)
        db.add(q)
        db.flush()
        lines = []
        for pos in range(1, rng.randint(2, 5)):
            qty = Decimal(rng.choice([1, 2, 5, 10]))
            price = Decimal(rng.randrange(50, 2000))
            disc = Decimal(rng.choice([0, 0, 5, 10]))
            tax = Decimal(rng.choice([19, 23, 24]))
            lines.append(QuoteLine(quote_id=q.id, position=pos, description=rng.choice(PRODUCTS),
                                   quantity=qty, unit_price=price, discount_percent=disc,
                                   tax_rate=tax, line_total=quoting.line_net(qty, price, disc),
                                   owner_id=opp.owner_id))
        db.add_all(lines)
        db.flush()
        quoting.recompute(db, q)
        count += 1
    db.flush()
    return count


def _quotas(db, users, today) -> None:
    from .periods import parse_period

    rows = []
    for uid in users:
        if uid is None:
            continue
        for year in (today.year, today.year + 1):
            for q in (1, 2, 3, 4):
                period = f"{year}-Q{q}"
                start, end = parse_period(period)
                rows.append({"user_id": uid, "period": period, "period_start": start,
                             "period_end": end, "amount": Decimal(60000),
                             "amount_currency": "EUR", "owner_id": uid, "version": 1,
                             "custom": {}})
    if rows:
        db.execute(insert(Quota), rows)

"""Demo helpdesk: two support teams (the reps take the cases of their countries, the
manager leads), rules routing by country and by product, and believable cases on the
demo accounts in Greek, Romanian, Polish and English, a few of them further along."""

from __future__ import annotations

import click
from sqlalchemy import func, select

from kyklos_sdk import create_record, find_user, get_entity_type, update_record

from .models import Case
from .service import ensure_types

TEAMS = [
    (
        "First-line support",
        "manager@example.com",
        ["rep.gr@example.com", "rep.ro@example.com", "rep.pl@example.com"],
    ),
    ("Software support", "manager@example.com", ["rep.gr@example.com"]),
]

#: (country, type code, priority, channel, subject, description, final status)
CASES = [
    (
        "GR",
        "complaint",
        "high",
        "phone",
        "Λάδι με θολή όψη στην παρτίδα 2417",
        "Ο πελάτης αναφέρει ότι τα δοχεία των 5 λίτρων της τελευταίας παράδοσης έχουν θολή "
        "όψη. Ζητά αντικατάσταση ή πιστωτικό.",
        "assigned",
    ),
    (
        "GR",
        "question",
        "normal",
        "email",
        "Πότε έρχεται η επόμενη παραγγελία;",
        "Ερώτηση για την ημερομηνία παράδοσης της παραγγελίας του Μαρτίου.",
        "resolved",
    ),
    (
        "GR",
        "incident",
        "urgent",
        "phone",
        "Το CRM δεν ανοίγει μετά την ενημέρωση",
        "Μετά την ενημέρωση της Δευτέρας κανείς χρήστης δεν μπορεί να συνδεθεί.",
        "new",
    ),
    (
        "RO",
        "request",
        "normal",
        "email",
        "Cerere de factură corectată",
        "Clientul solicită reemiterea facturii cu codul fiscal corect.",
        "waiting",
    ),
    (
        "RO",
        "complaint",
        "high",
        "webform",
        "Colete deteriorate la livrare",
        "Trei cutii de ulei au ajuns sparte; clientul a trimis fotografii.",
        "new",
    ),
    (
        "PL",
        "question",
        "low",
        "portal",
        "Jak zmienić adres dostawy?",
        "Klient pyta, jak zmienić adres dostawy dla kolejnych zamówień.",
        "closed",
    ),
    (
        "PL",
        "incident",
        "high",
        "phone",
        "Brak synchronizacji kalendarza",
        "Spotkania z CRM nie pojawiają się w kalendarzu Outlook od wczoraj.",
        "assigned",
    ),
    (
        None,
        "request",
        "normal",
        "email",
        "Training day for new staff",
        "The customer asks for a training day on site for four new users next month.",
        "new",
    ),
]

#: SLA policies: (name, priority or None for any, first response h, resolution h)
SLA = [
    ("Urgent: 1 h / 4 h", "urgent", 1, 4),
    ("High: 2 h / 16 h", "high", 2, 16),
    ("Standard: 8 h / 40 h", None, 8, 40),
]

#: the workflow steps that bring a new case to its final demo status
PATHS = {
    "new": [],
    "assigned": ["assigned"],
    "waiting": ["assigned", "waiting"],
    "resolved": ["assigned", "resolved"],
    "closed": ["assigned", "resolved", "closed"],
}


#: the product (catalog demo code) and serial or batch number a case is about, so that
#: the service history and the failures report have something to show
ABOUT = {
    "Λάδι με θολή όψη στην παρτίδα 2417": ("OIL-EV-5L", "2417"),
    "Το CRM δεν ανοίγει μετά την ενημέρωση": ("SW-CRM-USER", "CRM-GR-0042"),
    "Colete deteriorate la livrare": ("OIL-EV-1L", "2409"),
    "Brak synchronizacji kalendarza": ("SW-CRM-USER", "CRM-PL-0007"),
}
#: parts and work used on a case: (case subject, product code, quantity, labour hours)
PARTS = [
    ("Λάδι με θολή όψη στην παρτίδα 2417", "OIL-EV-5L", "2", "0.5"),
    ("Το CRM δεν ανοίγει μετά την ενημέρωση", "SRV-SETUP", "1", "2"),
]


def _products(request) -> dict[str, int]:
    """``{code: id}`` of the catalog demo's products (empty without them)."""
    model = get_entity_type(request, "product").model
    codes = {code for code, _serial in ABOUT.values()} | {code for _s, code, _q, _h in PARTS}
    rows = request.dbsession.execute(select(model.sku, model.id).where(model.sku.in_(codes)))
    return dict(rows.all())


def _parts(request, cases: dict[str, int], products: dict[str, int]) -> int:
    et = get_entity_type(request, "partusage")
    made = 0
    for subject, code, quantity, hours in PARTS:
        if subject not in cases or code not in products:
            continue
        data = {"case_id": cases[subject], "product_id": products[code], "quantity": quantity}
        if hours != "0":
            data.update(labour_hours=hours, labour_rate={"amount": "45.00", "currency": "EUR"})
        create_record(request, et, data, source="demo")
        made += 1
    return made


def demo_data(env, size: int) -> None:
    from kyklos_contacts.models import Account

    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count(Case.id))).scalar_one():
            click.echo("helpdesk: the database already has cases; demo data skipped")
            return
        manager = find_user(db, "manager@example.com")
        if manager is None or not hasattr(env, "request_as"):
            click.echo("helpdesk: no demo users; demo data skipped")
            return
        manager_id = manager.id
        users = {}
        for _team, lead, members in TEAMS:
            for email in [lead, *members]:
                u = find_user(db, email)
                if u is not None:
                    users[email] = u.id
        accounts = {}
        for country in ("GR", "RO", "PL"):
            accounts[country] = (
                db.execute(
                    select(Account.id)
                    .where(Account.country == country, Account.deleted_at.is_(None))
                    .order_by(Account.id)
                    .limit(3)
                )
                .scalars()
                .all()
            )
        any_account = db.execute(select(Account.id).order_by(Account.id).limit(1)).scalar()
        types = ensure_types(db)
    count = 0
    with env.request_as(manager_id) as request:
        # SLA (HD-03/04): the teams work Athens office hours, Greek holidays off
        hours = create_record(
            request,
            get_entity_type(request, "businesshours"),
            {"name": "Athens office", "timezone": "Europe/Athens", "country": "GR"},
            source="demo",
        )
        for pos, (name, priority, first, resolution) in enumerate(SLA, start=1):
            create_record(
                request,
                get_entity_type(request, "slapolicy"),
                {
                    "name": name,
                    "position": pos,
                    "priority": priority,
                    "first_response_hours": first,
                    "resolution_hours": resolution,
                },
                source="demo",
            )
        teams = {}
        for name, lead, members in TEAMS:
            team = create_record(
                request,
                get_entity_type(request, "supportteam"),
                {"name": name, "lead_id": users.get(lead), "hours_id": hours.id},
                source="demo",
            )
            teams[name] = team.id
            for email in members:
                if email in users:
                    create_record(
                        request,
                        get_entity_type(request, "supportteammember"),
                        {"team_id": team.id, "user_id": users[email]},
                        source="demo",
                    )
        rules = get_entity_type(request, "caserule")
        create_record(
            request,
            rules,
            {
                "name": "Incidents to software support",
                "position": 1,
                "type_id": types.get("incident"),
                "team_id": teams["Software support"],
            },
            source="demo",
        )
        for pos, (country, email) in enumerate(
            (
                ("GR", "rep.gr@example.com"),
                ("RO", "rep.ro@example.com"),
                ("PL", "rep.pl@example.com"),
            ),
            start=2,
        ):
            create_record(
                request,
                rules,
                {
                    "name": f"{country} customers",
                    "position": pos,
                    "country": country,
                    "team_id": teams["First-line support"],
                    "assignee_id": users.get(email),
                },
                source="demo",
            )
        create_record(
            request,
            rules,
            {"name": "Everything else", "position": 9, "team_id": teams["First-line support"]},
            source="demo",
        )
        et = get_entity_type(request, "case")
        products = _products(request)
        made: dict[str, int] = {}
        seen: dict[str, int] = {}
        for country, code, priority, channel, subject, desc, final in CASES:
            pool = accounts.get(country) or []
            idx = seen.get(country or "", 0)
            seen[country or ""] = idx + 1
            account = pool[idx % len(pool)] if pool else any_account
            case = create_record(
                request,
                et,
                {
                    "subject": subject,
                    "description": desc,
                    "type_id": types.get(code),
                    "priority": priority,
                    "channel": channel,
                    "account_id": account,
                    **(
                        {
                            "product_id": products[ABOUT[subject][0]],
                            "serial_number": ABOUT[subject][1],
                        }
                        if subject in ABOUT and ABOUT[subject][0] in products
                        else {}
                    ),
                },
                source="demo",
            )
            made[subject] = case.id
            for status in PATHS[final]:
                update_record(request, et, case, {"status": status}, source="demo")
            count += 1
        parts = _parts(request, made, products)
    with env.request_as(manager_id) as request:
        from .kb import demo_articles

        articles = demo_articles(request)
    click.echo(
        f"helpdesk: {len(TEAMS)} teams, {count} cases, {parts} parts used, {articles} articles"
    )

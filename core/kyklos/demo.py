"""Demo users shared by every plugin's demo data, and the sales team's org chart.

The manager heads a "Sales" department with one team per country below it, each rep
in their country's team: the ``subtree`` record rules of the manager role then show her
the reps' records (their activities, above all) as soon as the demo data is loaded,
without an administrator building the org chart first.
"""

from __future__ import annotations

import click
from sqlalchemy import select

DEMO_PASSWORD = "kyklos-demo-2026"  # noqa: S105 - printed by `kyklos demo-data`; demo databases only
DEMO_USERS = [
    ("manager@example.com", "Maria Papadopoulou", "manager"),
    ("rep.gr@example.com", "Giorgos Nikolaou", "sales"),
    ("rep.ro@example.com", "Andrei Popescu", "sales"),
    ("rep.pl@example.com", "Anna Kowalska", "sales"),
]
#: each demo user's time zone: activities are planned in the owner's working hours
DEMO_TIMEZONES = {
    "manager@example.com": "Europe/Athens",
    "rep.gr@example.com": "Europe/Athens",
    "rep.ro@example.com": "Europe/Bucharest",
    "rep.pl@example.com": "Europe/Warsaw",
}
#: the org chart: the manager's department, and one team per rep below it
SALES_DEPARTMENT = "Sales"
DEMO_TEAMS = [
    ("Sales Greece", "rep.gr@example.com"),
    ("Sales Romania", "rep.ro@example.com"),
    ("Sales Poland", "rep.pl@example.com"),
]


def core_demo_data(env, size: int) -> None:
    from kyklos.jobs import job_request
    from kyklos.security.models import Role, User
    from kyklos.security.passwords import hash_password

    # What the plugins' demo loaders use to write as a demo user (a request with that
    # user's identity, committed when the block ends): the record's history then says
    # "Giorgos Nikolaou created" rather than nobody.
    env.request_as = lambda user_id: job_request(env.registry, user_id)

    with env.request() as request:
        db = request.dbsession
        roles = {r.name: r for r in db.execute(select(Role)).scalars()}
        hashed = hash_password(DEMO_PASSWORD)
        for email, name, role in DEMO_USERS:
            if db.execute(select(User).where(User.email == email)).scalar_one_or_none():
                continue
            user_roles = [roles[r] for r in (role, "user") if r in roles]
            db.add(
                User(
                    email=email,
                    name=name,
                    password_hash=hashed,
                    roles=user_roles,
                    timezone=DEMO_TIMEZONES.get(email, "Europe/Athens"),
                )
            )
        db.flush()
        teams = org_chart(db)
    click.echo(f"demo users: {', '.join(u[0] for u in DEMO_USERS)} (password {DEMO_PASSWORD})")
    if teams:
        click.echo(f"org chart: {SALES_DEPARTMENT} ({', '.join(teams)})")


def org_chart(db) -> list[str]:
    """The demo sales department, managed by the demo manager, with a team per rep.
    Nothing is changed when a department of that name exists (an administrator's org
    chart is theirs). Returns the teams created."""
    from kyklos.security.models import Department, User
    from kyklos.security.org import assign_user, create_department

    if (
        db.execute(select(Department.id).where(Department.name == SALES_DEPARTMENT)).first()
        is not None
    ):
        return []
    users = {
        u.email: u
        for u in db.execute(
            select(User).where(User.email.in_([e for e, _n, _r in DEMO_USERS]))
        ).scalars()
    }
    manager = next((users.get(e) for e, _n, r in DEMO_USERS if r == "manager"), None)
    if manager is None:
        return []
    sales = create_department(db, SALES_DEPARTMENT, manager_id=manager.id)
    if manager.department_id is None:
        assign_user(db, manager, {"department_id": sales.id})
    made = []
    for name, email in DEMO_TEAMS:
        team = create_department(db, name, parent_id=sales.id, manager_id=manager.id)
        made.append(name)
        rep = users.get(email)
        if rep is not None and rep.department_id is None:
            assign_user(db, rep, {"department_id": team.id})
    return made

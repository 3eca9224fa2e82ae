"""Demo users shared by every plugin's demo data."""

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


def core_demo_data(env, size: int) -> None:
    from kyklos.security.models import Role, User
    from kyklos.security.passwords import hash_password

    with env.request() as request:
        db = request.dbsession
        roles = {r.name: r for r in db.execute(select(Role)).scalars()}
        hashed = hash_password(DEMO_PASSWORD)
        for email, name, role in DEMO_USERS:
            if db.execute(select(User).where(User.email == email)).scalar_one_or_none():
                continue
            user_roles = [roles[r] for r in (role, "user") if r in roles]
            db.add(User(email=email, name=name, password_hash=hashed, roles=user_roles))
    click.echo(f"demo users: {', '.join(u[0] for u in DEMO_USERS)} (password {DEMO_PASSWORD})")

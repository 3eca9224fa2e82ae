"""a support contract's maintenance visit frequency (HD-11); business hours per
weekday: the one span for all working days (opens, closes and a flag per day) becomes a
list of spans per weekday (``week``), existing rows migrated

Revision ID: helpdesk_0007
Revises: helpdesk_0004
"""

import json

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0007"
down_revision = "helpdesk_0006"
branch_labels = None
depends_on = None

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def upgrade():
    with op.batch_alter_table("helpdesk_contract") as batch:
        batch.add_column(sa.Column("visit_frequency", sa.String(12), nullable=True))
    with op.batch_alter_table("helpdesk_businesshours") as batch:
        batch.add_column(sa.Column("week", kyklos_sdk.JSONType(), nullable=True))
    conn = op.get_bind()
    table = sa.table(
        "helpdesk_businesshours",
        sa.column("id", sa.Integer()),
        sa.column("week", kyklos_sdk.JSONType()),
        sa.column("opens", sa.String()),
        sa.column("closes", sa.String()),
        *[sa.column(d, sa.Boolean()) for d in DAYS],
    )
    for row in conn.execute(sa.select(table)).mappings().all():
        # each working day keeps the one span the record had for all of them
        week = [{"day": d, "opens": row["opens"], "closes": row["closes"]} for d in DAYS if row[d]]
        conn.execute(table.update().where(table.c.id == row["id"]).values(week=week))
    with op.batch_alter_table("helpdesk_businesshours") as batch:
        batch.alter_column("week", existing_type=kyklos_sdk.JSONType(), nullable=False)
        for name in ("opens", "closes", *DAYS):
            batch.drop_column(name)


def downgrade():
    with op.batch_alter_table("helpdesk_businesshours") as batch:
        batch.add_column(sa.Column("opens", sa.String(5), nullable=False, server_default="09:00"))
        batch.add_column(sa.Column("closes", sa.String(5), nullable=False, server_default="17:00"))
        for d in DAYS:
            batch.add_column(sa.Column(d, sa.Boolean(), nullable=False, server_default=sa.false()))
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT id, week FROM helpdesk_businesshours")).all()
    for hid, week in rows:
        week = json.loads(week) if isinstance(week, str) else (week or [])
        # one span for all days: the first span of the week, its days on
        first = week[0] if week else {"opens": "09:00", "closes": "17:00"}
        values = {"opens": first["opens"], "closes": first["closes"], "id": hid}
        on = {s["day"] for s in week}
        sets = ", ".join(f"{d} = {'true' if d in on else 'false'}" for d in DAYS)
        conn.execute(
            sa.text(
                f"UPDATE helpdesk_businesshours SET opens = :opens, closes = :closes, {sets} "
                "WHERE id = :id"
            ),
            values,
        )
    with op.batch_alter_table("helpdesk_businesshours") as batch:
        batch.drop_column("week")
    with op.batch_alter_table("helpdesk_contract") as batch:
        batch.drop_column("visit_frequency")

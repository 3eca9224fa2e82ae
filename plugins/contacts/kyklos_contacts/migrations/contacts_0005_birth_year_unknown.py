"""contacts: birthdays whose year is unknown (vCard ``BDAY:--0203``) say so

Revision ID: contacts_0005
Revises: contacts_0004
Created: 2026-12-06
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "contacts_0005"
down_revision = "contacts_0004"
branch_labels = None
depends_on = None

person = sa.table(
    "contacts_person", sa.column("birth_date", sa.Date), sa.column("birth_year_unknown", sa.Boolean)
)


def upgrade():
    with op.batch_alter_table("contacts_person", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("birth_year_unknown", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # Imports before this revision kept a day and month without a year as 1604-MM-DD.
    op.execute(
        person.update()
        .where(person.c.birth_date.between(dt.date(1604, 1, 1), dt.date(1604, 12, 31)))
        .values(birth_year_unknown=True)
    )


def downgrade():
    with op.batch_alter_table("contacts_person", schema=None) as batch_op:
        batch_op.drop_column("birth_year_unknown")

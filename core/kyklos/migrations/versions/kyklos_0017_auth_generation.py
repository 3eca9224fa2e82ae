"""the authorisation generation counter: a process-wide cache of roles' rules, the org
chart and owner lists is keyed by it, and every write that changes them bumps it

Revision ID: kyklos_0017
Revises: kyklos_0016
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "kyklos_0017"
down_revision = "kyklos_0016"
branch_labels = None
depends_on = None


def upgrade():
    table = op.create_table(
        "kyklos_auth_generation",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    # a random start: caches of two databases (a restored copy) never share a key
    op.bulk_insert(table, [{"id": 1, "value": secrets.randbelow(2**62) + 1}])


def downgrade():
    op.drop_table("kyklos_auth_generation")

"""what each type's search rows and duplicate keys were built from: kyklos migrate
rebuilds a type's rows when an upgrade changes its searchable fields or rules

Revision ID: kyklos_0018
Revises: kyklos_0017
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0018"
down_revision = "kyklos_0017"
branch_labels = None
depends_on = None


def upgrade():
    # empty: the first `kyklos migrate` after this revision rebuilds every type's rows
    # once (nothing says what they were built from) and records the digests
    op.create_table(
        "kyklos_search_definition",
        sa.Column("entity", sa.String(length=64), primary_key=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("kyklos_search_definition")

"""sfa: an index (deleted_at, owner_id) on opportunities and leads for counts under record rules

A list's exact count for a rep, a team lead or a manager (``deleted_at IS NULL AND
owner_id IN (...)``, ``NOT IN`` or ``IS NOT NULL``) read every wide row; with this index
it reads the index alone, as the administrator's count does (issue #19,
``kyklos_sdk.owner_count_index``).

Revision ID: sfa_0006
Revises: sfa_0005
Created: 2026-12-07
"""

from alembic import op

revision = "sfa_0006"
down_revision = "sfa_0005"
branch_labels = None
depends_on = None

TABLES = ("sfa_opportunity", "sfa_lead")


def upgrade():
    for table in TABLES:
        op.create_index(f"ix_{table}_deleted_owner", table, ["deleted_at", "owner_id"])


def downgrade():
    for table in TABLES:
        op.drop_index(f"ix_{table}_deleted_owner", table_name=table)

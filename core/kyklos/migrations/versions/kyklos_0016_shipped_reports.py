"""saved reports a plugin ships (hook kyklos_report_definitions) keep the key of
their definition, once

Revision ID: kyklos_0016
Revises: kyklos_0015
"""

import sqlalchemy as sa
from alembic import op

revision = "kyklos_0016"
down_revision = "kyklos_0015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kyklos_report") as batch:
        batch.add_column(sa.Column("shipped_key", sa.String(100), nullable=True))
        batch.create_unique_constraint("uq_kyklos_report_shipped_key", ["shipped_key"])


def downgrade():
    with op.batch_alter_table("kyklos_report") as batch:
        batch.drop_constraint("uq_kyklos_report_shipped_key", type_="unique")
        batch.drop_column("shipped_key")

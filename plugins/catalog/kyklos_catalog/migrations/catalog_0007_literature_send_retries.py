"""a literature send that failed for a moment (SMTP 4xx, server down) waits for its
next attempt: the time of that attempt and how many automatic retries it has had

Revision ID: catalog_0007
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0007"
down_revision = "catalog_0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_literature_send") as batch:
        batch.add_column(sa.Column("next_attempt_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("retries", sa.Integer(), nullable=False, server_default="0"))
        # "retrying" is 8 letters: the column (10) holds it


def downgrade():
    # a send waiting for its retry has no job that a downgraded app would run: failed
    op.execute("UPDATE catalog_literature_send SET state = 'failed' WHERE state = 'retrying'")
    with op.batch_alter_table("catalog_literature_send") as batch:
        batch.drop_column("retries")
        batch.drop_column("next_attempt_at")

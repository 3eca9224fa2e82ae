"""sales literature sends go through the job queue: each send keeps its state (queued,
sent, failed with the reason), the documents and subject to send, and its attempts

Revision ID: catalog_0006
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0006"
down_revision = "catalog_0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_literature_send") as batch:
        batch.add_column(sa.Column("state", sa.String(10), nullable=False, server_default="sent"))
        batch.add_column(sa.Column("error", sa.Text()))
        batch.add_column(sa.Column("subject", sa.String(998)))
        batch.add_column(sa.Column("literature_ids", kyklos_sdk.JSONType()))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("delivered_at", kyklos_sdk.UTCDateTime()))
        batch.create_index("ix_catalog_literature_send_state", ["state"])
    # the sends logged before the outbox went out inside their request
    op.execute(
        "UPDATE catalog_literature_send SET delivered_at = sent_at, attempts = 1 "
        "WHERE state = 'sent'"
    )


def downgrade():
    with op.batch_alter_table("catalog_literature_send") as batch:
        batch.drop_index("ix_catalog_literature_send_state")
        for name in ("delivered_at", "attempts", "literature_ids", "subject", "error", "state"):
            batch.drop_column(name)

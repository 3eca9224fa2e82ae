"""a staff reply on a case e-mailed to the customer: whether to send it, its delivery
state (queued, sent, failed and why), the address and when; the Message-ID it went out
with (or the one a customer's e-mailed answer came with), which threads answers back

Revision ID: helpdesk_0008
Revises: helpdesk_0007
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0008"
down_revision = "helpdesk_0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("helpdesk_casereply") as batch:
        batch.add_column(
            sa.Column("send_email", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("email_state", sa.String(10), nullable=True))
        batch.add_column(sa.Column("email_error", sa.String(500), nullable=True))
        batch.add_column(sa.Column("email_to", sa.String(320), nullable=True))
        batch.add_column(sa.Column("emailed_at", kyklos_sdk.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("message_id", sa.String(300), nullable=True))
        batch.create_index("ix_helpdesk_casereply_message_id", ["message_id"])


def downgrade():
    with op.batch_alter_table("helpdesk_casereply") as batch:
        batch.drop_index("ix_helpdesk_casereply_message_id")
        for name in (
            "message_id",
            "emailed_at",
            "email_to",
            "email_error",
            "email_state",
            "send_email",
        ):
            batch.drop_column(name)

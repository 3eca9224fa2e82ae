"""bounced recipients: an explicit "bounced" state with its time, and soft bounces counted

Revision ID: campaigns_0003
Revises: campaigns_0002
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "campaigns_0003"
down_revision = "campaigns_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("campaigns_recipient") as batch:
        batch.add_column(sa.Column("bounced_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(
            sa.Column("soft_bounces", sa.Integer(), nullable=False, server_default="0")
        )
    # a hard bounce used to be "failed" with the reason prefixed "bounced": the rows
    # that bounced before are told apart from those the SMTP server refused
    recipient = sa.table(
        "campaigns_recipient",
        sa.column("state", sa.String),
        sa.column("error", sa.String),
        sa.column("bounced_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    op.execute(
        recipient.update()
        .where(recipient.c.state == "failed", recipient.c.error.like("bounced%"))
        .values(state="bounced", bounced_at=recipient.c.updated_at)
    )


def downgrade():
    recipient = sa.table("campaigns_recipient", sa.column("state", sa.String))
    op.execute(recipient.update().where(recipient.c.state == "bounced").values(state="failed"))
    with op.batch_alter_table("campaigns_recipient") as batch:
        batch.drop_column("soft_bounces")
        batch.drop_column("bounced_at")

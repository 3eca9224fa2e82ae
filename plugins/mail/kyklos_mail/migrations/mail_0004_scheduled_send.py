"""mail: messages scheduled to be sent later

Revision ID: mail_0004
Revises: mail_0003
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0004"
down_revision = "mail_0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mail_scheduled",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_user.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "mailbox_id",
            sa.Integer(),
            sa.ForeignKey("mail_mailbox.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("data", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("send_at", kyklos_sdk.UTCDateTime(), nullable=False, index=True),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("mail_id", sa.Integer(), sa.ForeignKey("mail_message.id", ondelete="SET NULL")),
        sa.Column("job_id", sa.String(64)),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("mail_scheduled")

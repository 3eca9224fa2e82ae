"""initial: the gateway's settings and the messages (the outbox)

Revision ID: sms_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "sms_0001"
down_revision = None
branch_labels = ("sms",)
depends_on = None


def _entity_columns():
    """The columns EntityMixin gives every entity table."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_user.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column(
            "updated_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "sms_gateway",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(300), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("password_secret", sa.Text(), nullable=False),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("per_minute", sa.Integer(), nullable=False),
        sa.Column("callback_base", sa.String(300), nullable=False),
        sa.Column("inbound_token", sa.String(64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    )
    op.create_table(
        "sms_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        *_entity_columns(),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("number", sa.String(20), nullable=False, index=True),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(4), nullable=False),
        sa.Column("parts", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("gateway_id", sa.String(80)),
        sa.Column("error", sa.Text()),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("queued_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("sending_at", kyklos_sdk.UTCDateTime()),
        sa.Column("sent_at", kyklos_sdk.UTCDateTime(), index=True),
        sa.Column("delivered_at", kyklos_sdk.UTCDateTime()),
    )
    op.create_index("ix_sms_message_state", "sms_message", ["state", "id"])
    op.create_index("ix_sms_message_gateway", "sms_message", ["gateway_id"])


def downgrade():
    op.drop_index("ix_sms_message_gateway", table_name="sms_message")
    op.drop_index("ix_sms_message_state", table_name="sms_message")
    op.drop_table("sms_message")
    op.drop_table("sms_gateway")

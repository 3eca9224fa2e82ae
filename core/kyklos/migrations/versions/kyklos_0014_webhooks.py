"""outbound webhooks and their deliveries (issue #17)

Revision ID: kyklos_0014
Revises: kyklos_0013
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0014"
down_revision = "kyklos_0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kyklos_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("events", kyklos.db.JSONType(), nullable=False),
        sa.Column("secret", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_webhook_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_webhook")),
    )
    op.create_table(
        "kyklos_webhook_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=150), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["kyklos_webhook.id"],
            name=op.f("fk_kyklos_webhook_delivery_webhook_id_kyklos_webhook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_webhook_delivery")),
    )
    op.create_index(
        "ix_kyklos_webhook_delivery_webhook_at",
        "kyklos_webhook_delivery",
        ["webhook_id", "created_at"],
        unique=False,
    )


def downgrade():
    op.drop_index("ix_kyklos_webhook_delivery_webhook_at", table_name="kyklos_webhook_delivery")
    op.drop_table("kyklos_webhook_delivery")
    op.drop_table("kyklos_webhook")

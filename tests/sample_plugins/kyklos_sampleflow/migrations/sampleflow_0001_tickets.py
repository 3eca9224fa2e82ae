"""tickets

Revision ID: sampleflow_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "sampleflow_0001"
down_revision = None
branch_labels = ("sampleflow",)
depends_on = None


def upgrade():
    op.create_table(
        "sampleflow_ticket",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("status", sa.String(30)),
        sa.Column("due_at", kyklos_sdk.UTCDateTime()),
        sa.Column("due_on", sa.Date()),
        sa.Column("closed_on", sa.Date()),
        sa.Column("amount", sa.Integer()),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("sampleflow_ticket.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column(
            "owner_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column(
            "updated_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
    )


def downgrade():
    op.drop_table("sampleflow_ticket")

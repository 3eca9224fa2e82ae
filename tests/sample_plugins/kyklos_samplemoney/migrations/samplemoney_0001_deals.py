"""deals

Revision ID: samplemoney_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "samplemoney_0001"
down_revision = None
branch_labels = ("samplemoney",)
depends_on = None


def upgrade():
    op.create_table(
        "samplemoney_deal",
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("value", sa.Numeric(12, 2)),
        sa.Column("value_currency", sa.String(3)),
        sa.Column("closes_on", sa.Date()),
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
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("samplemoney_deal")

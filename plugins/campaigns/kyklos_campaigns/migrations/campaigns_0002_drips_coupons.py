"""coupons: one code per campaign and person, redeemed once

Revision ID: campaigns_0002
Revises: campaigns_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "campaigns_0002"
down_revision = "campaigns_0001"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"


def upgrade():
    op.create_table(
        "campaigns_coupon",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_campaign.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("code", sa.String(20), nullable=False, unique=True),
        sa.Column("expires_at", kyklos_sdk.UTCDateTime()),
        sa.Column("redeemed_at", kyklos_sdk.UTCDateTime(), index=True),
        sa.Column("redeemed_by_id", sa.Integer()),
        sa.Column("reference", sa.String(100)),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("campaign_id", "person_id", name="campaigns_coupon_once"),
    )


def downgrade():
    op.drop_table("campaigns_coupon")

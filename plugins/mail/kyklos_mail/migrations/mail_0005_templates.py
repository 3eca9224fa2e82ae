"""mail: e-mail templates per language with merge fields

Revision ID: mail_0005
Revises: mail_0004
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0005"
down_revision = "mail_0004"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"


def upgrade():
    op.create_table(
        "mail_template",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(900), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
    )


def downgrade():
    op.drop_table("mail_template")

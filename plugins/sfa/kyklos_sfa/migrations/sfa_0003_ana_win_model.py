"""the win-probability model (issue #24)

Revision ID: sfa_0003
Revises: sfa_0002
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "sfa_0003"
down_revision = "sfa_0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sfa_win_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("trained_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("deals", sa.Integer(), nullable=False),
        sa.Column("base_rate", sa.Float(), nullable=False),
        sa.Column("params", kyklos_sdk.JSONType(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_win_model")),
    )
    with op.batch_alter_table("sfa_win_model") as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_win_model_trained_at"), ["trained_at"])


def downgrade():
    op.drop_table("sfa_win_model")

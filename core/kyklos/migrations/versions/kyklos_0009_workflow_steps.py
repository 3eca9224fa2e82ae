"""workflow sub-steps ticked off per record (WF-01)

Revision ID: kyklos_0009
Revises: kyklos_0008
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0009"
down_revision = "kyklos_0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kyklos_workflow_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=100), nullable=False),
        sa.Column("step", sa.String(length=100), nullable=False),
        sa.Column("done_by_id", sa.Integer(), nullable=True),
        sa.Column("done_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["done_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_workflow_step_done_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_workflow_step")),
        sa.UniqueConstraint(
            "entity",
            "record_id",
            "state",
            "step",
            name=op.f("uq_kyklos_workflow_step_entity_record_id_state_step"),
        ),
    )


def downgrade():
    op.drop_table("kyklos_workflow_step")

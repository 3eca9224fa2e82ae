"""activities: exceptions of recurring activities (series_id, recurrence_id)

Revision ID: activities_0002
Revises: activities_0001
Created: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "activities_0002"
down_revision = "activities_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activities_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("series_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("recurrence_id", kyklos_sdk.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_activities_activity_series_id_activities_activity"),
            "activities_activity", ["series_id"], ["id"], ondelete="SET NULL",
        )
        batch_op.create_index(batch_op.f("ix_activities_activity_series_id"), ["series_id"],
                              unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_activities_activity_series_id_recurrence_id"), ["series_id", "recurrence_id"]
        )


def downgrade():
    with op.batch_alter_table("activities_activity", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_activities_activity_series_id_recurrence_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_activities_activity_series_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_activities_activity_series_id_activities_activity"),
            type_="foreignkey",
        )
        batch_op.drop_column("recurrence_id")
        batch_op.drop_column("series_id")

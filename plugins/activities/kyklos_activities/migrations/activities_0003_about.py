"""activities: what an activity is about (about_type, about_id), for any entity type
declared with about=True

Revision ID: activities_0003
Revises: activities_0002
Created: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "activities_0003"
down_revision = "activities_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activities_activity", schema=None) as batch_op:
        batch_op.add_column(sa.Column("about_type", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("about_id", sa.Integer(), nullable=True))
        batch_op.create_index(
            "ix_activities_activity_about", ["about_type", "about_id"], unique=False
        )
    # Activities written before: about their person, else their account.
    op.execute(
        "UPDATE activities_activity SET about_type = 'person', about_id = person_id "
        "WHERE about_type IS NULL AND person_id IS NOT NULL"
    )
    op.execute(
        "UPDATE activities_activity SET about_type = 'account', about_id = account_id "
        "WHERE about_type IS NULL AND account_id IS NOT NULL"
    )


def downgrade():
    with op.batch_alter_table("activities_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_activities_activity_about")
        batch_op.drop_column("about_id")
        batch_op.drop_column("about_type")

"""activities: extra occurrences (iCalendar RDATE) and attendees matched to no user,
person or resource (kept with their name and e-mail)

Revision ID: activities_0004
Revises: activities_0003
Created: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "activities_0004"
down_revision = "activities_0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("activities_activity", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rdates", kyklos_sdk.JSONType(), nullable=False, server_default="[]")
        )
        batch_op.add_column(
            sa.Column(
                "external_attendees", kyklos_sdk.JSONType(), nullable=False, server_default="[]"
            )
        )


def downgrade():
    with op.batch_alter_table("activities_activity", schema=None) as batch_op:
        batch_op.drop_column("external_attendees")
        batch_op.drop_column("rdates")

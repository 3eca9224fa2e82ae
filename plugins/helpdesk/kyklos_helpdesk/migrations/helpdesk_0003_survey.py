"""satisfaction survey (HD-16): when a case's survey went out, its rating and comment

Revision ID: helpdesk_0003
Revises: helpdesk_0002
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0003"
down_revision = "helpdesk_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("helpdesk_case") as batch:
        batch.add_column(sa.Column("survey_sent_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("rating", sa.Integer()))
        batch.add_column(sa.Column("rating_comment", sa.Text()))
        batch.add_column(sa.Column("rated_at", kyklos_sdk.UTCDateTime()))
        batch.create_index("ix_helpdesk_case_rating", ["rating"])


def downgrade():
    with op.batch_alter_table("helpdesk_case") as batch:
        batch.drop_index("ix_helpdesk_case_rating")
        for name in ("rated_at", "rating_comment", "rating", "survey_sent_at"):
            batch.drop_column(name)

"""mail: optional tracking of opens and clicks of a sent message (off by default)

Revision ID: mail_0008
Revises: mail_0007
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0008"
down_revision = "mail_0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_message") as batch:
        batch.add_column(sa.Column("track_key", sa.String(32)))
        batch.add_column(sa.Column("opened_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("opens", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("clicked_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("clicks", sa.Integer(), nullable=False, server_default="0"))
        batch.create_unique_constraint("uq_mail_message_track_key", ["track_key"])


def downgrade():
    with op.batch_alter_table("mail_message") as batch:
        batch.drop_constraint("uq_mail_message_track_key", type_="unique")
        for name in ("clicks", "clicked_at", "opens", "opened_at", "track_key"):
            batch.drop_column(name)

"""mail: the drop-box (a mailbox marked as such, a personal address per user, ACT-02);
rule conditions on the body and on a header (ACT-15), with the headers of received
messages kept so that a rule's test can read them

Revision ID: mail_0006
Revises: mail_0005
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0006"
down_revision = "mail_0005"
branch_labels = None
depends_on = None


USER = "kyklos_user.id"


def upgrade():
    with op.batch_alter_table("mail_mailbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("dropbox", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "mail_dropbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(USER, ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("token", sa.String(32), nullable=False, unique=True),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
    )
    with op.batch_alter_table("mail_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("body_contains", sa.String(200)))
        batch_op.add_column(sa.Column("header_name", sa.String(100)))
        batch_op.add_column(sa.Column("header_op", sa.String(8)))
        batch_op.add_column(sa.Column("header_value", sa.String(254)))
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("headers", kyklos_sdk.JSONType()))


def downgrade():
    op.drop_table("mail_dropbox")
    with op.batch_alter_table("mail_mailbox", schema=None) as batch_op:
        batch_op.drop_column("dropbox")
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_column("headers")
    with op.batch_alter_table("mail_rule", schema=None) as batch_op:
        batch_op.drop_column("header_value")
        batch_op.drop_column("header_op")
        batch_op.drop_column("header_name")
        batch_op.drop_column("body_contains")

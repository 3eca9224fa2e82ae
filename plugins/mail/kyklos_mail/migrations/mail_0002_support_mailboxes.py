"""mail: a mailbox marked "support" turns what it receives into cases (through the hook
``kyklos_mail_support_message`` another plugin implements)

Revision ID: mail_0002
Revises: mail_0001
Created: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "mail_0002"
down_revision = "mail_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_mailbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("support", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("mail_mailbox", schema=None) as batch_op:
        batch_op.drop_column("support")

"""contacts: what address books keep beside the name (nickname, role, further web
addresses, messenger handles)

Revision ID: contacts_0004
Revises: contacts_0003
Created: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "contacts_0004"
down_revision = "contacts_0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contacts_person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("nickname", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("job_role", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("urls", kyklos_sdk.JSONType(), nullable=False,
                                      server_default="[]"))
        batch_op.add_column(sa.Column("messengers", kyklos_sdk.JSONType(), nullable=False,
                                      server_default="[]"))


def downgrade():
    with op.batch_alter_table("contacts_person", schema=None) as batch_op:
        for name in ("messengers", "urls", "job_role", "nickname"):
            batch_op.drop_column(name)

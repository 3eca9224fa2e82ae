"""jobs, workflows, approvals, automation, notifications

Revision ID: kyklos_0005
Revises: kyklos_0004
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import kyklos.db  # noqa: F401

revision = "kyklos_0005"
down_revision = "kyklos_0004"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

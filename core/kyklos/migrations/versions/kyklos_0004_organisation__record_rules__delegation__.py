"""organisation, record rules, delegation, security log

Revision ID: kyklos_0004
Revises: kyklos_0003
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import kyklos.db  # noqa: F401

revision = "kyklos_0004"
down_revision = "kyklos_0003"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

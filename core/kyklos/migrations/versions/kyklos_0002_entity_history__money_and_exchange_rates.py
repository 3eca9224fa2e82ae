"""entity history, money and exchange rates

Revision ID: kyklos_0002
Revises: kyklos_0001
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import kyklos.db  # noqa: F401

revision = "kyklos_0002"
down_revision = "kyklos_0001"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""attachments, tags, saved views, search index

Revision ID: kyklos_0003
Revises: kyklos_0002
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

import kyklos.db  # noqa: F401

revision = "kyklos_0003"
down_revision = "kyklos_0002"
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

"""product names per language: quote lines take the name in the quote's language

Revision ID: catalog_0002
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0002"
down_revision = "catalog_0001"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_translations", kyklos_sdk.JSONType(), nullable=True))


def downgrade():
    with op.batch_alter_table("catalog_product", schema=None) as batch_op:
        batch_op.drop_column("name_translations")

"""product descriptions per language: a quote written in Greek takes the Greek one

The existing descriptions stay in ``description`` (the text for every other language).

Revision ID: catalog_0009
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0009"
down_revision = "catalog_0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_product", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("description_translations", kyklos_sdk.JSONType(), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("catalog_product", schema=None) as batch_op:
        batch_op.drop_column("description_translations")

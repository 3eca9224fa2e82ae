"""quote lines get details: the product's description in the quote's language

Revision ID: sfa_0005
Revises: sfa_0004
"""

import sqlalchemy as sa
from alembic import op

revision = "sfa_0005"
down_revision = "sfa_0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sfa_quote_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("sfa_quote_line", schema=None) as batch_op:
        batch_op.drop_column("details")

"""offer template lines get details: text a rep wrote under a quote line survives
"save as template"

Revision ID: sfa_0007
Revises: sfa_0006
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "sfa_0007"
down_revision = "sfa_0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("sfa_quote_template_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("sfa_quote_template_line", schema=None) as batch_op:
        batch_op.drop_column("details")

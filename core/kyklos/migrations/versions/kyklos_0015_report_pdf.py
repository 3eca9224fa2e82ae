"""scheduled reports may carry a PDF (issue #24)

Revision ID: kyklos_0015
Revises: kyklos_0014
"""

import sqlalchemy as sa
from alembic import op

revision = "kyklos_0015"
down_revision = "kyklos_0014"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("kyklos_report_schedule") as batch:
        batch.add_column(
            sa.Column("attach_pdf", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table("kyklos_report_schedule") as batch:
        batch.drop_column("attach_pdf")

"""knowledge-base articles' cause and solution become rich text: the plain text they
held is kept as escaped paragraphs (an empty line started one, a newline broke a line)

Revision ID: helpdesk_0009
Revises: helpdesk_0008
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0009"
down_revision = "helpdesk_0008"
branch_labels = None
depends_on = None

ARTICLE = sa.table(
    "helpdesk_kbarticle",
    sa.column("id", sa.Integer),
    sa.column("cause", sa.Text),
    sa.column("solution", sa.Text),
)
#: rows read and written at a time, so a large knowledge base needs no large memory
BATCH = 500


def _convert(convert) -> None:
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(
            sa.select(ARTICLE.c.id, ARTICLE.c.cause, ARTICLE.c.solution)
            .where(ARTICLE.c.id > last)
            .order_by(ARTICLE.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            changes = {
                name: convert(value) or None
                for name, value in (("cause", row.cause), ("solution", row.solution))
                if value
            }
            if changes:
                bind.execute(ARTICLE.update().where(ARTICLE.c.id == row.id).values(**changes))
        last = rows[-1].id


def upgrade():
    _convert(kyklos_sdk.rich_text_from_plain)


def downgrade():
    _convert(kyklos_sdk.rich_text_to_plain)

"""mail: HTML e-mail templates with Jinja merge fields, private or shared, with language
versions (a template's translations point at it)

The existing plain-text templates become HTML (their text escaped, line breaks kept)
and their ``{field}`` merge fields become ``{{ field }}``, so they go on working.

Revision ID: mail_0007
Revises: mail_0006
Created: 2026-12-07
"""

import html
import re

import sqlalchemy as sa
from alembic import op

revision = "mail_0007"
down_revision = "mail_0006"
branch_labels = None
depends_on = None

OLD_FIELD = re.compile(r"\{(\w+)\}")


def _jinja(text: str) -> str:
    return OLD_FIELD.sub(lambda m: "{{ " + m.group(1) + " }}", text or "")


def upgrade():
    with op.batch_alter_table("mail_template", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("translation_of_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_mail_template_translation_of_id_mail_template",
            "mail_template",
            ["translation_of_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_index("ix_mail_template_translation_of_id", ["translation_of_id"])
    table = sa.table(
        "mail_template",
        sa.column("id", sa.Integer()),
        sa.column("subject", sa.String()),
        sa.column("body", sa.Text()),
    )
    bind = op.get_bind()
    for tid, subject, body in bind.execute(sa.select(table.c.id, table.c.subject, table.c.body)):
        paragraphs = (body or "").replace("\r\n", "\n")
        new_body = "<p>" + _jinja(html.escape(paragraphs)).replace("\n", "<br>") + "</p>"
        bind.execute(
            table.update().where(table.c.id == tid).values(subject=_jinja(subject), body=new_body)
        )


def downgrade():
    with op.batch_alter_table("mail_template", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_template_translation_of_id")
        batch_op.drop_constraint(
            "fk_mail_template_translation_of_id_mail_template", type_="foreignkey"
        )
        batch_op.drop_column("translation_of_id")
        batch_op.drop_column("shared")

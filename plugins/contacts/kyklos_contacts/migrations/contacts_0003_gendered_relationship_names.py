"""contacts: relationship names per gender ("daughter of", not "son of")

Revision ID: contacts_0003
Revises: contacts_0002
Created: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "contacts_0003"
down_revision = "contacts_0002"
branch_labels = None
depends_on = None

COLUMNS = ("name_female", "name_male", "inverse_name_female", "inverse_name_male")

# Frozen copy of kyklos_contacts.relations.GENDERED at the time of this revision:
# code -> (name for a woman, for a man, inverse name for a woman, for a man).
GENDERED = {
    "spouse": ("wife of", "husband of", "wife of", "husband of"),
    "parent": ("mother of", "father of", "daughter of", "son of"),
    "father": (None, None, "daughter of", "son of"),
    "mother": (None, None, "daughter of", "son of"),
    "sibling": ("sister of", "brother of", "sister of", "brother of"),
}
# The seeded "father of" / "son of" read "son of" for daughters too; their neutral
# inverse is now "child of" (only where an administrator did not rename it).
NEUTRAL_INVERSE = {"father": ("son of", "child of"), "mother": ("daughter of", "child of")}


def upgrade():
    with op.batch_alter_table("contacts_relationship_type", schema=None) as batch_op:
        for name in COLUMNS:
            batch_op.add_column(sa.Column(name, sa.String(length=100), nullable=True))
    table = sa.table(
        "contacts_relationship_type",
        sa.column("code", sa.String),
        sa.column("inverse_name", sa.String),
        *(sa.column(name, sa.String) for name in COLUMNS),
    )
    for code, names in GENDERED.items():
        op.execute(
            table.update()
            .where(table.c.code == code)
            .values(dict(zip(COLUMNS, names, strict=True)))
        )
    for code, (old, new) in NEUTRAL_INVERSE.items():
        op.execute(
            table.update()
            .where(table.c.code == code, table.c.inverse_name == old)
            .values(inverse_name=new)
        )


def downgrade():
    table = sa.table(
        "contacts_relationship_type",
        sa.column("code", sa.String),
        sa.column("inverse_name", sa.String),
    )
    for code, (old, new) in NEUTRAL_INVERSE.items():
        op.execute(
            table.update()
            .where(table.c.code == code, table.c.inverse_name == new)
            .values(inverse_name=old)
        )
    with op.batch_alter_table("contacts_relationship_type", schema=None) as batch_op:
        for name in reversed(COLUMNS):
            batch_op.drop_column(name)

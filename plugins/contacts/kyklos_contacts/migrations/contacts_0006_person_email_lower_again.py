"""contacts: the index on lower(contacts_person.email) again, where it was lost

On SQLite, an ``ALTER`` that alembic's batch mode carries out by copying the table
(contacts_0004 / contacts_0005 on ``contacts_person``) re-creates only the indexes it
can reflect, and expression indexes are not among them: ``ix_contacts_person_email_lower``
(contacts_0002) was gone, so every import's key look-up (``lower(email) IN (...)``) read
the whole table, slower with every row it held (issue #19). PostgreSQL kept the index;
``IF NOT EXISTS`` leaves it alone there.

Revision ID: contacts_0006
Revises: contacts_0005
Created: 2026-12-07
"""

from alembic import op

revision = "contacts_0006"
down_revision = "contacts_0005"
branch_labels = None
depends_on = None


def upgrade():
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_contacts_person_email_lower "
        "ON contacts_person (lower(email))"
    )


def downgrade():
    pass  # the index belongs to contacts_0002, whose downgrade drops it

"""contacts: indexes on lower(email) and lower(vat_number) for business-key look-ups

Revision ID: contacts_0002
Revises: contacts_0001
Created: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "contacts_0002"
down_revision = "contacts_0001"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_contacts_person_email_lower", "contacts_person", "email"),
    ("ix_contacts_account_email_lower", "contacts_account", "email"),
    ("ix_contacts_account_vat_number_lower", "contacts_account", "vat_number"),
)


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [sa.text(f"lower({column})")], unique=False)


def downgrade():
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)

"""security: room for encrypted TOTP seeds (a Fernet token, not the 32-letter seed)

Revision ID: kyklos_0011
Revises: kyklos_0010

The seeds themselves are encrypted by ``kyklos migrate`` / ``kyklos init`` right after
the upgrade (kyklos.security.totp.reencrypt_all): a migration has no access to the
deployment's keys. A seed still plain when a user logs in is encrypted then.
"""

import sqlalchemy as sa
from alembic import op

revision = "kyklos_0011"
down_revision = "kyklos_0010"
branch_labels = None
depends_on = None


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def upgrade():
    # SQLite does not enforce a VARCHAR's length, and a batch "alter" there rebuilds
    # kyklos_user from reflection, which dropped the ON DELETE rules of its foreign keys
    if _sqlite():
        return
    op.alter_column(
        "kyklos_user",
        "totp_secret",
        existing_type=sa.String(length=64),
        type_=sa.String(length=255),
    )


def downgrade():
    # An encrypted seed does not fit the old column, and the old code could not read it:
    # going back turns two-step verification off for those users (they enrol again).
    op.execute(
        "UPDATE kyklos_user SET totp_secret = NULL, totp_last_step = NULL "
        "WHERE totp_secret LIKE 'gAAAAA%'"
    )
    if _sqlite():
        return
    op.alter_column(
        "kyklos_user",
        "totp_secret",
        existing_type=sa.String(length=255),
        type_=sa.String(length=64),
    )

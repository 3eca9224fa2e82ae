"""customer portal accounts; kyklos_user.is_portal

Revision ID: kyklos_0013
Revises: kyklos_0012
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0013"
down_revision = "kyklos_0012"
branch_labels = None
depends_on = None


def upgrade():
    # a plain ADD COLUMN: a batch operation rebuilds kyklos_user on SQLite from its
    # reflection, which loses the ON DELETE rules of its foreign keys
    op.add_column(
        "kyklos_user",
        sa.Column("is_portal", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "kyklos_portal_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("invited_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("invited_by_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.Column("disabled_at", kyklos.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_portal_account_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_portal_account_invited_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_portal_account")),
        sa.UniqueConstraint("user_id", name=op.f("uq_kyklos_portal_account_user_id")),
        sa.UniqueConstraint(
            "entity", "record_id", name=op.f("uq_kyklos_portal_account_entity_record_id")
        ),
    )


def downgrade():
    op.drop_table("kyklos_portal_account")
    with op.batch_alter_table("kyklos_user") as batch:
        batch.drop_column("is_portal")

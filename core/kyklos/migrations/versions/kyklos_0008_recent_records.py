"""recent records per user (home page)

Revision ID: kyklos_0008
Revises: kyklos_0007
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0008"
down_revision = "kyklos_0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kyklos_recent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("at", kyklos.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_recent_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_recent")),
        sa.UniqueConstraint(
            "user_id", "entity", "record_id", name=op.f("uq_kyklos_recent_user_id_entity_record_id")
        ),
    )
    op.create_index("ix_kyklos_recent_user_at", "kyklos_recent", ["user_id", "at"], unique=False)


def downgrade():
    op.drop_index("ix_kyklos_recent_user_at", table_name="kyklos_recent")
    op.drop_table("kyklos_recent")

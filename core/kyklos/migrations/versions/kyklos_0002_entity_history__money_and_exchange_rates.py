"""entity history, money and exchange rates

Revision ID: kyklos_0002
Revises: kyklos_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0002"
down_revision = "kyklos_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kyklos_audit",
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf_of_id", sa.Integer(), nullable=True),
        sa.Column("at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("changes", kyklos.db.JSONType(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_audit_user_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["on_behalf_of_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_audit_on_behalf_of_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_audit")),
    )
    with op.batch_alter_table("kyklos_audit", schema=None) as batch_op:
        batch_op.create_index("ix_kyklos_audit_record", ["entity", "record_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_kyklos_audit_user_id"), ["user_id"], unique=False)

    op.create_table(
        "kyklos_exchange_rate",
        sa.Column("base", sa.String(length=3), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("rate_date", sa.Date(), nullable=False),
        sa.Column("rate", sa.Numeric(precision=24, scale=10), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_exchange_rate")),
        sa.UniqueConstraint(
            "base",
            "currency",
            "rate_date",
            name=op.f("uq_kyklos_exchange_rate_base_currency_rate_date"),
        ),
    )


def downgrade():
    op.drop_table("kyklos_exchange_rate")
    with op.batch_alter_table("kyklos_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kyklos_audit_user_id"))
        batch_op.drop_index("ix_kyklos_audit_record")
    op.drop_table("kyklos_audit")

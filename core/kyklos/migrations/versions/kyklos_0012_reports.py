"""saved reports, their pins on the home page and their e-mail schedules

Revision ID: kyklos_0012
Revises: kyklos_0011
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0012"
down_revision = "kyklos_0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kyklos_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("spec", kyklos.db.JSONType(), nullable=False),
        sa.Column("shared_roles", kyklos.db.JSONType(), nullable=False),
        sa.Column("shared_users", kyklos.db.JSONType(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_report_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_report")),
    )
    op.create_index(op.f("ix_kyklos_report_entity"), "kyklos_report", ["entity"], unique=False)
    op.create_index(
        op.f("ix_kyklos_report_created_by_id"), "kyklos_report", ["created_by_id"], unique=False
    )
    op.create_table(
        "kyklos_report_pin",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["kyklos_report.id"],
            name=op.f("fk_kyklos_report_pin_report_id_kyklos_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_report_pin_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", "report_id", name=op.f("pk_kyklos_report_pin")),
    )
    op.create_table(
        "kyklos_report_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("last_sent_on", sa.Date(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["kyklos_report.id"],
            name=op.f("fk_kyklos_report_schedule_report_id_kyklos_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_report_schedule_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_report_schedule")),
    )
    op.create_index(
        op.f("ix_kyklos_report_schedule_report_id"),
        "kyklos_report_schedule",
        ["report_id"],
        unique=False,
    )


def downgrade():
    op.drop_index(op.f("ix_kyklos_report_schedule_report_id"), table_name="kyklos_report_schedule")
    op.drop_table("kyklos_report_schedule")
    op.drop_table("kyklos_report_pin")
    op.drop_index(op.f("ix_kyklos_report_created_by_id"), table_name="kyklos_report")
    op.drop_index(op.f("ix_kyklos_report_entity"), table_name="kyklos_report")
    op.drop_table("kyklos_report")

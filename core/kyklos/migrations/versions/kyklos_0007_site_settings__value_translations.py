"""site settings, value translations

Revision ID: kyklos_0007
Revises: kyklos_0006
"""

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0007"
down_revision = "kyklos_0006"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kyklos_site_setting",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", kyklos.db.JSONType(), nullable=True),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_site_setting_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kyklos_site_setting")),
    )
    op.create_table(
        "kyklos_value_translation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=100), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_value_translation")),
        sa.UniqueConstraint(
            "entity",
            "record_id",
            "field",
            "locale",
            name=op.f("uq_kyklos_value_translation_entity_record_id_field_locale"),
        ),
    )


def downgrade():
    op.drop_table("kyklos_value_translation")
    op.drop_table("kyklos_site_setting")

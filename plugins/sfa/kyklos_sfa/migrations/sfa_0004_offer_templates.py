"""offer templates (issue #20): templates with their lines; a quote's introduction and
terms

Revision ID: sfa_0004
Revises: sfa_0003
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "sfa_0004"
down_revision = "sfa_0003"
branch_labels = None
depends_on = None


def _record_columns(table: str) -> list:
    """The columns and foreign keys every entity table carries (``EntityMixin``)."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        *(
            sa.ForeignKeyConstraint(
                [col],
                ["kyklos_user.id"],
                name=op.f(f"fk_{table}_{col}_kyklos_user"),
                ondelete="SET NULL",
            )
            for col in ("created_by_id", "owner_id", "updated_by_id")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade():
    op.create_table(
        "sfa_quote_template",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("introduction", sa.Text(), nullable=True),
        sa.Column("terms", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_record_columns("sfa_quote_template"),
    )
    with op.batch_alter_table("sfa_quote_template", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_quote_template_owner_id"), ["owner_id"])
    op.create_table(
        "sfa_quote_template_line",
        sa.Column("template_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("unit", sa.String(length=10), nullable=True),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=True),
        *_record_columns("sfa_quote_template_line"),
        sa.CheckConstraint(
            "discount_percent BETWEEN 0 AND 100",
            name=op.f("ck_sfa_quote_template_line_discount_range"),
        ),
        sa.CheckConstraint(
            "tax_rate BETWEEN 0 AND 100", name=op.f("ck_sfa_quote_template_line_tax_range")
        ),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["sfa_quote_template.id"],
            name=op.f("fk_sfa_quote_template_line_template_id_sfa_quote_template"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["catalog_product.id"],
            name=op.f("fk_sfa_quote_template_line_product_id_catalog_product"),
            ondelete="SET NULL",
        ),
    )
    with op.batch_alter_table("sfa_quote_template_line", schema=None) as batch_op:
        for col in ("owner_id", "template_id", "product_id"):
            batch_op.create_index(batch_op.f(f"ix_sfa_quote_template_line_{col}"), [col])
    with op.batch_alter_table("sfa_quote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("introduction", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("terms", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("sfa_quote", schema=None) as batch_op:
        batch_op.drop_column("terms")
        batch_op.drop_column("introduction")
    op.drop_table("sfa_quote_template_line")
    op.drop_table("sfa_quote_template")

"""initial: product categories, products, price lists and price rules

Revision ID: catalog_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0001"
down_revision = None
branch_labels = ("catalog",)
depends_on = None


def _entity_columns():
    """The columns EntityMixin gives every entity table."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_user.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column(
            "updated_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "catalog_category",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column(
            "parent_id",
            sa.Integer(),
            sa.ForeignKey("catalog_category.id", ondelete="RESTRICT"),
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_entity_columns(),
    )
    op.create_table(
        "catalog_product",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("sku", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column(
            "category_id",
            sa.Integer(),
            sa.ForeignKey("catalog_category.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.Column("tax_rate", sa.Numeric(5, 2), nullable=False),
        sa.Column("list_price", sa.Numeric(18, 2)),
        sa.Column("list_price_currency", sa.String(3)),
        sa.Column("cost", sa.Numeric(18, 2)),
        sa.Column("cost_currency", sa.String(3)),
        sa.Column("barcode", sa.String(14), index=True),
        sa.Column("active", sa.Boolean(), nullable=False, index=True),
        *_entity_columns(),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        sa.CheckConstraint("tax_rate BETWEEN 0 AND 100", name="tax_range"),
    )
    op.create_table(
        "catalog_pricelist",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("valid_from", sa.Date()),
        sa.Column("valid_to", sa.Date()),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("contacts_account.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text()),
        *_entity_columns(),
    )
    op.create_table(
        "catalog_pricerule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "pricelist_id",
            sa.Integer(),
            sa.ForeignKey("catalog_pricelist.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_product.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column(
            "category_id",
            sa.Integer(),
            sa.ForeignKey("catalog_category.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("min_quantity", sa.Numeric(14, 3), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("price", sa.Numeric(18, 2)),
        sa.Column("discount_percent", sa.Numeric(5, 2), nullable=False),
        sa.Column("round_to", sa.Numeric(10, 2)),
        *_entity_columns(),
        sa.CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
        sa.CheckConstraint("min_quantity >= 0", name="min_quantity_range"),
    )


def downgrade():
    for table in ("catalog_pricerule", "catalog_pricelist", "catalog_product", "catalog_category"):
        op.drop_table(table)

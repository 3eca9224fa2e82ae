"""variants by attribute: attributes and their values, a product's template and price
extra, and the values that make each variant

Revision ID: catalog_0004
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0004"
down_revision = "catalog_0003"
branch_labels = None
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
        "catalog_attribute",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *_entity_columns(),
    )
    op.create_table(
        "catalog_attribute_value",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "attribute_id",
            sa.Integer(),
            sa.ForeignKey("catalog_attribute.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("code", sa.String(20)),
        sa.Column("position", sa.Integer(), nullable=False),
        *_entity_columns(),
    )
    with op.batch_alter_table("catalog_product") as batch:
        batch.add_column(sa.Column("template_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("price_extra", sa.Numeric(18, 2), nullable=True))
        batch.create_foreign_key(
            "fk_catalog_product_template_id_catalog_product",
            "catalog_product",
            ["template_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_catalog_product_template_id", ["template_id"])
    op.create_table(
        "catalog_variant_value",
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_product.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "value_id",
            sa.Integer(),
            sa.ForeignKey("catalog_attribute_value.id", ondelete="CASCADE"),
            primary_key=True,
            index=True,
        ),
    )


def downgrade():
    op.drop_table("catalog_variant_value")
    with op.batch_alter_table("catalog_product") as batch:
        batch.drop_index("ix_catalog_product_template_id")
        batch.drop_constraint("fk_catalog_product_template_id_catalog_product", type_="foreignkey")
        batch.drop_column("price_extra")
        batch.drop_column("template_id")
    op.drop_table("catalog_attribute_value")
    op.drop_table("catalog_attribute")

"""quote lines from the catalog: a line's product, unit and where its price came from;
the language a quote is written in; the exchange rate of a variant in another currency

Revision ID: sfa_0002
Revises: sfa_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "sfa_0002"
down_revision = "sfa_0001"
branch_labels = None
# the lines refer to the catalog's products: the catalog's branch upgrades first (sfa
# depends on the plugin; branches upgrade in dependency order)
depends_on = None


def upgrade():
    with op.batch_alter_table("sfa_quote_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("unit", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("price_note", sa.String(length=300), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_sfa_quote_line_product_id"), ["product_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_sfa_quote_line_product_id_catalog_product"),
            "catalog_product",
            ["product_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("sfa_quote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column("rate_from", sa.String(length=3), nullable=True))
        batch_op.add_column(
            sa.Column("exchange_rate", sa.Numeric(precision=20, scale=10), nullable=True)
        )
        batch_op.add_column(sa.Column("rate_date", sa.Date(), nullable=True))


def downgrade():
    with op.batch_alter_table("sfa_quote", schema=None) as batch_op:
        batch_op.drop_column("rate_date")
        batch_op.drop_column("exchange_rate")
        batch_op.drop_column("rate_from")
        batch_op.drop_column("language")
    with op.batch_alter_table("sfa_quote_line", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_sfa_quote_line_product_id_catalog_product"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_sfa_quote_line_product_id"))
        batch_op.drop_column("price_note")
        batch_op.drop_column("unit")
        batch_op.drop_column("product_id")

"""price lists for account groups (a tag, a saved segment of accounts, a territory) and
rules that discount another price list

Revision ID: catalog_0008
"""

import sqlalchemy as sa
from alembic import op

revision = "catalog_0008"
down_revision = "catalog_0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("catalog_pricelist") as batch:
        for name, target in (
            ("tag_id", "kyklos_tag"),
            ("segment_id", "kyklos_segment"),
            ("territory_id", "kyklos_territory"),
        ):
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
            batch.create_foreign_key(
                f"fk_catalog_pricelist_{name}_{target}",
                target,
                [name],
                ["id"],
                ondelete="SET NULL",
            )
            batch.create_index(f"ix_catalog_pricelist_{name}", [name])
        batch.add_column(
            sa.Column("audience", sa.String(10), nullable=False, server_default="everyone")
        )
    # the lists of one account so far: for that account
    op.execute("UPDATE catalog_pricelist SET audience = 'account' WHERE account_id IS NOT NULL")
    with op.batch_alter_table("catalog_pricerule") as batch:
        batch.add_column(sa.Column("base_pricelist_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_catalog_pricerule_base_pricelist_id_catalog_pricelist",
            "catalog_pricelist",
            ["base_pricelist_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_catalog_pricerule_base_pricelist_id", ["base_pricelist_id"])


def downgrade():
    with op.batch_alter_table("catalog_pricerule") as batch:
        batch.drop_index("ix_catalog_pricerule_base_pricelist_id")
        batch.drop_constraint(
            "fk_catalog_pricerule_base_pricelist_id_catalog_pricelist", type_="foreignkey"
        )
        batch.drop_column("base_pricelist_id")
    # without its group a group list would apply to everyone: it is kept, switched off
    lists = sa.table(
        "catalog_pricelist",
        sa.column("active", sa.Boolean()),
        sa.column("audience", sa.String()),
    )
    op.execute(
        lists.update()
        .where(lists.c.audience.in_(["tag", "segment", "territory"]))
        .values(active=False)
    )
    with op.batch_alter_table("catalog_pricelist") as batch:
        batch.drop_column("audience")
    with op.batch_alter_table("catalog_pricelist") as batch:
        for name, target in (
            ("territory_id", "kyklos_territory"),
            ("segment_id", "kyklos_segment"),
            ("tag_id", "kyklos_tag"),
        ):
            batch.drop_index(f"ix_catalog_pricelist_{name}")
            batch.drop_constraint(f"fk_catalog_pricelist_{name}_{target}", type_="foreignkey")
            batch.drop_column(name)

"""the installed base points at products: link existing free text to a product

Contacts' installed products named their product in free text. Where that text is a
product's code, or else its name, and exactly one product fits, the record now points at
it (the ``catalog_product`` value of its ``custom`` document, the field the catalog adds
to the installed-product type); the text always stays, as the record's description.

Revision ID: catalog_0003
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "catalog_0003"
down_revision = "catalog_0002"
branch_labels = None
depends_on = None

FIELD = "catalog_product"

installed = sa.table(
    "contacts_installed_product",
    sa.column("id", sa.Integer),
    sa.column("product", sa.String),
    sa.column("custom", kyklos_sdk.JSONType()),
)
products = sa.table(
    "catalog_product",
    sa.column("id", sa.Integer),
    sa.column("sku", sa.String),
    sa.column("name", sa.String),
    sa.column("deleted_at", sa.DateTime),
)


def _has_installed_base(conn) -> bool:
    return sa.inspect(conn).has_table("contacts_installed_product")


def _index(conn) -> dict:
    """lower(code) and lower(name) -> product ids, to match the texts in one pass."""
    by_code, by_name = {}, {}
    rows = conn.execute(
        sa.select(products.c.id, products.c.sku, products.c.name).where(
            products.c.deleted_at.is_(None)
        )
    )
    for pid, sku, name in rows:
        by_code.setdefault((sku or "").strip().lower(), []).append(pid)
        by_name.setdefault((name or "").strip().lower(), []).append(pid)
    return by_code, by_name


def upgrade():
    conn = op.get_bind()
    if not _has_installed_base(conn):
        return
    by_code, by_name = _index(conn)
    rows = conn.execute(sa.select(installed.c.id, installed.c.product, installed.c.custom)).all()
    for rid, text, custom in rows:
        key = (text or "").strip().lower()
        ids = by_code.get(key) or by_name.get(key) or []
        if len(ids) != 1 or (custom or {}).get(FIELD):
            continue  # no product or several: the text alone says what it is
        conn.execute(
            installed.update()
            .where(installed.c.id == rid)
            .values(custom={**(custom or {}), FIELD: ids[0]})
        )


def downgrade():
    conn = op.get_bind()
    if not _has_installed_base(conn):
        return
    rows = conn.execute(sa.select(installed.c.id, installed.c.custom)).all()
    for rid, custom in rows:
        if custom and FIELD in custom:
            rest = {k: v for k, v in custom.items() if k != FIELD}
            conn.execute(installed.update().where(installed.c.id == rid).values(custom=rest))

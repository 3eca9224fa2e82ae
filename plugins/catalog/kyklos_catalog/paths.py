"""Categories by path ("Hardware / Printers") and products by code, for files: product
and price-rule imports name them the way other programs export them (Odoo's product
category is "All / Saleable / Office"), and exports write them back the same way."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import object_session

from .models import Category, Product

SEPARATOR = "/"
#: the session-wide map of category ids to paths (categories are few; a file of 100 000
#: products reads them once)
CACHE = "kyklos_catalog.category_paths"


def split_path(text: str) -> list[str]:
    """``"Hardware / Printers"`` -> ``["Hardware", "Printers"]`` (spaces tidied).
    WooCommerce writes ``"Clothing > Hoodies"``: both separators are read."""
    return [" ".join(p.split()) for p in re.split(r"[/>]", text or "")]


def _tree(db) -> dict[int, tuple[str, int | None]]:
    cached = db.info.get(CACHE)
    if cached is None:
        rows = db.execute(select(Category.id, Category.name, Category.parent_id)).all()
        cached = db.info[CACHE] = {cid: (name, parent) for cid, name, parent in rows}
    return cached


def forget(db) -> None:
    """After a category changed: paths are read again."""
    db.info.pop(CACHE, None)


def path_of(db, category_id: int | None) -> str | None:
    tree = _tree(db)
    names, seen, cid = [], set(), category_id
    while cid is not None and cid in tree and cid not in seen:
        seen.add(cid)
        name, cid = tree[cid]
        names.append(name)
    return f" {SEPARATOR} ".join(reversed(names)) or None


def find_path(db, parts: list[str]) -> tuple[int | None, int]:
    """The deepest existing category along ``parts`` and how many parts it covers
    (names compared case-insensitively, under the right parent)."""
    tree = _tree(db)
    children: dict[tuple[int | None, str], list[int]] = {}
    for cid, (name, parent) in tree.items():
        children.setdefault((parent, name.casefold()), []).append(cid)
    parent, depth = None, 0
    for part in parts:
        found = sorted(children.get((parent, part.casefold()), ()))
        if not found:
            break
        parent, depth = found[0], depth + 1
    return parent, depth


def product_by_code(db, code: str) -> int | None:
    return db.execute(
        select(Product.id).where(
            func.upper(Product.sku) == code.strip().upper(), Product.deleted_at.is_(None)
        )
    ).scalar()


def product_path(product) -> str | None:
    db = object_session(product)
    return path_of(db, product.category_id) if db is not None else None


def rule_product_code(rule) -> str | None:
    db = object_session(rule)
    if db is None or rule.product_id is None:
        return None
    product = db.get(Product, rule.product_id)
    return product.sku if product is not None else None

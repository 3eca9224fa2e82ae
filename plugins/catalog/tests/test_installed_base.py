"""The installed base points at products: contacts' installed product gets the catalog's
product field (a picker), filled and filtered through the API and pages; the migration
links existing free text to the product it names, and only when one product fits."""

from __future__ import annotations

import json

from kyklos_contacts.models import Account, InstalledProduct
from sqlalchemy import create_engine, insert, text

from kyklos_catalog.models import Product
from kyklos_sdk.testing import run_cli, write_ini

PROBLEM = "application/problem+json"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def _setup(admin):
    printer = admin.post_json(
        "/api/v1/products",
        {"sku": "PRN-100", "name": "Laser printer 100", "name_translations": {"el": "Εκτυπωτής"}},
        status=201,
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    return printer, acc


def test_an_installed_product_points_at_a_catalog_product(admin):
    printer, acc = _setup(admin)
    made = admin.post_json(
        "/api/v1/installed-products",
        {"account_id": acc["id"], "catalog_product": printer["id"], "serial_number": "S1"},
        status=201,
    ).json
    # the description is filled from the product's name, the reference kept
    assert made["product"] == "Laser printer 100"
    assert made["catalog_product"] == printer["id"]
    own_text = admin.post_json(
        "/api/v1/installed-products",
        {
            "account_id": acc["id"],
            "catalog_product": printer["id"],
            "product": "Printer, 2nd floor",
        },
        status=201,
    ).json
    assert own_text["product"] == "Printer, 2nd floor"
    free = admin.post_json(
        "/api/v1/installed-products", {"account_id": acc["id"], "product": "Old fax"}, status=201
    ).json
    assert free["catalog_product"] is None
    # the installed base of one product, through the generic filter
    found = admin.get(f"/api/v1/installed-products?catalog_product={printer['id']}").json
    assert sorted(r["id"] for r in found["items"]) == sorted([made["id"], own_text["id"]])
    # the product's page lists where it is installed
    page = admin.get(f"/products/{printer['id']}")
    assert "Installed at customers" in page.text and "Printer, 2nd floor" in page.text
    assert "Hotel Knossos" in page.text
    assert "Old fax" not in page.text


def test_bad_installed_products_are_refused_naming_the_field(admin):
    printer, acc = _setup(admin)
    res = admin.post_json("/api/v1/installed-products", {"account_id": acc["id"]}, status=400)
    assert "product" in errors_of(res)
    res = admin.post_json(
        "/api/v1/installed-products",
        {"account_id": acc["id"], "catalog_product": 999999},
        status=400,
    )
    assert "catalog_product" in errors_of(res)
    res = admin.post_json(
        "/api/v1/installed-products",
        {"account_id": acc["id"], "catalog_product": "PRN-100"},
        status=400,
    )
    assert "catalog_product" in errors_of(res)
    assert admin.get("/api/v1/installed-products").json["items"] == []


def test_the_form_offers_a_product_picker(admin):
    _printer, acc = _setup(admin)
    page = admin.get(f"/installed-products/new?account_id={acc['id']}")
    assert 'name="catalog_product"' in page.text
    assert "Product from the catalog" in page.text


def test_the_migration_links_free_text_when_one_product_fits(tmp_path, db_url, scratch_db_url):
    ini = write_ini(tmp_path, "contacts catalog", url=scratch_db_url)
    run_cli("migrate", ini, check=True)
    run_cli("migrate", ini, "--branch", "catalog", "--to", "catalog_0002", check=True)
    engine = create_engine(scratch_db_url)
    # Core inserts: the tables' Python defaults apply, no app or hook is involved
    products = [(1, "PRN-100", "Laser printer"), (2, "PRN-200", "Twin"), (3, "PRN-201", "Twin")]
    texts = ["prn-100", "Laser printer", "Twin", "Something else"]
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(Product.__table__),
                [{"id": i, "sku": sku, "name": name} for i, sku, name in products],
            )
            conn.execute(insert(Account.__table__), [{"id": 1, "name": "Knossos"}])
            conn.execute(
                insert(InstalledProduct.__table__),
                [
                    {"id": i, "account_id": 1, "product": t, "custom": {"cf_x": "kept"}}
                    for i, t in enumerate(texts, start=1)
                ],
            )
        run_cli("migrate", ini, check=True)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, product, custom FROM contacts_installed_product ORDER BY id")
            ).all()
    finally:
        engine.dispose()
    custom = {r[0]: (json.loads(r[2]) if isinstance(r[2], str) else r[2]) for r in rows}
    # by code (any case), by name; "Twin" names two products and nothing else matches
    assert [custom[i].get("catalog_product") for i in (1, 2, 3, 4)] == [1, 1, None, None]
    assert all(c["cf_x"] == "kept" for c in custom.values())
    assert [r[1] for r in rows] == texts  # the text always stays


def test_add_entity_field_refuses_a_taken_name_and_an_unknown_type(registry):
    import pytest
    from pyramid.config import Configurator
    from pyramid.exceptions import ConfigurationExecutionError

    for entity, name in [("installedproduct", "catalog_product"), ("nosuchtype", "x_y")]:
        config = Configurator(registry=registry)
        config.add_entity_field(entity, name, type="string", title="X")
        with pytest.raises(ConfigurationExecutionError):
            config.commit()
    with pytest.raises(ValueError):
        Configurator(registry=registry).add_entity_field(
            "installedproduct", "x_money", type="money", title="X"
        )

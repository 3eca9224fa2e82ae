"""Products and price rules through the core's import pipeline: a shop export's layout
(WooCommerce's column names, its "Clothing > Hoodies" categories and bare prices),
categories by path created once, re-import by code updating, and price rules naming
their list, product code and category path; bad rows rejected naming the column."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook

# the header row of WooCommerce's product export (a subset of its columns; rows our own)
WOO = (
    'ID,Type,SKU,Name,Published,"Short description",Description,"Regular price",'
    "Categories,Tags\n"
    '101,simple,HW-PRN-1,"Laser printer",1,"A4 mono","Fast, quiet",199.90,'
    '"Hardware > Printers",office\n'
    '102,simple,HW-PRN-2,"Colour printer",1,,,349,"Hardware > Printers",\n'
    '103,simple,HW-CBL-1,"USB cable",1,,,4.5,"Hardware > Cables",\n'
    '104,simple,SV-INST,"Installation",1,,,60,Services,\n'
)
MAPPING = {
    "SKU": "sku",
    "Name": "name",
    "Description": "description",
    "Regular price": "list_price",
    "Categories": "category_path",
}


def _import(client, slug, name, data, opts):
    res = client.post(
        f"/api/v1/{slug}/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", name, data)],
        status=202,
    )
    return client.get(res.headers["Location"]).json


def _products(admin):
    items = admin.get("/api/v1/products?limit=100&sort=sku").json["items"]
    return {p["sku"]: p for p in items}


def test_a_shop_export_imports_with_categories_by_path_and_updates_by_code(admin):
    run = _import(admin, "products", "woo.csv", WOO.encode(), {"mapping": MAPPING})
    assert (run["created"], run["rejected"]) == (4, 0), run
    products = _products(admin)
    assert set(products) == {"HW-PRN-1", "HW-PRN-2", "HW-CBL-1", "SV-INST"}
    assert products["HW-PRN-1"]["category_path"] == "Hardware / Printers"
    assert products["HW-CBL-1"]["category_path"] == "Hardware / Cables"
    assert products["HW-PRN-1"]["list_price"] == {"amount": "199.90", "currency": "EUR"}
    cats = admin.get("/api/v1/product-categories?limit=50").json["items"]
    # "Hardware" once, with its two children, and "Services": four rows in, four out
    assert sorted(c["name"] for c in cats) == ["Cables", "Hardware", "Printers", "Services"]
    # the same file again, a price changed: updated by code, nothing duplicated
    again = WOO.replace("199.90", "189.00")
    run = _import(
        admin, "products", "woo.csv", again.encode(), {"mapping": MAPPING, "on_duplicate": "update"}
    )
    assert run["created"] == 0 and run["rejected"] == 0, run
    assert run["options"]["key"] == "sku"
    products = _products(admin)
    assert len(products) == 4
    assert products["HW-PRN-1"]["list_price"]["amount"] == "189.00"
    assert len(admin.get("/api/v1/product-categories?limit=50").json["items"]) == 4


def test_price_rules_import_by_list_name_product_code_and_category_path(admin):
    _import(admin, "products", "woo.csv", WOO.encode(), {"mapping": MAPPING})
    admin.post_json("/api/v1/price-lists", {"name": "Poland 2027", "currency": "PLN"}, status=201)
    book = Workbook()
    sheet = book.active
    sheet.append(
        [
            "Price list",
            "Product code",
            "Category path",
            "From quantity",
            "Price by",
            "Price",
            "Discount (%)",
        ]
    )
    sheet.append(["Poland 2027", "hw-prn-1", None, 1, "Fixed price", 850, None])
    sheet.append(["Poland 2027", None, "Hardware / Cables", 10, "discount", None, 15])
    sheet.append(["Poland 2027", "NO-SUCH", None, 1, "fixed", 10, None])
    sheet.append(["Poland 2027", None, "Hardware / Nothing", 1, "fixed", 10, None])
    buf = io.BytesIO()
    book.save(buf)
    opts = {
        "mapping": {
            "Price list": "pricelist_id",
            "Product code": "product_code",
            "Category path": "category_path",
            "From quantity": "min_quantity",
            "Price by": "method",
            "Price": "price",
            "Discount (%)": "discount_percent",
        },
        "create_references": False,
    }
    run = _import(admin, "price-rules", "rules.xlsx", buf.getvalue(), opts)
    assert (run["created"], run["rejected"]) == (2, 2), run
    problems = {p["row"]: p["errors"] for p in run["problems"]}
    assert "No product has this code." in problems["4"]
    assert "No category has this path." in problems["5"]
    assert "one of the two" not in problems["4"] + problems["5"]
    rules = admin.get("/api/v1/price-rules?limit=10").json["items"]
    products = _products(admin)
    by_product = {r["product_id"]: r for r in rules}
    assert by_product[products["HW-PRN-1"]["id"]]["price"] == "850.00"
    assert by_product[products["HW-PRN-1"]["id"]]["product_code"] == "HW-PRN-1"
    cable_rule = next(r for r in rules if r["category_id"])
    assert cable_rule["category_path"] == "Hardware / Cables"
    # the price look-up answers in złoty from the imported rule
    price = admin.get(
        f"/api/v1/products/{products['HW-PRN-1']['id']}/price?currency=PLN&quantity=1"
    ).json
    assert price["unit_price"] == "850.00" and "Poland 2027" in price["reason"], price


def test_a_bad_path_or_code_through_the_api_names_the_field(admin):
    res = admin.post_json(
        "/api/v1/products",
        {"sku": "X1", "name": "X", "category_path": "Hardware / / X"},
        status=400,
    )
    assert "category_path" in {e["field"] for e in res.json["errors"]}
    pl = admin.post_json("/api/v1/price-lists", {"name": "L", "currency": "EUR"}, status=201)
    res = admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": pl.json["id"], "product_code": "NOPE", "price": "1"},
        status=400,
    )
    assert "product_code" in {e["field"] for e in res.json["errors"]}
    assert admin.get("/api/v1/products").json["items"] == []

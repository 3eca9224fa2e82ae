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


def test_products_and_price_rules_export_and_import_back_updating_by_code(admin):
    """What the catalog exports (CSV and XLSX) imports back: a changed price updates the
    product of that code (upsert on SKU), a new code is created, nothing is doubled; the
    price list's rules export too."""
    import csv

    from openpyxl import load_workbook

    for sku, name, price in (("EXP-1", "Olive oil 1 l", "9.50"), ("EXP-2", "Honey", "6.00")):
        admin.post_json(
            "/api/v1/products",
            {"sku": sku, "name": name, "list_price": {"amount": price, "currency": "EUR"}},
            status=201,
        )
    res = admin.get("/api/v1/products/_export?format=csv&sort=sku")
    rows = list(csv.DictReader(io.StringIO(res.body.decode("utf-8-sig"))))
    assert [(r["Code (SKU)"], r["List price"]) for r in rows] == [
        ("EXP-1", "9.50 EUR"),
        ("EXP-2", "6.00 EUR"),
    ], rows
    xlsx = admin.get("/api/v1/products/_export?format=xlsx&sort=sku")
    sheet = load_workbook(io.BytesIO(xlsx.body)).active
    assert [c.value for c in sheet[2]][:2] == ["EXP-1", "Olive oil 1 l"]
    # the exported file itself, edited: a new price for EXP-1 and a new product
    rows[0]["List price"] = "10.90 EUR"
    rows.append({**rows[1], "Code (SKU)": "EXP-3", "Name": "Oregano", "List price": "3.20 EUR"})
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    mapping = {"Code (SKU)": "sku", "Name": "name", "List price": "list_price"}
    opts = {"mapping": mapping, "on_duplicate": "update"}
    run = _import(admin, "products", "again.csv", out.getvalue().encode(), opts)
    assert (run["created"], run["rejected"]) == (1, 0) and run["options"]["key"] == "sku", run
    products = _products(admin)
    assert sorted(products) == ["EXP-1", "EXP-2", "EXP-3"]
    assert products["EXP-1"]["list_price"]["amount"] == "10.90"
    assert products["EXP-2"]["list_price"]["amount"] == "6.00"
    # price lists and their rules export like any list
    pl = admin.post_json(
        "/api/v1/price-lists", {"name": "Export list", "currency": "EUR"}, status=201
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": pl["id"], "product_id": products["EXP-2"]["id"], "price": "5.50"},
        status=201,
    )
    lists = admin.get("/api/v1/price-lists/_export?format=csv").body.decode("utf-8-sig")
    assert "Export list" in lists
    rules = admin.get("/api/v1/price-rules/_export?format=csv").body.decode("utf-8-sig")
    assert len(rules.strip().splitlines()) == 2 and "5.50" in rules, rules

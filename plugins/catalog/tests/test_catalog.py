"""The catalog through its public surfaces: products, categories, price lists and their
rules over the REST API; the price look-up (one function, every rule kind, with the
reason); the checks on bad input; who may see a product's cost."""

from __future__ import annotations

import pytest

from kyklos_sdk.testing import check_plugin

PROBLEM = "application/problem+json"


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def test_the_plugin_loads_migrates_and_declares_what_it_uses():
    assert check_plugin("catalog", raises=False) == []


@pytest.fixture
def shop(admin):
    """Olive oil (a category under Food), two products, an account, a general list with
    a volume tier and the account's own list."""
    food = admin.post_json("/api/v1/product-categories", {"name": "Food"}, status=201).json
    oil = admin.post_json(
        "/api/v1/product-categories", {"name": "Olive oil", "parent_id": food["id"]}, status=201
    ).json
    tin = admin.post_json(
        "/api/v1/products",
        {
            "sku": "oil-1l",
            "name": "Olive oil 1 l",
            "category_id": oil["id"],
            "list_price": money("10.00"),
            "cost": money("6.00"),
            "tax_rate": "13",
        },
        status=201,
    ).json
    honey = admin.post_json(
        "/api/v1/products",
        {"sku": "HON-1", "name": "Honey", "category_id": food["id"], "list_price": money("8.00")},
        status=201,
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    general = admin.post_json(
        "/api/v1/price-lists",
        {
            "name": "Wholesale",
            "currency": "EUR",
            "valid_from": "2026-01-01",
            "valid_to": "2027-12-31",
            "priority": 10,
        },
        status=201,
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": general["id"],
            "category_id": food["id"],
            "min_quantity": "100",
            "method": "discount",
            "discount_percent": "10",
            "round_to": "0.05",
        },
        status=201,
    )
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Knossos contract", "currency": "EUR", "account_id": acc["id"], "priority": 50},
        status=201,
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": own["id"], "product_id": tin["id"], "method": "fixed", "price": "8.50"},
        status=201,
    )
    return {
        "tin": tin,
        "honey": honey,
        "acc": acc,
        "general": general,
        "own": own,
        "food": food,
        "oil": oil,
    }


def test_a_code_is_kept_in_capitals_and_unique(admin, shop):
    assert shop["tin"]["sku"] == "OIL-1L"
    res = admin.post_json("/api/v1/products", {"sku": "Oil-1L", "name": "Again"}, status=400)
    assert set(errors_of(res)) == {"sku"}


def test_prices_follow_the_rules_and_say_why(admin, shop):
    tin, honey, acc = shop["tin"]["id"], shop["honey"]["id"], shop["acc"]["id"]

    def price(pid, **q):
        return admin.get(
            f"/api/v1/products/{pid}/price", {"date": "2026-06-01", "currency": "EUR", **q}
        ).json

    p = price(tin, quantity="1")
    assert p["unit_price"] == "10.00" and p["reason"] == "List price."
    # the category's volume tier reaches a product of a subcategory, rounded to 0.05
    p = price(tin, quantity="100")
    assert p["unit_price"] == "9.00"
    assert "Wholesale" in p["reason"] and "10 %" in p["reason"]
    p = price(honey, quantity="150")
    assert p["unit_price"] == "7.20" and p["pricelist_id"] == shop["general"]["id"]
    # the account's own list comes first, whatever the quantity
    p = price(tin, quantity="1000", account_id=str(acc))
    assert p["unit_price"] == "8.50" and "Knossos contract" in p["reason"]
    # outside the general list's dates only the list price is left
    assert price(tin, quantity="100", date="2029-01-01")["unit_price"] == "10.00"


def _catalog_queries(statements) -> int:
    return sum(1 for s in statements if "catalog_" in s)


def test_a_quote_prices_all_its_lines_in_one_call(admin, shop, query_counter):
    body = {
        "account_id": shop["acc"]["id"],
        "date": "2026-06-01",
        "currency": "EUR",
        "lines": [
            {"product_id": shop["tin"]["id"], "quantity": "2"},
            {"product_id": shop["honey"]["id"], "quantity": "200"},
        ]
        * 25,
    }
    with query_counter() as count:
        res = admin.post_json("/api/v1/catalog/prices", body).json
    assert [line["unit_price"] for line in res["lines"][:2]] == ["8.50", "7.20"]
    assert len(res["lines"]) == 50
    many = _catalog_queries(count.statements)
    body["lines"] = body["lines"][:2]
    with query_counter() as count:
        admin.post_json("/api/v1/catalog/prices", body)
    # one query per kind of thing, not per line (the catalog's queries: the request's own
    # bookkeeping, such as a token's "last used", comes and goes with the clock)
    assert many == _catalog_queries(count.statements) <= 5


def test_another_currency_converts_the_list_price_at_the_rate_of_the_day(admin, shop):
    admin.post_json(
        "/api/v1/_exchange-rates",
        {"rates": [{"currency": "PLN", "rate_date": "2026-01-01", "rate": "4.00"}]},
    )
    p = admin.get(
        f"/api/v1/products/{shop['tin']['id']}/price", {"currency": "PLN", "date": "2026-06-01"}
    ).json
    assert p["unit_price"] == "40.00" and p["currency"] == "PLN"
    assert p["rate"] == {"date": "2026-06-01", "rate": "4.0000"}
    res = admin.get(
        f"/api/v1/products/{shop['tin']['id']}/price", {"currency": "JPY", "date": "2026-06-01"}
    ).json
    assert res["unit_price"] is None and "No exchange rate" in res["reason"]


def test_bad_input_names_each_field(admin, shop):
    res = admin.get(
        f"/api/v1/products/{shop['tin']['id']}/price",
        {"quantity": "-1", "date": "tomorrow", "currency": "XXQ", "account_id": "999999"},
        status=400,
    )
    assert set(errors_of(res)) == {"quantity", "date", "currency", "account_id"}
    res = admin.post_json("/api/v1/catalog/prices", {"lines": [{"product_id": "x"}, 5]}, status=400)
    assert set(errors_of(res)) == {"lines.0.product_id", "lines.1"}
    res = admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": shop["general"]["id"], "method": "fixed"},
        status=400,
    )
    assert set(errors_of(res)) == {"product_id", "price"}
    res = admin.post_json(
        "/api/v1/products", {"sku": "EAN-1", "name": "x", "barcode": "5201234567890"}, status=400
    )
    assert set(errors_of(res)) == {"barcode"}
    ok = admin.post_json(
        "/api/v1/products", {"sku": "EAN-2", "name": "x", "barcode": "5201234-567894"}, status=201
    ).json
    assert ok["barcode"] == "5201234567894"
    res = admin.patch_json(
        f"/api/v1/product-categories/{shop['food']['id']}",
        {"parent_id": shop["oil"]["id"]},
        status=400,
    )
    assert set(errors_of(res)) == {"parent_id"}


def test_a_rep_reads_prices_but_not_the_cost(api, shop):
    rep = api("sales")
    got = rep.get(f"/api/v1/products/{shop['tin']['id']}").json
    assert "cost" not in got and got["list_price"] == money("10.00")
    assert rep.get(f"/api/v1/products/{shop['tin']['id']}/price").json["unit_price"]
    rep.post_json("/api/v1/products", {"sku": "NEW", "name": "x"}, status=403)


def test_the_product_page_shows_its_prices(client, shop):
    app = client("manager")
    page = app.get(f"/products/{shop['tin']['id']}")
    text = page.text
    assert "Prices" in text and "Knossos contract" in text
    # what each list asks for the product, in words, beside the list's name
    assert "Knossos contract</a>" in text and "€8.50" in text
    assert "Olive oil" in text  # the category by name, never a number

"""The price look-up of a 50-line quote costs one query for the rules of every price list
involved (and one each for the lists, the products and the categories), however many lines
and however many rules the lists hold for other products; and the prices stay the ones
the rules give (issue #19: the look-up was hundreds of times its raw SQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.fixture
def catalog(admin):
    """Ten products in two categories (one under the other), an account with its own
    list, a general list with a category tier, a fixed price and forty rules for products
    the quote does not hold."""
    food = admin.post_json("/api/v1/product-categories", {"name": "Food"}, status=201).json
    oil = admin.post_json(
        "/api/v1/product-categories", {"name": "Olive oil", "parent_id": food["id"]}, status=201
    ).json
    products = [
        admin.post_json(
            "/api/v1/products",
            {
                "sku": f"P-{k}",
                "name": f"Product {k}",
                "category_id": (oil if k % 2 else food)["id"],
                "list_price": money(10 + k),
            },
            status=201,
        ).json
        for k in range(10)
    ]
    others = [
        admin.post_json(
            "/api/v1/products",
            {"sku": f"X-{k}", "name": f"Other {k}", "list_price": money(5)},
            status=201,
        ).json
        for k in range(4)
    ]
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    general = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Wholesale", "currency": "EUR", "valid_from": "2026-01-01", "priority": 10},
        status=201,
    ).json
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Knossos contract", "currency": "EUR", "account_id": acc["id"]},
        status=201,
    ).json

    def rule(**body):
        admin.post_json("/api/v1/price-rules", {"method": "fixed", **body}, status=201)

    # from 10 on, 20 % off anything in Food (and so in Olive oil, its subcategory)
    rule(
        pricelist_id=general["id"],
        category_id=food["id"],
        min_quantity="10",
        method="discount",
        discount_percent="20",
    )
    # Olive oil's own tier, nearer than Food's, from 5 on
    rule(
        pricelist_id=general["id"],
        category_id=oil["id"],
        min_quantity="5",
        method="discount",
        discount_percent="10",
    )
    rule(pricelist_id=general["id"], product_id=products[0]["id"], price="3.00")
    rule(pricelist_id=own["id"], product_id=products[2]["id"], price="1.50")
    # rules for products outside the quote: none of them may be read
    for other in others:
        for q in range(10):
            rule(pricelist_id=general["id"], product_id=other["id"], min_quantity=str(q), price="4")
    return {"products": products, "acc": acc, "general": general, "own": own}


def _expected(k: int, qty: int, with_account: bool) -> str:
    """What the rules above give, worked out by hand."""
    if with_account and k == 2:
        return "1.50"
    if k == 0:
        return "3.00"
    price = Decimal(10 + k)
    if k % 2 and qty >= 5:
        price *= Decimal("0.9")  # Olive oil's tier is nearer than Food's
    elif not k % 2 and qty >= 10:
        price *= Decimal("0.8")
    return str(price.quantize(Decimal("0.01")))


def _from(statements, table) -> int:
    return sum(1 for s in statements if f"FROM {table}" in s.replace('"', ""))


@pytest.mark.parametrize("with_account", [False, True])
def test_fifty_lines_cost_one_rules_query_for_the_lists_involved(
    admin, catalog, query_counter, with_account
):
    products = catalog["products"]
    lines = [(k % 10, 1 + (k * 3) % 15) for k in range(50)]
    body = {
        "date": "2026-06-01",
        "currency": "EUR",
        "lines": [{"product_id": products[k]["id"], "quantity": str(qty)} for k, qty in lines],
    }
    if with_account:
        body["account_id"] = catalog["acc"]["id"]
    with query_counter() as count:
        res = admin.post_json("/api/v1/catalog/prices", body).json
    assert [line["unit_price"] for line in res["lines"]] == [
        _expected(k, qty, with_account) for k, qty in lines
    ]
    lists_involved = 2 if with_account else 1
    statements = count.statements
    assert 1 <= _from(statements, "catalog_pricerule") <= lists_involved
    assert _from(statements, "catalog_pricelist") == 1
    # the products: the view's visibility check and the look-up's own
    assert _from(statements, "catalog_product") <= 2
    assert _from(statements, "catalog_category") == 1
    # and no more for a two-line quote: the cost does not grow with the lines
    body["lines"] = body["lines"][:2]
    with query_counter() as count:
        admin.post_json("/api/v1/catalog/prices", body)
    for table in ("catalog_pricerule", "catalog_pricelist", "catalog_product", "catalog_category"):
        assert _from(count.statements, table) == _from(statements, table)

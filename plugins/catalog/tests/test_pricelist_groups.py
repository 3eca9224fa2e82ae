"""Price lists for groups of accounts (a tag, a saved segment, a territory) and rules that
discount another price list (INV-02), through the API: the price an account gets, the
reason that names the list and why, the refusals, and the query count."""

from __future__ import annotations

import pytest


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.fixture
def setup(admin):
    """A product at 100 EUR, a general list at 90 and three accounts."""
    prod = admin.post_json(
        "/api/v1/products",
        {"sku": "OIL-5", "name": "Olive oil 5 l", "list_price": money(100)},
        status=201,
    ).json
    general = admin.post_json(
        "/api/v1/price-lists", {"name": "Wholesale", "currency": "EUR"}, status=201
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": general["id"], "product_id": prod["id"], "method": "fixed", "price": "90"},
        status=201,
    )
    accs = {
        name: admin.post_json(
            "/api/v1/accounts", {"name": name, "city": city, "country": country}, status=201
        ).json
        for name, city, country in (
            ("Hotel Knossos", "Heraklion", "GR"),
            ("Taverna Zorba", "Chania", "GR"),
            ("Casa Ion", "Iasi", "RO"),
        )
    }
    return {"prod": prod, "general": general, "accs": accs}


def _fixed(admin, name, price, prod, **who):
    pl = admin.post_json(
        "/api/v1/price-lists", {"name": name, "currency": "EUR", **who}, status=201
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {"pricelist_id": pl["id"], "product_id": prod["id"], "method": "fixed", "price": price},
        status=201,
    )
    return pl


def _price(admin, prod, acc=None, qty=1):
    q = f"?quantity={qty}&currency=EUR&date=2026-06-01"
    if acc is not None:
        q += f"&account_id={acc['id']}"
    return admin.get(f"/api/v1/products/{prod['id']}/price{q}").json


def test_a_tagged_account_gets_the_tag_list(admin, setup):
    prod, accs = setup["prod"], setup["accs"]
    tag = admin.post_json(
        f"/api/v1/accounts/{accs['Hotel Knossos']['id']}/tags", {"name": "hotel"}
    ).json
    pl = _fixed(admin, "Hotels 2026", "80", prod, tag_id=tag["id"])
    got = _price(admin, prod, accs["Hotel Knossos"])
    assert got["unit_price"] == "80.00" and got["pricelist_id"] == pl["id"]
    assert got["reason"] == "Price list Hotels 2026 (accounts tagged hotel): fixed price."
    assert admin.get(f"/api/v1/price-lists/{pl['id']}").json["audience"] == "tag"
    # untagged: the general list; no account at all: the general list too
    assert _price(admin, prod, accs["Taverna Zorba"])["unit_price"] == "90.00"
    assert _price(admin, prod)["unit_price"] == "90.00"
    # the batch look-up (quotes) gives the same
    res = admin.post_json(
        "/api/v1/catalog/prices",
        {
            "account_id": accs["Hotel Knossos"]["id"],
            "date": "2026-06-01",
            "currency": "EUR",
            "lines": [{"product_id": prod["id"], "quantity": "2"}],
        },
    ).json
    assert res["lines"][0]["unit_price"] == "80.00"
    # the list's page names the tag in words
    page = admin.get(f"/price-lists/{pl['id']}")
    assert "hotel" in page.text
    # the account's own list still comes before its group's
    own = _fixed(admin, "Knossos contract", "70", prod, account_id=accs["Hotel Knossos"]["id"])
    got = _price(admin, prod, accs["Hotel Knossos"])
    assert got["unit_price"] == "70.00" and got["pricelist_id"] == own["id"]


def test_a_segment_list_applies_to_its_members_only(admin, setup):
    prod, accs = setup["prod"], setup["accs"]
    seg = admin.post_json(
        "/api/v1/_segments",
        {
            "entity": "account",
            "name": "Crete west",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Chania"}]},
        },
        status=201,
    ).json
    pl = _fixed(admin, "Crete promo", "75", prod, segment_id=seg["id"])
    got = _price(admin, prod, accs["Taverna Zorba"])
    assert got["unit_price"] == "75.00" and got["pricelist_id"] == pl["id"]
    assert "Crete promo (accounts of the segment Crete west)" in got["reason"]
    assert _price(admin, prod, accs["Hotel Knossos"])["unit_price"] == "90.00"
    # a static segment: its members as stored
    static = admin.post_json(
        "/api/v1/_segments",
        {
            "entity": "account",
            "name": "Picked",
            "kind": "static",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Iasi"}]},
        },
        status=201,
    ).json
    _fixed(admin, "Picked few", "60", prod, segment_id=static["id"])
    assert _price(admin, prod, accs["Casa Ion"])["unit_price"] == "60.00"
    assert _price(admin, prod, accs["Hotel Knossos"])["unit_price"] == "90.00"
    # the segment deleted: its list applies to nobody (never to everyone)
    admin.delete(f"/api/v1/_segments/{seg['id']}")
    assert admin.get(f"/api/v1/price-lists/{pl['id']}").json["audience"] == "segment"
    assert _price(admin, prod, accs["Taverna Zorba"])["unit_price"] == "90.00"
    assert _price(admin, prod)["unit_price"] == "90.00"
    # a segment of people is refused, naming the field
    people = admin.post_json(
        "/api/v1/_segments",
        {"entity": "person", "name": "Everyone", "kind": "dynamic", "definition": {"and": []}},
        status=201,
    ).json
    res = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Wrong", "currency": "EUR", "segment_id": people["id"]},
        status=400,
    )
    assert res.content_type == "application/problem+json"
    assert "segment_id" in str(res.json)


def test_a_territory_list_follows_the_record_rules_placement(admin, setup, dbsession):
    from kyklos.security.models import Territory, TerritoryValue

    prod, accs = setup["prod"], setup["accs"]
    with dbsession() as db:
        t = Territory(name="Romania", description="")
        db.add(t)
        db.flush()
        db.add(TerritoryValue(territory_id=t.id, value="RO"))
        db.flush()
        tid = t.id
    pl = _fixed(admin, "Romania 2026", "85", prod, territory_id=tid)
    got = _price(admin, prod, accs["Casa Ion"])
    assert got["unit_price"] == "85.00" and got["pricelist_id"] == pl["id"]
    assert "Romania 2026 (accounts in the territory Romania)" in got["reason"]
    assert _price(admin, prod, accs["Hotel Knossos"])["unit_price"] == "90.00"
    page = admin.get(f"/price-lists/{pl['id']}")
    assert "Romania" in page.text


def test_one_account_or_one_group_and_unknown_groups_are_refused(admin, setup):
    accs = setup["accs"]
    res = admin.post_json(
        "/api/v1/price-lists",
        {
            "name": "Both",
            "currency": "EUR",
            "account_id": accs["Casa Ion"]["id"],
            "territory_id": 999999,
        },
        status=400,
    )
    assert res.content_type == "application/problem+json"
    text = str(res.json)
    assert "account_id" in text and "territory_id" in text
    res = admin.post_json(
        "/api/v1/price-lists", {"name": "X", "currency": "EUR", "tag_id": 999999}, status=400
    )
    assert "tag_id" in str(res.json)
    # nothing was written
    names = [pl["name"] for pl in admin.get("/api/v1/price-lists").json["items"]]
    assert "Both" not in names and "X" not in names


def test_a_discount_off_another_list(admin, setup):
    prod, accs, general = setup["prod"], setup["accs"], setup["general"]
    tag = admin.post_json(
        f"/api/v1/accounts/{accs['Hotel Knossos']['id']}/tags", {"name": "hotel"}
    ).json
    hotels = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Hotels", "currency": "EUR", "tag_id": tag["id"]},
        status=201,
    ).json
    rule = admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": hotels["id"],
            "product_id": prod["id"],
            "method": "discount",
            "discount_percent": "10",
            "base_pricelist_id": general["id"],
            "round_to": "0.5",
        },
        status=201,
    ).json
    got = _price(admin, prod, accs["Hotel Knossos"])
    # 90 (Wholesale) - 10 % = 81.00
    assert got["unit_price"] == "81.00" and got["rule_id"] == rule["id"]
    assert got["reason"] == (
        "Price list Hotels (accounts tagged hotel): 10 % off price list Wholesale."
    )
    # a base list without a rule for the product gives nothing: the next list answers
    empty = admin.post_json(
        "/api/v1/price-lists", {"name": "Empty", "currency": "EUR"}, status=201
    ).json
    admin.patch_json(
        f"/api/v1/price-rules/{rule['id']}",
        {"base_pricelist_id": empty["id"], "version": rule["version"]},
    )
    assert _price(admin, prod, accs["Hotel Knossos"])["unit_price"] == "90.00"


def test_a_circle_of_lists_is_refused(admin, setup):
    prod, general = setup["prod"], setup["general"]
    a = admin.post_json("/api/v1/price-lists", {"name": "A", "currency": "EUR"}, status=201).json
    b = admin.post_json("/api/v1/price-lists", {"name": "B", "currency": "EUR"}, status=201).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": a["id"],
            "product_id": prod["id"],
            "method": "discount",
            "discount_percent": "5",
            "base_pricelist_id": b["id"],
        },
        status=201,
    )
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": b["id"],
            "product_id": prod["id"],
            "method": "discount",
            "discount_percent": "5",
            "base_pricelist_id": general["id"],
        },
        status=201,
    )
    before = admin.get(f"/api/v1/price-rules?pricelist_id={general['id']}").json["items"]
    # Wholesale off A (off B off Wholesale): a circle
    res = admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": general["id"],
            "category_id": None,
            "product_id": prod["id"],
            "method": "discount",
            "discount_percent": "5",
            "base_pricelist_id": a["id"],
        },
        status=400,
    )
    assert res.content_type == "application/problem+json"
    assert "base_pricelist_id" in str(res.json)
    # and a list off itself
    res = admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": a["id"],
            "product_id": prod["id"],
            "method": "discount",
            "discount_percent": "5",
            "base_pricelist_id": a["id"],
        },
        status=400,
    )
    assert "base_pricelist_id" in str(res.json)
    after = admin.get(f"/api/v1/price-rules?pricelist_id={general['id']}").json["items"]
    assert len(after) == len(before)
    # the chain that was allowed prices: A is B's price less 5 %, B Wholesale's less 5 %
    admin.patch_json(f"/api/v1/price-lists/{a['id']}", {"priority": 1, "version": a["version"]})
    got = _price(admin, prod)
    assert got["unit_price"] == "81.23"  # 90 * 0.95 = 85.50; 85.50 * 0.95 = 81.225
    assert got["reason"] == "Price list A: 5 % off price list B."


def _from(statements, table) -> int:
    return sum(1 for s in statements if f"FROM {table}" in s.replace('"', ""))


def test_group_lists_cost_a_query_per_list_not_per_line(admin, setup, query_counter):
    prod, accs = setup["prod"], setup["accs"]
    others = [
        admin.post_json(
            "/api/v1/products",
            {"sku": f"P-{k}", "name": f"P {k}", "list_price": money(10 + k)},
            status=201,
        ).json
        for k in range(9)
    ]
    acc = accs["Taverna Zorba"]
    tag = admin.post_json(f"/api/v1/accounts/{acc['id']}/tags", {"name": "taverna"}).json
    seg = admin.post_json(
        "/api/v1/_segments",
        {
            "entity": "account",
            "name": "Chania",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Chania"}]},
        },
        status=201,
    ).json
    tagged = _fixed(admin, "Tavernas", "70", others[0], tag_id=tag["id"])
    segl = _fixed(admin, "Chania", "71", others[1], segment_id=seg["id"])
    # a base list that does not apply to the account itself (for the tag "retail",
    # which it does not carry): read in a second round
    retail_tag = admin.post_json(
        f"/api/v1/accounts/{accs['Casa Ion']['id']}/tags", {"name": "retail"}
    ).json
    retail = _fixed(admin, "Retail", "120", prod, tag_id=retail_tag["id"])
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": tagged["id"],
            "product_id": prod["id"],
            "method": "discount",
            "discount_percent": "50",
            "base_pricelist_id": retail["id"],
        },
        status=201,
    )
    ids = [prod["id"]] + [o["id"] for o in others]
    body = {
        "account_id": acc["id"],
        "date": "2026-06-01",
        "currency": "EUR",
        "lines": [{"product_id": ids[k % 10], "quantity": "1"} for k in range(50)],
    }
    with query_counter() as count:
        res = admin.post_json("/api/v1/catalog/prices", body).json
    prices = [line["unit_price"] for line in res["lines"][:3]]
    assert prices == ["60.00", "70.00", "71.00"]
    assert res["lines"][1]["pricelist_id"] == tagged["id"]
    assert res["lines"][2]["pricelist_id"] == segl["id"]
    many = count.statements
    # the applicable lists, and Wholesale reached as a base: two rounds for the rules
    assert _from(many, "catalog_pricerule") == 2
    assert _from(many, "catalog_pricelist") == 2
    assert _from(many, "kyklos_segment") <= 2
    assert _from(many, "kyklos_tag") <= 2
    body["lines"] = body["lines"][:2]
    with query_counter() as count:
        admin.post_json("/api/v1/catalog/prices", body)
    for table in (
        "catalog_pricerule",
        "catalog_pricelist",
        "kyklos_segment",
        "kyklos_tag",
        "kyklos_territory_value",
    ):
        assert _from(count.statements, table) <= _from(many, table), table
    assert len(count.statements) <= len(many)

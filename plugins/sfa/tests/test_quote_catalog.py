"""Quote lines from the catalog (SFA-14, INV-02): a line picks a product and takes its
name in the quote's language, unit, VAT rate and the price list's price with the rule
that gave it; everything stays editable; a whole quote is priced again in one look-up."""

from __future__ import annotations

from decimal import Decimal

import pytest

PROBLEM = "application/problem+json"


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.fixture
def shop(admin):
    """Two products (one with a Greek name), a customer with its own price list (a fixed
    price from 10 pieces on) and a general list (5 % off everything in the category)."""
    cat = admin.post_json("/api/v1/product-categories", {"name": "Shelving"}, status=201).json
    rack = admin.post_json(
        "/api/v1/products",
        {
            "sku": "RACK-200",
            "name": "Steel rack 200 cm",
            "name_translations": {"el": "Μεταλλικό ράφι 200 cm"},
            "category_id": cat["id"],
            "unit": "piece",
            "tax_rate": "24",
            "list_price": money("200.00"),
            "cost": money("120.00"),
        },
        status=201,
    ).json
    fit = admin.post_json(
        "/api/v1/products",
        {
            "sku": "FIT-H",
            "name": "Installation",
            "kind": "hours",
            "unit": "hour",
            "tax_rate": "24",
            "list_price": money("40.00"),
        },
        status=201,
    ).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    general = admin.post_json(
        "/api/v1/price-lists",
        {"name": "General 2026", "currency": "EUR", "priority": 20},
        status=201,
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": general["id"],
            "category_id": cat["id"],
            "method": "discount",
            "discount_percent": "5",
        },
        status=201,
    )
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Knossos contract", "currency": "EUR", "account_id": acc["id"]},
        status=201,
    ).json
    tier = admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": own["id"],
            "product_id": rack["id"],
            "min_quantity": "10",
            "method": "fixed",
            "price": "170.00",
        },
        status=201,
    ).json
    return {
        "rack": rack,
        "fit": fit,
        "account": acc,
        "general": general,
        "own": own,
        "tier": tier,
        "category": cat,
    }


def _lines(client, quote_id):
    url = f"/api/v1/quote-lines?quote_id={quote_id}&sort=position&limit=100"
    return client.get(url).json["items"]


def test_a_product_line_takes_name_unit_tax_and_price_with_its_rule(api, shop):
    rep = api("sales")
    q = rep.post_json(
        "/api/v1/quotes",
        {
            "title": "Storage room",
            "currency": "EUR",
            "account_id": shop["account"]["id"],
            "language": "el",
        },
    ).json
    line = rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "product_id": shop["rack"]["id"], "quantity": "2"},
        status=201,
    ).json
    # below the account's tier of 10 the general list's 5 % applies: 200 -> 190
    assert line["description"] == "Μεταλλικό ράφι 200 cm"
    assert line["unit"] == "piece"
    assert Decimal(line["tax_rate"]) == 24
    assert Decimal(line["unit_price"]) == Decimal("190.00")
    assert "General 2026" in line["price_note"] and "5" in line["price_note"]
    # 10 pieces reach the account's own fixed price; the quote's totals follow
    line = rep.patch_json(f"/api/v1/quote-lines/{line['id']}", {"quantity": "10"}).json
    assert Decimal(line["unit_price"]) == Decimal("170.00")
    assert "Knossos contract" in line["price_note"]
    total = rep.get(f"/api/v1/quotes/{q['id']}").json
    assert Decimal(total["net_total"]) == Decimal("1700.00")
    # a price typed by hand wins and drops the catalog's note; the name is editable too
    line = rep.patch_json(
        f"/api/v1/quote-lines/{line['id']}",
        {"unit_price": "165.00", "description": "Ράφι (ειδική τιμή)"},
    ).json
    assert Decimal(line["unit_price"]) == Decimal("165.00")
    assert line["price_note"] is None
    assert line["description"] == "Ράφι (ειδική τιμή)"
    # a new quantity keeps a price set by hand
    line = rep.patch_json(f"/api/v1/quote-lines/{line['id']}", {"quantity": "12"}).json
    assert Decimal(line["unit_price"]) == Decimal("165.00")
    # free-text lines stay valid beside product lines
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "description": "Transport", "unit_price": "45.50"},
        status=201,
    )
    assert [ln["product_id"] for ln in _lines(rep, q["id"])] == [shop["rack"]["id"], None]


def test_the_quote_language_falls_back_to_the_contact_person(api, admin, shop):
    rep = api("sales")
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ελένη", "last_name": "Παππά", "language": "el"},
        status=201,
    ).json
    q = rep.post_json(
        "/api/v1/quotes", {"title": "Q", "currency": "EUR", "person_id": person["id"]}
    ).json
    line = rep.post_json(
        "/api/v1/quote-lines", {"quote_id": q["id"], "product_id": shop["rack"]["id"]}, status=201
    ).json
    assert line["description"] == "Μεταλλικό ράφι 200 cm"
    q2 = rep.post_json("/api/v1/quotes", {"title": "Q2", "currency": "EUR"}).json
    line = rep.post_json(
        "/api/v1/quote-lines", {"quote_id": q2["id"], "product_id": shop["rack"]["id"]}, status=201
    ).json
    assert line["description"] == "Steel rack 200 cm"


def test_bad_lines_are_refused_naming_the_field(api, admin, shop):
    rep = api("sales")
    q = rep.post_json("/api/v1/quotes", {"title": "Q", "currency": "PLN"}).json
    # no exchange rate from EUR to PLN: no price to take, the user must give one
    res = rep.post_json(
        "/api/v1/quote-lines", {"quote_id": q["id"], "product_id": shop["fit"]["id"]}, status=400
    )
    assert res.content_type == PROBLEM
    fields = {e["field"] for e in res.json["errors"]}
    assert fields == {"unit_price"}
    # neither a product nor a description
    res = rep.post_json("/api/v1/quote-lines", {"quote_id": q["id"], "unit_price": "1"}, status=400)
    assert {e["field"] for e in res.json["errors"]} == {"description"}
    # a product that does not exist is a bad reference, never a 500
    res = rep.post_json(
        "/api/v1/quote-lines", {"quote_id": q["id"], "product_id": 999999}, status=400
    )
    assert "product_id" in {e["field"] for e in res.json["errors"]}
    assert _lines(rep, q["id"]) == []


def test_line_price_endpoint_says_what_the_line_would_take(api, shop):
    rep = api("sales")
    q = rep.post_json(
        "/api/v1/quotes", {"title": "Q", "currency": "EUR", "account_id": shop["account"]["id"]}
    ).json
    got = rep.get(
        f"/api/v1/quotes/{q['id']}/line-price", {"product_id": shop["rack"]["id"], "quantity": "12"}
    ).json
    assert got["description"] == "Steel rack 200 cm"
    assert got["unit"] == "piece" and got["unit_title"] == "Piece"
    assert got["unit_price"] == "170.00" and got["unit_price_text"] == "170.00"
    assert "Knossos contract" in got["price_note"]
    res = rep.get(
        f"/api/v1/quotes/{q['id']}/line-price", {"product_id": "x", "quantity": "-1"}, status=400
    )
    assert res.content_type == PROBLEM
    assert {e["field"] for e in res.json["errors"]} == {"product_id", "quantity"}


def test_reprice_takes_new_catalog_prices_in_one_lookup(api, admin, shop, registry, query_counter):
    rep = api("sales")
    q = rep.post_json(
        "/api/v1/quotes", {"title": "Q", "currency": "EUR", "account_id": shop["account"]["id"]}
    ).json
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "product_id": shop["rack"]["id"], "quantity": "10"},
        status=201,
    )
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "product_id": shop["fit"]["id"], "quantity": "3"},
        status=201,
    )
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "description": "Transport", "unit_price": "45.50"},
        status=201,
    )
    admin.patch_json(f"/api/v1/price-rules/{shop['tier']['id']}", {"price": "160.00"})
    res = rep.post_json(f"/api/v1/quotes/{q['id']}/reprice", {}).json
    assert res["changed"] == 1
    assert Decimal(res["quote"]["net_total"]) == Decimal("1600.00") + 120 + Decimal("45.50")
    prices = [Decimal(ln["unit_price"]) for ln in _lines(rep, q["id"])]
    assert prices == [Decimal("160.00"), Decimal("40.00"), Decimal("45.50")]


def _catalog_queries(statements) -> int:
    return sum(1 for s in statements if "catalog_" in s and s.lstrip().upper().startswith("SELECT"))


def test_a_50_line_quote_is_priced_with_one_query_per_price_list(
    api, admin, shop, dbsession, registry, query_counter
):
    """The look-up of a 50-line quote asks the database as often as that of a 2-line one:
    once for the lists, once for their rules, once each for products and categories."""
    from kyklos_sfa.models import QuoteLine

    rep = api("sales")
    sizes = {}
    for n in (2, 50):
        q = rep.post_json(
            "/api/v1/quotes",
            {"title": f"{n} lines", "currency": "EUR", "account_id": shop["account"]["id"]},
        ).json
        with dbsession() as db:
            for i in range(n):
                db.add(
                    QuoteLine(
                        quote_id=q["id"],
                        position=i + 1,
                        description="x",
                        product_id=shop["rack" if i % 2 else "fit"]["id"],
                        quantity=Decimal(1 + i),
                        unit_price=Decimal(1),
                        discount_percent=0,
                        tax_rate=0,
                        line_total=0,
                        owner_id=rep.user_id,
                        version=1,
                        custom={},
                    )
                )
        with query_counter() as qc:
            res = rep.post_json(f"/api/v1/quotes/{q['id']}/reprice", {}).json
        assert res["changed"] == n
        sizes[n] = _catalog_queries(qc.statements)
    # two price lists apply (the account's and the general one): lists + rules +
    # products + categories, whatever the number of lines
    assert sizes[50] == sizes[2] <= 4
    lines = _lines(rep, q["id"])
    assert Decimal(lines[11]["unit_price"]) == Decimal("170.00")  # 12 racks: the tier


def test_the_quote_page_adds_a_product_line_without_script(api, kyklos_app, login, shop):
    import webtest

    rep_api = api("sales")
    q = rep_api.post_json(
        "/api/v1/quotes", {"title": "Page", "currency": "EUR", "account_id": shop["account"]["id"]}
    ).json
    rep = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(rep, rep_api.email)
    page = rep.get(f"/quotes/{q['id']}")
    form = page.forms["sfa-lines"]
    assert form["product_id"].value == ""
    form["product_id"].force_value(str(shop["rack"]["id"]))
    form["quantity"] = "2"
    form["tax_rate"] = ""
    res = form.submit().follow()
    row = res.html.select_one("#sfa-quote-lines tr.sfa-quote-line")
    assert "Steel rack 200 cm" in row.get_text()
    # the product's name is not said twice when the line already says it
    assert row.get_text().count("Steel rack 200 cm") == 1 and not row.select(".sfa-line-product")
    assert "General 2026" in row.select_one(".sfa-line-note").get_text()
    assert row.select_one(".sfa-line-unit").get_text(strip=True) == "Piece"
    # the quote's sums are money in its currency, not bare numbers (2 × 190.00)
    assert res.html.select_one("dd.k-field-net_total").get_text(strip=True) == "€380.00"
    # a free-text line without a price is refused with a message, nothing is added
    form = res.forms["sfa-lines"]
    form["description"] = "Something"
    res = form.submit().follow()
    assert "Give the unit price." in res.text
    assert len(res.html.select("#sfa-quote-lines tr.sfa-quote-line")) == 1


def test_margin_per_line_and_quote_only_for_who_may_see_cost(api, admin, shop, rates):
    manager = api("manager")
    rep = api("sales")
    q = manager.post_json(
        "/api/v1/quotes",
        {"title": "Margins", "currency": "EUR", "account_id": shop["account"]["id"]},
    ).json
    a = manager.post_json(
        "/api/v1/quote-lines",
        {
            "quote_id": q["id"],
            "product_id": shop["rack"]["id"],
            "quantity": "10",
            "discount_percent": "10",
        },
        status=201,
    ).json
    b = manager.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "product_id": shop["fit"]["id"], "quantity": "2"},
        status=201,
    ).json
    got = manager.get(f"/api/v1/quotes/{q['id']}/margin").json
    # 10 x 170 less 10 % = 1530; cost 10 x 120 = 1200: margin 330, 21.6 %
    by_id = {ln["id"]: ln for ln in got["lines"]}
    assert by_id[a["id"]] == {"id": a["id"], "margin": "330.00", "margin_percent": "21.6"}
    # the installation has no cost: no margin, counted apart
    assert by_id[b["id"]]["margin"] is None
    assert got["margin"] == "330.00" and got["margin_percent"] == "21.6"
    assert got["lines_without_cost"] == 1
    page = manager.get(f"/quotes/{q['id']}")
    assert page.html.select_one(".sfa-margin").get_text(" ", strip=True).startswith("€330.00")
    assert [td.get_text(strip=True) for td in page.html.select(".sfa-line-margin")] == [
        "€330.00(21.6 %)",
        "—",
    ]
    # the cost is hidden from sales reps: so is the margin, on the page and in the API
    q_rep = rep.post_json("/api/v1/quotes", {"title": "Mine", "currency": "EUR"}).json
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q_rep["id"], "product_id": shop["rack"]["id"]},
        status=201,
    )
    res = rep.get(f"/api/v1/quotes/{q_rep['id']}/margin", status=403)
    assert res.content_type == PROBLEM
    page = rep.get(f"/quotes/{q_rep['id']}")
    assert page.html.select(".sfa-margin") == [] and page.html.select(".sfa-line-margin") == []
    # in another currency the cost is converted at the quote's day: EUR 1 = PLN 4
    q_pln = manager.post_json("/api/v1/quotes", {"title": "PLN", "currency": "PLN"}).json
    manager.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q_pln["id"], "product_id": shop["rack"]["id"]},
        status=201,
    )
    got = manager.get(f"/api/v1/quotes/{q_pln['id']}/margin").json
    # list price 200 EUR -> 800 PLN (general list is EUR only); cost 480 PLN
    assert got["margin"] == "320.00"

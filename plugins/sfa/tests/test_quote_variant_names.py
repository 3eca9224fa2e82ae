"""Per-language variant names: attribute values have names per language, so variants
made from them are named per language too ("Μπλουζάκι (L, Κόκκινο)"), and a quote
written in Greek shows the Greek variant name while an English one keeps the English."""

from __future__ import annotations


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


def test_a_greek_quote_shows_greek_variant_names(admin):
    size = admin.post_json("/api/v1/product-attributes", {"name": "Size"}, status=201).json
    colour = admin.post_json(
        "/api/v1/product-attributes", {"name": "Colour", "position": 1}, status=201
    ).json
    large = admin.post_json(
        "/api/v1/attribute-values", {"attribute_id": size["id"], "name": "L"}, status=201
    ).json
    red = admin.post_json(
        "/api/v1/attribute-values",
        {
            "attribute_id": colour["id"],
            "name": "Red",
            "title_translations": {"el": "Κόκκινο", "pl": "Czerwony"},
        },
        status=201,
    ).json
    assert red["title_translations"] == {"el": "Κόκκινο", "pl": "Czerwony"}
    tee = admin.post_json(
        "/api/v1/products",
        {
            "sku": "TEE",
            "name": "T-shirt",
            "name_translations": {"el": "Μπλουζάκι"},
            "list_price": money("10.00"),
        },
        status=201,
    ).json
    made = admin.post_json(
        f"/api/v1/products/{tee['id']}/variants",
        {"value_ids": [large["id"], red["id"]]},
        status=201,
    ).json["created"]
    variant = made[0]
    assert variant["name"] == "T-shirt (L, Red)"
    # Polish: the value has a Polish name, the template not: its stored name
    assert variant["name_translations"] == {
        "el": "Μπλουζάκι (L, Κόκκινο)",
        "pl": "T-shirt (L, Czerwony)",
    }
    for lang, expected in (("el", "Μπλουζάκι (L, Κόκκινο)"), ("en", "T-shirt (L, Red)")):
        q = admin.post_json(
            "/api/v1/quotes", {"title": "Tees", "currency": "EUR", "language": lang}, status=201
        ).json
        line = admin.post_json(
            "/api/v1/quote-lines",
            {"quote_id": q["id"], "product_id": variant["id"], "quantity": "3"},
            status=201,
        ).json
        assert line["description"] == expected
    # the value's form offers its name per language
    page = admin.get(f"/attribute-values/{red['id']}/edit")
    assert "Κόκκινο" in page.text

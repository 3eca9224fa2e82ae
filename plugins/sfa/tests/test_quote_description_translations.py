"""Product descriptions per language (issue #20): the core's ``text_translations`` display
kind on the catalog's ``description_translations``: written and read through the API, a
bad language refused naming the field, shown on the product's pages; a quote line that
picks the product takes the description in the quote's language, else the plain one."""

from __future__ import annotations

PROBLEM = "application/problem+json"
GREEK = "Ψυχρή έκθλιψη, συγκομιδή Νοεμβρίου.\nΟξύτητα κάτω από 0,3 %."


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


def _product(admin, **extra):
    return admin.post_json(
        "/api/v1/products",
        {
            "sku": "OIL-1L",
            "name": "Olive oil 1 l",
            "description": "Cold-pressed, November harvest.",
            "list_price": money("9.80"),
            **extra,
        },
        status=201,
    ).json


def test_round_trip_and_bad_language(admin):
    made = _product(admin, description_translations={"el": GREEK, "pl": "  Tłoczona na zimno. "})
    # kept per language with the line breaks; spaces around trimmed
    assert made["description_translations"] == {"el": GREEK, "pl": "Tłoczona na zimno."}
    assert made["description"] == "Cold-pressed, November harvest."
    got = admin.get(f"/api/v1/products/{made['id']}").json
    assert got["description_translations"]["el"] == GREEK

    # a language the deployment does not have: 400 naming the field and the code
    res = admin.patch_json(
        f"/api/v1/products/{made['id']}",
        {"description_translations": {"el": "Καλό", "xx": "bad"}},
        headers={"If-Match": f'"{got["version"]}"'},
        status=400,
    )
    assert res.content_type == PROBLEM
    errors = {e["field"]: e["detail"] for e in res.json["errors"]}
    assert "xx" in errors["description_translations"]
    # nothing written
    again = admin.get(f"/api/v1/products/{made['id']}").json
    assert again["description_translations"]["el"] == GREEK
    # not an object, a text that is not a string: named too
    for bad in (["el", "x"], {"el": 5}, {"el": "x" * 10_001}):
        res = admin.post_json(
            "/api/v1/products",
            {"sku": "BAD", "name": "Bad", "description_translations": bad},
            status=400,
        )
        assert "description_translations" in {e["field"] for e in res.json["errors"]}
    # a one-line title refuses a line break; the description keeps it
    res = admin.post_json(
        "/api/v1/products",
        {"sku": "BAD2", "name": "Bad", "name_translations": {"el": "δύο\nγραμμές"}},
        status=400,
    )
    assert "name_translations" in {e["field"] for e in res.json["errors"]}


def test_openapi_schema_is_an_object_of_languages(admin):
    schemas = admin.get("/api/openapi.json").json["components"]["schemas"]
    for name, limit in (("Product", 10_000), ("ProductCreate", 10_000)):
        s = schemas[name]["properties"]["description_translations"]
        assert "object" in s["type"] and s["additionalProperties"] is False
        assert set(s["properties"]) >= {"en", "el", "ro", "pl"}
        assert s["properties"]["el"]["maxLength"] == limit
    # a title is one line: its pattern refuses line breaks, the description's does not
    create = schemas["ProductCreate"]["properties"]
    title = create["name_translations"]
    assert title["properties"]["el"]["maxLength"] == 300


def test_detail_page_shows_each_language(admin):
    made = _product(admin, description_translations={"el": GREEK})
    page = admin.get(f"/products/{made['id']}")
    assert "Ελληνικά" in page.text and "Οξύτητα κάτω από 0,3 %." in page.text
    form = admin.get(f"/products/{made['id']}/edit")
    # a text area per language, the Greek one filled
    assert 'name="el"' in form.text and "<textarea" in form.text
    assert "Οξύτητα" in form.text


def test_a_greek_quote_line_takes_the_greek_description(admin):
    made = _product(
        admin,
        name_translations={"el": "Ελαιόλαδο 1 l"},
        description_translations={"el": GREEK},
    )
    expected = {
        "el": ("Ελαιόλαδο 1 l", GREEK),
        # no Romanian description: the plain one
        "ro": ("Olive oil 1 l", "Cold-pressed, November harvest."),
        "en": ("Olive oil 1 l", "Cold-pressed, November harvest."),
    }
    for lang, (name, details) in expected.items():
        q = admin.post_json(
            "/api/v1/quotes", {"title": "Oil", "currency": "EUR", "language": lang}, status=201
        ).json
        line = admin.post_json(
            "/api/v1/quote-lines",
            {"quote_id": q["id"], "product_id": made["id"], "quantity": "2"},
            status=201,
        ).json
        assert (line["description"], line["details"]) == (name, details)
        # what the "Add a line" form fills in, and the quote's page
        filled = admin.get(
            f"/api/v1/quotes/{q['id']}/line-price?product_id={made['id']}&quantity=1"
        ).json
        assert filled["details"] == details
        page = admin.get(f"/quotes/{q['id']}")
        assert details.splitlines()[0] in page.text
    # details typed by the user stay theirs
    q = admin.post_json(
        "/api/v1/quotes", {"title": "Oil", "currency": "EUR", "language": "el"}, status=201
    ).json
    line = admin.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "product_id": made["id"], "details": "Δικό μας κείμενο"},
        status=201,
    ).json
    assert line["details"] == "Δικό μας κείμενο"

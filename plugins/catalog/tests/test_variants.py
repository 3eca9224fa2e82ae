"""Variants by attribute: values chosen per attribute give one variant per combination,
each with its own code, barcode and price extra (its list price the template's plus the
extra); generating again adds only the missing combinations; the quote picker (the
product look-up) finds variants by code; bad choices are refused naming the field."""

from __future__ import annotations


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


def _attributes(admin):
    size = admin.post_json("/api/v1/product-attributes", {"name": "Size"}, status=201).json
    colour = admin.post_json(
        "/api/v1/product-attributes", {"name": "Colour", "position": 1}, status=201
    ).json
    vals = {}
    for attr, names in ((size, ("S", "M", "L")), (colour, ("Red", "Blue"))):
        for i, name in enumerate(names):
            vals[name] = admin.post_json(
                "/api/v1/attribute-values",
                {"attribute_id": attr["id"], "name": name, "position": i},
                status=201,
            ).json["id"]
    return vals


def test_variants_from_attribute_values(admin):
    vals = _attributes(admin)
    tee = admin.post_json(
        "/api/v1/products",
        {"sku": "TEE", "name": "T-shirt", "list_price": money("10.00"), "unit": "piece"},
        status=201,
    ).json
    res = admin.post_json(
        f"/api/v1/products/{tee['id']}/variants",
        {"value_ids": [vals["S"], vals["L"], vals["Red"], vals["Blue"]]},
        status=201,
    ).json
    made = {p["sku"]: p for p in res["created"]}
    assert set(made) == {"TEE-S-RED", "TEE-S-BLUE", "TEE-L-RED", "TEE-L-BLUE"}
    assert made["TEE-L-RED"]["name"] == "T-shirt (L, Red)"
    assert all(p["template_id"] == tee["id"] for p in made.values())
    assert made["TEE-S-RED"]["list_price"] == money("10.00")
    # again with M added: only the two new combinations
    res = admin.post_json(
        f"/api/v1/products/{tee['id']}/variants",
        {"value_ids": [vals["S"], vals["M"], vals["L"], vals["Red"], vals["Blue"]]},
        status=201,
    ).json
    assert sorted(p["sku"] for p in res["created"]) == ["TEE-M-BLUE", "TEE-M-RED"]
    # its own barcode (validated) and a price extra that the list price follows
    xl = made["TEE-L-RED"]
    admin.patch_json(
        f"/api/v1/products/{xl['id']}",
        {"barcode": "4006381333931", "price_extra": "2.50", "version": xl["version"]},
        status=200,
    )
    got = admin.get(f"/api/v1/products/{xl['id']}").json
    assert got["list_price"] == money("12.50") and got["barcode"] == "4006381333931"
    price = admin.get(f"/api/v1/products/{xl['id']}/price").json
    assert price["unit_price"] == "12.50"
    res = admin.patch_json(
        f"/api/v1/products/{xl['id']}",
        {"barcode": "4006381333932", "version": got["version"]},
        status=400,
    )
    assert "barcode" in {e["field"] for e in res.json["errors"]}
    # the template's page lists them; the picker's look-up finds a variant by its code
    variants = admin.get(f"/api/v1/products?template_id={tee['id']}&limit=50").json["items"]
    assert len(variants) == 6
    found = admin.get("/products/_lookup?q=TEE-M-B").json
    assert [r["title"] for r in found] == ["T-shirt (M, Blue)"], found
    page = admin.get(f"/products/{tee['id']}")
    assert "T-shirt (M, Blue)" in page.text and "Create variants" in page.text


def test_bad_variant_requests_name_the_field(admin):
    vals = _attributes(admin)
    tee = admin.post_json("/api/v1/products", {"sku": "TEE", "name": "T"}, status=201).json
    url = f"/api/v1/products/{tee['id']}/variants"
    for body in ({"value_ids": []}, {"value_ids": [999999]}, {"value_ids": "1"}, {}):
        res = admin.post_json(url, body, status=400)
        assert "value_ids" in {e["field"] for e in res.json["errors"]}, body
    made = admin.post_json(url, {"value_ids": [vals["S"]]}, status=201).json["created"][0]
    res = admin.post_json(
        f"/api/v1/products/{made['id']}/variants", {"value_ids": [vals["M"]]}, status=400
    )
    assert "value_ids" in {e["field"] for e in res.json["errors"]}
    assert len(admin.get("/api/v1/products").json["items"]) == 2


def test_the_variants_page_makes_them_from_check_boxes(admin):
    vals = _attributes(admin)
    tee = admin.post_json("/api/v1/products", {"sku": "TEE", "name": "T"}, status=201).json
    page = admin.get(f"/catalog/products/{tee['id']}/variants")
    assert "Size" in page.text and "Colour" in page.text
    form = page.forms["catalog-variants-form"]
    for box in form.fields["value_ids"]:
        if box._value in (str(vals["M"]), str(vals["Red"])):
            box.checked = True
    res = form.submit().follow()
    assert "1 variant created." in res.text
    assert "T (M, Red)" in res.text


def test_a_reader_sees_the_product_named_in_their_language(admin):
    """A product's name in other languages is its title for readers of them: the
    picker, and every page that names the product; others see its own name."""
    oil = admin.post_json(
        "/api/v1/products",
        {
            "sku": "OIL-1",
            "name": "Olive oil 1 l",
            "name_translations": {"el": "Ελαιόλαδο 1 λίτρο"},
            "unit": "piece",
        },
        status=201,
    ).json
    plain = admin.post_json(
        "/api/v1/products", {"sku": "SALT", "name": "Sea salt", "unit": "piece"}, status=201
    ).json
    ids = f"id={oil['id']}&id={plain['id']}"
    greek = admin.get(f"/products/_lookup?{ids}", headers={"Accept-Language": "el"}).json
    assert {r["title"] for r in greek} == {"Ελαιόλαδο 1 λίτρο", "Sea salt"}
    polish = admin.get(f"/products/_lookup?{ids}", headers={"Accept-Language": "pl"}).json
    assert {r["title"] for r in polish} == {"Olive oil 1 l", "Sea salt"}
    found = admin.get(
        "/products/_lookup", params={"q": "Ελαιόλαδο"}, headers={"Accept-Language": "el"}
    ).json
    assert [r["title"] for r in found] == ["Ελαιόλαδο 1 λίτρο"]
    # global search too, whichever language's word found it
    for word in ("Ελαιόλαδο", "olive"):
        groups = admin.get(
            "/api/v1/_search", params={"q": word}, headers={"Accept-Language": "el"}
        ).json["groups"]
        titles = [i["title"] for g in groups if g["type"] == "product" for i in g["items"]]
        assert titles == ["Ελαιόλαδο 1 λίτρο"], (word, groups)
    groups = admin.get("/api/v1/_search", params={"q": "olive"}).json["groups"]
    assert [i["title"] for g in groups for i in g["items"]] == ["Olive oil 1 l"]

"""Offer templates (issue #20, SFA-11): managers keep templates of quote lines and texts;
a rep starts a quote on an opportunity from one, its product lines priced by the
catalog for the opportunity's account; a quote can be saved as a new template."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

PROBLEM = "application/problem+json"


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.fixture
def shop(admin):
    """A rack (list price 200, Greek name), a general price list (5 % off the rack's
    category) and an account, Knossos, with its own contract (170 from 10 pieces)."""
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
        },
        status=201,
    ).json
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
    knossos = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "Minoa Stores"}, status=201).json
    own = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Knossos contract", "currency": "EUR", "account_id": knossos["id"]},
        status=201,
    ).json
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": own["id"],
            "product_id": rack["id"],
            "min_quantity": "10",
            "method": "fixed",
            "price": "170.00",
        },
        status=201,
    )
    return {"rack": rack, "knossos": knossos, "other": other}


@pytest.fixture
def template(api, shop):
    """A manager's template in Greek: 10 racks and a free-text transport line."""
    manager = api("manager")
    t = manager.post_json(
        "/api/v1/quote-templates",
        {
            "name": "Storage room",
            "currency": "EUR",
            "language": "el",
            "introduction": "Thank you for your interest.",
            "terms": "Valid for 30 days.",
        },
        status=201,
    ).json
    manager.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": t["id"], "position": 1, "product_id": shop["rack"]["id"], "quantity": "10"},
        status=201,
    )
    manager.post_json(
        "/api/v1/quote-template-lines",
        {
            "template_id": t["id"],
            "position": 2,
            "description": "Transport",
            "unit_price": "45.50",
            "tax_rate": "24",
        },
        status=201,
    )
    return t


def _lines(client, quote_id):
    url = f"/api/v1/quote-lines?quote_id={quote_id}&sort=position&limit=100"
    return client.get(url).json["items"]


def _count_quotes(client):
    return len(client.get("/api/v1/quotes?limit=100").json["items"])


def test_managers_keep_templates_and_reps_only_read_them(api, template, shop):
    rep = api("sales")
    names = [t["name"] for t in rep.get("/api/v1/quote-templates").json["items"]]
    assert names == ["Storage room"]
    res = rep.post_json("/api/v1/quote-templates", {"name": "Mine", "currency": "EUR"}, status=403)
    assert res.content_type == PROBLEM
    rep.patch_json(f"/api/v1/quote-templates/{template['id']}", {"name": "X"}, status=403)
    rep.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": template["id"], "description": "X", "unit_price": "1"},
        status=403,
    )
    assert rep.get(f"/api/v1/quote-templates/{template['id']}").json["name"] == "Storage room"


def test_template_lines_are_a_product_or_priced_free_text(api, template, shop, error_fields):
    manager = api("manager")
    res = manager.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": template["id"], "product_id": shop["rack"]["id"], "unit_price": "99"},
        status=400,
    )
    assert error_fields(res.json) == {"unit_price"}
    res = manager.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": template["id"], "quantity": "2"},
        status=400,
    )
    assert error_fields(res.json) == {"description", "unit_price"}


def test_a_quote_from_a_template_is_priced_for_the_opportunitys_account(
    api, template, shop, make_opp
):
    rep = api("sales")
    opp = make_opp(rep, "Knossos storage", account_id=shop["knossos"]["id"])
    res = rep.post_json(
        "/api/v1/quotes/from-template",
        {"template_id": template["id"], "opportunity_id": opp["id"]},
        status=201,
    )
    q = res.json
    assert res.headers["Location"].endswith(f"/api/v1/quotes/{q['id']}")
    assert q["title"] == "Knossos storage"
    assert q["opportunity_id"] == opp["id"] and q["account_id"] == shop["knossos"]["id"]
    assert (q["currency"], q["language"]) == ("EUR", "el")
    assert q["introduction"] == "Thank you for your interest."
    assert q["terms"] == "Valid for 30 days."
    assert q["owner_id"] == rep.user_id
    lines = _lines(rep, q["id"])
    # the account's own contract: 170 from 10 pieces; the name in the quote's language
    assert lines[0]["description"] == "Μεταλλικό ράφι 200 cm"
    assert Decimal(lines[0]["unit_price"]) == Decimal("170.00")
    assert "Knossos contract" in lines[0]["price_note"]
    assert Decimal(lines[0]["tax_rate"]) == 24
    assert (lines[1]["description"], Decimal(lines[1]["unit_price"])) == (
        "Transport",
        Decimal("45.50"),
    )
    assert Decimal(rep.get(f"/api/v1/quotes/{q['id']}").json["net_total"]) == Decimal("1745.50")
    # the template's texts frame the lines in the offer's PDF
    res = rep.get(f"/api/v1/quotes/{q['id']}/pdf")
    text = " ".join(
        " ".join(p.extract_text() for p in PdfReader(io.BytesIO(res.body)).pages).split()
    )
    assert "Thank you for your interest." in text and "Valid for 30 days." in text
    assert text.index("Thank you") < text.index("Μεταλλικό ράφι") < text.index("Valid for")
    # another customer gets the general list's price from the same template
    opp2 = make_opp(rep, "Minoa", account_id=shop["other"]["id"])
    q2 = rep.post_json(
        "/api/v1/quotes/from-template",
        {"template_id": template["id"], "opportunity_id": opp2["id"], "title": "Shelves"},
        status=201,
    ).json
    assert q2["title"] == "Shelves"
    assert Decimal(_lines(rep, q2["id"])[0]["unit_price"]) == Decimal("190.00")


def test_bad_requests_name_the_field_and_write_nothing(
    api, admin, template, shop, make_opp, error_fields
):
    rep = api("sales")
    before = _count_quotes(admin)
    url = "/api/v1/quotes/from-template"
    res = rep.post_json(url, {"colour": "red"}, status=400)
    assert res.content_type == PROBLEM
    assert error_fields(res.json) == {"colour", "template_id"}
    res = rep.post_json(url, {"template_id": "1", "opportunity_id": 99999999}, status=400)
    assert error_fields(res.json) == {"template_id", "opportunity_id"}
    res = rep.post_json(url, {"template_id": 99999999}, status=400)
    assert error_fields(res.json) == {"template_id"}
    # another rep's deal is not theirs to quote on (and is not revealed)
    other_rep = api("sales")
    foreign = make_opp(other_rep, "Not yours", account_id=shop["knossos"]["id"])
    res = rep.post_json(
        url, {"template_id": template["id"], "opportunity_id": foreign["id"]}, status=400
    )
    assert error_fields(res.json) == {"opportunity_id"}
    # an inactive template is no longer offered
    manager = api("manager")
    off = manager.post_json(
        "/api/v1/quote-templates", {"name": "Old", "currency": "EUR", "active": False}, status=201
    ).json
    res = rep.post_json(url, {"template_id": off["id"]}, status=400)
    assert error_fields(res.json) == {"template_id"}
    # a template in a currency the catalog cannot price (no EUR->PLN rate): refused,
    # naming the template, and no half-made quote is left behind
    pln = manager.post_json(
        "/api/v1/quote-templates", {"name": "Poland", "currency": "PLN"}, status=201
    ).json
    manager.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": pln["id"], "product_id": shop["rack"]["id"]},
        status=201,
    )
    res = rep.post_json(url, {"template_id": pln["id"]}, status=400)
    assert error_fields(res.json) == {"template_id"}
    assert "Steel rack 200 cm" in res.json["errors"][0]["detail"]
    assert _count_quotes(admin) == before
    # a user without the right to create quotes
    api("user").post_json(url, {"template_id": template["id"]}, status=403)


def test_save_as_template_keeps_products_not_prices(api, shop, make_opp, error_fields):
    rep = api("sales")
    q = rep.post_json(
        "/api/v1/quotes",
        {
            "title": "Hand made",
            "currency": "EUR",
            "account_id": shop["other"]["id"],
            "introduction": "Dear customer,",
            "terms": "Net 30.",
        },
        status=201,
    ).json
    rep.post_json(
        "/api/v1/quote-lines",
        {
            "quote_id": q["id"],
            "product_id": shop["rack"]["id"],
            "quantity": "10",
            "unit_price": "150.00",
        },
        status=201,
    )
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "description": "Assembly", "unit_price": "80.00", "tax_rate": "24"},
        status=201,
    )
    url = f"/api/v1/quotes/{q['id']}/save-as-template"
    # reps use templates, managers make them
    rep.post_json(url, {"name": "Mine"}, status=403)
    manager = api("manager")
    res = manager.post_json(url, {"name": 5, "extra": 1}, status=400)
    assert error_fields(res.json) == {"name", "extra"}
    t = manager.post_json(url, {"name": "Standard shelving"}, status=201).json
    assert (t["name"], t["currency"], t["introduction"], t["terms"], t["active"]) == (
        "Standard shelving",
        "EUR",
        "Dear customer,",
        "Net 30.",
        True,
    )
    tl = manager.get(f"/api/v1/quote-template-lines?template_id={t['id']}&sort=position").json
    rack, free = tl["items"]
    assert rack["product_id"] == shop["rack"]["id"] and rack["unit_price"] is None
    assert rack["description"] is None and Decimal(rack["quantity"]) == 10
    assert (free["description"], Decimal(free["unit_price"])) == ("Assembly", Decimal("80.00"))
    # a quote from it asks the catalog again: Knossos' contract, not the hand-typed 150
    opp = make_opp(rep, "Knossos", account_id=shop["knossos"]["id"])
    q2 = rep.post_json(
        "/api/v1/quotes/from-template",
        {"template_id": t["id"], "opportunity_id": opp["id"]},
        status=201,
    ).json
    lines = _lines(rep, q2["id"])
    assert [Decimal(ln["unit_price"]) for ln in lines] == [Decimal("170.00"), Decimal("80.00")]
    assert lines[0]["description"] == "Steel rack 200 cm"
    # a quote the user cannot see cannot be saved
    manager.post_json("/api/v1/quotes/99999999/save-as-template", {}, status=404)


def test_from_template_for_an_account_without_an_opportunity(api, template, shop, error_fields):
    """The API takes the account (and contact) a rep chose on the generic form: the
    lines are priced for that account, exactly as on an opportunity."""
    rep = api("sales")
    url = "/api/v1/quotes/from-template"
    q = rep.post_json(
        url, {"template_id": template["id"], "account_id": shop["knossos"]["id"]}, status=201
    ).json
    assert q["account_id"] == shop["knossos"]["id"] and q["opportunity_id"] is None
    assert q["title"] == "Storage room"
    line = _lines(rep, q["id"])[0]
    assert Decimal(line["unit_price"]) == Decimal("170.00")
    assert "Knossos contract" in line["price_note"]
    q2 = rep.post_json(
        url, {"template_id": template["id"], "account_id": shop["other"]["id"]}, status=201
    ).json
    assert Decimal(_lines(rep, q2["id"])[0]["unit_price"]) == Decimal("190.00")
    res = rep.post_json(
        url, {"template_id": template["id"], "account_id": 99999999, "person_id": "x"}, status=400
    )
    assert error_fields(res.json) == {"account_id", "person_id"}


def test_the_generic_new_quote_form_starts_from_a_template(api, client, template, shop, admin):
    """The new-quote form (``/quotes/new``) has a "Start from a template" drop-down; its
    button posts the form, with the customer chosen there, and the quote is made by the
    API's code: priced for that customer. A refusal shows the reasons and saves nothing."""
    rep = client("sales")
    page = rep.get("/quotes/new")
    assert "Start from a template" in page.text
    assert 'form="k-record-form"' in page.text and "Storage room (EUR)" in page.text
    fields = dict(page.forms["k-record-form"].submit_fields())
    fields.update(
        sfa_template_id=str(template["id"]),
        account_id=str(shop["knossos"]["id"]),
        title="Storage for the hotel",
    )
    res = rep.post("/sfa/quotes/new-from-template", fields, status=303)
    qid = int(res.location.rstrip("/").rsplit("/", 1)[1])
    shown = res.follow()
    assert "Created" in shown.text and "Μεταλλικό ράφι 200 cm" in shown.text
    q = admin.get(f"/api/v1/quotes/{qid}").json
    assert q["title"] == "Storage for the hotel" and q["account_id"] == shop["knossos"]["id"]
    assert Decimal(_lines(admin, qid)[0]["unit_price"]) == Decimal("170.00")
    # the form's own Save ignores the drop-down: a plain quote, without the lines
    before = _count_quotes(admin)
    form = page.forms["k-record-form"]
    plain = dict(form.submit_fields("save"))
    plain.update(sfa_template_id=str(template["id"]), title="Plain quote")
    saved = rep.post(form.action or "/quotes/new", plain, status=303)
    pid = int(saved.location.rstrip("/").rsplit("/", 1)[1])
    assert admin.get(f"/api/v1/quotes/{pid}").json["title"] == "Plain quote"
    assert _lines(admin, pid) == []
    before += 1
    # no template chosen: the page says so, in words, with the customer kept
    fields.update(sfa_template_id="")
    res = rep.post("/sfa/quotes/new-from-template", fields, status=400)
    assert "Offer template: Choose an offer template." in res.text
    assert "Hotel Knossos" in res.text
    again = res.forms["sfa-new-from-template-form"]
    assert again["account_id"].value == str(shop["knossos"]["id"])
    again["sfa_template_id"] = str(template["id"])
    done = again.submit(status=303).follow()
    assert "Created" in done.text
    assert _count_quotes(admin) == before + 1
    # a template the catalog cannot price (PLN, no rate): refused, no half-made quote
    manager = api("manager")
    pln = manager.post_json(
        "/api/v1/quote-templates", {"name": "Poland", "currency": "PLN"}, status=201
    ).json
    manager.post_json(
        "/api/v1/quote-template-lines",
        {"template_id": pln["id"], "product_id": shop["rack"]["id"]},
        status=201,
    )
    fields.update(sfa_template_id=str(pln["id"]))
    res = rep.post("/sfa/quotes/new-from-template", fields, status=400)
    assert "Steel rack 200 cm" in res.text
    assert _count_quotes(admin) == before + 1
    # without the right to create quotes there is neither the panel nor the page
    user = client("user")
    user.post("/sfa/quotes/new-from-template", fields, status=403)


def test_save_as_template_keeps_the_details_a_rep_wrote(api, admin, shop, make_opp):
    """A quote line's details a rep typed survive "save as template" and reach the next
    quote; the product's own description is not copied into the template (a quote made
    from it looks it up again, in that quote's language)."""
    admin.patch_json(
        f"/api/v1/products/{shop['rack']['id']}",
        {
            "description": "Galvanised steel, 5 shelves.",
            "description_translations": {"el": "Γαλβανισμένο ατσάλι, 5 ράφια."},
        },
        headers={"If-Match": admin.get(f"/api/v1/products/{shop['rack']['id']}").headers["ETag"]},
        status=200,
    )
    rep = api("sales")
    q = rep.post_json(
        "/api/v1/quotes",
        {"title": "Two racks", "currency": "EUR", "account_id": shop["other"]["id"]},
        status=201,
    ).json
    plain = {"quote_id": q["id"], "product_id": shop["rack"]["id"], "quantity": "1"}
    rep.post_json("/api/v1/quote-lines", plain, status=201)
    typed = dict(plain, details="Mounted on the north wall, anchors included.")
    rep.post_json("/api/v1/quote-lines", typed, status=201)
    free = {
        "quote_id": q["id"],
        "description": "Assembly",
        "details": "Two technicians, one day.",
        "unit_price": "80.00",
        "tax_rate": "24",
    }
    rep.post_json("/api/v1/quote-lines", free, status=201)
    manager = api("manager")
    t = manager.post_json(
        f"/api/v1/quotes/{q['id']}/save-as-template", {"name": "Racks"}, status=201
    ).json
    tl = manager.get(f"/api/v1/quote-template-lines?template_id={t['id']}&sort=position").json
    assert [ln["details"] for ln in tl["items"]] == [
        None,
        "Mounted on the north wall, anchors included.",
        "Two technicians, one day.",
    ]
    # a Greek quote from it: the product's Greek description where none was typed
    manager.patch_json(
        f"/api/v1/quote-templates/{t['id']}",
        {"language": "el"},
        headers={"If-Match": manager.get(f"/api/v1/quote-templates/{t['id']}").headers["ETag"]},
        status=200,
    )
    opp = make_opp(rep, "Knossos racks", account_id=shop["knossos"]["id"])
    q2 = rep.post_json(
        "/api/v1/quotes/from-template",
        {"template_id": t["id"], "opportunity_id": opp["id"]},
        status=201,
    ).json
    assert [ln["details"] for ln in _lines(rep, q2["id"])] == [
        "Γαλβανισμένο ατσάλι, 5 ράφια.",
        "Mounted on the north wall, anchors included.",
        "Two technicians, one day.",
    ]

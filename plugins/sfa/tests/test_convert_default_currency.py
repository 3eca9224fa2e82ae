"""Converting a lead in the browser proposes the site's default currency (the settings
page) for the opportunity's amount, not a fixed one."""

from __future__ import annotations


def test_convert_page_starts_in_the_default_currency(client, api, stages):
    api("admin").patch_json("/api/v1/_settings", {"currency.default": "PLN"})
    lead = (
        api("admin")
        .post_json(
            "/api/v1/leads",
            {"first_name": "Jan", "last_name": "Kowalski", "company": "Wisła Meble"},
            status=201,
        )
        .json
    )
    page = client("admin").get(f"/sfa/leads/{lead['id']}/convert")
    assert page.forms["sfa-convert-form"]["currency"].value == "PLN"


def test_convert_page_offers_the_cores_currency_drop_down(client, api, stages):
    """The opportunity's currency is picked from the core's currency drop-down (the
    currencies in use first, named in the user's language), not typed as a code."""
    import re

    api("admin").patch_json(
        "/api/v1/_settings", {"currency.default": "RON", "currency.in_use": ["RON", "EUR"]}
    )
    lead = (
        api("admin")
        .post_json(
            "/api/v1/leads",
            {"first_name": "Ana", "last_name": "Pop", "company": "Carpați"},
            status=201,
        )
        .json
    )
    admin = client("admin")
    page = admin.get(f"/sfa/leads/{lead['id']}/convert")
    field = page.forms["sfa-convert-form"]["currency"]
    assert field.tag == "select" and field.value == "RON"
    groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', page.text, re.S)
    assert [g[0] for g in groups] == ["In use", "Other currencies"]
    assert re.findall(r'value="([A-Z]{3})"', groups[0][1]) == ["RON", "EUR"]
    assert "Romanian Leu" in groups[0][1] or "Romanian leu" in groups[0][1]
    assert len(re.findall(r"<option ", groups[1][1])) > 100
    greek = admin.get(
        f"/sfa/leads/{lead['id']}/convert",
        headers={"Accept-Language": "el"},
        params={"_LOCALE_": "el"},
    )
    el_groups = re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', greek.text, re.S)
    assert el_groups[0][0] != "In use" and "Ευρώ" in el_groups[0][1]
    # a value that is not an ISO code is refused, naming the field; nothing converted
    form = page.forms["sfa-convert-form"]
    form["account"] = "create"
    form["person"] = "create"
    form["amount"] = "100"
    form["currency"].force_value("XYZ")
    res = form.submit(status=200)
    assert "Not an ISO 4217 currency code." in res.text
    assert api("admin").get(f"/api/v1/leads/{lead['id']}").json["status"] != "converted"

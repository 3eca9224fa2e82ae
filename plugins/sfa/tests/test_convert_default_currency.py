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

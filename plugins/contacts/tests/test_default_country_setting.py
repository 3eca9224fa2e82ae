"""A number typed without a country code is read with the site's default country (the
settings page) when the deployment sets no ``kyklos.contacts.default_country``."""

from contacts_helpers import new_person


def test_site_default_country_reads_local_numbers(api):
    admin = api("admin")
    a = api("manager")
    # no default country anywhere: a local number cannot be read
    res = a.post_json(
        "/api/v1/persons",
        {
            "first_name": "Ana",
            "last_name": "Pop",
            "phones": [{"type": "mobile", "number": "0721 234 567"}],
        },
        status=400,
    )
    assert res.content_type == "application/problem+json"
    admin.patch_json("/api/v1/_settings", {"country.default": "RO"})
    p = new_person(
        a, first_name="Ana", last_name="Pop", phones=[{"type": "mobile", "number": "0721 234 567"}]
    )
    assert p["phones"][0]["number"] == "+40721234567"

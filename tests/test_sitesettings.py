"""Site settings (issue 17, point 1): the API round trip and its validation, the
permission, the settings page, new money values in the default currency, e-mailed
links on the public address, the language selector, the logo, exchange rates."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from entities_support import roles_synced  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("roles_synced")

URL = "/api/v1/_settings"

# the smallest valid PNG (1x1 pixel)
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d4944415478da63f8cfc0f01f0005000201a5f5b9c20000000049454e44ae426082"
)


@pytest.fixture
def kyklos_plugins():
    return ["samplemoney"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return {**smtp_server.settings, "kyklos.currency": "EUR"}


def test_round_trip_and_reset_to_the_ini_default(api):
    admin = api("admin")
    got = admin.get(URL).json
    assert got["currency.default"] == "EUR"  # from the .ini
    assert got["currency.in_use"] == ["EUR"]
    assert got["languages"] == ["en", "el", "ro", "pl"]
    assert got["company.logo"] is None
    change = {
        "company.name": "Kyklos Trading S.A.",
        "company.address": "Leof. Kifisias 1\n115 23 Athens",
        "company.vat_number": "EL123456789",
        "company.email": "office@kyklos.example",
        "company.website": "https://kyklos.example",
        "company.bank_details": "Alpha Bank\nIBAN GR16 0110 1250 0000 0001 2300 695",
        "currency.default": "PLN",
        "currency.in_use": ["EUR", "RON"],
        "country.default": "GR",
        "timezone.default": "Europe/Athens",
        "base_url": "https://crm.kyklos.example/",
        "languages": ["el", "en"],
        "rates.max_age_days": 3,
    }
    res = admin.patch_json(URL, change)
    assert res.status_int == 200
    again = admin.get(URL).json
    for key, value in change.items():
        if key == "base_url":
            assert again[key] == "https://crm.kyklos.example"  # no trailing slash
        elif key == "currency.in_use":
            assert again[key] == ["PLN", "EUR", "RON"]  # the default first, always in use
        else:
            assert again[key] == value, key
    assert res.json == again
    # null gives the setting back to the .ini
    admin.patch_json(URL, {"currency.default": None, "languages": None})
    after = admin.get(URL).json
    assert after["currency.default"] == "EUR"
    assert after["languages"] == ["en", "el", "ro", "pl"]
    assert after["company.name"] == "Kyklos Trading S.A."


def test_validation_names_each_bad_field_and_writes_nothing(api):
    admin = api("admin")
    admin.patch_json(URL, {"company.name": "Before"})
    bad = {
        "company.name": "After",
        "currency.default": "EURO",
        "currency.in_use": ["EUR", "ZZZ"],
        "country.default": "GRC",
        "timezone.default": "Mars/Olympus_Mons",
        "base_url": "ftp://crm.example.com",
        "languages": ["en", "de"],
        "company.email": "not an address",
        "rates.max_age_days": 0,
        "colour": "red",
    }
    res = admin.patch_json(URL, bad, status=400)
    assert res.content_type == "application/problem+json"
    fields = {e["field"]: e["detail"] for e in res.json["errors"]}
    assert set(fields) == set(bad) - {"company.name"}
    assert "ISO 4217" in fields["currency.default"] and "ZZZ" in fields["currency.in_use"]
    assert "ISO 3166" in fields["country.default"]
    assert "IANA" in fields["timezone.default"]
    assert "de" in fields["languages"]
    assert admin.get(URL).json["company.name"] == "Before"  # no partial write
    # wrong types are refused too, and the body must be JSON
    res = admin.patch_json(URL, {"languages": "en", "rates.max_age_days": "7"}, status=400)
    assert {e["field"] for e in res.json["errors"]} == {"languages", "rates.max_age_days"}
    admin.patch(URL, "x", headers={"Content-Type": "text/plain"}, status=415)


def test_a_rep_may_neither_read_nor_change_settings(api, client):
    rep = api("user")
    rep.get(URL, status=403)
    rep.patch_json(URL, {"company.name": "Mine"}, status=403)
    rep.put(URL + "/logo", upload_files=[("file", "logo.png", PNG)], status=403)
    page = client("user")
    page.get("/settings", status=403)
    assert "/settings" not in page.get("/admin", expect_errors=True).text


def test_the_admin_changes_settings_on_the_page(client, api):
    admin = client("admin")
    assert "/settings" in admin.get("/admin").text
    page = admin.get("/settings")
    for section in ("Company", "Money", "Region", "Site", "Exchange rates", "Plugins"):
        assert section in page.text
    assert "restart" in page.text  # enabling a plugin needs one
    form = page.forms["k-settings-form"]
    form["company.name"] = "Acme Hellas"
    form["currency.default"] = "USD"
    form["currency.in_use.add"] = "PLN"
    form["country.default"] = "GR"
    form["timezone.default"] = "Europe/Athens"
    form["company.logo"] = ("logo.png", PNG, "image/png")
    res = form.submit().follow()
    assert "Settings saved." in res.text
    got = api("admin").get(URL).json
    assert got["company.name"] == "Acme Hellas"
    assert got["currency.default"] == "USD"
    assert got["currency.in_use"] == ["USD", "EUR", "PLN"]
    assert got["country.default"] == "GR" and got["timezone.default"] == "Europe/Athens"
    assert got["company.logo"]["content_type"] == "image/png"
    logo = admin.get("/api/v1/_settings/logo")
    assert logo.body == PNG and logo.content_type == "image/png"
    # a bad value: nothing saved, the field says why
    form = res.forms["k-settings-form"]
    form["company.name"] = "Changed"
    form["base_url"] = "crm.example.com"
    bad = form.submit(status=400)
    assert "Nothing was saved" in bad.text and "http://" in bad.text
    assert api("admin").get(URL).json["company.name"] == "Acme Hellas"


def test_a_logo_is_checked_by_its_content(api):
    admin = api("admin")
    res = admin.put(
        URL + "/logo", upload_files=[("file", "logo.png", b"<svg onload=alert(1)>")], status=400
    )
    assert res.json["errors"][0]["field"] == "file"
    res = admin.put(
        URL + "/logo", upload_files=[("file", "logo.pdf", b"%PDF-1.4\n%...")], status=400
    )
    admin.put(URL + "/logo", upload_files=[("file", "logo.png", PNG)])
    assert admin.get(URL).json["company.logo"]["size"] == len(PNG)
    admin.delete(URL + "/logo", status=204)
    assert admin.get(URL).json["company.logo"] is None
    admin.get(URL + "/logo", status=404)


def test_a_new_money_value_is_in_the_default_currency(api, client):
    api("admin").patch_json(URL, {"currency.default": "RON", "currency.in_use": ["EUR"]})
    dealer = client("dealer")
    form = dealer.get("/deals/new")
    select = re.search(r'<select[^>]*name="currency"[^>]*>(.*?)</select>', form.text, re.S)
    assert select, "the money field has a currency list"
    options = re.findall(r'<option[^>]*value="([A-Z]{3})"', select.group(1))
    assert options[:2] == ["RON", "EUR"]  # the currencies in use first
    selected = re.findall(r'<option[^>]*selected[^>]*value="([A-Z]{3})"', select.group(1))
    assert selected == ["RON"]  # not ADP, the first of the ISO codes
    assert len(options) > 300
    # the API: an amount sent without a currency is in the default currency
    deals = api("dealer")
    rec = deals.post_json("/api/v1/deals", {"name": "D", "value": {"amount": "10"}}).json
    assert rec["value"] == {"amount": "10.00", "currency": "RON"}


def test_an_emailed_link_uses_the_public_address(api, testapp, make_user, smtp_server):
    make_user(email="forgetful@example.com")
    api("admin").patch_json(URL, {"base_url": "https://crm.kyklos.example"})
    page = testapp.get("/password/forgot")
    form = next(f for f in page.forms.values() if "email" in f.fields)
    form["email"] = "forgetful@example.com"
    form.submit()
    (msg,) = smtp_server.wait(1)
    body = msg.get_body(("plain",)).get_content()
    assert "https://crm.kyklos.example/password/reset?token=" in body
    assert "localhost" not in body


def test_the_language_selector_offers_the_languages_set(api, testapp):
    api("admin").patch_json(URL, {"languages": ["en", "el"]})
    page = testapp.get("/login")
    select = re.search(r'<select[^>]*id="k-lang"[^>]*>(.*?)</select>', page.text, re.S).group(1)
    assert re.findall(r'value="(\w+)"', select) == ["en", "el"]
    # a language that is not offered any more is not served
    res = testapp.get("/login", headers={"Accept-Language": "pl"})
    assert '<html lang="en"' in res.text
    res = testapp.get("/login", headers={"Accept-Language": "el"})
    assert '<html lang="el"' in res.text


def test_exchange_rates_by_hand_and_the_stale_warning(api, client):
    admin = client("admin")
    api("admin").patch_json(URL, {"currency.in_use": ["USD"], "rates.max_age_days": 5})
    page = admin.get("/settings")
    form = page.forms["k-rate-form"]
    form["currency"] = "USD"
    form["rate_date"] = (dt.date.today() - dt.timedelta(days=30)).isoformat()
    form["rate"] = "1,0850"
    res = form.submit().follow()
    assert "Exchange rate saved." in res.text
    assert "1.085" in res.text and 'id="k-stale-rates"' in res.text
    bad = res.forms["k-rate-form"]
    bad["rate"] = "-1"
    assert "positive" in bad.submit(status=400).text
    conv = api("user").get("/api/v1/_exchange-rates/convert?amount=10&from=USD&to=EUR").json
    assert conv["stale"] is True and conv["rates"][0]["currency"] == "USD"
    assert conv["warning"]


def test_rates_fetched_from_the_configured_source(api, client, registry, monkeypatch):
    from kyklos.entities import rates_fetch

    xml = (
        b"<?xml version='1.0' encoding='UTF-8'?><gesmes:Envelope><Cube>"
        b"<Cube time='2026-12-04'><Cube currency='USD' rate='1.0850'/>"
        b"<Cube currency='PLN' rate='4.2100'/></Cube></Cube></gesmes:Envelope>"
    )
    seen = []

    def fake_download(settings, url):
        seen.append(url)
        return xml

    monkeypatch.setattr(rates_fetch, "download", fake_download)
    source = "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml"
    api("admin").patch_json(URL, {"rates.source_url": source})
    admin = client("admin")
    page = admin.get("/settings")
    fetch = next(f for f in page.forms.values() if f.action.endswith("/settings/rates/fetch"))
    res = fetch.submit().follow()
    assert "2 exchange rates fetched." in res.text and seen == [source]
    rates = api("user").get("/api/v1/_exchange-rates").json["items"]
    assert {(r["currency"], r["rate_date"], r["rate"]) for r in rates} == {
        ("USD", "2026-12-04", "1.085"),
        ("PLN", "2026-12-04", "4.21"),
    }
    # JSON sources with another base are re-based on ours (EUR)
    assert rates_fetch.rebase("USD", {"EUR": rates_fetch.Decimal("0.5")}, "EUR") == {
        "USD": rates_fetch.Decimal("2.0000000000")
    }


def test_the_sdk_reads_settings_once_per_request(registry, api, query_counter):
    import kyklos_sdk
    from kyklos.jobs import job_request

    api("admin").patch_json(URL, {"company.name": "Once", "country.default": "RO"})
    with job_request(registry) as request:
        with query_counter() as q:
            assert kyklos_sdk.site_setting(request, "company.name") == "Once"
            assert kyklos_sdk.site_setting(request, "country.default") == "RO"
            assert kyklos_sdk.site_setting(request, "currency.in_use") == ["EUR"]
            assert kyklos_sdk.site_setting(request, "no.such.key", "fallback") == "fallback"
        assert len([s for s in q.statements if "kyklos_site_setting" in s]) == 1
        assert kyklos_sdk.company_logo(request) is None


def test_settings_are_kept_by_the_process_until_a_write_anywhere(api, db_url, query_counter):
    """The stored settings are read once per process and counter value
    (:mod:`kyklos.authcache`): a warm request reads no settings row, and a change made
    by another process (a second engine: a Core UPDATE, an INSERT in plain SQL, a
    DELETE) counts on the very next request."""
    from sqlalchemy import create_engine, text

    admin = api("admin")
    admin.patch_json(URL, {"company.name": "First", "country.default": "GR"})
    assert admin.get(URL).json["company.name"] == "First"
    with query_counter() as qc:
        assert admin.get(URL).json["company.name"] == "First"
    assert not [s for s in qc.statements if "kyklos_site_setting" in s]
    other = create_engine(db_url)
    try:
        changes = [
            "UPDATE kyklos_site_setting SET value = '\"Second\"' WHERE key = 'company.name'",
            "INSERT INTO kyklos_site_setting (key, value, updated_at) VALUES "
            "('company.email', '\"office@example.com\"', CURRENT_TIMESTAMP)",
            "DELETE FROM kyklos_site_setting WHERE key = 'country.default'",
        ]
        seen = []
        for sql in changes:
            with other.begin() as conn:
                conn.execute(text(sql))
            got = admin.get(URL).json
            seen.append((got["company.name"], got["company.email"], got["country.default"]))
        assert seen[0][0] == "Second"
        assert seen[1][:2] == ("Second", "office@example.com")
        assert seen[1][2] == "GR" and seen[2][2] != "GR"
    finally:
        other.dispose()

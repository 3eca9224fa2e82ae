"""Money (CORE-10): the money field type (amount + currency), ISO 4217 currencies,
exchange rates and conversion, through units, the rates API and an entity's API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from entities_support import roles_synced  # noqa: F401 - fixture

from kyklos.entities import money

D = dt.date
pytestmark = pytest.mark.usefixtures("roles_synced")


@pytest.fixture
def kyklos_plugins():
    return ["samplemoney"]


def test_currencies_and_precision():
    codes = money.currencies()
    assert {"EUR", "USD", "JPY", "PLN", "RON", "BHD"} <= codes
    assert "XYZ" not in codes and "eur" not in codes
    assert (money.precision("EUR"), money.precision("JPY"), money.precision("BHD")) == (2, 0, 3)


@pytest.mark.parametrize(
    "value,ok",
    [
        ({"amount": "12.50", "currency": "EUR"}, True),
        ({"amount": 12, "currency": "USD"}, True),
        ({"amount": 12.5, "currency": "USD"}, False),  # floats have lost precision already
        ({"amount": "NaN", "currency": "EUR"}, False),
        ({"amount": "1e400", "currency": "EUR"}, False),
        ({"amount": "1", "currency": "XXZ"}, False),
        ({"amount": "1"}, False),
        ({"amount": "1", "currency": "EUR", "rate": 2}, False),
        ("12 EUR", False),
    ],
)
def test_parse_money(value, ok):
    if ok:
        m = money.parse_money(value, 12, 2)
        assert isinstance(m.amount, Decimal) and m.currency == value["currency"]
    else:
        with pytest.raises(money.MoneyError):
            money.parse_money(value, 12, 2)


def test_convert_uses_the_latest_rate_on_or_before_the_day(dbsession):
    with dbsession() as db:
        money.set_rate(db, "USD", D(2026, 1, 1), "1.10", base="EUR")
        money.set_rate(db, "USD", D(2026, 2, 1), "1.20", base="EUR")
        money.set_rate(db, "JPY", D(2026, 1, 1), "160", base="EUR")
        money.set_rate(db, "USD", D(2026, 2, 1), "1.25", base="EUR")  # replaces
    with dbsession() as db:
        conv = money.convert
        assert conv(db, "110", "USD", "EUR", D(2026, 1, 15), base="EUR") == Decimal("100.00")
        assert conv(db, "125", "USD", "EUR", D(2026, 3, 1), base="EUR") == Decimal("100.00")
        assert conv(db, "10", "EUR", "USD", D(2026, 2, 1), base="EUR") == Decimal("12.50")
        # cross rate through the base, rounded to the target's minor unit (JPY: none)
        assert conv(db, "1.10", "USD", "JPY", D(2026, 1, 2), base="EUR") == Decimal("160")
        assert conv(db, "5", "JPY", "JPY", base="EUR") == Decimal("5")
        exact = conv(db, "1", "USD", "EUR", D(2026, 1, 1), base="EUR", rounded=False)
        assert abs(exact - Decimal(1) / Decimal("1.10")) < Decimal("1e-25")
        with pytest.raises(money.NoRate):
            conv(db, "1", "USD", "EUR", D(2025, 12, 31), base="EUR")
        with pytest.raises(money.MoneyError):
            conv(db, "1", "USD", "ZZZ", base="EUR")
        with pytest.raises(money.MoneyError):
            money.set_rate(db, "USD", D(2026, 1, 1), "-1", base="EUR")
        # the day of the rate a conversion uses, as a converted document names it
        assert money.rate_date(db, "USD", D(2026, 1, 31), base="EUR") == D(2026, 1, 1)
        assert money.rate_date(db, "USD", D(2026, 3, 1), base="EUR") == D(2026, 2, 1)
        assert money.rate_date(db, "EUR", D(2026, 3, 1), base="EUR") == D(2026, 3, 1)
        assert money.rate_date(db, "USD", D(2025, 12, 31), base="EUR") is None


def test_rates_api(api):
    admin, user = api("admin"), api("dealer")
    body = {
        "rates": [
            {"currency": "USD", "rate_date": "2026-01-01", "rate": "1.0850"},
            {"currency": "PLN", "rate_date": "2026-01-01", "rate": "4.3"},
        ]
    }
    user.post_json("/api/v1/_exchange-rates", body, status=403)
    assert admin.post_json("/api/v1/_exchange-rates", body).json == {"count": 2}
    listed = user.get("/api/v1/_exchange-rates").json
    assert listed["base"] == "EUR"
    assert {(r["currency"], r["rate"]) for r in listed["items"]} == {
        ("USD", "1.085"),
        ("PLN", "4.3"),
    }
    assert [
        r["currency"] for r in user.get("/api/v1/_exchange-rates?currency=PLN").json["items"]
    ] == ["PLN"]
    res = user.get("/api/v1/_exchange-rates/convert?amount=21.70&from=USD&to=PLN&on=2026-02-01")
    body = res.json
    assert {k: body[k] for k in ("amount", "currency", "on")} == {
        "amount": "86.00",
        "currency": "PLN",
        "on": "2026-02-01",
    }
    # the rates of 1 January are older than the 7 days the settings allow: said so
    assert body["stale"] is True and body["warning"]
    assert {(r["currency"], r["rate_date"]) for r in body["rates"]} == {
        ("USD", "2026-01-01"),
        ("PLN", "2026-01-01"),
    }
    res = user.get(
        "/api/v1/_exchange-rates/convert?amount=1&from=USD&to=EUR&on=2025-01-01", status=404
    )
    assert res.content_type == "application/problem+json"
    res = user.get(
        "/api/v1/_exchange-rates/convert?amount=x&from=US&to=EUR&on=2025-13-01", status=400
    )
    assert {e["field"] for e in res.json["errors"]} == {"amount", "from", "on"}
    bad = {
        "rates": [
            {"currency": "EUR", "rate_date": "2026-01-01", "rate": "1"},
            {"currency": "USD", "rate_date": "01/01/2026", "rate": "0", "x": 1},
        ]
    }
    res = admin.post_json("/api/v1/_exchange-rates", bad, status=400)
    assert {e["field"] for e in res.json["errors"]} == {
        "rates.0.currency",
        "rates.1.rate_date",
        "rates.1.rate",
        "rates.1.x",
    }
    currencies = user.get("/api/v1/_currencies").json
    eur = next(c for c in currencies["items"] if c["code"] == "EUR")
    assert eur == {"code": "EUR", "name": "Euro", "precision": 2}


def test_money_field_through_the_entity_api(api):
    a = api("dealer")
    res = a.post_json(
        "/api/v1/deals",
        {"name": "big", "value": {"amount": "1200.50", "currency": "USD"}},
        status=201,
    )
    deal = res.json
    assert deal["value"] == {"amount": "1200.50", "currency": "USD"}
    assert "value_currency" not in deal
    for bad in (
        {"amount": "1.005", "currency": "USD"},  # more decimals than the column keeps
        {"amount": "10000000000", "currency": "USD"},  # more digits than Numeric(12, 2)
        {"amount": 3.5, "currency": "USD"},
        {"amount": "3", "currency": "DOGE"},
        "3 USD",
    ):
        res = a.post_json("/api/v1/deals", {"name": "x", "value": bad}, status=400)
        assert [e["field"] for e in res.json["errors"]] == ["value"], bad
    a.post_json("/api/v1/deals", {"name": "small", "value": {"amount": "5", "currency": "EUR"}})
    a.post_json("/api/v1/deals", {"name": "none", "value": None})
    assert {d["name"] for d in a.get("/api/v1/deals?value__gte=100").json["items"]} == {"big"}
    assert [
        d["name"] for d in a.get("/api/v1/deals?sort=-value&value__isnull=false").json["items"]
    ] == ["big", "small"]
    url = f"/api/v1/deals/{deal['id']}"
    a.patch_json(url, {"value": {"amount": "99", "currency": "EUR"}})
    hist = a.get(url + "/history").json["items"][0]
    assert hist["changes"] == {
        "value": [{"amount": "1200.50", "currency": "USD"}, {"amount": "99.00", "currency": "EUR"}]
    }
    doc = a.get("/api/openapi.json").json
    value = doc["components"]["schemas"]["DealCreate"]["properties"]["value"]
    assert value["type"] == ["object", "null"]
    assert value["required"] == ["amount", "currency"]
    assert "EUR" in value["properties"]["currency"]["enum"]

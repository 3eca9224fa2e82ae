"""``format_date``/``format_datetime`` take a ``locale`` (and a zone) for text written in
another person's language; without them the request's locale and zone apply."""

import datetime as dt

from pyramid import testing

from kyklos.i18n import format_date, format_datetime


def _request(locale_name="en"):
    request = testing.DummyRequest()
    request.locale_name = locale_name
    return request


def test_format_date_in_another_locale():
    day = dt.date(2026, 3, 9)
    request = _request("en")
    assert format_date(request, day) == "Mar 9, 2026"
    assert format_date(request, day, locale="el") == "9 Μαρ 2026"
    assert format_date(request, day, locale="pl") == "9 mar 2026"
    assert format_date(request, day, "long", locale="ro") == "9 martie 2026"
    # an unknown or empty locale falls back to the request's, never an ISO date
    assert format_date(request, day, locale="") == "Mar 9, 2026"
    assert format_date(request, day, locale="xx-nonsense") == "Mar 9, 2026"
    assert format_date(_request("el"), day, locale=None) == "9 Μαρ 2026"
    assert format_date(_request("el"), day, locale="xx-nonsense") == "9 Μαρ 2026"


def test_format_datetime_in_another_zone_and_locale():
    when = dt.datetime(2026, 3, 9, 22, 30, tzinfo=dt.UTC)
    request = _request("en")
    text = format_datetime(request, when, "short", locale="el", tz="Europe/Athens")
    assert text.startswith("10/3/26") and "12:30" in text, text

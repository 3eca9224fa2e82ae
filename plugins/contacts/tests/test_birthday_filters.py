"""Birthdays by day of the year (``birth_date__annual``): "between 1 and 15 December",
"this month", across the year end; year-known and year-less (``--MM-DD``) birthdays
alike, through the API and the list page's filter (drop-downs of days and months)."""

from __future__ import annotations

import re

from contacts_helpers import new_person

PEOPLE = {
    "Dec1": "1980-12-01",
    "Dec10Noyear": "--12-10",
    "Dec15": "1975-12-15",
    "Dec16": "1990-12-16",
    "Dec31Noyear": "--12-31",
    "Jan5": "2001-01-05",
    "Jan11Noyear": "--01-11",
    "Feb29Noyear": "--02-29",
    "Nov30": "1960-11-30",
}


def _seed(api):
    a = api("manager")
    for name, day in PEOPLE.items():
        new_person(a, last_name=name, birth_date=day)
    new_person(a, last_name="Nobirthday")
    return a


def _names(api, value, **extra) -> set[str]:
    res = api.get("/api/v1/persons", {"birth_date__annual": value, "limit": 200, **extra})
    return {p["last_name"] for p in res.json["items"]}


def test_api_filters_by_day_and_month_in_any_year(api):
    a = _seed(api)
    assert _names(a, "12-01,12-15") == {"Dec1", "Dec10Noyear", "Dec15"}
    assert _names(a, "--12-01,--12-15") == {"Dec1", "Dec10Noyear", "Dec15"}
    # the whole month ("birthdays this month")
    assert _names(a, "12") == {"Dec1", "Dec10Noyear", "Dec15", "Dec16", "Dec31Noyear"}
    # across the year end
    assert _names(a, "12-20,01-10") == {"Dec31Noyear", "Jan5"}
    assert _names(a, "12-31,01-11") == {"Dec31Noyear", "Jan5", "Jan11Noyear"}
    # 29 February, year-less, is a day like any other
    assert _names(a, "2") == {"Feb29Noyear"}
    assert _names(a, "02-28,03-01") == {"Feb29Noyear"}
    # combined with other filters and sorted
    res = a.get(
        "/api/v1/persons",
        {"birth_date__annual": "12", "sort": "last_name", "last_name__startswith": "Dec1"},
    ).json
    assert [p["last_name"] for p in res["items"]] == ["Dec1", "Dec10Noyear", "Dec15", "Dec16"]


def test_bad_values_are_a_problem_naming_the_parameter(api):
    a = api("manager")
    for bad in ("13", "0", "12-32", "02-30", "12-01", "12-01,12-02,12-03", "x", "12-01,"):
        res = a.get("/api/v1/persons", {"birth_date__annual": bad}, status=400)
        assert res.content_type == "application/problem+json"
        fields = {e["field"] for e in res.json["errors"]}
        assert fields == {"birth_date__annual"}, (bad, res.json)
    # only a date whose year may be unknown takes it
    res = a.get("/api/v1/persons", {"created_at__annual": "12"}, status=400)
    assert {e["field"] for e in res.json["errors"]} == {"created_at__annual"}


def _rows(page) -> set[str]:
    return {n for n in [*PEOPLE, "Nobirthday"] if re.search(rf"\b{n}\b", page.text)}


def test_list_page_filter_with_day_and_month_drop_downs(api, client):
    _seed(api)
    c = client("manager")
    page = c.get("/persons/")
    form = page.forms["k-filters"]
    # drop-downs in words: months by name, days by number
    options = [t for _v, _s, t in form["fam.birth_date"].options]
    assert "December" in options and "January" in options
    form["fad.birth_date"] = "20"
    form["fam.birth_date"] = "12"
    form["ftd.birth_date"] = "10"
    form["ftm.birth_date"] = "1"
    res = form.submit()
    res = res.follow() if res.status_int in (302, 303) else res
    assert _rows(res) == {"Dec31Noyear", "Jan5"}
    # the chosen days stay chosen
    again = res.forms["k-filters"]
    assert (again["fad.birth_date"].value, again["fam.birth_date"].value) == ("20", "12")
    assert (again["ftd.birth_date"].value, again["ftm.birth_date"].value) == ("10", "1")
    # a month alone means the whole month
    page = c.get("/persons/", {"fam.birth_date": "12", "ftm.birth_date": "12"})
    page = page.follow() if page.status_int in (302, 303) else page
    assert _rows(page) == {"Dec1", "Dec10Noyear", "Dec15", "Dec16", "Dec31Noyear"}
    # in Greek, the months are Greek words
    el = c.get("/persons/", headers={"Accept-Language": "el"})
    options = [t for _v, _s, t in el.forms["k-filters"]["fam.birth_date"].options]
    assert "Δεκεμβρίου" in options or "Δεκέμβριος" in options, options


def test_the_filter_reads_the_indexed_day_of_the_year_and_follows_changes(
    api, registry, query_counter
):
    """The person's ``birth_md`` (indexed) answers the filter, not a date function per
    row; a changed or cleared birthday moves with it."""
    a = _seed(api)
    with query_counter() as q:
        assert _names(a, "12-01,12-15") == {"Dec1", "Dec10Noyear", "Dec15"}
    listing = [s for s in q.statements if "contacts_person" in s and "birth_md" in s]
    assert listing, q.statements
    assert not any("strftime" in s.lower() or "extract(" in s.lower() for s in listing)
    dec1 = a.get("/api/v1/persons", {"last_name": "Dec1"}).json["items"][0]
    a.patch_json(f"/api/v1/persons/{dec1['id']}", {"birth_date": "--06-01"})
    assert _names(a, "12-01,12-15") == {"Dec10Noyear", "Dec15"}
    assert _names(a, "6") == {"Dec1"}
    a.patch_json(f"/api/v1/persons/{dec1['id']}", {"birth_date": None})
    assert _names(a, "6") == set()

"""Birthdays whose year is unknown (issue 18, vCard): a vCard ``BDAY:--0203`` keeps
the day and month, says the year is unknown, reads "3 February" with no age on the
person page, in exports and on the occasions page, is greeted on 3 February, goes out
as ``BDAY:--0203`` again and round-trips through CSV; the form takes such a date."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from contacts_helpers import new_person
from kyklos_contacts.domain.vcard import parse_vcards
from kyklos_contacts.occasions import find_occasions

CARD = (
    "BEGIN:VCARD\r\nVERSION:{version}\r\nFN:Simon Perreault\r\n"
    "N:Perreault;Simon;;;\r\nEMAIL:simon@example.com\r\n{bday}\r\nEND:VCARD\r\n"
)


def import_card(api, bday: str, version: str = "4.0") -> dict:
    res = api.post(
        "/api/v1/persons/_import/vcard",
        CARD.format(version=version, bday=bday).encode(),
        headers={"Content-Type": "text/vcard"},
    ).json
    assert res["summary"]["created"] == 1, res
    return api.get("/api/v1/persons", {"email": "simon@example.com"}).json["items"][0]


def details(page) -> str:
    html = page.text
    start = html.index('id="k-fields-h"')
    end = html.index("</dl>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start:end]))


@pytest.mark.parametrize(
    "bday,version",
    [
        ("BDAY:--0203", "4.0"),
        ("BDAY;X-APPLE-OMIT-YEAR=1604:1604-02-03", "3.0"),
    ],
)
def test_vcard_import_keeps_day_and_month_only(api, bday, version):
    a = api("manager")
    p = import_card(a, bday, version)
    assert p["birth_year_unknown"] is True
    assert p["birth_date"] == "--02-03"  # ISO 8601:2000 / vCard, never the placeholder
    # the export writes the truncated date back, in both versions, never the placeholder
    for v in ("3.0", "4.0"):
        card = a.get(f"/api/v1/persons/{p['id']}/vcard", {"version": v}).text
        assert "BDAY:--0203\r\n" in card and "1604" not in card
        assert next(iter(parse_vcards(card))).birthday.strftime("%m-%d") == "02-03"
    assert "BDAY:--0203\r\n" in a.get("/api/v1/persons/_export/vcard").text


def test_a_known_year_stays_known(api):
    a = api("manager")
    p = import_card(a, "BDAY:19800203")
    assert (p["birth_date"], p["birth_year_unknown"]) == ("1980-02-03", False)
    assert "BDAY:19800203\r\n" in a.get(f"/api/v1/persons/{p['id']}/vcard", {"version": "4.0"}).text


def test_api_year_unknown_flag_and_bad_input(api):
    a = api("manager")
    # any year with the flag keeps only day and month (29 February survives)
    p = new_person(a, birth_date="1999-02-28", birth_year_unknown=True)
    assert (p["birth_date"], p["birth_year_unknown"]) == ("--02-28", True)
    leap = new_person(a, last_name="Leap", birth_date="2000-02-29", birth_year_unknown=True)
    assert leap["birth_date"] == "--02-29" and leap["birth_year_unknown"] is True
    # the reduced form is the API's own: written as read, the flag follows it
    short = new_person(a, last_name="Short", birth_date="--12-31")
    assert (short["birth_date"], short["birth_year_unknown"]) == ("--12-31", True)
    bad = a.post_json("/api/v1/persons", {"last_name": "Bad", "birth_date": "--02-30"}, status=400)
    assert bad.content_type == "application/problem+json"
    assert "birth_date" in json.dumps(bad.json)
    a.delete(f"/api/v1/persons/{short['id']}")
    # unticking without giving a year is refused, naming the field; nothing is written
    res = a.patch_json(f"/api/v1/persons/{p['id']}", {"birth_year_unknown": False}, status=400)
    assert res.content_type == "application/problem+json"
    assert "birth_date" in json.dumps(res.json)
    assert a.get(f"/api/v1/persons/{p['id']}").json["birth_year_unknown"] is True
    # giving the year makes it a full date again
    full = a.patch_json(
        f"/api/v1/persons/{p['id']}", {"birth_date": "1971-02-28", "birth_year_unknown": False}
    ).json
    assert (full["birth_date"], full["birth_year_unknown"]) == ("1971-02-28", False)
    # the flag filters
    only = a.get("/api/v1/persons", {"birth_year_unknown": "true"}).json["items"]
    assert [x["last_name"] for x in only] == ["Leap"]


@pytest.mark.parametrize(
    "locale,shown,absent",
    [
        ("en", "3 February", "1604"),
        ("el", "3 Φεβρουαρίου", "1604"),
    ],
)
def test_person_page_and_human_export(
    api, client, make_user, kyklos_app, login, locale, shown, absent
):
    import webtest

    from kyklos_sdk.testing import PASSWORD

    a = api("manager")
    p = import_card(a, "BDAY:--0203")
    make_user(email=f"u.{locale}@example.com", roles=("manager",), locale=locale)
    c = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(c, f"u.{locale}@example.com", PASSWORD)
    text = details(c.get(f"/persons/{p['id']}"))
    assert shown in text and absent not in text
    human = c.get(
        "/persons/_export",
        {"format": "csv", "variant": "human", "cols": "last_name,birth_date", "id__eq": p["id"]},
    )
    assert shown in human.text and absent not in human.text


def test_occasions_page_api_and_engine_on_3_february(api, client, dbsession):
    a = api("manager")
    p = import_card(a, "BDAY:--0203")
    res = a.get("/api/v1/_occasions", {"date": "2027-02-03", "range": "today"}).json
    found = [(i["person"]["id"], i["kind"], i["date"], i["years"]) for i in res["items"]]
    assert found == [(p["id"], "birthday", "2027-02-03", None)]  # no age
    assert a.get("/api/v1/_occasions", {"date": "2027-02-04", "range": "today"}).json["items"] == []
    page = client("sales").get("/contacts/occasions", {"date": "2027-02-03", "range": "today"})
    assert "Perreault" in page.text and "(423)" not in page.text
    with dbsession() as db:
        page = find_occasions(db, dt.date(2027, 2, 1), dt.date(2027, 2, 5))
    assert [(f.occasion.date, f.occasion.years) for f in page.items] == [
        (dt.date(2027, 2, 3), None)
    ]


def test_csv_export_import_round_trip(api):
    a = api("manager")
    import_card(a, "BDAY:--0203")
    cols = "first_name,last_name,email,birth_date,birth_year_unknown"
    data = a.get("/api/v1/persons/_export", {"format": "csv", "cols": cols}).body
    # a second deployment (the same one, emptied) reads it back
    pid = a.get("/api/v1/persons").json["items"][0]["id"]
    a.delete(f"/api/v1/persons/{pid}")
    opts = {
        "mapping": {
            "First name": "first_name",
            "Last name": "last_name",
            "E-mail": "email",
            "Birth date": "birth_date",
            "Year unknown": "birth_year_unknown",
        },
        "on_duplicate": "create",
    }
    res = a.post(
        "/api/v1/persons/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "people.csv", data)],
        status=202,
    )
    run = a.get(res.headers["Location"]).json
    assert (run["created"], run["rejected"]) == (1, 0), run
    back = a.get("/api/v1/persons", {"email": "simon@example.com"}).json["items"]
    assert [(x["birth_date"], x["birth_year_unknown"]) for x in back] == [("--02-03", True)]
    assert b"--02-03" in data and b"1604" not in data  # the data export writes the API form


def test_the_form_takes_a_birthday_without_a_year(api, client):
    c = client("manager")
    form = c.get("/persons/new").forms["k-record-form"]
    form["first_name"] = "Ελένη"
    form["last_name"] = "Παππά"
    # day and month drop-downs, the year left empty
    form["day"] = "3"
    form["month"] = "2"
    form["year"] = ""
    page = form.submit().follow()
    assert "3 February" in details(page)
    p = api("manager").get("/api/v1/persons", {"last_name": "Παππά"}).json["items"][0]
    assert (p["birth_date"], p["birth_year_unknown"]) == ("--02-03", True)
    # the edit form shows it as entered; giving the year makes it a full date
    form = c.get(f"/persons/{p['id']}/edit").forms["k-record-form"]
    assert (form["day"].value, form["month"].value, form["year"].value) == ("3", "2", "")
    assert "1604" not in form.text
    form["year"] = "1990"
    form.submit().follow()
    p = api("manager").get(f"/api/v1/persons/{p['id']}").json
    assert (p["birth_date"], p["birth_year_unknown"]) == ("1990-02-03", False)


def test_the_form_refuses_half_a_birthday(client):
    c = client("manager")
    form = c.get("/persons/new").forms["k-record-form"]
    form["last_name"] = "Half"
    form["month"] = "2"
    page = form.submit(status=400)
    assert "Choose the day and the month." in page.text
    form = page.forms["k-record-form"]
    form["day"], form["month"], form["year"] = "29", "2", "2001"  # no 29 February in 2001
    assert "Not a date." in form.submit(status=400).text

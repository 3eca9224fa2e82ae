"""Data values in the user's language (issue 16, point 4): a Greek user reads the
seeded activity types and statuses in Greek on the activity's page and on the person's
page; a title an administrator gives for a language wins over the catalog, through the
API (``title_translations``) on both databases."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import webtest
from activities_helpers import iso

from kyklos_sdk.testing import PASSWORD


@pytest.fixture
def greek(kyklos_app, make_user, login):
    def make(roles=("manager",)):
        email = f"greek.{len(roles)}.{id(roles)}@example.com"
        uid = make_user(email=email, roles=roles, locale="el", name="Γιώργος")
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        login(app, email, PASSWORD)
        app.uid = uid
        return app

    return make


def _visible(page) -> str:
    """The text a person reads (the main content, without tags and attributes)."""
    main = page.html.select_one("main") or page.html
    return " ".join(main.get_text(" ").split())


def _fields(page) -> str:
    html = page.text
    start = html.index('id="k-fields-h"')
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start : html.index("</dl>", start)]))


def test_greek_user_reads_seeded_types_and_statuses_in_greek(api, greek, types, make_record):
    a = api("admin")
    el = greek()
    person = make_record("person", first_name="Ελένη", last_name="Γεωργίου")
    act = a.post_json(
        "/api/v1/activities",
        {
            "type_id": types["call"],
            "subject": "Ζήτησε προσφορά",
            "person_id": person,
            "owner_id": el.uid,
            "responsible_id": el.uid,
            "starts_at": iso(dt.datetime.now(dt.UTC)),
        },
        status=201,
    ).json
    page = el.get(f"/activities/{act['id']}")
    fields = _fields(page)
    assert "Τηλεφώνημα" in fields and "Call" not in fields
    assert "Προγραμματισμένη" in fields and "Planned" not in fields
    # the list of activity types and the type's own page, in Greek
    types_list = _visible(el.get("/activity-types/"))
    assert "Τηλεφώνημα" in types_list and "Επίσκεψη" in types_list
    assert "Call" not in types_list.split()
    assert "<h1" in el.get(f"/activity-types/{types['call']}").text
    assert re.search(r"<h1[^>]*>\s*Τηλεφώνημα\s*<", el.get(f"/activity-types/{types['call']}").text)
    # the person's page names the type in Greek too (timeline, panels)
    person_page = el.get(f"/persons/{person}").text
    assert "Τηλεφώνημα" in person_page
    assert not re.search(r">\s*Call\b", person_page)


def test_administrators_title_wins_and_round_trips_on_the_api(api, greek, types):
    admin = api("admin")
    url = f"/api/v1/activity-types/{types['visit']}"
    got = admin.patch_json(
        url, {"title_translations": {"el": "Επίσκεψη πελάτη", "pl": "Wizyta u klienta"}}
    ).json
    assert got["title_translations"] == {"el": "Επίσκεψη πελάτη", "pl": "Wizyta u klienta"}
    assert admin.get(url).json["title_translations"] == got["title_translations"]
    new = admin.post_json(
        "/api/v1/activity-types",
        {
            "code": "demo_day",
            "title": "Demo day",
            "status_set_id": admin.get(url).json["status_set_id"],
            "title_translations": {"el": "Ημέρα επίδειξης"},
        },
        status=201,
    ).json
    assert new["title_translations"] == {"el": "Ημέρα επίδειξης"}
    listed = admin.get("/api/v1/activity-types", {"code": "demo_day"}).json["items"]
    assert listed[0]["title_translations"] == {"el": "Ημέρα επίδειξης"}
    el = greek()
    page = _visible(el.get("/activity-types/"))
    assert "Επίσκεψη πελάτη" in page and "Ημέρα επίδειξης" in page
    assert "Demo day" not in page
    # clearing a language falls back to the catalog
    admin.patch_json(url, {"title_translations": {}})
    assert admin.get(url).json["title_translations"] == {}
    assert "Επίσκεψη πελάτη" not in el.get("/activity-types/").text

"""The segment wizard in words: fields by translated title (related ones as
"Account › City"), operators per field type, values with the record forms' widgets
(pickers, drop-downs, days in the user's time zone), errors under their condition."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


@pytest.fixture
def app(kyklos_app, make_user, login):
    import webtest

    def make(lang="en"):
        email = f"seg-{lang}@example.com"
        make_user(email=email, roles=("manager",), locale=lang, timezone="Europe/Athens")
        a = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        login(a, email)
        return a

    return make


def _row(form_page, base):
    html = form_page.html
    return {
        "field": html.find("select", attrs={"name": f"{base}.field"}),
        "op": html.find("select", attrs={"name": f"{base}.op"}),
        "value": html.find(attrs={"name": f"{base}.value"}),
        "day": html.find(attrs={"name": f"{base}.day"}),
    }


def test_fields_operators_and_widgets_in_words(app, api):
    a = app("en")
    acc = (
        api("admin")
        .post_json("/api/v1/accounts", {"name": "Knossos Travel", "city": "Heraklion"}, status=201)
        .json["id"]
    )
    page = a.get("/segments/new", {"entity": "person"})
    row = _row(page, "c.0.0")
    labels = {o["value"]: o.text for o in row["field"].find_all("option") if o["value"]}
    assert labels["account.city"] == "Account › City"
    assert labels["account_id"] == "Account"
    assert "id" not in labels and not any(v.endswith(".id") for v in labels)
    groups = [g["label"] for g in row["field"].find_all("optgroup")]
    assert groups[0] == "Person" and "Account" in groups

    form = page.forms["segment-form"]
    form["name"] = "Heraklion"
    form["c.0.0.field"] = "account_id"
    page = form.submit("action", value="refresh")
    row = _row(page, "c.0.0")
    # a reference is a searchable picker, its operators are words
    assert row["value"].name == "select" and row["value"].get("data-k-picker")
    assert [o.text for o in row["op"].find_all("option")] == [
        "is",
        "is not",
        "is empty",
        "is not empty",
    ]
    form = page.forms["segment-form"]
    form["c.0.0.value"].force_value(str(acc))
    page = form.submit("action", value="refresh")
    chosen = _row(page, "c.0.0")["value"].find("option", selected=True)
    assert chosen.text == "Knossos Travel"  # the title, never the id

    # a date-time field takes a day of the user's time zone; "after" is after its evening
    form = page.forms["segment-form"]
    form["c.0.0.field"] = "created_at"
    page = form.submit("action", value="refresh")
    row = _row(page, "c.0.0")
    assert row["day"]["type"] == "date"
    assert [o.text for o in row["op"].find_all("option")][:2] == ["is before", "is after"]
    form = page.forms["segment-form"]
    form["c.0.0.op"] = "gt"
    form["c.0.0.day"] = "2026-01-05"
    form["kind"] = "dynamic"
    res = form.submit("action", value="save").follow()
    seg_id = int(res.request.path.rstrip("/").split("/")[-1])
    got = api("admin").get(f"/api/v1/_segments/{seg_id}").json["definition"]
    cond = got["and"][0]["and"][0]
    assert cond == {"field": "created_at", "op": "gt", "value": "2026-01-05T23:59:59.999999+02:00"}
    page = a.get(f"/segments/{seg_id}/edit")
    row = _row(page, "c.0.0")
    assert row["day"]["value"] == "2026-01-05"
    assert row["op"].find("option", selected=True).text == "is after"

    # "is not empty" is isnull false, and has no value input
    form = page.forms["segment-form"]
    form["c.0.0.op"] = "notnull"
    page = form.submit("action", value="refresh")
    assert _row(page, "c.0.0")["day"] is None
    form = page.forms["segment-form"]
    form.submit("action", value="save").follow()
    got = api("admin").get(f"/api/v1/_segments/{seg_id}").json["definition"]
    assert got["and"][0]["and"][0] == {"field": "created_at", "op": "isnull", "value": False}


def test_errors_sit_under_their_condition_in_greek(app):
    a = app("el")
    page = a.get("/segments/new", {"entity": "person"})
    form = page.forms["segment-form"]
    form["name"] = "Λάθος"
    form["c.0.0.field"] = "created_at"
    form["c.0.0.op"] = "lt"
    page = form.submit("action", value="refresh")
    ops = [o.text for o in _row(page, "c.0.0")["op"].find_all("option")]
    assert "είναι πριν από" in ops and "lt" not in ops
    form = page.forms["segment-form"]
    form["c.0.0.day"] = "not a day"
    res = form.submit("action", value="save", status=400)
    cond = res.html.find(attrs={"data-k-cond": "0.0"})
    assert cond.find(class_="invalid-feedback") is not None
    assert "and.0" not in res.html.find("main").text


def test_empty_static_segment_says_what_to_do(app, api):
    a = app("en")
    seg = (
        api("admin")
        .post_json(
            "/api/v1/_segments",
            {
                "entity": "person",
                "name": "Hand-picked",
                "kind": "static",
                "definition": {"and": [{"field": "last_name", "op": "eq", "value": "nobody"}]},
            },
            status=201,
        )
        .json
    )
    page = a.get(f"/segments/{seg['id']}")
    assert "no members" in page.html.find(id="segment-members-empty").text
    assert page.html.find(id="segment-count").text == "0 matching records"

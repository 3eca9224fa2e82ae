"""The rule builder's "is one of" (several values picked in a multi-picker) and "is
between" (two values: numbers or dates) tests, the rules they make, and the rule's
sentence read naturally in each language (issue #17, item 3)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kyklos.security.models import User
from kyklos.workflow.models import AutomationRule


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


def builder_form(page):
    return next(f for f in page.forms.values() if "trigger_kind" in f.fields)


def _uid(dbsession, email):
    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()


def test_between_two_numbers_and_one_of_several_owners(client, api, make_user, dbsession):
    app = client("admin")
    make_user(email="anna@example.com", name="Anna Owner", roles=("ticketeer",))
    make_user(email="boris@example.com", name="Boris Owner", roles=("ticketeer",))
    make_user(email="chris@example.com", name="Chris Other", roles=("ticketeer",))
    anna, boris = _uid(dbsession, "anna@example.com"), _uid(dbsession, "boris@example.com")
    form = builder_form(app.get("/admin/automation/new?entity=ticket"))
    form["name"] = "Mid-sized tickets of the team"
    form["trigger_kind"] = "created"
    form["cond-0-field"] = "amount"
    form["cond-0-op"] = "between"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    # "between" asks for two values, each with the field's own input
    assert form["cond-0-value"].attrs["type"] == "number"
    assert form["cond-0-value2"].attrs["type"] == "number"
    assert "is between" in page.text and "is one of" not in page.text  # not for a number
    form["cond-0-value"] = "500"
    form["cond-0-value2"] = "100"
    res = form.submit("action", value="dry_run", status=400)
    assert "must not be after the second" in res.text
    form = builder_form(res)
    form["cond-0-value"] = "100"
    form["cond-0-value2"] = "500"
    page = form.submit("action", value="add_condition")
    form = builder_form(page)
    form["cond-1-field"] = "owner_id"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    assert "is one of" in page.text
    form["cond-1-op"] = "in"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    owners = page.html.select_one('select[name="cond-1-value"]')
    assert owners.has_attr("multiple") and owners.has_attr("data-k-picker")
    form["cond-1-value"].force_value([str(anna), str(boris)])
    form["act-0-type"] = "set_field"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    form["act-0-field"] = "due_on"
    page = form.submit("action", value="refresh")
    form = builder_form(page)
    form["act-0-value"] = "2026-12-31"
    dry = form.submit("action", value="dry_run")
    summary = dry.html.select_one("#k-rule-summary").text
    assert "“Amount” is between “100” and “500”" in summary
    assert "is one of “Anna Owner” or “Boris Owner”" in summary
    # both chosen owners stay chosen, by name
    chosen = [o.text for o in dry.html.select('select[name="cond-1-value"] option[selected]')]
    assert chosen == ["Anna Owner", "Boris Owner"]
    saved = builder_form(dry).submit("action", value="save").follow()
    assert "Rule created." in saved.text
    with dbsession() as db:
        stored = db.execute(select(AutomationRule)).scalar_one()
        assert stored.conditions == {"amount__between": [100, 500], "owner_id__in": [anna, boris]}
    # the rule fires only inside the range and for the chosen owners
    fired = {}
    for email, amount in (
        ("anna@example.com", 300),
        ("anna@example.com", 900),
        ("boris@example.com", 100),
        ("chris@example.com", 300),
    ):
        with dbsession() as db:
            owner = db.execute(select(User.id).where(User.email == email)).scalar_one()
        t = (
            api("admin")
            .post_json(
                "/api/v1/tickets",
                {"name": f"{email}-{amount}", "amount": amount, "owner_id": owner},
                status=201,
            )
            .json
        )
        fired[(email.split("@")[0], amount)] = (
            api("admin").get(f"/api/v1/tickets/{t['id']}").json["due_on"] == "2026-12-31"
        )
    assert fired == {
        ("anna", 300): True,
        ("anna", 900): False,
        ("boris", 100): True,
        ("chris", 300): False,
    }


def test_the_api_takes_the_same_conditions_and_refuses_bad_ones(api):
    admin = api("admin")
    body = {
        "entity": "ticket",
        "name": "r",
        "trigger": {"kind": "created"},
        "actions": [{"type": "set_field", "field": "due_on", "value": "2026-12-31"}],
    }
    admin.post_json(
        "/api/v1/_automation/rules",
        {**body, "conditions": {"due_on__between": ["2026-01-01", "2026-03-31"]}},
        status=201,
    )
    res = admin.post_json(
        "/api/v1/_automation/rules", {**body, "conditions": {"amount__between": [1]}}, status=400
    )
    assert "between" in res.text
    res = admin.post_json(
        "/api/v1/_automation/rules",
        {**body, "conditions": {"amount__between": ["a", "b"]}},
        status=400,
    )
    assert res.headers["Content-Type"].startswith("application/problem+json")


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en", "“Due on” is between"),
        ("el", "είναι μεταξύ"),
        ("ro", "este între"),
        ("pl", "jest między"),
    ],
)
def test_the_sentence_reads_in_each_language(
    locale, expected, make_user, login, testapp, api, dbsession
):
    make_user(email=f"{locale}-admin@example.com", roles=("admin",), locale=locale)
    make_user(email=f"{locale}-a@example.com", name="Ana", roles=("ticketeer",))
    make_user(email=f"{locale}-b@example.com", name="Bea", roles=("ticketeer",))
    ids = [_uid(dbsession, f"{locale}-a@example.com"), _uid(dbsession, f"{locale}-b@example.com")]
    rule = (
        api("admin")
        .post_json(
            "/api/v1/_automation/rules",
            {
                "entity": "ticket",
                "name": "r",
                "trigger": {"kind": "created"},
                "conditions": {
                    "due_on__between": ["2026-01-01", "2026-03-31"],
                    "owner_id__in": ids,
                },
                "actions": [{"type": "set_field", "field": "amount", "value": 1}],
            },
            status=201,
        )
        .json
    )
    login(testapp, f"{locale}-admin@example.com")
    page = testapp.get(f"/admin/automation/{rule['id']}")
    summary = page.html.select_one("#k-rule-summary").text
    assert expected in summary
    conjunction = {"en": " or ", "el": " ή ", "ro": " sau ", "pl": " lub "}[locale]
    # the alternatives listed the language's way, with its own quotation marks
    assert re.search("Ana[”»]" + conjunction + "[“«„]Bea", summary), summary
    assert "2026-01-01" not in summary  # dates in the user's words


def test_a_rule_saved_through_the_api_opens_as_builder_rows(client, api, make_user, dbsession):
    """ "is one of" and "is between" written through the API show in the builder as
    the user reads them (the test, both ends, the chosen people by name) and survive an
    unchanged save."""
    make_user(email="ana@example.com", name="Ana Owner", roles=("ticketeer",))
    make_user(email="bea@example.com", name="Bea Owner", roles=("ticketeer",))
    ids = [_uid(dbsession, "ana@example.com"), _uid(dbsession, "bea@example.com")]
    conditions = {"amount__between": [100, 500], "owner_id__in": ids}
    rule = (
        api("admin")
        .post_json(
            "/api/v1/_automation/rules",
            {
                "entity": "ticket",
                "name": "From the API",
                "trigger": {"kind": "created"},
                "conditions": conditions,
                "actions": [{"type": "set_field", "field": "due_on", "value": "2026-12-31"}],
            },
            status=201,
        )
        .json
    )
    page = client("admin").get(f"/admin/automation/{rule['id']}")
    rows = {}
    for row in page.html.select(".k-condition"):
        field = row.select_one('select[name$="-field"] option[selected]')["value"]
        op = row.select_one('select[name$="-op"] option[selected]')
        rows[field] = (op["value"], op.text.strip(), row)
    assert set(rows) == {"amount", "owner_id"}
    assert rows["amount"][0] == "between" and rows["owner_id"][0] == "in"
    between = rows["amount"][2]
    assert between.select_one('input[name$="-value"]')["value"] == "100"
    assert between.select_one('input[name$="-value2"]')["value"] == "500"
    owners = rows["owner_id"][2].select_one('select[name$="-value"]')
    assert owners.has_attr("multiple") and owners.has_attr("data-k-picker")
    chosen = [o.text for o in owners.select("option[selected]")]
    assert chosen == ["Ana Owner", "Bea Owner"]
    # nothing of it is left aside as "set through the API"
    assert "Also (set through the API)" not in page.text
    saved = builder_form(page).submit("action", value="save").follow()
    assert "Rule" in saved.text
    with dbsession() as db:
        assert db.get(AutomationRule, rule["id"]).conditions == conditions


@pytest.mark.parametrize(
    ("locale", "conjunction", "quoted_x"),
    [("en", " and ", "“x”"), ("el", " και ", "«x»"), ("pl", " i ", "„x”")],
)
def test_several_conditions_read_as_one_list_of_the_language(
    locale, conjunction, quoted_x, make_user, login, testapp, api
):
    """Three conditions are listed the language's way ("a, b and c"), not glued with
    "and" between every two."""
    make_user(email=f"{locale}-boss@example.com", roles=("admin",), locale=locale)
    rule = (
        api("admin")
        .post_json(
            "/api/v1/_automation/rules",
            {
                "entity": "ticket",
                "name": "r",
                "trigger": {"kind": "created"},
                "conditions": {
                    "amount__gt": 1,
                    "name__contains": "x",
                    "due_on__isnull": False,
                },
                "actions": [{"type": "set_field", "field": "amount", "value": 2}],
            },
            status=201,
        )
        .json
    )
    login(testapp, f"{locale}-boss@example.com")
    summary = testapp.get(f"/admin/automation/{rule['id']}").html.select_one("#k-rule-summary")
    conds = summary.text.split(":")[0].split(", ", 1)[1]
    # the three conditions (in whatever order the database keeps them), separated by
    # commas with the language's "and" only before the last
    assert quoted_x in conds and conds.count(conjunction) == 1, conds
    assert len(re.split(", |" + conjunction, conds)) == 3, conds


@pytest.mark.parametrize(("locale", "word"), [("en", " or "), ("el", " ή "), ("ro", " sau ")])
def test_alternatives_set_through_the_api_read_with_the_languages_or(
    locale, word, make_user, login, testapp, api
):
    make_user(email=f"{locale}-alt@example.com", roles=("admin",), locale=locale)
    rule = (
        api("admin")
        .post_json(
            "/api/v1/_automation/rules",
            {
                "entity": "ticket",
                "name": "r",
                "trigger": {"kind": "created"},
                "conditions": {"any": [{"amount__gt": 5}, {"name__contains": "x"}]},
                "actions": [{"type": "set_field", "field": "amount", "value": 2}],
            },
            status=201,
        )
        .json
    )
    login(testapp, f"{locale}-alt@example.com")
    text = testapp.get(f"/admin/automation/{rule['id']}").html.select_one("#k-rule-summary").text
    assert " | " not in text and word in text, text

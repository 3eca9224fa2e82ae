"""Record forms as people use them: pickers instead of ids, lookup lists by their
titles, "new from here", date-times in the user's time zone, typed lists as rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


@pytest.fixture
def types(registry, dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


def rep(client, dbsession, email=None):
    """A sales rep's logged-in TestApp with ``uid``."""
    from kyklos.security.models import User

    app = client("sales", email=email)
    with dbsession() as db:
        app.uid = db.execute(select(User.id).where(User.email == app.email)).scalar_one()
    return app


def select_html(html: str, name: str) -> str:
    m = re.search(rf'<select[^>]*name="{name}"[^>]*>.*?</select>', html, re.S)
    assert m, f"no select {name}"
    return m.group(0)


def selected_text(html: str, name: str) -> str | None:
    m = re.search(r"<option[^>]*selected[^>]*>([^<]*)</option>", select_html(html, name))
    return m.group(1) if m else None


def record_form(res):
    return res.forms["k-record-form"]


# --- pickers ------------------------------------------------------------------------------


def test_reference_is_a_picker_with_the_chosen_title_never_an_id_input(
    client, dbsession, make_record
):
    app = rep(client, dbsession)
    acc = make_record("account", name="Ακρόπολις Σύμβουλοι ΑΕ", owner_id=app.uid)
    person = make_record(
        "person", first_name="Eleni", last_name="Papadaki", account_id=acc, owner_id=app.uid
    )
    html = app.get(f"/persons/{person}/edit").text
    sel = select_html(html, "account_id")
    assert 'data-k-picker="http://localhost/accounts/_lookup"' in sel
    assert selected_text(html, "account_id") == "Ακρόπολις Σύμβουλοι ΑΕ"
    # an account needs only its name: the picker may create one from the typed text
    assert 'data-k-picker-create="http://localhost/api/v1/accounts"' in sel
    assert 'data-k-picker-field="name"' in sel
    assert not re.search(r'<input[^>]*name="(account_id|owner_id|partner_id)"', html)
    # a person is more than a name: no creating people from a picker
    assert 'data-k-picker-create="' not in select_html(app.get("/activities/new").text, "person_id")


def test_without_javascript_the_picker_submits_the_chosen_id(client, dbsession, make_record):
    app = rep(client, dbsession)
    acc = make_record("account", name="Nowak Sp. z o.o.", owner_id=app.uid)
    form = record_form(app.get("/persons/new"))
    form["first_name"] = "Jan"
    form["last_name"] = "Kowalski"
    form["account_id"] = str(acc)
    res = form.submit("save").follow()
    assert "Nowak Sp. z o.o." in res.text
    pid = int(res.request.path.rstrip("/").split("/")[-1])
    assert app.get(f"/api/v1/persons/{pid}").json["account_id"] == acc


def test_lookup_searches_like_the_list_search_with_subtitles(client, dbsession, make_record):
    app = rep(client, dbsession)
    acc = make_record("account", name="Karagiannis Logistics", owner_id=app.uid)
    p1 = make_record(
        "person", first_name="Γιώργος", last_name="Καραγιάννης", account_id=acc, owner_id=app.uid
    )
    make_record("person", first_name="Anna", last_name="Nowak", owner_id=app.uid)
    for q in ("Καραγιάννης", "καραγ", "Karagiannis", "Nowak"):
        listed = [r["id"] for r in app.get("/api/v1/persons", {"q": q}).json["items"]]
        found = app.get("/persons/_lookup", {"q": q}).json
        assert sorted(r["id"] for r in found) == sorted(listed), q
    [item] = app.get("/persons/_lookup", {"q": "Καραγιάννης"}).json
    assert item == {"id": p1, "title": "Γιώργος Καραγιάννης", "subtitle": "Karagiannis Logistics"}
    # ?id= resolves titles
    assert app.get("/persons/_lookup", {"id": str(p1)}).json == [item]


def test_lookup_keeps_the_users_visibility(client, dbsession, make_record):
    owner = rep(client, dbsession)
    opp_less = client("user")
    make_record("account", name="Hidden AE", owner_id=owner.uid)
    assert opp_less.get("/accounts/_lookup?q=Hidden", expect_errors=True).status_int == 403


def test_lookup_lists_are_drop_downs_of_titles_for_writers(client, dbsession, types):
    app = rep(client, dbsession)
    html = app.get("/activities/new").text
    sel = select_html(html, "type_id")
    assert "data-k-picker" not in sel
    titles = re.findall(r"<option[^>]*>([^<]*)</option>", sel)
    assert "Meeting" in titles and "Call" in titles


def test_lookup_titles_are_in_the_users_language(client, dbsession, types):
    from kyklos.security.models import User

    app = rep(client, dbsession)
    with dbsession() as db:
        db.get(User, app.uid).locale = "el"
    sel = select_html(app.get("/activities/new").text, "type_id")
    titles = re.findall(r"<option[^>]*>([^<]*)</option>", sel)
    assert "Meeting" not in titles, titles


def test_users_are_picked_among_active_users(client, dbsession, make_user):
    app = rep(client, dbsession)
    make_user(email="gone@example.com", name="Former Colleague", is_active=False)
    make_user(email="maria@example.com", name="Maria Active")
    sel = select_html(app.get("/activities/new").text, "responsible_id")
    assert 'data-k-picker="http://localhost/_lookup/users"' in sel
    assert "Maria Active" in sel and "Former Colleague" not in sel
    found = app.get("/_lookup/users", {"q": "mari"}).json
    assert [u["title"] for u in found] == ["Maria Active"]
    assert app.get("/_lookup/users", {"q": "Former"}).json == []


def test_api_create_from_a_picker_with_the_session_csrf_header(client, dbsession):
    app = rep(client, dbsession)
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.get("/persons/new").text)[1]
    res = app.post_json(
        "/api/v1/accounts", {"name": "Picker Created SA"}, headers={"X-CSRF-Token": token}
    )
    assert res.status_int == 201
    found = app.get("/accounts/_lookup", {"q": "Picker Created"}).json
    assert [a["id"] for a in found] == [res.json["id"]]


# --- new from here ------------------------------------------------------------------------


class Defaults:
    from kyklos_sdk import hookimpl

    @hookimpl
    def kyklos_record_defaults(self, request, entity_type, parent_type, parent):
        if entity_type.name == "activity" and parent_type.name == "person":
            return {"account_id": parent.account_id, "subject": f"Call {parent.first_name}"}
        return None


@pytest.fixture
def defaults_hook(registry):
    pm = registry.kyklos_pm
    hook = Defaults()
    pm.register(hook)
    yield hook
    pm.unregister(hook)


def test_new_from_a_person_fills_the_person_and_what_the_hook_knows(
    client, dbsession, make_record, types, defaults_hook
):
    app = rep(client, dbsession)
    acc = make_record("account", name="Olympus Foods", owner_id=app.uid)
    pid = make_record(
        "person", first_name="Maria", last_name="Ionescu", account_id=acc, owner_id=app.uid
    )
    html = app.get(f"/activities/new?from=person:{pid}").text
    assert selected_text(html, "person_id") == "Maria Ionescu"
    assert selected_text(html, "account_id") == "Olympus Foods"
    assert 'value="Call Maria"' in html


def test_new_from_a_parent_the_user_cannot_read_is_ignored(
    client, dbsession, make_record, types, defaults_hook
):
    from kyklos.security.models import Role

    owner = rep(client, dbsession)
    pid = make_record("person", first_name="Secret", last_name="Person", owner_id=owner.uid)
    # a role that may create activities but not read people
    with dbsession() as db:
        sales = db.execute(select(Role).where(Role.name == "sales")).scalar_one()
        perms = [p for p in sales.permissions if not p.startswith("contacts.")]
        db.add(Role(name="nocontacts", title="No contacts", permissions=perms))
    app = client("nocontacts")
    res = app.get(f"/activities/new?from=person:{pid}")
    assert "Secret" not in res.text
    assert selected_text(res.text, "person_id") in (None, "—")


def test_related_list_new_link_carries_from(client, dbsession, make_record):
    app = rep(client, dbsession)
    acc = make_record("account", name="Linked Co", owner_id=app.uid)
    html = app.get(f"/accounts/{acc}").text
    assert f"/persons/new?account_id={acc}&amp;from=account%3A{acc}" in html


# --- date-times in the user's zone ----------------------------------------------------------


def test_datetime_typed_in_athens_is_stored_utc_and_shown_back_identically(
    client, dbsession, types
):
    app = rep(client, dbsession)  # users live in Europe/Athens by default
    res = app.get("/activities/new")
    assert "pickadate" not in res.text and "<script" not in res.text.split("k-record-form")[1]
    form = record_form(res)
    form["subject"] = "Winter meeting"
    form["type_id"] = str(types["meeting"])
    form.set("date", "2026-01-15", index=0)
    form.set("time", "11:00", index=0)
    form.set("date", "2026-01-15", index=1)
    form.set("time", "12:00", index=1)
    detail = form.submit("save").follow()
    aid = int(detail.request.path.rstrip("/").split("/")[-1])
    api = app.get(f"/api/v1/activities/{aid}").json
    assert api["starts_at"] == "2026-01-15T09:00:00Z"
    assert api["ends_at"] == "2026-01-15T10:00:00Z"
    assert "11:00" in detail.text and "13:00" not in detail.text
    edit = app.get(f"/activities/{aid}/edit").text
    assert 'value="11:00"' in edit and 'value="2026-01-15"' in edit
    # saving the form untouched changes nothing
    record_form(app.get(f"/activities/{aid}/edit")).submit("save").follow()
    assert app.get(f"/api/v1/activities/{aid}").json["starts_at"] == "2026-01-15T09:00:00Z"


def test_summer_time_and_other_zones(client, dbsession, types):
    from kyklos.security.models import User

    app = rep(client, dbsession)
    with dbsession() as db:
        db.get(User, app.uid).timezone = "Europe/Warsaw"
    form = record_form(app.get("/activities/new"))
    form["subject"] = "Summer call"
    form["type_id"] = str(types["call"])
    form.set("date", "2026-07-01", index=0)
    form.set("time", "11:00", index=0)
    detail = form.submit("save").follow()
    aid = int(detail.request.path.rstrip("/").split("/")[-1])
    assert app.get(f"/api/v1/activities/{aid}").json["starts_at"] == "2026-07-01T09:00:00Z"


def test_half_a_date_time_is_an_error_on_its_field(client, dbsession, types):
    app = rep(client, dbsession)
    form = record_form(app.get("/activities/new"))
    form["subject"] = "No time"
    form["type_id"] = str(types["meeting"])
    form.set("date", "2026-01-15", index=0)
    res = form.submit("save", status=400)
    assert "Give the time too." in res.text


def test_date_only_values_never_shift(client, dbsession, make_record):
    app = rep(client, dbsession)
    pid = make_record(
        "person",
        first_name="Date",
        last_name="Keeper",
        owner_id=app.uid,
        birth_date=dt.date(1980, 3, 1),
    )
    # a birthday may lack its year, so it is edited as day, month and optional year
    form = record_form(app.get(f"/persons/{pid}/edit"))
    assert (form["day"].value, form["month"].value, form["year"].value) == ("1", "3", "1980")
    form.submit("save").follow()
    assert app.get(f"/api/v1/persons/{pid}").json["birth_date"] == "1980-03-01"


def test_parse_form_value_reads_wall_clock_time_in_the_zone():
    from zoneinfo import ZoneInfo

    from kyklos.entities import FieldInfo
    from kyklos.entities.display import parse_form_value

    f = FieldInfo(name="at", title="At", type="datetime")
    athens = ZoneInfo("Europe/Athens")
    assert parse_form_value(f, "2026-01-15 11:00", athens) == "2026-01-15T09:00:00Z"
    assert parse_form_value(f, "2026-07-15T11:00", athens) == "2026-07-15T08:00:00Z"
    assert parse_form_value(f, "2026-01-15T11:00:00Z", athens) == "2026-01-15T11:00:00Z"
    d = FieldInfo(name="d", title="D", type="date")
    assert parse_form_value(d, "2026-03-29", athens) == "2026-03-29"
    with pytest.raises(ValueError):
        parse_form_value(f, "yesterday", athens)


def test_local_to_utc_on_dst_nights():
    from zoneinfo import ZoneInfo

    from kyklos.entities.widgets import local_to_utc

    athens = ZoneInfo("Europe/Athens")
    # 03:30 does not exist on 29 March 2026 in Athens (03:00 -> 04:00)
    assert local_to_utc(dt.date(2026, 3, 29), dt.time(3, 30), athens) == dt.datetime(
        2026, 3, 29, 1, 30, tzinfo=dt.UTC
    )
    # 03:30 happens twice on 25 October 2026: the first one
    assert local_to_utc(dt.date(2026, 10, 25), dt.time(3, 30), athens) == dt.datetime(
        2026, 10, 25, 0, 30, tzinfo=dt.UTC
    )


# --- typed lists as rows --------------------------------------------------------------------


def test_phones_and_emails_are_rows_with_a_type_drop_down(client, dbsession, registry):
    et = registry.kyklos_entities["person"]
    if et.fields["phones"].display != "phones":
        pytest.skip("the contacts plugin does not declare display='phones' yet")
    app = rep(client, dbsession)
    res = app.get("/persons/new")
    assert not re.search(r"<textarea[^>]*name=\"phones\"", res.text)
    form = record_form(res)
    form["first_name"] = "Row"
    form["last_name"] = "Person"
    rows = [k for k in form.fields if re.match(r"r\d+-number", k)]
    assert len(rows) >= 2
    # the first rows input is the phones', the second the e-mails'
    form.set("r0-type", "mobile", index=0)
    form.set("r0-number", "+30 691 234 5678", index=0)
    form.set("r1-type", "work", index=0)
    form.set("r1-number", "+30 210 123 4567", index=0)
    form["phones-primary"] = "1"
    form.set("r0-email", "row.person@example.com", index=0)
    form["emails-primary"] = "0"
    detail = form.submit("save").follow()
    pid = int(detail.request.path.rstrip("/").split("/")[-1])
    phones = app.get(f"/api/v1/persons/{pid}").json["phones"]
    assert [(p["type"], p["primary"]) for p in phones] == [("mobile", False), ("work", True)]
    emails = app.get(f"/api/v1/persons/{pid}").json["emails"]
    assert [(e["email"], e["primary"]) for e in emails] == [("row.person@example.com", True)]
    edit = app.get(f"/persons/{pid}/edit").text
    assert f'value="{phones[0]["number"]}"' in edit and "[{" not in edit
    assert f'value="{phones[1]["number"]}"' in edit


def test_a_plugin_refines_an_input_kind(client, dbsession, registry):
    from pyramid.config import Configurator

    from kyklos.entities import widgets

    before = registry.kyklos_input_kinds["phones"]
    config = Configurator(registry=registry)
    config.add_input_kind(
        "phones",
        widgets.rows_input(
            [
                widgets.RowColumn("type", "Type", "select", (("pager", "Pager"),)),
                widgets.RowColumn("number", "Number", "tel", required=True),
            ],
            blank_rows=3,
        ),
    )
    try:
        html = rep(client, dbsession).get("/persons/new").text
        phones = html.split('data-k-rows="phones"', 1)[1].split("</table>", 1)[0]
        assert phones.count('value="pager"') == 3 and "phones-primary" not in phones
    finally:
        registry.kyklos_input_kinds["phones"] = before


def test_lookup_values_are_offered_and_saved_without_read_permission_on_the_list(
    client, dbsession, types
):
    from kyklos.security.models import Role

    # reps whose role cannot read activity types (their record rules stay)
    with dbsession() as db:
        sales = db.execute(select(Role).where(Role.name == "sales")).scalar_one()
        sales.permissions = [
            p for p in sales.permissions if not p.startswith("activities.activitytype.")
        ]
    app = client("sales")
    res = app.get("/activities/new")
    sel = select_html(res.text, "type_id")
    assert "Call" in sel and "data-k-picker" not in sel
    form = record_form(res)
    form["subject"] = "Typed by title"
    form["type_id"] = str(types["call"])
    assert form.submit("save").status_int == 303
    with dbsession() as db:
        from kyklos_activities.models import Activity

        row = db.execute(select(Activity).where(Activity.subject == "Typed by title")).scalar_one()
        assert row.type_id == types["call"]
    assert app.get("/activity-types/", expect_errors=True).status_int == 403

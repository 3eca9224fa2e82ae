"""Lists made for people (issue 16, point 8): each entity type's few primary filters
first and the rest under "more filters"; references picked by title, value lists and
users from drop-downs, dates as a from-to range of the user's days; a bulk "set" that
offers the field's own picker or drop-down; cells labelled for the phone's cards.

Proved on the three business plugins' real entity types, through the pages."""

from __future__ import annotations

import datetime as dt
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select

from kyklos_sdk.testing import csrf_of


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.fixture
def types(dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


def filters_form(html: str) -> str:
    return html.split('id="k-filters"', 1)[1].split("</form>", 1)[0]


def primary_part(html: str) -> str:
    """The filter form up to "more filters"."""
    return filters_form(html).split('id="k-more-filters"', 1)[0]


def more_part(html: str) -> str:
    form = filters_form(html)
    assert 'id="k-more-filters"' in form
    return form.split('id="k-more-filters"', 1)[1].split("</details>", 1)[0]


def labels(part: str) -> list[str]:
    found = re.findall(r"<label[^>]*>([^<]*)</label>", part)
    return [re.sub(r"\s+", " ", x).strip() for x in found]


def details_tag(html: str) -> str:
    return re.search(r'<details[^>]*id="k-more-filters"[^>]*>', html).group(0)


def test_every_user_facing_type_declares_few_primary_filters(registry):
    technical = {
        "external_uid",
        "series_id",
        "recurrence_id",
        "mass_batch",
        "id",
        "based_on_id",
        "web_form_id",
        "lead_id",
        "parent_id",
    }
    for et in registry.kyklos_entities.values():
        if et.plugin not in ("contacts", "activities", "catalog", "sfa"):
            continue
        assert et.primary_filters, f"{et.name} declares no primary filters"
        assert len(et.primary_filters) <= 5, et.name
        assert not technical & set(et.primary_filters), et.name


def test_activity_list_shows_primary_filters_and_hides_technical_ones(client):
    app = client("sales")
    res = app.get("/activities/")
    primary = labels(primary_part(res.text))
    assert primary[:1] == ["Contains text"]
    assert primary[1:6] == ["Type", "State", "Responsible", "Due", "Account"]
    more = labels(more_part(res.text))
    # fields kept off forms (API and import conveniences) are no filters for a person
    for technical in ("iCalendar UID", "Replaced occurrence", "About (type)", "About"):
        assert technical not in primary and technical not in more, technical
    assert "Private" in more
    # nobody filters by a record number
    assert 'name="fv.id"' not in res.text
    # closed while none of them is used, open as soon as one is
    assert " open" not in details_tag(res.text)
    res = app.get("/activities/?external_uid__eq=abc@example.com")
    assert 'open="open"' in details_tag(res.text)
    summary = more_part(res.text).split("</summary>", 1)[0]
    assert re.search(r'<span[^>]*class="badge[^"]*">1</span>', summary)
    assert 'value="abc@example.com"' in more_part(res.text)


def test_reference_filter_is_a_picker_showing_the_chosen_title(client, make_record):
    app = client("sales")
    acc = make_record("account", name="Karagiannis Olive Oil SA")
    res = app.get(f"/persons/?account_id__eq={acc}")
    form = primary_part(res.text)
    select_ = re.search(r'<select[^>]*name="fv.account_id"[^>]*>(.*?)</select>', form, re.S)
    assert select_, "the account filter is a select"
    tag = select_.group(0)
    assert 'data-k-picker="http://localhost/accounts/_lookup"' in tag
    assert re.search(
        rf'<option value="{acc}"\s+selected="selected">Karagiannis Olive Oil SA</option>', tag
    )
    # never a number box for a reference
    assert not re.search(r'<input[^>]*name="fv.account_id"', res.text)
    # choosing through the form gives the canonical filter
    form = res.forms["k-filters"]
    assert form["fv.account_id"].value == str(acc)


def test_value_lists_users_and_choices_are_drop_downs(client, make_user, types, dbsession):
    app = client("sales")
    make_user(email="maria@example.com", name="Maria Papadopoulou", roles=("sales",))
    res = app.get("/activities/")
    form = res.forms["k-filters"]
    type_titles = [t for _v, _s, t in form["fv.type_id"].options]
    assert "Call" in type_titles and "Meeting" in type_titles
    assert str(types["call"]) in [v for v, _s, _t in form["fv.type_id"].options]
    assert "Maria Papadopoulou" in [t for _v, _s, t in form["fv.responsible_id"].options]
    assert [t for _v, _s, t in form["fv.state"].options] == ["", "Open", "Done", "Cancelled"]
    assert [t for _v, _s, t in form["fv.private"].options] == ["", "Yes", "No"]
    # in the user's language
    from kyklos.security.models import User

    with dbsession() as db:
        db.execute(select(User).where(User.email == app.email)).scalar_one().locale = "el"
    greek = [t for _v, _s, t in app.get("/activities/").forms["k-filters"]["fv.type_id"].options]
    assert "Call" not in greek and "Meeting" not in greek and len(greek) == len(type_titles)
    with dbsession() as db:
        db.execute(select(User).where(User.email == app.email)).scalar_one().locale = "en"
    # a lookup filter applied shows its value selected, by title
    res = app.get(f"/activities/?type_id__eq={types['call']}")
    assert res.forms["k-filters"]["fv.type_id"].value == str(types["call"])
    assert re.search(
        rf'<option value="{types["call"]}"\s+selected="selected">Call</option>', res.text
    )


def test_date_filters_are_ranges_of_the_users_days(client, make_record, types, dbsession):
    from kyklos.security.models import User

    app = client("sales")

    with dbsession() as db:
        user = db.execute(select(User).where(User.email == app.email)).scalar_one()
        user.timezone = "Europe/Athens"
        uid = user.id
    utc = dt.UTC
    inside_first = make_record(
        "activity",
        subject="First night",
        type_id=types["task"],
        due_at=dt.datetime(2026, 11, 30, 22, 30, tzinfo=utc),
        owner_id=uid,
        responsible_id=uid,
    )
    inside_last = make_record(
        "activity",
        subject="Last night",
        type_id=types["task"],
        due_at=dt.datetime(2026, 12, 31, 21, 30, tzinfo=utc),
        owner_id=uid,
        responsible_id=uid,
    )
    make_record(
        "activity",
        subject="Before",
        type_id=types["task"],
        due_at=dt.datetime(2026, 11, 30, 21, 30, tzinfo=utc),
        owner_id=uid,
        responsible_id=uid,
    )
    make_record(
        "activity",
        subject="After",
        type_id=types["task"],
        due_at=dt.datetime(2026, 12, 31, 22, 30, tzinfo=utc),
        owner_id=uid,
        responsible_id=uid,
    )
    form = app.get("/activities/").forms["k-filters"]
    form["ff.due_at"] = "2026-12-01"
    form["ft.due_at"] = "2026-12-31"
    res = form.submit()
    assert res.status_int == 303
    query = dict(parse_qsl(urlsplit(res.location).query))
    assert query["due_at__gte"] == "2026-12-01T00:00:00+02:00"
    assert query["due_at__lt"] == "2027-01-01T00:00:00+02:00"
    page = res.follow()
    body = page.text.split("<tbody>", 1)[1]
    assert "First night" in body and "Last night" in body
    assert "Before" not in body and "After" not in body
    # the form shows the user's days again, with "more filters" closed (Due is primary)
    assert page.forms["k-filters"]["ff.due_at"].value == "2026-12-01"
    assert page.forms["k-filters"]["ft.due_at"].value == "2026-12-31"
    assert inside_first and inside_last


def test_bulk_set_offers_the_fields_picker_and_drop_downs(
    client, make_record, dbsession, make_user
):
    from kyklos_contacts.models import Person

    app = client("manager")
    acc = make_record("account", name="Nowak Logistics Sp. z o.o.")
    ids = [
        make_record("person", first_name=n, last_name="Nowak", owner_id=app_uid(app, dbsession))
        for n in ("Anna", "Piotr", "Ewa")
    ]
    res = app.get("/persons/?sort=first_name")
    fields = [v for v, _s, _t in res.forms["k-bulk"]["field"].options]
    assert "account_id" in fields and "owner_id" in fields
    assert "value" not in res.forms["k-bulk"].fields  # no box to type a value (or an id) in
    form = res.forms["k-bulk"]
    for box in form.fields["ids"]:
        box.checked = int(box._value) in ids[:2]
    form["action"] = "set"
    form["field"] = "account_id"
    step = form.submit()
    assert step.status_int == 200
    assert "Change Account of 2 records" in re.sub(r"\s+", " ", step.text)
    tag = re.search(r'<select[^>]*name="value"[^>]*>', step.text).group(0)
    assert 'data-k-picker="http://localhost/accounts/_lookup"' in tag
    assert not re.search(r'<input[^>]*name="value"', step.text)
    step.forms["k-bulk-set"]["value"].force_value(str(acc))
    done = step.forms["k-bulk-set"].submit()
    assert done.status_int == 303
    assert "2 records changed." in done.follow().text
    with dbsession() as db:
        got = dict(db.execute(select(Person.id, Person.account_id).where(Person.id.in_(ids))).all())
    assert got == {ids[0]: acc, ids[1]: acc, ids[2]: None}
    # the owner is picked from the users by name
    maria = make_user(email="maria.p@example.com", name="Maria Papadopoulou", roles=("sales",))
    step = app.post(
        "/persons/_bulk",
        [
            ("csrf_token", csrf_of(app)),
            ("action", "set"),
            ("field", "owner_id"),
            ("ids", str(ids[2])),
        ],
    )
    owner = step.forms["k-bulk-set"]["value"]
    assert "Maria Papadopoulou" in [t for _v, _s, t in owner.options]
    owner.value = str(maria)
    step.forms["k-bulk-set"].submit()
    with dbsession() as db:
        assert db.get(Person, ids[2]).owner_id == maria
    # a choice field: its translated titles
    step = app.post(
        "/persons/_bulk",
        [
            ("csrf_token", csrf_of(app)),
            ("action", "set"),
            ("field", "gender"),
            ("ids", str(ids[2])),
        ],
    )
    titles = [t for _v, _s, t in step.forms["k-bulk-set"]["value"].options]
    assert len(titles) > 2 and all(titles[1:])


def app_uid(app, dbsession) -> int:
    from kyklos.security.models import User

    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == app.email)).scalar_one()


def test_list_cells_are_labelled_for_the_phones_cards(client, make_record, dbsession):
    app = client("sales")
    uid = app_uid(app, dbsession)
    acc = make_record("account", name="Lewandowski Sp. j.", owner_id=uid)
    make_record(
        "person",
        first_name="Eleni",
        last_name="Karagianni",
        account_id=acc,
        email="eleni@example.com",
        owner_id=uid,
    )
    res = app.get("/persons/")
    row = res.text.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    cells = re.findall(r'<td data-label="([^"]*)"\s+class="([^"]*)"', row)
    assert all(label for label, _c in cells) and len(cells) == 6
    roles = {label: c for label, c in cells}
    # the card: the whole name as its title, then the two first values not in the name
    assert "k-card-title" in roles["First name"]
    assert re.search(r'<span class="k-card-whole">Eleni Karagianni</span>', row)
    assert [label for label, c in cells if "k-card-value" in c] == ["Account", "E-mail"]
    assert "k-card-hidden" in roles["Last name"]  # already in the title


def test_list_and_bulk_pages_speak_greek(client, dbsession, make_record):
    from kyklos.security.models import User

    app = client("manager")
    with dbsession() as db:
        user = db.execute(select(User).where(User.email == app.email)).scalar_one()
        user.locale = "el"
        uid = user.id
    pid = make_record("person", first_name="Eleni", last_name="Karagianni", owner_id=uid)
    res = app.get("/persons/")
    form = filters_form(res.text)
    assert "Περισσότερα φίλτρα" in form and "More filters" not in form
    step = app.post(
        "/persons/_bulk",
        [
            ("csrf_token", csrf_of(app)),
            ("action", "set"),
            ("field", "account_id"),
            ("ids", str(pid)),
        ],
    )
    text = re.sub(r"\s+", " ", step.text)
    assert "σε 1 εγγραφές" in text
    for english in ("Change them", "Left empty", "New value of"):
        assert english not in text

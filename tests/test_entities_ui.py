"""The generated web pages of the entity registry: list, detail, forms, delete, bulk
actions, saved views, and their query counts (no N+1)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from kyklos_sdk.testing import csrf_of


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


def user_id(dbsession, email) -> int:
    from kyklos.security.models import User

    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()


def insert(registry, dbsession, entity, rows, **common) -> list[int]:
    """Rows written straight to the database (fast set-up; no hooks)."""
    model = registry.kyklos_entities[entity].model
    with dbsession() as db:
        objs = [model(**common, **row) for row in rows]
        db.add_all(objs)
        db.flush()
        return [o.id for o in objs]


def things(registry, dbsession, include_deleted=False) -> dict[int, object]:
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        stmt = select(model)
        if not include_deleted:
            stmt = stmt.where(model.deleted_at.is_(None))
        return {t.id: (t.name, t.colour, t.size, t.version) for t in db.execute(stmt).scalars()}


def form_to(res, suffix: str):
    """The page's form posting to a URL ending with ``suffix``."""
    return next(f for f in res.forms.values() if (f.action or "").endswith(suffix))


def names_in_table(html: str) -> list[str]:
    """The linked titles in the list's table body, in order."""
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<a href="[^"]+/things/\d+">([^<]*)</a>', body)


@pytest.fixture
def editor(client, dbsession):
    app = client("thingseditor")
    app.uid = user_id(dbsession, app.email)
    return app


# --- list -----------------------------------------------------------------------------


def test_list_shows_records_sortable_headers_and_count(editor, registry, dbsession):
    insert(
        registry,
        dbsession,
        "thing",
        [{"name": f"T{i}", "size": i} for i in range(3)],
        owner_id=editor.uid,
    )
    res = editor.get("/things/")
    assert res.status_int == 200
    assert sorted(names_in_table(res.text)) == ["T0", "T1", "T2"]
    assert "3 records" in res.text
    # sortable columns link; "colour" is not sortable, so its header is plain text
    assert 'href="http://localhost/things/?sort=name"' in res.text
    assert "sort=colour" not in res.text
    assert editor.get("/things").status_int == 303


def test_sort_by_clicking_header_and_descending(editor, registry, dbsession):
    insert(
        registry,
        dbsession,
        "thing",
        [{"name": "b", "size": 2}, {"name": "a", "size": 3}, {"name": "c", "size": 1}],
        owner_id=editor.uid,
    )
    res = editor.get("/things/?sort=name")
    assert names_in_table(res.text) == ["a", "b", "c"]
    # the header now offers the reverse order and says how the column is sorted
    assert 'aria-sort="ascending"' in res.text
    res = res.click(href=r"sort=-name")
    assert names_in_table(res.text) == ["c", "b", "a"]
    assert names_in_table(editor.get("/things/?sort=-size").text) == ["a", "b", "c"]


def test_filter_form_is_normalised_and_applied(editor, registry, dbsession):
    insert(
        registry,
        dbsession,
        "thing",
        [{"name": "apple", "size": 1}, {"name": "pear", "size": 5}, {"name": "plum", "size": 9}],
        owner_id=editor.uid,
    )
    form = editor.get("/things/").forms["k-filters"]
    form["fv.name"] = "p"
    form["fop.name"] = "startswith"
    form["fv.size"] = "6"
    form["fop.size"] = "lte"
    res = form.submit()
    assert res.status_int == 303
    assert "name__startswith=p" in res.location and "size__lte=6" in res.location
    res = res.follow()
    assert names_in_table(res.text) == ["pear"]
    # the form shows the filter in force
    assert re.search(r'<option value="startswith"\s+selected="selected">', res.text)


def test_bad_list_parameters_show_errors_not_500(editor):
    res = editor.get("/things/?size__gte=lots&sort=secret&nosuch__eq=1")
    assert res.status_int == 200
    errors = res.text.split('id="k-list-errors"', 1)[1].split("</div>", 1)[0]
    assert "size__gte" in errors and "sort" in errors and "nosuch__eq" in errors


def test_keyset_pages_with_next_and_first_links(editor, registry, dbsession):
    insert(
        registry, dbsession, "thing", [{"name": f"n{i:02d}"} for i in range(5)], owner_id=editor.uid
    )
    res = editor.get("/things/?sort=name&limit=2")
    assert names_in_table(res.text) == ["n00", "n01"]
    assert "First page" not in res.text
    res = res.click(description="Next page")
    assert names_in_table(res.text) == ["n02", "n03"]
    res = res.click(description="Next page")
    assert names_in_table(res.text) == ["n04"]
    assert "Next page" not in res.text
    res = res.click(description="First page")
    assert names_in_table(res.text) == ["n00", "n01"]


def test_count_is_capped(client, registry, dbsession, kyklos_app):
    app = client("thingseditor")
    uid = user_id(dbsession, app.email)
    insert(registry, dbsession, "thing", [{"name": f"c{i}"} for i in range(4)], owner_id=uid)
    registry.settings["kyklos.list.count_cap"] = "3"
    try:
        res = app.get("/things/")
    finally:
        registry.settings["kyklos.list.count_cap"] = "10000"
    assert "3+ records" in res.text
    assert "1 record<" in app.get("/things/?name__eq=c1").text


def test_column_chooser(editor, registry, dbsession):
    insert(
        registry,
        dbsession,
        "thing",
        [{"name": "x", "colour": "red", "size": 4}],
        owner_id=editor.uid,
    )
    res = editor.get("/things/?cols=name,size,bogus,_tags")
    head = res.text.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert "Size" in head and "Tags" in head and "Colour" not in head and "bogus" not in head
    # the chooser offers every readable field, checked as shown
    assert re.search(r'value="size" id="col-size"\s+checked="checked"', res.text)
    assert re.search(r'value="colour" id="col-colour"\s*>', res.text)


def test_tag_filter_on_list(editor, registry, dbsession):
    a, b = insert(
        registry, dbsession, "thing", [{"name": "vip one"}, {"name": "plain"}], owner_id=editor.uid
    )
    token = csrf_of(editor)
    editor.post(f"/things/{a}/tags", {"tags": "VIP, hotel", "csrf_token": token})
    res = editor.get("/things/?tag=vip&cols=name,_tags")
    assert names_in_table(res.text) == ["vip one"]
    assert "k-tag" in res.text and ">VIP<" in res.text


def test_list_refuses_users_without_read_permission(client):
    app = client("user")
    assert app.get("/things/", expect_errors=True).status_int == 403
    assert app.get("/nosuchtype/", expect_errors=True).status_int == 404


# --- forms ----------------------------------------------------------------------------


def test_create_shows_errors_next_to_fields_then_saves(editor, registry, dbsession):
    form = editor.get("/things/new").forms["k-record-form"]
    form["name"] = ""
    form["size"] = "many"
    res = form.submit("save", status=400)
    # colander's messages sit in deform's invalid-feedback next to each field
    assert re.search(r'id="error-deformField\d+"[^>]*>\s*Required', res.text) or re.search(
        r'class="invalid-feedback"[^>]*>\s*Required', res.text
    )
    assert '"many" is not a number' in res.text
    assert "is-invalid" in res.text
    assert things(registry, dbsession) == {}
    # the plugin's validate hook refuses "forbidden": shown on the name field
    form = res.forms["k-record-form"]
    form["name"] = "forbidden"
    form["size"] = "3"
    res = form.submit("save", status=400)
    item = res.text.split('id="item-', 1)[1]
    assert "This name is not allowed." in res.text
    assert "invalid-feedback" in item.split("</div>", 1)[0]
    form = res.forms["k-record-form"]
    form["name"] = "Good <b>thing</b>"
    res = form.submit("save")
    assert res.status_int == 303
    [(tid, row)] = things(registry, dbsession).items()
    assert row[0] == "Good <b>thing</b>" and row[2] == 3
    page = res.follow()
    assert "Thing created." in page.text
    assert "Good &lt;b&gt;thing&lt;/b&gt;" in page.text and "<b>thing</b>" not in page.text


def test_form_requires_csrf(editor, registry, dbsession):
    res = editor.post("/things/new", {"name": "x", "save": "save"}, expect_errors=True)
    assert res.status_int in (400, 403)
    assert things(registry, dbsession) == {}


def test_edit_conflict_is_shown_not_overwritten(editor, client, registry, dbsession):
    [tid] = insert(registry, dbsession, "thing", [{"name": "orig", "size": 1}], owner_id=editor.uid)
    form = editor.get(f"/things/{tid}/edit").forms["k-record-form"]
    assert form["name"].value == "orig"
    # someone else saves first (through the same service, via another form)
    other = editor.get(f"/things/{tid}/edit").forms["k-record-form"]
    other["size"] = "7"
    assert other.submit("save").status_int == 303
    form["name"] = "mine"
    res = form.submit("save", status=409)
    assert "Someone else changed this record" in res.text
    assert "Size: 1 → 7" in res.text
    assert things(registry, dbsession)[tid][:3] == ("orig", None, 7)
    # the user's input is kept; saving again, knowingly, wins
    form = res.forms["k-record-form"]
    assert form["name"].value == "mine"
    assert form.submit("save").status_int == 303
    assert things(registry, dbsession)[tid][0] == "mine"


def test_reader_sees_no_write_controls_and_cannot_write(client, registry, dbsession):
    [tid] = insert(registry, dbsession, "thing", [{"name": "ro"}])
    reader = client("thingsreader")
    page = reader.get(f"/things/{tid}")
    assert "ro" in page.text
    assert "/edit" not in page.text and f"/things/{tid}/delete" not in page.text
    assert 'name="ids"' not in reader.get("/things/").text
    assert reader.get("/things/new", expect_errors=True).status_int == 403
    assert reader.get(f"/things/{tid}/edit", expect_errors=True).status_int == 403
    token = csrf_of(reader)
    res = reader.post(
        "/things/_bulk",
        {"ids": str(tid), "action": "delete", "confirm": "1", "csrf_token": token},
        expect_errors=True,
    )
    assert res.status_int == 403
    assert tid in things(registry, dbsession)


def test_delete_asks_then_deletes(editor, registry, dbsession):
    [tid] = insert(registry, dbsession, "thing", [{"name": "doomed"}], owner_id=editor.uid)
    page = editor.get(f"/things/{tid}/delete")
    assert "Delete doomed?" in page.text
    assert tid in things(registry, dbsession)  # GET changes nothing
    res = form_to(page, f"/things/{tid}/delete").submit()
    assert res.status_int == 303 and res.location.endswith("/things/")
    assert tid not in things(registry, dbsession)
    assert tid in things(registry, dbsession, include_deleted=True)  # soft delete
    assert "Deleted doomed." in res.follow().text
    assert editor.get(f"/things/{tid}", expect_errors=True).status_int == 404


# --- detail -----------------------------------------------------------------------------


def test_detail_has_fields_timeline_related_panels_and_actions(client, registry, dbsession):
    app = client("releditor")
    uid = user_id(dbsession, app.email)
    [box] = insert(registry, dbsession, "box", [{"name": "Box A", "code": "BX1"}], owner_id=uid)
    insert(
        registry,
        dbsession,
        "item",
        [{"name": f"item{i}", "qty": i, "box_id": box} for i in range(12)],
        owner_id=uid,
    )
    page = app.get(f"/boxes/{box}")
    assert "BX1" in page.text
    # related list: 10 shown of 12, with a link to the filtered list
    section = page.text.split("Items in this box", 1)[1].split("</section>", 1)[0]
    assert section.count("/items/") >= 10 and ">12<" in section
    assert f"box_id__eq={box}" in section
    # hook contributions: action button, panel (escaped), timeline item
    assert "Weigh box" in page.text
    assert "Label &lt;b&gt;printed&lt;/b&gt;" in page.text
    assert "Box scanned" in page.text
    # the item's page links back to its box by title (a reference field)
    item = app.get(f"/items/?box_id__eq={box}&sort=name").click(description="item0")
    assert f'href="http://localhost/boxes/{box}">Box A</a>' in item.text


def test_reference_field_is_a_select_of_visible_records(client, registry, dbsession):
    app = client("releditor")
    uid = user_id(dbsession, app.email)
    [box] = insert(registry, dbsession, "box", [{"name": "Crate"}], owner_id=uid)
    page = app.get(f"/items/new?box_id={box}")
    form = page.forms["k-record-form"]
    assert form["box_id"].tag == "select"
    assert form["box_id"].value == str(box)  # prefilled from the related list's link
    assert (str(box), True, "Crate") in [(o[0], o[1], o[2]) for o in form["box_id"].options]
    form["name"] = "Bolt"
    form["qty"] = "4"
    res = form.submit("save")
    assert res.status_int == 303
    detail = res.follow()
    assert "Crate" in detail.text


def test_lookup_returns_visible_matches(client, registry, dbsession):
    app = client("releditor")
    insert(registry, dbsession, "box", [{"name": "Alpha crate"}, {"name": "Beta"}])
    res = app.get("/boxes/_lookup?q=crat")
    assert [r["title"] for r in res.json] == ["Alpha crate"]
    assert client("user").get("/boxes/_lookup?q=a", expect_errors=True).status_int == 403


# --- bulk -------------------------------------------------------------------------------


def test_bulk_delete_needs_confirmation(editor, registry, dbsession):
    ids = insert(
        registry, dbsession, "thing", [{"name": f"b{i}"} for i in range(3)], owner_id=editor.uid
    )
    form = editor.get("/things/").forms["k-bulk"]
    for box in form.fields["ids"]:
        if int(box._value) in ids[:2]:
            box.checked = True
    form["action"] = "delete"
    confirm = form.submit()
    assert confirm.status_int == 200 and "Delete 2 records?" in confirm.text
    assert len(things(registry, dbsession)) == 3
    res = confirm.forms["k-bulk-confirm"].submit()
    assert res.status_int == 303
    assert set(things(registry, dbsession)) == {ids[2]}
    assert "2 records deleted." in res.follow().text


def test_bulk_set_field_and_tag(editor, registry, dbsession):
    ids = insert(
        registry, dbsession, "thing", [{"name": f"s{i}"} for i in range(3)], owner_id=editor.uid
    )
    token = csrf_of(editor)
    res = editor.post(
        "/things/_bulk",
        [
            ("csrf_token", token),
            ("action", "set"),
            ("field", "colour"),
            ("value", "blue"),
            ("ids", str(ids[0])),
            ("ids", str(ids[1])),
        ],
    )
    assert res.status_int == 303
    rows = things(registry, dbsession)
    assert [rows[i][1] for i in ids] == ["blue", "blue", None]
    # a bad value is refused for all, with the field's message
    res = editor.post(
        "/things/_bulk",
        [
            ("csrf_token", token),
            ("action", "set"),
            ("field", "size"),
            ("value", "big"),
            ("ids", str(ids[0])),
        ],
    ).follow()
    assert "Not a valid value." in res.text
    # "set" cannot reach a field outside the allow-list
    res = editor.post(
        "/things/_bulk",
        [
            ("csrf_token", token),
            ("action", "set"),
            ("field", "owner_id"),
            ("value", "1"),
            ("ids", str(ids[0])),
        ],
    ).follow()
    assert "Choose a field." in res.text
    editor.post(
        "/things/_bulk",
        [
            ("csrf_token", token),
            ("action", "tag"),
            ("tag", "Batch"),
            ("ids", str(ids[1])),
            ("ids", str(ids[2])),
        ],
    )
    res = editor.get("/things/?tag=batch&sort=name")
    assert names_in_table(res.text) == ["s1", "s2"]


# --- saved views ------------------------------------------------------------------------


def test_saved_views_private_and_shared(editor, client, registry, dbsession):
    insert(
        registry,
        dbsession,
        "thing",
        [{"name": "red one", "colour": "red"}, {"name": "green one", "colour": "green"}],
        owner_id=editor.uid,
    )
    page = editor.get("/things/?colour__eq=red&cols=name,colour&sort=name")
    form = page.forms["k-save-view"]
    form["name"] = "Reds"
    res = form.submit().follow()
    assert names_in_table(res.text) == ["red one"]
    assert re.search(r'class="nav-link active" href="[^"]+view=\d+"', res.text)
    listing = editor.get("/things/")
    assert "Reds" in listing.text
    # another user does not see a private view ...
    other = client("thingsreader")
    assert "Reds" not in other.get("/things/").text
    # ... until it is shared
    form = editor.get("/things/?colour__eq=red").forms["k-save-view"]
    form["name"] = "Reds"
    form["shared"] = True
    form.submit()
    assert "Reds" in other.get("/things/").text
    # only the owner may delete it
    from kyklos.entities.savedviews import SavedView

    with dbsession() as db:
        vid = db.execute(select(SavedView.id)).scalar_one()
    assert (
        other.post(
            f"/things/_views/{vid}/delete", {"csrf_token": csrf_of(other)}, expect_errors=True
        ).status_int
        == 403
    )
    assert (
        editor.post(f"/things/_views/{vid}/delete", {"csrf_token": csrf_of(editor)}).status_int
        == 303
    )
    assert "Reds" not in other.get("/things/").text


def test_saved_view_keeps_only_list_parameters(editor):
    from webob.multidict import MultiDict

    from kyklos.entities.savedviews import clean_params

    kept = clean_params(
        MultiDict(
            [
                ("name__contains", "a"),
                ("sort", "-name"),
                ("cursor", "x"),
                ("evil; drop", "1"),
                ("cols", "name"),
                ("account.country__eq", "GR"),
            ]
        )
    )
    assert kept == [
        ["name__contains", "a"],
        ["sort", "-name"],
        ["cols", "name"],
        ["account.country__eq", "GR"],
    ]


# --- query counts -----------------------------------------------------------------------


def _count(query_counter, app, url) -> int:
    with query_counter() as q:
        app.get(url)
    return q.count


def test_list_page_query_count_does_not_grow_with_rows(client, registry, dbsession, query_counter):
    app = client("releditor")
    uid = user_id(dbsession, app.email)
    boxes = insert(
        registry, dbsession, "box", [{"name": f"box{i}"} for i in range(5)], owner_id=uid
    )
    insert(
        registry,
        dbsession,
        "item",
        [{"name": f"i{i}", "qty": i, "box_id": boxes[i % 5]} for i in range(5)],
        owner_id=uid,
    )
    url = "/items/?cols=name,box_id,qty,owner_id,_tags&limit=50"
    app.get(url)  # warm caches (templates, roles)
    few = _count(query_counter, app, url)
    insert(
        registry,
        dbsession,
        "item",
        [{"name": f"j{i}", "qty": i, "box_id": boxes[i % 5]} for i in range(45)],
        owner_id=uid,
    )
    many = _count(query_counter, app, url)
    assert many == few, (few, many)
    # session, identity, rules, page, count, one per reference target, tags, views
    assert few <= 20, few


def test_detail_page_query_count_does_not_grow_with_related(
    client, registry, dbsession, query_counter
):
    app = client("releditor")
    uid = user_id(dbsession, app.email)
    [box] = insert(registry, dbsession, "box", [{"name": "B"}], owner_id=uid)
    # more than one page of the related list (10), so both runs count its total
    insert(
        registry,
        dbsession,
        "item",
        [{"name": f"i{i}", "box_id": box} for i in range(12)],
        owner_id=uid,
    )
    app.get(f"/boxes/{box}")
    few = _count(query_counter, app, f"/boxes/{box}")
    insert(
        registry,
        dbsession,
        "item",
        [{"name": f"j{i}", "box_id": box} for i in range(38)],
        owner_id=uid,
    )
    many = _count(query_counter, app, f"/boxes/{box}")
    assert many == few, (few, many)

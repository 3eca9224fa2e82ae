"""The role editor in words: permissions as a matrix of translated entity types per
plugin, record rules with plain scopes, field permissions by field title, the admin
index reachable by a manager who is not a full administrator, and empty lists that say
what to do."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kyklos.security.models import FieldPermission, Role


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


@pytest.fixture
def manager_app(dbsession, make_user, kyklos_app, login):
    """A manager who keeps users and roles but is no full administrator."""
    import webtest

    with dbsession() as db:
        if db.execute(select(Role).where(Role.name == "usermgr")).scalar() is None:
            db.add(Role(name="usermgr", title="User manager", permissions=["kyklos.users.manage"]))

    def make(lang="en"):
        email = f"um-{lang}@example.com"
        make_user(email=email, roles=("usermgr", "manager"), locale=lang)
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        login(app, email)
        return app

    return make


def _role_id(dbsession, name):
    with dbsession() as db:
        return db.execute(select(Role.id).where(Role.name == name)).scalar_one()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_matrix_rules_and_fields_in_words(manager_app, dbsession, lang):
    app = manager_app(lang)
    rid = _role_id(dbsession, "sales")
    page = app.get(f"/admin/roles/{rid}")
    html = page.html
    matrix = html.find("section", attrs={"data-k-plugin": "contacts"})
    people = matrix.find("tr", attrs={"data-k-entity": "person"})
    title = people.th.text.strip()
    assert title == ("People" if lang == "en" else "Πρόσωπα")
    header = [th.text.strip() for th in matrix.find("thead").find_all("th")][1:]
    assert header[:4] == (
        ["View", "Create", "Edit", "Delete"]
        if lang == "en"
        else ["Προβολή", "Δημιουργία", "Επεξεργασία", "Διαγραφή"]
    )
    # no raw permission or entity names for a person to read
    text = html.find("main").text
    assert "Assign person" not in text and "contacts.person" not in text
    assert "installedproduct" not in text
    rules = html.find(id="record-rules").text
    assert ("Own records" if lang == "en" else "Δικές μου εγγραφές") in rules
    assert ("All records" if lang == "en" else "Όλες οι εγγραφές") in rules
    cells = [td.text.strip() for td in html.find(id="record-rules").find_all("td")]
    assert "own" not in cells and "all" not in cells and "read" not in cells
    scopes = [o.text for o in html.find(id="ru-scope").find_all("option")]
    assert (
        "Records of my department and below"
        if lang == "en"
        else "Εγγραφές του τμήματός μου και των υποτμημάτων του"
    ) in scopes

    # ticking a cell grants that verb; the rest stay as they were
    form = page.forms["role-form"]
    boxes = [f for f in form.fields["permissions"] if f._value == "contacts.person.delete"]
    boxes[0].checked = True
    form.submit().follow()
    with dbsession() as db:
        role = db.get(Role, rid)
        assert "contacts.person.delete" in role.permissions
        assert "contacts.person.read" in role.permissions

    # field permissions by field title and in words
    page = app.get(f"/admin/roles/{rid}/fields/person")
    head = [th.text.strip() for th in page.html.find("thead").find_all("th")]
    assert head == (
        ["Field", "Can change", "Read only", "Hidden"] if lang == "en" else head
    )  # Greek: translated (checked below)
    if lang == "el":
        assert "Κρυφό" in head and "none" not in head
    row = page.html.find("tr", attrs={"data-k-field": "birth_date"})
    assert row.th.text.strip() != "birth_date"
    form = page.forms["field-permissions"]
    form["f.birth_date"] = "none"
    form.submit().follow()
    with dbsession() as db:
        fp = db.execute(
            select(FieldPermission).where(
                FieldPermission.role_id == rid, FieldPermission.field == "birth_date"
            )
        ).scalar_one()
        assert fp.access == "none"


def test_manager_reaches_administration_and_empty_lists_say_what_to_do(manager_app, client):
    app = manager_app()
    home = app.get("/")
    assert home.html.find(id="k-admin-link") is not None
    index = app.get("/admin")
    links = {a.text.strip() for a in index.html.select("main a")}
    assert {"Users", "Roles and record rules"} <= links
    res = app.get("/admin/users", {"q": "nobody-here"})
    assert "No user matches" in res.html.find(id="users-empty").text
    # a plain user has no administration page: no link in the menu, 403 on the page
    plain = client("sales")
    assert plain.get("/").html.find(id="k-admin-link") is None
    plain.get("/admin", status=403)
    res = plain.get("/segments")
    assert "No segments yet" in res.html.find(id="segments-empty").text


def test_rule_without_records_says_so(manager_app):
    app = manager_app()
    page = app.get("/admin/roles")
    form = [f for f in page.forms.values() if "name" in f.fields][0]
    form["name"] = "helpdesk"
    form["title"] = "Help desk"
    page = form.submit().follow()
    assert "reach no records" in page.html.find(id="rules-empty").text
    form = page.forms["rule-form"]
    form["action"] = "read"
    form["entity"] = "person"
    form["scope"] = "subtree"
    page = form.submit().follow()
    row = page.html.find(id="record-rules").tbody.tr
    cells = [td.text.strip() for td in row.find_all("td")]
    assert cells[0] == "People" and cells[1] == "See"
    assert cells[2].startswith("Records of my department and below")

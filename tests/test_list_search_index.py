"""A list's quick search (``?q=``) is answered by the global search's index (issue #19):
the same records as the ``LIKE`` over the searchable columns it replaces, found
through the trigram indexes (GIN on PostgreSQL, FTS5 on SQLite) inside the list's one
statement, record rules included; the ``LIKE`` stays where the index may not answer
(a searchable field the user may not read, soft-deleted records)."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from kyklos.entities import query
from tests.test_search_plan import FILLER, create, filler, plan_of  # noqa: F401

NAMES = [
    ("Γιώργος", "Παπαδόπουλος", "gp@example.com"),
    ("ΓΙΏΡΓΟΣ", "ΠΑΠΑΔΆΚΗΣ", "papad@example.gr"),
    ("Paweł", "Żółkiewski", "pawel@example.pl"),
    ("PAWEŁ", "żółw", None),
    ("Ana", "Ștefănescu", "ana.stef@example.ro"),
    ("ana", "Popescu", "pop@EXAMPLE.ro"),
    ("Anna", "O'Neil", "anna_o@example.com"),
    ("Jose", "Alvarez", None),
    ("Zoë", "100% Smith", "z@x.io"),
]

QUERIES = [
    "παπαδ",
    "ΠΑΠΑΔ",
    "γιώργος",
    "ΓΙΏΡΓΟΣ",
    "żółk",
    "ŻÓŁ",
    "paweł",
    "ștef",
    "ȘTEFĂNESCU",
    "ana",
    "AN",
    "an pop",
    "example.ro",
    "EXAMPLE",
    "o'neil",
    "anna_o",
    "100%",
    "%",
    "_",
    "zo",
    "jose alv",
    "nobody",
    "a e i",
]


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def found(app, **params) -> set[int]:
    return {r["id"] for r in app.get("/api/v1/persons", {"limit": 200, **params}).json["items"]}


@pytest.fixture
def people(api):
    a = api("manager")
    ids = []
    for first, last, email in NAMES:
        data = {"first_name": first, "last_name": last}
        if email:
            data["email"] = email
        ids.append(a.post_json("/api/v1/persons", data, status=201).json["id"])
    return a, ids


def statements_of(registry, app, url, params) -> list[str]:
    engine = registry["dbengine"]
    seen = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", before)
    try:
        app.get(url, params)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def test_the_index_finds_what_the_like_found(people, monkeypatch, registry):
    a, _ids = people
    through_index = {q: found(a, q=q) for q in QUERIES}
    # the statement of the page reads the index, not the columns
    page = [s for s, _p in statements_of(registry, a, "/api/v1/persons", {"q": "παπαδ"})]
    assert any("kyklos_search" in s and "contacts_person" in s for s in page), page
    monkeypatch.setattr(query, "q_uses_index", lambda *args: False)
    through_like = {q: found(a, q=q) for q in QUERIES}
    page = [s for s, _p in statements_of(registry, a, "/api/v1/persons", {"q": "παπαδ"})]
    assert not any("kyklos_search" in s for s in page), page
    assert through_index == through_like
    assert through_like["παπαδ"] and through_like["an pop"] and through_like["%"]


def test_folded_keys_add_nothing(people):
    """The folded keys line of a search row (for global search's accent- and
    script-free matches) is not the list's meaning: "zol" does not find "Żółkiewski",
    "ana" does not find "Anna" (whose key is "ana")."""
    a, ids = people
    assert found(a, q="zol") == set()
    assert found(a, q="ana") == {ids[4], ids[5]}
    assert found(a, q="papadopoulos") == set()


def test_deleted_records_are_searched_by_like(people):
    a, ids = people
    a.delete(f"/api/v1/persons/{ids[0]}", headers={"If-Match": '"1"'}, status="*")
    assert found(a, deleted="only") == {ids[0]}
    assert found(a, q="παπαδ", deleted="only") == {ids[0]}
    assert found(a, q="παπαδ", deleted="include") == {ids[0], ids[1]}
    assert found(a, q="παπαδ") == {ids[1]}


def test_a_hidden_searchable_field_is_not_searched_through_the_index(people, dbsession, api):
    """A user who may not read a searchable field never finds records by it: the
    index holds every searchable field, so the list falls back to the LIKE over the
    readable ones."""
    from kyklos.security.models import FieldPermission, RecordRule, Role

    a, ids = people
    with dbsession() as db:
        role = Role(name="noemail", title="No e-mail", permissions=["contacts.person.read"])
        db.add(role)
        db.flush()
        db.add(FieldPermission(role_id=role.id, entity="person", field="email", access="none"))
        db.add(RecordRule(role_id=role.id, entity="person", action="read", scope="all"))
    b = api("noemail")
    assert found(a, q="example.ro")
    assert found(b, q="example.ro") == set()
    assert found(b, q="ștef") == {ids[4]}


class TestPlan:
    @pytest.fixture
    def kyklos_plugins(self):
        return ["samplea", "samplerel"]

    @pytest.fixture
    def editor(self, api):
        return api("thingseditor", "releditor")

    @pytest.mark.parametrize("q", ["phabe", "Παπαδ", "alpha soup"])
    def test_list_q_uses_the_index(self, registry, editor, filler, q):  # noqa: F811
        create(editor, "things", name="Alphabet soup")
        create(editor, "things", name="Παπαδόπουλος glass")
        statements = statements_of(registry, editor, "/api/v1/things", {"q": q})
        [(page, params)] = [
            (s, p)
            for s, p in statements
            if "samplea_thing" in s and "LIMIT" in s.upper() and "count" not in s.lower()
        ]
        assert "kyklos_search" in page
        plan = plan_of(registry, page, params)
        if registry["dbengine"].dialect.name == "postgresql":
            assert "Bitmap Index Scan on ix_kyklos_search_text_trgm" in plan, plan
            assert not any("Seq Scan on kyklos_search" in ln for ln in plan.splitlines()), plan
        else:
            assert "kyklos_search_fts VIRTUAL TABLE" in plan, plan
            assert not any(ln.strip() == "SCAN kyklos_search" for ln in plan.splitlines())
        names = [i["name"] for i in editor.get("/api/v1/things", {"q": q}).json["items"]]
        assert names and all(all(w.lower() in n.lower() for w in q.split()) for n in names), names


@pytest.mark.parametrize(
    "q", ['"', 'ab"cd"', '"""', "***", "NEAR(ab", "AND OR NOT", "'--", "\\%_", "a^b*c:d", "ΣΣΣ"]
)
def test_any_text_is_a_search_never_fts_syntax(people, q):
    """Every word reaches FTS5 as a quoted literal: no query text is an error."""
    a, _ids = people
    res = a.get("/api/v1/persons", {"q": q}, status=200)
    assert isinstance(res.json["items"], list)

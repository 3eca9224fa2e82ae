"""A page's phones, e-mails and addresses read by plain Core selects
(``kyklos.entities.children``, issue #19) instead of the ORM's select-in loader: the API
answers byte for byte what the loader gave, in the same order, with the same field
rules, in the same number of statements."""

import pytest
from contacts_helpers import new_person
from sqlalchemy import select

from kyklos.entities import children


@pytest.fixture
def people(api):
    a = api("manager")
    p1 = new_person(
        a,
        first_name="Anna",
        last_name="Alpha",
        country="GR",
        phones=[
            {"type": "mobile", "number": "693 123 4567"},
            {"type": "work", "number": "+30 210 123 4567", "primary": True},
            {"type": "home", "number": "+30 210 765 4321"},
        ],
        emails=[
            {"type": "home", "email": "anna@example.net"},
            {"type": "work", "email": "anna@example.com", "primary": True},
        ],
        addresses=[
            {"kind": "home", "street": "Odos 1", "city": "Athina", "country": "GR"},
            {"kind": "office", "city": "Patra", "country": "GR"},
        ],
    )
    # a reordering: the rows' positions no longer follow their ids
    p1 = a.patch_json(
        f"/api/v1/persons/{p1['id']}",
        {"phones": [p1["phones"][2], p1["phones"][0], p1["phones"][1]]},
    ).json
    p2 = new_person(
        a,
        first_name="Bob",
        last_name="Beta",
        country="GR",
        emails=[{"type": "work", "email": "bob@example.com"}],
    )
    p3 = new_person(a, first_name="Cleo", last_name="Gamma")  # no child rows at all
    return a, [p1, p2, p3]


def _bodies(a, ids):
    urls = [
        "/api/v1/persons?sort=last_name",
        "/api/v1/persons?sort=-id&limit=2",
        "/api/v1/persons?sort=last_name&fields=last_name,phones,emails,addresses",
        *(f"/api/v1/persons/{i}" for i in ids),
    ]
    return [a.get(u).body for u in urls]


def test_output_is_the_select_in_loaders_byte_for_byte(people, monkeypatch, query_counter):
    a, (p1, p2, p3) = people
    ids = [p1["id"], p2["id"], p3["id"]]
    a.get("/api/v1/persons")  # warm
    with query_counter() as qc:
        core = _bodies(a, ids)
    # the ORM's own loader, as before this read existed
    monkeypatch.setattr(children, "plans", lambda model: ())
    with query_counter() as qo:
        orm = _bodies(a, ids)
    assert core == orm
    # the same number of statements (one per collection), but plain ones
    assert len(qc.statements) == len(qo.statements)
    first = a.get(f"/api/v1/persons/{p1['id']}").json
    assert [p["number"] for p in first["phones"]] == [
        "+302107654321",
        "+306931234567",
        "+302101234567",
    ]
    assert [p["primary"] for p in first["phones"]] == [False, False, True]
    assert [(e["email"], e["primary"]) for e in first["emails"]] == [
        ("anna@example.net", False),
        ("anna@example.com", True),
    ]
    assert [x["city"] for x in first["addresses"]] == ["Athina", "Patra"]
    listed = {p["id"]: p for p in a.get("/api/v1/persons").json["items"]}
    assert listed[p3["id"]]["phones"] == [] and listed[p3["id"]]["addresses"] == []
    assert [e["email"] for e in listed[p2["id"]]["emails"]] == ["bob@example.com"]


def test_children_are_read_by_core_selects(people, query_counter):
    a, (p1, _p2, _p3) = people
    a.get("/api/v1/persons")  # warm
    for url in ("/api/v1/persons", f"/api/v1/persons/{p1['id']}"):
        with query_counter() as qc:
            a.get(url)
        reads = [s for s in qc.statements if "FROM contacts_person_phone" in s]
        assert len(reads) == 1, reads
        # the Core select names the child table's columns only, no ORM aliasing of
        # the parent (the select-in loader's statement selects the parent key too)
        assert "contacts_person.id" not in reads[0].split("FROM")[0]


def test_hidden_fields_stay_hidden(people, api, dbsession):
    from kyklos.security.models import FieldPermission, Role

    _a, (p1, _p2, _p3) = people
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "manager")).scalar_one()
        for field in ("phones", "addresses"):
            db.add(FieldPermission(role_id=role.id, entity="person", field=field, access="none"))
    b = api("manager")
    got = b.get(f"/api/v1/persons/{p1['id']}").json
    assert "phones" not in got and "addresses" not in got
    assert [e["email"] for e in got["emails"]] == ["anna@example.net", "anna@example.com"]
    for item in b.get("/api/v1/persons").json["items"]:
        assert "phones" not in item and "addresses" not in item and "emails" in item


def test_loaded_children_are_ordinary_persistent_rows(people, registry):
    """The attached rows are the session's own (identity map, unmodified): a later
    change through them is flushed as with the loader's."""
    from kyklos_contacts.models.people import Person, PersonPhone
    from sqlalchemy.orm import Session

    _a, (p1, _p2, _p3) = people
    with Session(registry["dbengine"]) as db:
        person = db.get(Person, p1["id"], options=children.deferred_options(Person))
        assert "phone_rows" not in person.__dict__
        children.attach(db, Person, [person])
        rows = person.phone_rows
        assert [r.position for r in rows] == [0, 1, 2]
        assert not db.dirty and not db.new
        assert all(r in db for r in rows)
        assert db.get(PersonPhone, rows[0].id) is rows[0]  # no second object, no SQL
        first_id = rows[0].id
        rows[0].kind = "fax"
        db.commit()
    with Session(registry["dbengine"]) as db:
        assert db.get(PersonPhone, first_id).kind == "fax"


def test_list_items_are_the_records_as_opened(people):
    """The list's serialiser (per-list plan, properties' lists taken as they are) gives
    each person exactly as the record serialiser does, the one-of-a-kind fields read
    from the typed lists included."""
    a, (p1, p2, p3) = people
    items = a.get("/api/v1/persons", {"sort": "last_name"}).json["items"]
    assert [i["id"] for i in items] == [p1["id"], p2["id"], p3["id"]]
    for item in items:
        assert item == a.get(f"/api/v1/persons/{item['id']}").json
    first = items[0]
    assert (first["mobile_phone"], first["work_phone"], first["home_phone"]) == (
        "+306931234567",
        "+302101234567",
        "+302107654321",
    )
    assert first["fax"] is None and first["other_email"] is None
    assert (first["office_city"], first["home_street"]) == ("Patra", "Odos 1")


_CHILD_TABLES = ("contacts_person_phone", "contacts_person_email", "contacts_address")
_KEYS = ("phone_rows", "email_rows", "address_rows")


def _child_reads(statements):
    return [s for s in statements if any(f"FROM {t}" in s for t in _CHILD_TABLES)]


def _request(registry, client, path):
    import transaction
    from pyramid.request import Request
    from pyramid.scripting import prepare

    req = Request.blank(
        path,
        headers={"Authorization": client.extra_environ["HTTP_AUTHORIZATION"]},
        base_url="http://localhost",
    )
    env = prepare(request=req, registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    return request, env


def test_a_page_reads_its_children_on_first_use_all_at_once(people, registry, query_counter):
    """``run_list`` leaves the page's collections to the first consumer that reads one:
    then every collection of every record of the page is read, one statement each,
    giving exactly the select-in loader's rows; a caller that reads none pays none."""
    from kyklos_contacts.models.people import Person
    from sqlalchemy.orm import Session

    from kyklos.entities import query

    a, (p1, p2, p3) = people
    request, env = _request(registry, a, "/?sort=last_name")
    try:
        et = registry.kyklos_entities["person"]
        lp = query.parse_list_params(request, et, request.GET)
        with query_counter() as qc:
            rows = query.run_list(request, et, lp).items
        assert [r.id for r in rows] == [p1["id"], p2["id"], p3["id"]]
        assert _child_reads(qc.statements) == []
        with query_counter() as qc:
            rows[1].email_rows  # noqa: B018 - the first read of any collection
        assert len(_child_reads(qc.statements)) == len(qc.statements) == 3
        with query_counter() as qc:
            got = [
                [[(c.__class__.__name__, c.id) for c in getattr(r, k)] for k in _KEYS] for r in rows
            ]
        assert qc.statements == []
        assert not request.dbsession.dirty and not request.dbsession.new
    finally:
        request.tm.abort()
        env["closer"]()
    with Session(registry["dbengine"]) as db:
        want = [
            [[(c.__class__.__name__, c.id) for c in getattr(db.get(Person, i), k)] for k in _KEYS]
            for i in (p1["id"], p2["id"], p3["id"])
        ]
    assert got == want
    assert [len(x) for x in got[0]] == [3, 2, 2]


def test_a_list_page_without_such_columns_reads_no_child_rows(people, query_counter):
    """The HTML list's default person columns show no phone, e-mail or address list:
    its page reads none of those tables (it read all three before); a column that
    shows one reads each table once for the whole page."""
    a, _people = people
    a.get("/persons/")  # warm
    with query_counter() as qc:
        page = a.get("/persons/")
    assert "Alpha" in page.text
    assert _child_reads(qc.statements) == []
    with query_counter() as qc:
        page = a.get("/persons/", {"cols": "last_name,mobile_phone"})
    assert "+30 693 123 4567" in page.text or "693" in page.text
    reads = _child_reads(qc.statements)
    assert len(reads) == 3 and len({r.split("FROM")[1].split()[0] for r in reads}) == 3


def test_a_pending_child_row_is_flushed_before_the_page_read(people, registry):
    """The deferred read sees what the session holds, as an ORM read would: a row added
    (not flushed) after the page was loaded is in its person's collection."""
    from kyklos_contacts.models.people import PersonPhone

    from kyklos.entities import query

    a, (p1, p2, _p3) = people
    request, env = _request(registry, a, "/?sort=last_name")
    try:
        et = registry.kyklos_entities["person"]
        rows = query.run_list(request, et, query.parse_list_params(request, et, request.GET)).items
        request.dbsession.add(
            PersonPhone(person_id=p2["id"], kind="work", number="+302100000000", position=0)
        )
        assert len(rows[0].phone_rows) == 3  # the page read, after the autoflush
        assert [p.number for p in rows[1].phone_rows] == ["+302100000000"]
    finally:
        request.tm.abort()
        env["closer"]()

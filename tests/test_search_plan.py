"""Global search is answered by its index, with visibility inside the query (issue #19).

On PostgreSQL the search statement over some thousands of analysed search rows must be
planned on the GIN indexes (full-text and trigram), never as a scan of ``kyklos_search``
or of all of one type's rows. On SQLite the
FTS5 table answers the words and ``kyklos_search`` is reached by its primary key only.
Visibility: the record rules are a criterion of each type's branch of the one search
statement, so hidden records never take the places of a page of hits."""

from __future__ import annotations

import pytest
from sqlalchemy import event


def titles(app, q, **params) -> dict[str, list[str]]:
    res = app.get("/api/v1/_search", {"q": q, **params})
    return {g["type"]: [i["title"] for i in g["items"]] for g in res.json["groups"]}


def create(app, slug, **data) -> int:
    return app.post_json(f"/api/v1/{slug}", data, status=201).json["id"]


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


@pytest.fixture
def editor(api):
    return api("thingseditor", "releditor")


def search_statements(registry, app, q: str) -> list[tuple[str, object]]:
    """The statements of one ``/api/v1/_search`` call that read ``kyklos_search``."""
    engine = registry["dbengine"]
    seen = []

    def before(conn, cursor, statement, params, context, executemany):
        head = statement.lstrip().upper()
        if "kyklos_search" in statement and head.startswith(("SELECT", "WITH")):
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", before)
    try:
        app.get("/api/v1/_search", {"q": q})
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return seen


def plan_of(registry, statement: str, params) -> str:
    engine = registry["dbengine"]
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN " + statement, params).all()
            conn.rollback()
            return "\n".join(r[0] for r in rows)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params).all()
        return "\n".join(str(r[-1]) for r in rows)


FILLER = 3000


@pytest.fixture
def filler(registry, dbsession, editor):
    """Things (indexed by the session's upkeep as any write) and search rows enough for
    a scan to cost more than the index - a table of a few rows is scanned whatever
    indexes it has - with statistics, as an import leaves them."""
    import random

    from kyklos.db import bulk_insert
    from kyklos.entities import upkeep
    from kyklos.entities.search import SearchDoc

    r = random.Random(19)
    words = ["north", "river", "κήπος", "μήλο", "zielony", "pădure", "stone", "lamp"]
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add_all(
            model(name=f"{r.choice(words)} {r.choice(words)} {i}", owner_id=editor.user_id)
            for i in range(FILLER)
        )
    rows = [
        {
            "entity": "box",
            "record_id": 100_000 + i,
            "title": f"{r.choice(words)} {r.choice(words)} {i}",
            "body": f"{r.choice(words)} {r.choice(words)}",
        }
        for i in range(FILLER)
    ]
    with dbsession() as db:
        bulk_insert(db, SearchDoc.__table__, rows)
    with registry["dbengine"].begin() as conn:
        upkeep.analyze(conn, [SearchDoc.__tablename__, model.__tablename__])


def assert_no_scan(plan: str) -> None:
    """Every access to ``kyklos_search`` is a GIN bitmap (the words found through the
    full-text or trigram index) or a look-up of one visible record's row; never a
    sequential scan, nor an index range over all rows of a type."""
    lines = plan.splitlines()
    accesses = [(i, ln) for i, ln in enumerate(lines) if " on kyklos_search" in ln]
    assert accesses, plan
    for i, line in accesses:
        assert "Seq Scan" not in line, plan
        if "Bitmap Heap Scan" in line:
            assert "Bitmap Index Scan on ix_kyklos_search_" in plan, plan
            continue
        cond = lines[i + 1] if i + 1 < len(lines) else ""
        assert "Index Cond" in cond and "record_id =" in cond, plan
    # thousands of visible things: the words are found through a GIN index first
    assert "Bitmap Index Scan on ix_kyklos_search_" in plan, plan


def branch_of(plan: str, table_name: str) -> str:
    """The part of a ``UNION ALL`` plan that reads ``table_name`` (one type's hits)."""
    lines = plan.splitlines()
    starts = [i for i, ln in enumerate(lines) if "Subquery Scan on hits_" in ln] or [0]
    bounds = [*starts, len(lines)]
    parts = ["\n".join(lines[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)]
    [part] = [p for p in parts if f" on {table_name}" in p]
    return part


@pytest.mark.parametrize("q", ["alphabet", "phabe", "Παπαδ", "papad", "alpha soup"])
def test_search_uses_the_index_not_a_scan(registry, editor, filler, q):
    create(editor, "things", name="Alphabet soup")
    create(editor, "things", name="Παπαδόπουλος glass")
    create(editor, "boxes", name="Red box", code="ALPHA-7", notes="fragile glass")
    statements = search_statements(registry, editor, q)
    # one statement for every searchable type the user may read, nothing per type or hit
    [(statement, params)] = statements
    values = params.values() if isinstance(params, dict) else params
    assert {"thing", "box"} <= set(values), params
    plan = plan_of(registry, statement, params)
    if registry["dbengine"].dialect.name == "postgresql":
        # the things' branch; a type with few visible records (boxes) or none (items)
        # is rightly reached through its own rows
        things = branch_of(plan, "samplea_thing")
        assert_no_scan(things)
        # the words through the stored vector's own index (kyklos_0019), and ts_rank
        # reads that vector instead of recomputing it from the text for every match
        assert "Bitmap Index Scan on ix_kyklos_search_vector" in things, plan
        assert "to_tsvector" not in statement, statement
        assert "search_vector" in statement, statement
    else:
        assert "kyklos_search_fts VIRTUAL TABLE" in plan, plan
        # the full-text look-up runs once for all the types' branches, not once per
        # branch (it was nearly all of a search's time with a large index)
        fts_scans = [ln for ln in plan.splitlines() if "kyklos_search_fts VIRTUAL TABLE" in ln]
        assert len(fts_scans) == 1, plan
        # kyklos_search itself only by rowid, from the FTS hits
        assert not any(line.strip() == "SCAN kyklos_search" for line in plan.splitlines())


def test_visibility_is_inside_the_query(api, editor, dbsession, registry):
    """Twenty hidden matches and one visible: a filter applied after the query's limit
    would leave the visible one out of a page of ten."""
    from kyklos.security.models import RecordRule, Role

    for i in range(20):
        create(editor, "things", name=f"Widget hidden {i}")
    with dbsession() as db:
        role = Role(
            name="ownthings",
            title="Own things",
            permissions=["samplea.thing.read", "samplea.thing.create"],
        )
        db.add(role)
        db.flush()
        db.add(RecordRule(role_id=role.id, entity="thing", action="read", scope="own"))
        db.add(RecordRule(role_id=role.id, entity="thing", action="write", scope="own"))
    own = api("ownthings")
    create(own, "things", name="Widget mine")
    assert titles(own, "widget") == {"thing": ["Widget mine"]}
    res = own.get("/api/v1/_search", {"q": "widget", "limit": 10}).json
    assert res["groups"][0]["more"] is False
    assert len(titles(editor, "widget", limit=100)["thing"]) == 21
    [statement] = [s for s, _p in search_statements(registry, own, "widget")]
    # the owner criterion is part of the search statement itself
    assert "owner_id" in statement

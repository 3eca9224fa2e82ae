"""``kyklos.db.bulk_insert``: COPY on PostgreSQL for a batch of rows, executemany
elsewhere - the same rows either way (Python-side defaults, JSON ``null`` for None, UTC
datetimes), the same errors (an ``IntegrityError`` the caller's savepoint undoes)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyklos.db import COPY_MIN_ROWS, bulk_insert
from kyklos.entities.history import AuditEntry
from kyklos.entities.search import SearchDoc

N = COPY_MIN_ROWS + 10  # large enough for COPY on PostgreSQL


def test_rows_defaults_and_types(registry, dbsession):
    at = dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    rows = [{"entity": "bulk", "record_id": i, "action": "create", "user_id": None,
             "on_behalf_of_id": None, "at": at, "version": 1,
             "changes": {"name": [None, f"Ωμέγα {i}"]} if i % 2 else None, "source": "import"}
            for i in range(1, N + 1)]
    with dbsession() as db:
        bulk_insert(db, AuditEntry.__table__, rows)
        # SearchDoc leaves title, body and updated_at to the columns' defaults
        bulk_insert(db, SearchDoc.__table__,
                    [{"entity": "bulk", "record_id": i} for i in range(1, N + 1)])
    with dbsession() as db:
        got = db.execute(select(AuditEntry).where(AuditEntry.entity == "bulk")
                         .order_by(AuditEntry.record_id)).scalars().all()
        assert [e.record_id for e in got] == list(range(1, N + 1))
        assert got[0].changes == {"name": [None, "Ωμέγα 1"]} and got[1].changes is None
        assert {e.at for e in got} == {at.astimezone(dt.UTC)}  # stored as UTC
        docs = db.execute(select(SearchDoc).where(SearchDoc.entity == "bulk")).scalars().all()
        assert len(docs) == N and {(d.title, d.body) for d in docs} == {("", "")}
        assert all(d.updated_at is not None and d.updated_at.tzinfo for d in docs)


def test_refused_rows_raise_integrity_error_and_leave_nothing(registry, dbsession):
    rows = [{"entity": "bulk2", "record_id": i} for i in range(1, N + 1)]
    with dbsession() as db:
        bulk_insert(db, SearchDoc.__table__, rows[:5])
    with dbsession() as db:
        with pytest.raises(IntegrityError):  # rows 1-5 exist: (entity, record_id) unique
            with db.begin_nested():
                bulk_insert(db, SearchDoc.__table__, rows)
        # the transaction goes on after the savepoint's rollback
        bulk_insert(db, SearchDoc.__table__, rows[5:])
    with dbsession() as db:
        ids = db.execute(select(SearchDoc.record_id).where(SearchDoc.entity == "bulk2")
                         .order_by(SearchDoc.record_id)).scalars().all()
        assert ids == list(range(1, N + 1))


def test_raw_rows_match_a_row_by_row_build(registry, dbsession):
    # _raw_rows builds its values column by column (then zips them into rows): each
    # row must hold what a row-by-row build gives - the given columns in table order,
    # then the defaults (a callable one sees its own row), every value through its
    # column's bind processing, None included (JSON null)
    from sqlalchemy import Column, Integer, MetaData, String, Table

    from kyklos.db import JSONType, UTCDateTime, _raw_rows

    table = Table(
        "raw_rows_probe",
        MetaData(),
        Column("id", Integer, primary_key=True),
        Column("doc", JSONType),
        Column("name", String(20)),
        Column("at", UTCDateTime),
        Column("kind", String(10), default="plain"),
        Column("twice", Integer, default=lambda ctx: 2 * ctx.get_current_parameters()["id"]),
        Column("tags", JSONType, default=list),
    )
    at = dt.datetime(2026, 3, 1, 10, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    rows = [
        {"name": f"Ωμέγα {i}", "doc": {"n": i} if i % 3 else None, "id": i, "at": at}
        for i in range(1, N + 1)
    ]
    with dbsession() as db:
        dialect = db.get_bind().dialect
    cols, values = _raw_rows(dialect, table, rows)
    assert [c.key for c in cols] == ["id", "doc", "name", "at", "kind", "twice", "tags"]
    procs = [c.type._cached_bind_processor(dialect) for c in cols]
    expected = []
    for row in rows:
        cells = [row[k] for k in ("id", "doc", "name", "at")] + ["plain", 2 * row["id"], []]
        expected.append(tuple(v if p is None else p(v) for p, v in zip(procs, cells, strict=True)))

    def plain(rows):  # psycopg's Jsonb wrapper compares by identity: compare what it holds
        return [tuple(getattr(v, "obj", v) for v in row) for row in rows]

    assert plain(values) == plain(expected) and all(type(v) is tuple for v in values)

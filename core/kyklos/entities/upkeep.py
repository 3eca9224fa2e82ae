"""Derived data of records - the search index and the duplicate match keys - kept
current by *every* write path, and rebuilt on demand.

The entity service's lifecycle hooks maintain both for records written through it (UI,
API, import, bulk actions). Records written around it - demo data, a plugin's
:func:`kyklos.db.bulk_insert` (``COPY`` on PostgreSQL), a plain ``session.add`` - would
be missing from search. So the session notes every entity record it inserts, updates or
deletes (ORM flush and ``bulk_insert`` alike), the lifecycle hooks strike off those they
handled, and whatever is left is indexed just before the transaction commits. A plugin
never has to remember it; the service path pays nothing extra.

:func:`rebuild` rewrites both for one type or all (``kyklos search-index`` and the
administration page's button, a background job with progress).

Planner statistics: the same session events count the rows each transaction writes
per table. A transaction that wrote many rows to a table refreshes that table's
statistics before it commits when they have gone stale (:func:`analyze_stale`), and an
import analyses every table it wrote when it ends (:func:`analyze`): a list or a search
right after a bulk load must not be planned as if the table were still empty, whatever
autovacuum is doing.
"""

from __future__ import annotations

import logging
import re
from types import SimpleNamespace

from sqlalchemy import delete, event, exists, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from kyklos import db as kdb
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _

log = logging.getLogger("kyklos.upkeep")

INFO_KEY = "kyklos.upkeep"
REGISTRY_KEY = "kyklos.registry"
#: every record of the type without an index row: rows inserted without ids
ALL = "*"
CHUNK = 500
JOB = "kyklos.search.rebuild"
WRITTEN_KEY = "kyklos.upkeep.written"
#: a transaction that wrote fewer rows than this to a table never looks at its statistics
ANALYZE_MIN_ROWS = 500
#: ``session.info`` key of a dict ``{table: rows}`` that a run of many transactions (an
#: import's batches) gives each of its sessions: rows written by its earlier transactions
#: that stayed under ANALYZE_MIN_ROWS are added to the next one's, so a long run of small
#: batches (a time-bounded import on a busy machine) still refreshes its tables'
#: statistics as they grow instead of never
CARRY_KEY = "kyklos.upkeep.carry"
#: statistics are stale once the rows changed since they were taken exceed this share
#: of the table (plus ANALYZE_MIN_ROWS): autovacuum's rule, applied at once
ANALYZE_SCALE = 0.1
#: SQLite: rows ANALYZE reads per index (approximate statistics, in milliseconds)
SQLITE_ANALYSIS_LIMIT = 2000


def _types_by(registry, attr: str) -> dict:
    cache = getattr(registry, "_kyklos_upkeep_" + attr, None)
    if cache is None or len(cache) != len(registry.kyklos_entities):
        cache = {}
        for et in registry.kyklos_entities.values():
            key = et.model if attr == "model" else et.model.__table__
            cache[key] = et
        setattr(registry, "_kyklos_upkeep_" + attr, cache)
    return cache


def _pending(session) -> dict:
    return session.info.setdefault(INFO_KEY, {})


def mark(session, et_name: str, ids) -> None:
    """Note records of ``et_name`` whose derived data must be brought up to date."""
    pend = _pending(session)
    have = pend.get(et_name)
    if have == ALL:
        return
    if ids == ALL:
        pend[et_name] = ALL
    else:
        pend.setdefault(et_name, set()).update(i for i in ids if i is not None)


def done(session, et_name: str, ids) -> None:
    """The lifecycle hooks handled these records: nothing left to do for them."""
    have = session.info.get(INFO_KEY, {}).get(et_name)
    if isinstance(have, set):
        have.difference_update(ids)


# --- session events --------------------------------------------------------------------


def _registry(session):
    """The application registry of a session (every session the app's factory makes
    carries it, with or without a request)."""
    registry = session.info.get(REGISTRY_KEY)
    if registry is None:
        registry = getattr(session.info.get("request"), "registry", None)
    return registry if hasattr(registry, "kyklos_entities") else None


def _context(session, registry):
    """What refresh() needs of a request: the session and the registry."""
    request = session.info.get("request")
    if request is not None and request.__dict__.get("dbsession") is session:
        return request
    return SimpleNamespace(dbsession=session, registry=registry)


def written(session) -> dict[str, int]:
    """``{table name: rows}`` the session's current transaction has written so far."""
    return session.info.setdefault(WRITTEN_KEY, {})


def _count(session, table, n: int) -> None:
    name = getattr(table, "name", None)
    if name:
        tally = written(session)
        tally[name] = tally.get(name, 0) + n


def _after_flush(session, _flush_context):
    for group in (session.new, session.dirty, session.deleted):
        for obj in group:
            _count(session, getattr(type(obj), "__table__", None), 1)
    registry = _registry(session)
    if registry is None:
        return
    by_model = _types_by(registry, "model")
    for group in (session.new, session.dirty, session.deleted):
        for obj in group:
            et = by_model.get(type(obj))
            if et is not None:
                mark(session, et.name, [getattr(obj, "id", None)])


def _after_bulk_insert(db, table, rows):
    if not isinstance(db, Session):
        return  # a bare Connection: its caller owns the transaction (and the upkeep)
    _count(db, table, len(rows))
    registry = _registry(db)
    if registry is None:
        return
    et = _types_by(registry, "table").get(table)
    if et is None:
        return
    ids = [r.get("id") for r in rows]
    mark(db, et.name, ALL if any(i is None for i in ids) else ids)


def _before_commit(session):
    pend = session.info.pop(INFO_KEY, None)
    registry = _registry(session) if pend else None
    if registry is not None:
        request = _context(session, registry)
        for name, ids in pend.items():
            et = request.registry.kyklos_entities.get(name)
            if et is None or not ids:
                continue
            if ids == ALL:
                ids = missing_ids(request, et)
            refresh(request, et, sorted(ids))
    if session.in_nested_transaction():
        return  # before_commit also fires when a savepoint is released: count on
    tally = session.info.pop(WRITTEN_KEY, None)
    carry = session.info.get(CARRY_KEY)
    if tally and carry is not None:
        # rows of earlier small transactions of the same run count too (see CARRY_KEY)
        for t, n in tally.items():
            carry[t] = carry.get(t, 0) + n
        big = {t: carry[t] for t in tally if carry[t] >= ANALYZE_MIN_ROWS}
        for t in big:
            carry[t] = 0
    elif tally:
        big = {t: n for t, n in tally.items() if n >= ANALYZE_MIN_ROWS}
    else:
        big = {}
    if big:
        try:
            with session.begin_nested():
                analyze_stale(session, big)
        except DBAPIError:
            # Statistics are an optimisation: a database user that may not analyse
            # (not the tables' owner) must not lose the transaction's work.
            log.warning("could not analyse %s", ", ".join(sorted(big)), exc_info=True)


def _end(session, transaction):
    # A savepoint's rollback keeps the notes: refresh() finds a record that is gone and
    # removes its rows, which is right either way.
    if transaction.parent is None:
        session.info.pop(INFO_KEY, None)
        session.info.pop(WRITTEN_KEY, None)


# --- planner statistics ----------------------------------------------------------------


def _connection(db):
    return db.connection() if isinstance(db, Session) else db


def _known(conn, tables) -> list[str]:
    """The names of ``tables`` that are real tables of the database (never quoted
    from outside: every name comes from our own metadata or the session's tally)."""
    names = sorted({t for t in tables if t})
    if not names:
        return []
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT c.relname FROM pg_class c WHERE c.relkind IN ('r', 'p') "
            "AND c.relnamespace = current_schema()::regnamespace "
            "AND c.relname = ANY(:names)"
        )
        return sorted(conn.execute(text(sql), {"names": names}).scalars())
    rows = conn.execute(
        text(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ).scalars()
    have = set(rows)
    return [n for n in names if n in have]


def analyze(db, tables) -> list[str]:
    """Refresh the planner statistics of ``tables`` (names) now, in the caller's
    transaction; on PostgreSQL also move the GIN indexes' pending entries (the search
    index's) into the index proper, which only VACUUM or autovacuum would do otherwise.
    Returns the tables analysed."""
    conn = _connection(db)
    names = _known(conn, tables)
    if not names:
        return []
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE " + ", ".join(f'"{n}"' for n in names)))
        conn.execute(
            text(
                "SELECT gin_clean_pending_list(i.indexrelid) FROM pg_index i "
                "JOIN pg_class ic ON ic.oid = i.indexrelid "
                "JOIN pg_am a ON a.oid = ic.relam "
                "JOIN pg_class tc ON tc.oid = i.indrelid "
                "WHERE a.amname = 'gin' AND tc.relname = ANY(:names) "
                "AND tc.relnamespace = current_schema()::regnamespace"
            ),
            {"names": names},
        )
    elif conn.dialect.name == "sqlite":
        # Bounded: SQLite's full ANALYZE reads every index entry; a sample is what the
        # planner needs (PRAGMA optimize uses the same limit).
        conn.exec_driver_sql(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        try:
            for n in [*names, *_fts_shadows(conn, names)]:
                conn.exec_driver_sql(f'ANALYZE "{n}"')
        finally:
            conn.exec_driver_sql("PRAGMA analysis_limit=0")
    return names


#: the content table an FTS5 table indexes (``content='kyklos_search'``)
_FTS_CONTENT = re.compile(r"content\s*=\s*['\"]?(\w+)", re.IGNORECASE)


def _fts_shadows(conn, names: list[str]) -> list[str]:
    """The shadow tables of the SQLite FTS5 tables indexing one of ``names`` (the search
    index's trigrams): analysed with their content table. Statistics taken while the
    index was small (a whole-database ANALYZE on a new database) make SQLite plan
    FTS5's own look-ups as if it still were: measured, inserting 20 000 search rows
    took 85 s with such statistics, 3 s with fresh ones."""
    rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'").all()
    have = {name for name, _sql in rows}
    out = []
    for name, sql in rows:
        if not (sql or "").upper().startswith("CREATE VIRTUAL TABLE") or "fts5" not in sql.lower():
            continue
        m = _FTS_CONTENT.search(sql)
        if m and m.group(1) in names:
            out += [
                t
                for t in (f"{name}_{s}" for s in ("data", "idx", "docsize", "config"))
                if t in have
            ]
    return out


def analyze_stale(db, tally: dict[str, int]) -> list[str]:
    """Analyse the tables of ``tally`` (``{name: rows written now}``) whose statistics
    are missing or older than :data:`ANALYZE_SCALE` of their rows. Returns them."""
    conn = _connection(db)
    if conn.dialect.name != "postgresql":
        # No change counter to compare with; a sampled ANALYZE costs milliseconds.
        return analyze(db, tally)
    rows = conn.execute(
        text(
            "SELECT c.relname, c.reltuples, COALESCE(s.n_mod_since_analyze, 0) "
            "FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
            "WHERE c.relkind IN ('r', 'p') AND c.relname = ANY(:names) "
            "AND c.relnamespace = current_schema()::regnamespace"
        ),
        {"names": sorted(tally)},
    ).all()
    stale = [
        name
        for name, tuples, changed in rows
        # reltuples < 0: never analysed nor vacuumed. The counter lags (it counts
        # committed work), so this transaction's rows are added.
        if tuples < 0 or changed + tally[name] > ANALYZE_SCALE * tuples + ANALYZE_MIN_ROWS
    ]
    return analyze(db, stale) if stale else []


def entity_tables(registry, et) -> set[str]:
    """The tables a write to ``et``'s records touches: its own, its child rows', the
    search index, duplicate keys, the custom-field mirror and the history."""
    from kyklos import duplicates
    from kyklos.entities import customfields, history, search

    out = {et.model.__table__.name}
    for rel in et.model.__mapper__.relationships:
        if rel.direction.name == "ONETOMANY" and rel.secondary is None:
            out.add(rel.mapper.local_table.name)
    out.update(
        t.name
        for t in (
            search.SearchDoc.__table__,
            duplicates.DuplicateKey.__table__,
            customfields.CustomValue.__table__,
            history.AuditEntry.__table__,
        )
    )
    return out


# --- work ------------------------------------------------------------------------------


def refresh(request, et, ids) -> None:
    """Bring the search rows and duplicate keys of records ``ids`` up to date (rows of
    records that no longer exist are removed)."""
    from kyklos import duplicates
    from kyklos.entities import search

    db = request.dbsession
    with_rules = bool(duplicates.rules_for(request.registry, et))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        records = db.execute(select(et.model).where(et.model.id.in_(chunk))).scalars().all()
        gone = set(chunk) - {r.id for r in records}
        if gone:
            db.execute(
                delete(search.SearchDoc).where(
                    search.SearchDoc.entity == et.name, search.SearchDoc.record_id.in_(gone)
                )
            )
            db.execute(
                delete(duplicates.DuplicateKey).where(
                    duplicates.DuplicateKey.entity == et.name,
                    duplicates.DuplicateKey.record_id.in_(gone),
                )
            )
        search.index_records(db, et, records)
        if with_rules:
            duplicates.index_records(request, et, records)


def missing_ids(request, et) -> set[int]:
    """Live records of ``et`` without a search row (or without duplicate keys while the
    type has rules): what a bulk load without ids left behind."""
    from kyklos import duplicates
    from kyklos.entities import search

    model = et.model
    live = [model.deleted_at.is_(None)] if hasattr(model, "deleted_at") else []
    db = request.dbsession
    out: set[int] = set()
    if et.searchable:
        sd = search.SearchDoc
        out.update(
            db.execute(
                select(model.id).where(
                    *live, ~exists().where(sd.entity == et.name, sd.record_id == model.id)
                )
            ).scalars()
        )
    if duplicates.rules_for(request.registry, et):
        dk = duplicates.DuplicateKey
        out.update(
            db.execute(
                select(model.id).where(
                    *live, ~exists().where(dk.entity == et.name, dk.record_id == model.id)
                )
            ).scalars()
        )
    return out


def rebuild(request, et=None, progress=None, batch: int = CHUNK) -> dict[str, int]:
    """Rewrite the search index and the duplicate keys of one entity type (or all).

    ``progress(done, total, entity_type)`` is called after each batch. Returns
    ``{type name: records indexed}``. Visibility plays no part: every live record is
    indexed, and search filters by the user's record rules when it runs."""
    from kyklos import duplicates
    from kyklos.entities import customfields, search

    db = request.dbsession
    registry = request.registry
    customfields.refresh(registry, db)
    types = (
        [et] if et is not None else sorted(registry.kyklos_entities.values(), key=lambda t: t.name)
    )
    live = {
        t.name: ([t.model.deleted_at.is_(None)] if hasattr(t.model, "deleted_at") else [])
        for t in types
    }
    totals = {
        t.name: db.execute(select(func.count()).select_from(t.model).where(*live[t.name])).scalar()
        or 0
        for t in types
    }
    total = sum(totals.values())
    counts: dict[str, int] = {}
    done_ = 0
    if progress is not None:
        progress(0, total, None)
    for t in types:
        db.execute(delete(search.SearchDoc).where(search.SearchDoc.entity == t.name))
        db.execute(delete(duplicates.DuplicateKey).where(duplicates.DuplicateKey.entity == t.name))
        with_rules = bool(duplicates.rules_for(registry, t))
        counts[t.name] = 0
        last = 0
        while True:
            records = (
                db.execute(
                    select(t.model)
                    .where(t.model.id > last, *live[t.name])
                    .order_by(t.model.id)
                    .limit(batch)
                )
                .scalars()
                .all()
            )
            if not records:
                break
            docs = []
            for r in records:
                doc = search.document(t, r)
                if doc is not None:
                    docs.append(
                        {"entity": t.name, "record_id": r.id, "title": doc[0], "body": doc[1]}
                    )
            kdb.bulk_insert(db, search.SearchDoc.__table__, docs)
            if with_rules:
                keys = [
                    {"entity": t.name, "rule": rule, "record_id": r.id, "key": key}
                    for r in records
                    for rule, key in duplicates.match_keys(registry, t, r)
                ]
                kdb.bulk_insert(db, duplicates.DuplicateKey.__table__, keys)
            last = records[-1].id
            counts[t.name] += len(records)
            done_ += len(records)
            db.expunge_all()
            if progress is not None:
                progress(done_, total, t)
    db.flush()
    # Fresh statistics (and, on PostgreSQL, the GIN pending entries merged), so the
    # first search after a rebuild gets the index plan.
    analyze(db, [search.SearchDoc.__tablename__, duplicates.DuplicateKey.__tablename__])
    record_definitions(request, types)
    return counts


def definition_digest(registry, et) -> str:
    """A digest of what ``et``'s search rows and duplicate keys are made from, as the
    code declares it: the searchable fields (custom ones are left out: changing those
    rebuilds the index when the administrator saves them), the title field, the
    duplicate rules and :data:`kyklos.entities.search.DOCUMENT_FORMAT`."""
    import hashlib
    import json

    from kyklos import duplicates
    from kyklos.entities import search

    spec = {
        "format": search.DOCUMENT_FORMAT,
        "title": et.title_field,
        "fields": [name for name, custom, _rich in search.text_fields(et) if not custom]
        if et.searchable
        else [],
        "rules": sorted(
            (r.name, list(r.fields), r.kind) for r in duplicates.rules_for(registry, et)
        ),
    }
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def stale_definitions(request) -> list[tuple[object, bool]]:
    """``[(entity type, changed)]``: the types whose stored digest differs from the
    code's (``changed``) or is missing (never recorded: a new type, a new database)."""
    from kyklos.entities.search import SearchDefinition

    db = request.dbsession
    stored = dict(db.execute(select(SearchDefinition.entity, SearchDefinition.digest)).all())
    types = sorted(request.registry.kyklos_entities.values(), key=lambda t: t.name)
    return [
        (t, t.name in stored)
        for t in types
        if stored.get(t.name) != definition_digest(request.registry, t)
    ]


def sync_definitions(request, progress=None, announce=None) -> dict[str, int]:
    """Rebuild the search rows and duplicate keys of every type whose definition changed
    since they were built (a plugin upgraded, a rule added in the settings), then store
    the new digests; a type with no records only gets its digest. Returns
    ``{type name: records indexed}`` of the types rebuilt. ``announce(et, n, changed)``
    is called before a type with ``n`` records is rebuilt (``changed``: it had a
    digest). Run by ``kyklos migrate`` and ``kyklos init``."""
    db = request.dbsession
    counts: dict[str, int] = {}
    for t, changed in stale_definitions(request):
        live = [t.model.deleted_at.is_(None)] if hasattr(t.model, "deleted_at") else []
        n = db.execute(select(func.count()).select_from(t.model).where(*live)).scalar() or 0
        if n:
            if announce is not None:
                announce(t, n, changed)
            counts.update(rebuild(request, t, progress))  # stores the digest too
        else:
            record_definitions(request, [t])
    return counts


def record_definitions(request, types) -> None:
    """Store the current digests of ``types`` (their rows have just been built)."""
    from kyklos.entities.search import SearchDefinition

    db = request.dbsession
    for t in types:
        digest = definition_digest(request.registry, t)
        row = db.get(SearchDefinition, t.name)
        if row is None:
            db.add(SearchDefinition(entity=t.name, digest=digest))
        elif row.digest != digest:
            row.digest = digest
    db.flush()


def rebuild_job(ctx, entity: str | None = None):
    """Background job: :func:`rebuild` with progress for the jobs page."""
    registry = ctx.registry
    et = registry.kyklos_entities.get(entity) if entity else None
    tr = ctx.request.localizer.translate

    def progress(done_, total, t):
        label = tr(t.plural) if t is not None else ""
        ctx.progress(100.0 * done_ / max(total, 1), f"{label} {done_}/{total}".strip())

    counts = rebuild(ctx.request, et, progress)
    return {"records": sum(counts.values()), "types": counts}


class UpkeepHooks:
    """Strike off what the lifecycle hooks already indexed (search and duplicates
    subscribe to the same hooks and ran with them)."""

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record):
        done(request.dbsession, entity_type.name, [record.id])

    @hookimpl
    def kyklos_records_saved(self, request, entity_type, records):
        done(request.dbsession, entity_type.name, [r.id for r in records])

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record):
        done(request.dbsession, entity_type.name, [record.id])


def includeme(config):
    factory = config.registry["dbsession_factory"]
    factory.configure(info={**factory.kw.get("info", {}), REGISTRY_KEY: config.registry})
    for name, fn in (
        ("after_flush", _after_flush),
        ("before_commit", _before_commit),
        ("after_transaction_end", _end),
    ):
        if not event.contains(factory, name, fn):
            event.listen(factory, name, fn)
    if _after_bulk_insert not in kdb.BULK_INSERT_LISTENERS:
        kdb.BULK_INSERT_LISTENERS.append(_after_bulk_insert)
    config.add_hooks(UpkeepHooks(), name="kyklos.upkeep")
    config.include("kyklos.jobs")
    config.add_job(JOB, rebuild_job, retries=0, title=_("Rebuild the search index"))

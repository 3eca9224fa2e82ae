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
"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from sqlalchemy import delete, event, exists, func, select, text
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


def _after_flush(session, _flush_context):
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
    if not pend:
        return
    registry = _registry(session)
    if registry is None:
        return
    request = _context(session, registry)
    for name, ids in pend.items():
        et = request.registry.kyklos_entities.get(name)
        if et is None or not ids:
            continue
        if ids == ALL:
            ids = missing_ids(request, et)
        refresh(request, et, sorted(ids))


def _end(session, transaction):
    # A savepoint's rollback keeps the notes: refresh() finds a record that is gone and
    # removes its rows, which is right either way.
    if transaction.parent is None:
        session.info.pop(INFO_KEY, None)


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
    if db.get_bind().dialect.name == "postgresql":
        # Fresh statistics, so the first search after a rebuild gets the index plan.
        db.execute(text("ANALYZE kyklos_search"))
        db.execute(text("ANALYZE kyklos_duplicate_key"))
    return counts


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

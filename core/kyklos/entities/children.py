"""The child rows of a page of records, read with plain Core selects.

A model's one-to-many collections declared ``lazy="selectin"`` (a person's phones,
e-mails, addresses) are what a list page or an opened record shows beside the record's
own columns. SQLAlchemy's select-in loader runs a full ORM statement per collection
(ORM compile and context, a loading pipeline per row) for a handful of rows: a quarter
of a list request's time and a third of opening a record (docs/performance.md, issue
#19). :func:`attach` reads the same rows with one Core select per collection, keyed by
the page's ids and in the relationship's order, builds the child objects from the rows
and puts them into the session as the loader would (persistent, unmodified, in the
identity map), so everything that reads the collections afterwards sees the same
objects in the same order.

Only collections whose shape the Core select reproduces exactly are taken (a plain
foreign key to the parent's column, no secondary table, an ``order_by`` of the child's
own columns, a child mapped to one table without inheritance); any other stays with
its declared loader. The statements issued are the same in number as before.

A list page hands its records out with the read still to come
(:func:`attach_on_access`): the first consumer that reads one of the collections reads
them all for the whole page, so one that reads none (a list page whose columns show no
such list, a saved segment's ids) runs no child statement at all.
"""

from __future__ import annotations

import weakref

from sqlalchemy import Column, bindparam, inspect, select
from sqlalchemy.orm import lazyload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.base import ATTR_WAS_SET, PASSIVE_NO_RESULT, SQL_OK
from sqlalchemy.orm.interfaces import ONETOMANY

#: model class -> tuple of plans (see ``_plan``); mappers are configured once per
#: process, so the analysis is too
_PLANS: dict[type, tuple] = {}
#: model class -> (its plans, the options that leave their collections to ``attach``)
_OPTIONS: dict[type, tuple] = {}
#: the IN list's size per statement (SQLite's variable limit, PostgreSQL's plan cache)
_CHUNK = 500


def _plan(rel):
    """``(key, parent attribute key, foreign key column, child mapper, [(attribute key,
    column)], order_by, primary key attribute keys)`` for a collection the Core read can
    fill, or None."""
    if rel.direction is not ONETOMANY or not rel.uselist or rel.secondary is not None:
        return None
    pairs = rel.local_remote_pairs
    if len(pairs) != 1:
        return None
    local, remote = pairs[0]
    target = rel.mapper
    if target.inherits is not None or target.polymorphic_on is not None:
        return None
    if target.persist_selectable is not target.local_table:
        return None
    table = target.local_table
    if remote.table is not table or not isinstance(local, Column):
        return None
    parent_attr = rel.parent.get_property_by_column(local).key
    columns = []
    for prop in target.column_attrs:
        if len(prop.columns) != 1:
            return None
        col = prop.columns[0]
        if not isinstance(col, Column) or col.table is not table:
            return None
        columns.append((prop.key, col))
    if not any(c is remote for _k, c in columns):
        return None
    order_by = list(rel.order_by or ())
    if any(not isinstance(c, Column) or c.table is not table for c in order_by):
        return None
    # the rows' own select-in collections would need their loader too
    if any(r.lazy == "selectin" for r in target.relationships):
        return None
    pk = tuple(target.get_property_by_column(c).key for c in target.primary_key)
    # built once: an expanding parameter takes each page's keys (the statement's cache
    # key and compiled form stay the same from page to page)
    stmt = (
        select(*(c for _k, c in columns))
        .where(remote.in_(bindparam("keys", expanding=True)))
        .order_by(*order_by)
    )
    names = tuple(k for k, _c in columns)
    fk_index = next(i for i, (_k, c) in enumerate(columns) if c is remote)
    pk_index = tuple(names.index(k) for k in pk)
    return (rel.key, parent_attr, target, stmt, names, fk_index, pk_index)


def plans(model) -> tuple:
    p = _PLANS.get(model)
    if p is None:
        mapper = inspect(model)
        p = tuple(filter(None, (_plan(r) for r in mapper.relationships if r.lazy == "selectin")))
        _PLANS[model] = p
    return p


def deferred_options(model) -> list:
    """Options for the records' statement: the collections :func:`attach` fills are
    not loaded by their select-in loader (a record outside ``attach`` still gets them
    lazily, on first access)."""
    found = _OPTIONS.get(model)
    if found is None or found[0] is not plans(model):
        # options are immutable: built once (a ``lazyload()`` per request cost more
        # than the Core read saves)
        found = (plans(model), tuple(lazyload(getattr(model, p[0])) for p in plans(model)))
        _OPTIONS[model] = found
    return found[1]


def attach(session, model, records) -> None:
    """Fill the Core-readable select-in collections of ``records`` (persistent records
    of ``model`` in ``session``) that are not loaded yet."""
    if not records:
        return
    conn = session.connection()
    identity = session.identity_map
    for key, parent_attr, target, stmt, names, fk_index, pk_index in plans(model):
        by_parent: dict = {}
        for r in records:
            d = r.__dict__
            if key not in d:
                by_parent.setdefault(d.get(parent_attr), []).append(r)
        by_parent.pop(None, None)  # no key (not loaded, no value): left to the loader
        if not by_parent:
            continue
        found: dict = {k: [] for k in by_parent}
        keys = list(by_parent)
        new_instance = target.class_manager.new_instance
        identity_key = target.identity_key_from_primary_key
        for i in range(0, len(keys), _CHUNK):
            # the session's connection, in its transaction: a Core statement needs
            # none of the ORM's execution steps
            for row in conn.execute(stmt, {"keys": keys[i : i + _CHUNK]}):
                obj = identity.get(identity_key(tuple(row[j] for j in pk_index)))
                if obj is None:
                    obj = new_instance()
                    obj.__dict__.update(zip(names, row, strict=True))
                    # persistent and unmodified, as the loader leaves it: no SQL
                    make_transient_to_detached(obj)
                    session.add(obj)
                # else: loaded already in this session, the same object (as the
                # loader's, which does not overwrite it either)
                found[row[fk_index]].append(obj)
        for parent_key, recs in by_parent.items():
            rows = found[parent_key]
            for r in recs:
                set_committed_value(r, key, list(rows))


class _Page:
    """The records of one page whose collections are read together, on first use.

    Weak references: the page must not keep records alive that the caller dropped
    (the session's identity map holds them weakly too)."""

    __slots__ = ("session", "model", "refs", "pending")

    def __init__(self, session, model, records):
        self.session = weakref.ref(session)
        self.model = model
        self.refs = [weakref.ref(r) for r in records]
        self.pending = True


class _OnAccess:
    """The per-record loader of one collection of a page (SQLAlchemy calls it with
    ``(state, passive)`` when the attribute is read and not loaded): the first read of
    any collection of any record of the page runs :func:`attach` for the whole page,
    so a consumer that reads the collections pays the same statements as before and
    one that does not (a list page without such a column, a segment's ids) none."""

    __slots__ = ("page", "key")

    def __init__(self, page, key):
        self.page = page
        self.key = key

    def __call__(self, state, passive):
        if not passive & SQL_OK:
            # a flush or history check must not read: as the lazy loader answers
            return PASSIVE_NO_RESULT
        page = self.page
        session = state.session
        if page.pending and session is not None and session is page.session():
            page.pending = False
            records = [r for r in (ref() for ref in page.refs) if r is not None]
            # as an ORM load would: pending changes reach the database before the read
            if session.autoflush and (session.new or session.dirty or session.deleted):
                session.flush()
            attach(session, page.model, [r for r in records if inspect(r).session is session])
            if self.key in state.dict:
                return ATTR_WAS_SET
        # not part of a page read any more (read already, detached, another session):
        # the relationship's own lazy loader, as the ``lazyload`` option leaves it
        return state.manager[self.key].impl.callable_(state, passive)


def attach_on_access(session, model, records) -> None:
    """Like :func:`attach`, deferred: the page's Core-readable collections are read for
    all of ``records`` together when the first of them is accessed (``records`` must
    have been loaded with :func:`deferred_options`). Nothing is read if none is."""
    if not records:
        return
    keys = [p[0] for p in plans(model)]
    if not keys:
        return
    page = _Page(session, model, records)
    loaders = [(key, _OnAccess(page, key)) for key in keys]
    for r in records:
        state = inspect(r)
        d = state.dict
        if "callables" not in state.__dict__:
            # the class-level default is a shared immutable mapping (as SQLAlchemy's
            # own per-instance loaders do)
            state.callables = {}
        for key, loader in loaders:
            if key not in d:
                state.callables[key] = loader


__all__ = ["attach", "attach_on_access", "deferred_options", "plans"]

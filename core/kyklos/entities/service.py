"""The one write path for records: web UI, REST API, bulk actions, import and jobs all
call these functions, so authorization, validation, lifecycle hooks and history apply
to every path alike.

Every write function checks the entity permission and the record rules
(:mod:`kyklos.security.rules`) *before* touching anything, validates all fields (types,
then the declared schema's validators, then the ``kyklos_record_validate`` hook) and
raises :class:`~kyklos.entities.RecordError` naming every bad field, calls the
before/after hooks, writes the audit entry in the same transaction, and flushes.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass

import colander
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import Integer, Table, func, select, text
from sqlalchemy.orm import ColumnProperty, configure_mappers, make_transient_to_detached
from sqlalchemy.orm.attributes import (
    InstrumentedAttribute,
    instance_dict,
    instance_state,
    set_committed_value,
)
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.interfaces import MANYTOONE, ONETOMANY
from sqlalchemy.sql.elements import ClauseElement

from kyklos.db import DefaultContext, bulk_insert, utcnow
from kyklos.entities import (
    SYSTEM_FIELDS,
    EntityType,
    RecordError,
    children,
    customfields,
    history,
    values,
)
from kyklos.i18n import _
from kyklos.security import rules
from kyklos.security.models import User

#: most ids one bulk request may name
BULK_MAX = 1000


class StaleRecord(Exception):
    """The record changed since the version the client read.

    ``changes`` is ``{field: [value at the client's version, current value]}`` (from the
    record's history), so the client can show what someone else changed.
    """

    def __init__(self, record, expected_version, changes: dict | None = None):
        super().__init__(
            f"record {record.id} is at version {record.version}, not {expected_version}"
        )
        self.record = record
        self.expected_version = expected_version
        self.current_version = record.version
        self.changes = changes or {}


# --- look-ups ---------------------------------------------------------------------------


def get_entity_type(request, slug_or_name) -> EntityType:
    """The entity type by URL slug or by name; :class:`HTTPNotFound` if unknown."""
    reg = request.registry
    et = reg.kyklos_entity_slugs.get(slug_or_name) or reg.kyklos_entities.get(slug_or_name)
    if et is None:
        raise HTTPNotFound()
    return et


def field_access(request, et) -> tuple[set[str], set[str]]:
    """``rules.field_access`` memoised per request (lists serialise many records)."""
    cache = request.__dict__.setdefault("_kyklos_field_access", {})
    if et.name not in cache:
        cache[et.name] = rules.field_access(request, et)
    return cache[et.name]


def may_assign(request, et) -> bool:
    """Whether the user may set a record's owner to someone else."""
    return bool(request.has_permission(et.permissions.get("assign", "kyklos.admin")))


def _require(request, et, verb: str) -> None:
    if not request.has_permission(et.permission(verb)):
        raise HTTPForbidden()


def user_id(request) -> int | None:
    """The id of the user the request acts for (``None`` in a job without one)."""
    ident = getattr(request, "identity", None)
    return ident.user.id if ident is not None else None


def visible_select(request, et, action: str = "read", include_deleted: bool = False):
    """``select(model)`` narrowed to the records the user may ``action`` (record rules)
    and, unless ``include_deleted``, to records not soft-deleted."""
    stmt = select(et.model).where(rules.visibility_clause(request, et, action))
    if et.soft_delete and not include_deleted:
        stmt = stmt.where(et.model.deleted_at.is_(None))
    return stmt


def get_record(
    request,
    et,
    record_id,
    action: str = "read",
    include_deleted: bool = False,
    core_children: bool = False,
):
    """The record ``record_id`` if the user may see it; :class:`HTTPNotFound` when it is
    missing *or* invisible (existence is never revealed). For an ``action`` other than
    read, :class:`HTTPForbidden` when the user lacks the permission or the record rules
    refuse that action on a record they can see. ``core_children``: the model's
    select-in collections are read by :func:`kyklos.entities.children.attach` (lighter
    than the ORM loader; for a record that is only shown)."""
    if action != "read":
        _require(request, et, action)
    try:
        rid = int(record_id)
    except (TypeError, ValueError):
        raise HTTPNotFound() from None
    if not 0 < rid <= values.id_limit(et):
        raise HTTPNotFound()
    stmt = visible_select(request, et, "read", include_deleted).where(et.model.id == rid)
    if core_children:
        stmt = stmt.options(*children.deferred_options(et.model))
    record = request.dbsession.execute(stmt).scalar_one_or_none()
    if record is None:
        raise HTTPNotFound()
    if core_children:
        children.attach(request.dbsession, et.model, [record])
    if action != "read" and not rules.can_access(request, et, record, action):
        raise HTTPForbidden()
    return record


# --- validation -------------------------------------------------------------------------


def record_schema(request, et, record=None, for_update: bool = False) -> colander.SchemaNode:
    """A colander mapping of the fields this user may write (for forms and for the API's
    validators). Uses the type's declared ``schema`` when it has one.

    ``for_update`` is accepted for symmetry with forms: the nodes are the same, since a
    form submits every field (an omitted optional field is cleared, not kept).
    """
    if et.schema_factory is not None:
        return et.schema_factory(request, et, record)
    return default_record_schema(request, et, record)


def default_record_schema(request, et, record=None) -> colander.SchemaNode:
    """The schema :func:`record_schema` builds from the declared fields. A type's own
    ``schema`` factory starts from it and swaps a few nodes (a drop-down of segments for
    a number) instead of repeating every field and the field rights."""
    _readable, writable = field_access(request, et)
    # the form's legend: the type's translatable title, not its internal name
    schema = colander.SchemaNode(
        colander.Mapping(unknown="ignore"), name=et.name, title=et.title or et.name
    )
    for f in et.writable_fields():
        if f.name not in writable or (f.name == "owner_id" and not may_assign(request, et)):
            continue
        if not f.form:
            continue  # an API / import convenience, not a form input
        node = values.field_node(f, values.column_of(et, f))
        if node is not None:
            schema.add(node)
    return schema


class Validator:
    """The record service's validation, prepared once for many records of one type.

    What depends only on the user and the type - field rights, the fields' columns and
    parsers, defaults, required fields, the declared schema's validators - is worked out
    once. :meth:`check` then validates a list of submitted dicts: per record the checks
    that need no database (types, required, rights, the schema), one query per
    referenced type and per unique custom field for the whole list, then the
    ``kyklos_record_validate`` hook for each record. :func:`validate` (one record, every
    write path) uses the same steps, so an import row is judged exactly like a form.

    ``record`` is the record being updated (``None`` to create). Parsing is a pure
    function of the value, so each distinct (hashable) value of a field is parsed once
    per validator: imports repeat choices, flags and numbers on every row.
    """

    def __init__(self, request, et, source: str, record=None, memo_plan: dict | None = None):
        self.request, self.et, self.source, self.record = request, et, source, record
        self.uid = user_id(request)
        _readable, self.writable = field_access(request, et)
        self._may_assign = None
        self._parsers: dict = {}
        self._parsed: dict = {}
        # The memo pays where values repeat (choices, flags, first names, countries);
        # a column of unique values (e-mails, numbers, free text) only fills it. Such a
        # column is parsed directly once it shows itself (see :meth:`parse`). What was
        # learnt may outlive this validator: an import passes one ``memo_plan`` for the
        # whole run (a validator per batch would learn it again for every batch).
        plan = {} if memo_plan is None else memo_plan
        self._direct_names: set = plan.setdefault("direct", set())
        self._misses: dict = plan.setdefault("misses", {})  # field -> (misses, at record)
        self._count: list = plan.setdefault("cleaned", [0])  # records cleaned
        self._direct: dict = {}  # field -> its parser, for those in _direct_names
        self._keys: dict = {}
        writable_fields = et.writable_fields()
        # (name, default, required) of the fields a new record gets when not sent
        self.missing = [
            (f.name, f.default, f.required and f.name in self.writable)
            for f in writable_fields
            if f.name != "owner_id" and (f.default is not None or f.required)
        ]
        self.nodes = {}
        if et.schema_factory is not None:
            schema = et.schema_factory(request, et, record)
            self.nodes = {n.name: n for n in schema.children if n.validator is not None}
        self.unique = [
            d for d in customfields.definitions(request.registry, et.name).values() if d.unique
        ]

    @property
    def default_currency(self) -> str:
        from kyklos import sitesettings

        return sitesettings.default_currency(self.request)

    @property
    def may_assign(self) -> bool:
        if self._may_assign is None:
            self._may_assign = may_assign(self.request, self.et)
        return self._may_assign

    def _key(self, key) -> tuple:
        """``(field, status)`` of a submitted key: ``ok``, ``owner``, ``readonly``,
        ``unknown`` or ``denied`` (memoised: every record of a batch sends the same)."""
        field = self.et.fields.get(key) if isinstance(key, str) else None
        if isinstance(key, str) and (key in SYSTEM_FIELDS or (field and field.readonly)):
            out = (field, "readonly")
        elif field is None:
            out = (None, "unknown")
        elif key == "owner_id":
            out = (field, "owner")
        elif key not in self.writable:
            out = (field, "denied")
        else:
            out = (field, "ok")
        if type(key) is str:
            self._keys[key] = out
        return out

    def parse(self, field, value):
        """``values.parse_value``, memoised per field and value (with the field's
        :func:`values.parser`)."""
        try:
            key = (field.name, type(value), value)
            hit = self._parsed.get(key)
        except TypeError:  # a list or dict: not hashable, parsed every time
            key, hit = None, None
        if hit is None:
            parse = self._parser(field)
            try:
                hit = (True, parse(value))
            except values.Invalid as exc:
                hit = (False, exc.msg)
            if key is not None:
                self._parsed[key] = hit
                self._count_miss(field.name)
        return hit

    def _parser(self, field):
        parse = self._parsers.get(field.name)
        if parse is None:  # the field's parser, built once per validator
            parse = values.parser(field, values.column_of(self.et, field))
            self._parsers[field.name] = parse
        return parse

    #: a field's memo is judged after this many distinct values ...
    MEMO_PROBE = 256
    #: ... and dropped when at least this share of its cells were new values
    MEMO_UNIQUE_SHARE = 0.5

    def _count_miss(self, name) -> None:
        cleaned = self._count[0]
        misses, first = self._misses.get(name) or (0, cleaned)
        misses += 1
        self._misses[name] = (misses, first)
        if misses == self.MEMO_PROBE:
            cells = cleaned - first + 1  # at most one cell per record
            if misses >= self.MEMO_UNIQUE_SHARE * cells:
                self._direct_names.add(name)

    def clean(self, data) -> tuple[dict, dict, list]:
        """``(clean, errors, references)`` of one submitted dict: every check that
        needs no database (``references`` names the reference fields still to look up)."""
        errors: dict = {}
        refs: list = []
        if not isinstance(data, dict):
            errors[""] = _("Send an object of field values.")
            return {}, errors, refs
        record, keys, parsed, direct = self.record, self._keys, self._parsed, self._direct
        direct_names = self._direct_names
        self._count[0] += 1
        clean: dict = {}
        for key, value in data.items():
            field, status = keys.get(key) or self._key(key)
            if status != "ok":
                if status == "readonly":
                    errors[key] = _("This field is read-only.")
                    continue
                if status == "unknown":
                    errors[str(key)] = _("Unknown field.")
                    continue
                if status == "denied":
                    errors[key] = _("You may not change this field.")
                    continue
                current = record.owner_id if record is not None else self.uid  # owner
                if value != current and not self.may_assign:
                    errors[key] = _("You may not assign records to someone else.")
                    continue
            if value is None or (field.required and isinstance(value, str) and not value.strip()):
                if field.required:
                    errors[key] = _("Required.")
                else:
                    clean[key] = None
                continue
            if type(value) is dict and field.type == "money" and not value.get("currency"):
                # an amount sent without its currency is in the site's default currency
                value = {**value, "currency": self.default_currency}
            parse = direct.get(key)
            if parse is None and key in direct_names:
                parse = direct[key] = self._parser(field)
            if parse is not None:  # a column of unique values: no memo (see parse())
                try:
                    ok, result = True, parse(value)
                except values.Invalid as exc:
                    ok, result = False, exc.msg
            else:
                try:  # inlined self.parse(): this loop runs for every cell of an import
                    hit = parsed.get((key, type(value), value))
                except TypeError:
                    hit = None
                ok, result = hit or self.parse(field, value)
            if not ok:
                errors[key] = result
                continue
            clean[key] = result
            if field.type == "reference":
                refs.append(key)
        if record is None:
            for name, default, required in self.missing:
                if name in data:
                    continue
                if default is not None:
                    clean[name] = default
                elif required:
                    errors[name] = _("Required.")
        if self.nodes:
            for name, value in clean.items():
                node = self.nodes.get(name)
                if node is None or value is None or name in errors:
                    continue
                try:
                    node.validator(node, value)
                except colander.Invalid as exc:
                    errors[name] = "; ".join(str(m) for m in exc.messages()) or _("Invalid value.")
        return clean, errors, refs

    def prepare(self, data) -> None:
        """The plugins' ``kyklos_record_prepare`` on ``data`` (in place), for
        :attr:`record`: every path that validates a submission calls it first."""
        prepare = self.request.registry.kyklos_pm.hook.kyklos_record_prepare
        if isinstance(data, dict) and prepare.get_hookimpls():
            prepare(
                request=self.request,
                entity_type=self.et,
                record=self.record,
                data=data,
                source=self.source,
            )

    def check(self, items: list) -> list[tuple[dict, dict]]:
        """``[(clean, errors), ...]`` for the submitted dicts ``items``: every check and
        the validation hook; a record is valid when its ``errors`` are empty."""
        for data in items:
            self.prepare(data)
        checked = [self.clean(data) for data in items]
        self._check_references(checked)
        out = [(clean, errors) for clean, errors, _refs in checked]
        self._check_unique(out)
        hook = self.request.registry.kyklos_pm.hook.kyklos_record_validate
        for clean, errors in out:
            hook(
                request=self.request,
                entity_type=self.et,
                record=self.record,
                data=clean,
                errors=errors,
                source=self.source,
            )
        if len(out) > 1:
            self._unique_within(out)
        return out

    def _check_references(self, checked) -> None:
        """One query per referenced type: only records the user can see may be linked
        (a hidden id is "not found")."""
        wanted: dict[str, set] = {}
        for clean, _errors, refs in checked:
            for name in refs:
                wanted.setdefault(self.et.fields[name].reference, set()).add(clean[name])
        if not wanted:
            return
        found: dict[str, set] = {}
        db = self.request.dbsession
        for ref, ids in wanted.items():
            if ref == "user":
                stmt = select(User.id).where(User.id.in_(ids))
            else:
                target = self.request.registry.kyklos_entities.get(ref)
                if target is None:
                    found[ref] = set()
                    continue
                if target.lookup:
                    # a value list (types, stages...): anyone who may write the record
                    # may pick any of its values, readable to them or not (H1, pickers)
                    stmt = select(target.model.id).where(target.model.id.in_(ids))
                    if target.soft_delete:
                        stmt = stmt.where(target.model.deleted_at.is_(None))
                else:
                    stmt = visible_select(self.request, target).where(target.model.id.in_(ids))
                    stmt = stmt.with_only_columns(target.model.id)
            found[ref] = set(db.execute(stmt).scalars())
        for clean, errors, refs in checked:
            for name in refs:
                if clean[name] not in found[self.et.fields[name].reference]:
                    errors[name] = _("No such record.")

    def _check_unique(self, out) -> None:
        """One query per unique custom field: values already held by another record."""
        exclude = self.record.id if self.record is not None else None
        for d in self.unique:
            keys = {
                customfields.unique_key(d, clean.get(d.name))
                for clean, errors in out
                if d.name not in errors
            } - {None}
            taken = customfields.taken_keys(self.request.dbsession, d, keys, exclude)
            for clean, errors in out:
                if d.name not in errors and customfields.unique_key(d, clean.get(d.name)) in taken:
                    errors[d.name] = _("This value is already used by another record.")

    def _unique_within(self, out) -> None:
        """Two valid records of one list may not share a unique value either: the
        first keeps it."""
        for d in self.unique:
            seen = set()
            for clean, errors in out:
                key = customfields.unique_key(d, clean.get(d.name))
                if errors or key is None:
                    continue
                if key in seen:
                    errors[d.name] = _("This value is already used by another record.")
                seen.add(key)


def validate(request, et, record, data, source: str) -> dict:
    """Check ``data`` for a create (``record`` is ``None``) or an update of ``record``:
    the clean values, or :class:`RecordError` naming every bad field."""
    clean, errors = Validator(request, et, source, record).check([data])[0]
    if errors:
        raise RecordError(errors)
    return clean


def json_changes(et, changes: dict) -> dict:
    """``{field: (old, new)}`` in the JSON form history keeps: ``{field: [old, new]}``."""
    out = {}
    for name, (old, new) in changes.items():
        field = et.fields.get(name)
        out[name] = [values.to_json(field, old), values.to_json(field, new)]
    return out


# --- writes -----------------------------------------------------------------------------


def create_record(request, et, data: dict, source: str = "api"):
    """Create a record of ``et`` from ``data`` (``{field: value}``); returns it, flushed.

    The owner is the current user unless ``data`` names another and the user holds the
    type's ``assign`` permission.
    """
    _require(request, et, "create")
    clean = validate(request, et, None, data, source)
    record = et.model()
    uid = user_id(request)
    for name, value in clean.items():
        values.write_value(et, et.fields[name], record, value)
    if clean.get("owner_id") is None:
        # a record nobody owns drops out of every "own records" rule and every "my"
        # list: an empty owner (a form's cleared picker) means the creator, as omitted
        record.owner_id = uid
    record.created_by_id = uid
    record.updated_by_id = uid
    if not rules.can_access(request, et, record, "create"):
        raise HTTPForbidden()
    changes = {name: (None, value) for name, value in clean.items() if value is not None}
    if record.owner_id is not None and "owner_id" in et.fields:
        changes.setdefault("owner_id", (None, record.owner_id))
    hook = request.registry.kyklos_pm.hook
    hook.kyklos_record_before_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=True,
        source=source,
    )
    db = request.dbsession
    db.add(record)
    db.flush()
    _after_create(request, et, record, clean, changes, source)
    return record


def _after_create(request, et, record, names, changes: dict, source: str) -> None:
    """What follows the flush of a new record: the mirror of its custom fields in
    ``names``, its history entry, the after-save hooks (search, duplicates, workflow,
    plugins)."""
    customfields.sync_record(request, et, record, names)
    history.record_change(request, et, record, "create", json_changes(et, changes), source)
    request.dbsession.flush()
    request.registry.kyklos_pm.hook.kyklos_record_after_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=True,
        source=source,
    )


def record_created(request, et, record, source: str = "job") -> None:
    """Bookkeeping for a record a plugin created itself, as the system rather than as
    the user (an automation rule's follow-up activity, with child rows the record
    service does not write): after the plugin's flush, the record gets what
    :func:`create_record` gives every record - custom-field mirror, a history entry
    with its values, the after-save hooks, so it is found by search, duplicate checks
    and workflow rules like any other. No permission is checked: the caller decided."""
    changes = {}
    for name, f in et.fields.items():
        if f.virtual:
            continue
        value = values.read_value(et, f, record)
        if value is not None and value != "" and value != []:
            changes[name] = (None, value)
    _after_create(request, et, record, changes, changes, source)


def check_version(request, et, record, expected_version) -> None:
    if expected_version is not None and record.version != expected_version:
        changes = history.changes_since(request, et, record.id, expected_version)
        raise StaleRecord(record, expected_version, changes)


def apply_update(request, et, record, clean: dict, source: str) -> dict:
    changes = {}
    for name, value in clean.items():
        old = values.read_value(et, et.fields[name], record)
        if old != value:
            changes[name] = (old, value)
    if not changes:
        return changes
    hook = request.registry.kyklos_pm.hook
    hook.kyklos_record_before_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=False,
        source=source,
    )
    for name, (_old, new) in changes.items():
        values.write_value(et, et.fields[name], record, new)
    record.updated_by_id = user_id(request)
    expected = record.version
    try:
        request.dbsession.flush()
    except StaleDataError:
        # Another transaction wrote the row between our read and this UPDATE (on
        # PostgreSQL the loser of a race waits for the winner's commit, then matches no
        # row). The failed flush left the session unusable: roll it back so the record
        # reloads at the winner's version (the request's other writes go with it, and
        # pyramid_tm aborts the rest after the error answer).
        request.dbsession.rollback()
        raise StaleRecord(record, expected) from None
    customfields.sync_record(request, et, record, changes)
    history.record_change(request, et, record, "update", json_changes(et, changes), source)
    request.dbsession.flush()
    hook.kyklos_record_after_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=False,
        source=source,
    )
    return changes


def update_record(
    request, et, record, data: dict, expected_version: int | None = None, source: str = "api"
):
    """Write the fields in ``data`` to ``record``. With ``expected_version``, raise
    :class:`StaleRecord` if the record is at another version (optimistic locking; a
    concurrent writer is caught at flush time as well). A write that changes nothing
    leaves the record, its version and its history untouched."""
    _require(request, et, "update")
    if not rules.can_access(request, et, record, "update"):
        raise HTTPForbidden()
    check_version(request, et, record, expected_version)
    clean = validate(request, et, record, data, source)
    apply_update(request, et, record, clean, source)
    return record


def delete_record(request, et, record, source: str = "api", expected_version=None) -> None:
    """Delete ``record``: soft (restorable) when the type has ``deleted_at``."""
    _require(request, et, "delete")
    if not rules.can_access(request, et, record, "delete"):
        raise HTTPForbidden()
    check_version(request, et, record, expected_version)
    hook = request.registry.kyklos_pm.hook
    hook.kyklos_record_before_delete(request=request, entity_type=et, record=record, source=source)
    db = request.dbsession
    soft = et.soft_delete
    if soft:
        now = utcnow()
        record.deleted_at = now
        record.updated_by_id = user_id(request)
        db.flush()
        changes = {"deleted_at": [None, values.to_json(None, now)]}
    else:
        readable = [
            f
            for f in et.fields.values()
            if not f.custom and not getattr(f, "virtual", False) and f.name != "id"
        ]
        changes = {
            f.name: [values.to_json(f, values.read_value(et, f, record)), None] for f in readable
        }
        db.delete(record)
        db.flush()
        customfields.forget_record(request, et, record.id)
    history.record_change(request, et, record, "delete", changes, source)
    db.flush()
    hook.kyklos_record_after_delete(
        request=request, entity_type=et, record=record, soft=soft, source=source
    )


def restore_record(request, et, record, source: str = "api") -> None:
    """Undo a soft delete (needs the delete permission)."""
    _require(request, et, "delete")
    if not rules.can_access(request, et, record, "delete"):
        raise HTTPForbidden()
    if not et.soft_delete or record.deleted_at is None:
        raise RecordError({"": _("This record is not deleted.")}, status=409)
    changes = {"deleted_at": (record.deleted_at, None)}
    hook = request.registry.kyklos_pm.hook
    hook.kyklos_record_before_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=False,
        source=source,
    )
    record.deleted_at = None
    record.updated_by_id = user_id(request)
    request.dbsession.flush()
    history.record_change(request, et, record, "restore", json_changes(et, changes), source)
    request.dbsession.flush()
    hook.kyklos_record_after_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=False,
        source=source,
    )


# --- bulk -------------------------------------------------------------------------------


def _bulk_records(request, et, ids, action: str) -> list:
    if (
        not isinstance(ids, list | tuple)
        or not ids
        or len(ids) > BULK_MAX
        or any(isinstance(i, bool) or not isinstance(i, int) for i in ids)
        or any(not 0 < i <= values.id_limit(et) for i in ids)
    ):
        raise RecordError({"ids": _("Send 1 to ${n} record ids.", mapping={"n": BULK_MAX})})
    wanted = list(dict.fromkeys(ids))
    stmt = visible_select(request, et, action).where(et.model.id.in_(wanted))
    found = {r.id: r for r in request.dbsession.execute(stmt).scalars()}
    missing = [i for i in wanted if i not in found]
    if missing:
        shown = ", ".join(str(i) for i in missing[:20])
        raise RecordError({"ids": _("Not found: ${ids}", mapping={"ids": shown})}, status=404)
    for r in found.values():
        if not rules.can_access(request, et, r, action):
            raise HTTPForbidden()
    return [found[i] for i in wanted]


def bulk_update(request, et, ids: list[int], data: dict, source: str = "api") -> int:
    """Write ``data`` to every record in ``ids``: all or nothing. Returns the number of
    records changed. Errors name ``<id>.<field>`` for a record-specific refusal."""
    _require(request, et, "update")
    records = _bulk_records(request, et, ids, "update")
    errors: dict = {}
    cleaned = []
    for r in records:
        try:
            cleaned.append((r, validate(request, et, r, data, source)))
        except RecordError as exc:
            for key, msg in exc.errors.items():
                errors[f"{r.id}.{key}" if len(records) > 1 else key] = msg
    if errors:
        raise RecordError(errors)
    changed = 0
    # A savepoint keeps "all or nothing" even for a caller that catches the error and
    # commits (a web form showing it), not only for the API's rolled-back request.
    with request.dbsession.begin_nested():
        for r, clean in cleaned:
            if apply_update(request, et, r, clean, source):
                changed += 1
    return changed


def bulk_delete(request, et, ids: list[int], source: str = "api") -> int:
    """Delete every record in ``ids`` (soft when the type allows): all or nothing."""
    _require(request, et, "delete")
    records = _bulk_records(request, et, ids, "delete")
    with request.dbsession.begin_nested():
        for r in records:
            delete_record(request, et, r, source=source)
    return len(records)


# --- many new records at once (imports) ---------------------------------------------------


def create_many(request, et, cleans: list[dict], source: str = "import") -> list:
    """Create one record per validated dict of ``cleans`` (from :meth:`Validator.check`);
    returns the records, in order, as after a flush (ids known, every column loaded).

    The steps of :func:`create_record` - owner, record rules, the ``before_save`` hook,
    custom-field mirror, history, after-save hooks - with the writes batched: the rows,
    and the child rows a model's setters made (a person's phones), go in with one Core
    ``executemany`` per table (:func:`insert_new`), the mirror rows and the history
    entries with one each, and the after-save hooks run through :func:`after_save_many`.
    Raises :class:`HTTPForbidden` when a record rule refuses one of them, or what a hook
    or the database raised; nothing is half-written when the caller rolls back its
    savepoint (the import then retries record by record).
    """
    _require(request, et, "create")
    uid = user_id(request)
    hook = request.registry.kyklos_pm.hook
    fields = et.fields
    plain = _plain_columns(et)
    book = _BOOKKEEPING <= plain
    made, changes, docs = [], [], []
    building = _BUILDING_NEW.set(True)  # see new_children: the setters may skip events
    try:
        _build_new(request, et, cleans, uid, hook, fields, plain, book, made, changes, docs, source)
    finally:
        _BUILDING_NEW.reset(building)
    db = request.dbsession
    attached = insert_new(db, made)
    try:
        defs = [
            d for d in customfields.definitions(request.registry, et.name).values() if d.mirrored
        ]
        mirror = []
        for record, ch in zip(made, changes, strict=True):
            for d in defs:
                if d.name in ch:
                    value = values.read_value(et, fields[d.name], record)
                    mirror += customfields.mirror_rows(d, record.id, value)
        if mirror:
            bulk_insert(db, customfields.CustomValue.__table__, mirror)
        history.record_changes(
            request,
            et,
            made,
            "create",
            [_json_new(et, ch, clean, doc) for ch, (clean, doc) in zip(changes, docs, strict=True)],
            source,
        )
        after_save_many(request, et, made, changes, True, source)
    except BaseException:
        # The caller rolls its savepoint back; objects attached as already flushed
        # must not stay in the session as if their rows existed.
        for obj in attached:
            if obj in db:
                db.expunge(obj)
        raise
    return made


def _build_new(
    request, et, cleans, uid, hook, fields, plain, book, made, changes, docs, source
) -> None:
    """The new objects of :func:`create_many`, appended to ``made`` / ``changes`` /
    ``docs``."""
    for clean in cleans:
        record = et.model()
        d = instance_dict(record)
        doc = {}
        for name, value in clean.items():
            f = fields[name]
            if f.custom:  # one document, not a copy per field (values.write_value)
                # _to_json inlined: fifty custom columns a row, most of them plain
                doc[name] = value if type(value) in _PLAIN else values.to_json(f, value)
            elif name in plain:
                d[name] = value
            else:
                values.write_value(et, f, record, value)
        if book:
            if doc:
                d["custom"] = doc
            if clean.get("owner_id") is None:
                d["owner_id"] = uid
            d["created_by_id"] = d["updated_by_id"] = uid
        else:
            if doc:
                record.custom = doc
            if clean.get("owner_id") is None:
                record.owner_id = uid
            record.created_by_id = record.updated_by_id = uid
        if not rules.can_access(request, et, record, "create"):
            raise HTTPForbidden()
        ch = {name: (None, value) for name, value in clean.items() if value is not None}
        if record.owner_id is not None and "owner_id" in fields:
            ch.setdefault("owner_id", (None, record.owner_id))
        hook.kyklos_record_before_save(
            request=request, entity_type=et, record=record, changes=ch, created=True, source=source
        )
        made.append(record)
        changes.append(ch)
        docs.append((clean, doc))


_PLAIN_COLUMNS: dict = {}
_BOOKKEEPING = frozenset({"custom", "owner_id", "created_by_id", "updated_by_id"})


def _plain_columns(et) -> frozenset:
    """Names of ``et``'s fields that are mapped columns with no attribute event (no
    ``@validates``, no property setter, not money): :func:`create_many` writes them
    straight into a new object's ``__dict__``. The ORM's attribute events would only
    record history for an object that is not in a session yet, and the rows are
    inserted from that dict either way; fields with events are set normally, so their
    domain logic (a person's name keys) runs."""
    model = et.model
    key = (model, tuple(et.fields))
    if key not in _PLAIN_COLUMNS:
        configure_mappers()
        names = set(_BOOKKEEPING)
        names.update(
            f.name
            for f in et.fields.values()
            if not f.custom and not f.virtual and f.type != "money"
        )
        out = set()
        for name in names:
            attr = getattr(model, name, None)
            if (
                isinstance(attr, InstrumentedAttribute)
                and isinstance(attr.property, ColumnProperty)
                and not attr.impl.dispatch.set
            ):
                out.add(name)
        _PLAIN_COLUMNS[key] = frozenset(out)
    return _PLAIN_COLUMNS[key]


#: types ``values.to_json`` returns unchanged (most values of an import)
_PLAIN = frozenset({str, int, bool, float, type(None)})


def _to_json(field, value):
    return value if type(value) in _PLAIN else values.to_json(field, value)


def _json_new(et, ch: dict, clean: dict, doc: dict) -> dict:
    """:func:`json_changes` of a new record, reusing the JSON of its custom fields.

    Runs for every record of an import: the common cases (a custom field's document
    value, a plain value) take no function call."""
    out = {}
    fields = et.fields
    for name, (old, new) in ch.items():
        if old is None:
            if name in doc and new is clean.get(name):
                out[name] = [None, doc[name]]
            elif type(new) in _PLAIN:
                out[name] = [None, new]
            else:
                out[name] = [None, values.to_json(fields.get(name), new)]
        else:
            field = fields.get(name)
            out[name] = [_to_json(field, old), _to_json(field, new)]
    return out


def after_save_many(
    request, et, records: list, changes: list[dict], created: bool, source: str
) -> None:
    """The after-save hooks for records written together: ``kyklos_records_saved`` once
    with all of them, then ``kyklos_record_after_save`` per record for the plugins that
    do not implement the batch hook (they would otherwise see the records twice)."""
    pm = request.registry.kyklos_pm
    batch = pm.hook.kyklos_records_saved
    batch(
        request=request,
        entity_type=et,
        records=records,
        changes=changes,
        created=created,
        source=source,
    )
    done = [impl.plugin for impl in batch.get_hookimpls()]
    single = pm.subset_hook_caller("kyklos_record_after_save", remove_plugins=done)
    if not single.get_hookimpls():
        return
    for record, ch in zip(records, changes, strict=True):
        single(
            request=request,
            entity_type=et,
            record=record,
            changes=ch,
            created=created,
            source=source,
        )


class _Unsupported(Exception):
    """The objects need the ORM's unit of work (see :func:`insert_new`)."""


@dataclass
class _Plan:
    """How to turn one mapped class's new objects into INSERT parameters."""

    table: object
    pk: tuple  # (attribute, column key) of the integer primary key
    columns: list  # (column key, attribute, default kind, default) of the other columns
    children: dict  # one-to-many attribute -> [(parent attribute, child attr, child column)]
    parents: frozenset  # many-to-one attributes
    others: frozenset  # relationships the plan cannot write


_PLANS: dict = {}


def _plan(mapper) -> _Plan | None:
    """The insert plan of a mapped class, or ``None`` when only the ORM can insert it
    (inheritance, mapper insert events, server-side or SQL defaults, no single integer
    primary key)."""
    if mapper not in _PLANS:
        _PLANS[mapper] = _make_plan(mapper)
    return _PLANS[mapper]


def _make_plan(mapper) -> _Plan | None:
    table = mapper.local_table
    if (
        mapper.inherits is not None
        or mapper.polymorphic_on is not None
        or not isinstance(table, Table)
        or len(mapper.primary_key) != 1
        or mapper.dispatch.before_insert
        or mapper.dispatch.after_insert
    ):
        return None
    pk_col = mapper.primary_key[0]
    if not isinstance(pk_col.type, Integer) or pk_col.server_default is not None:
        return None
    columns = []
    for col in table.columns:
        try:
            attr = mapper.get_property_by_column(col).key
        except Exception:  # noqa: BLE001 - an unmapped column: leave it to the ORM
            return None
        if col is pk_col:
            continue
        d = col.default
        if col.server_default is not None and not (
            getattr(d, "is_scalar", False) or getattr(d, "is_callable", False)
        ):
            # only the database knows the value; with a Python-side default as well
            # (``default=False, server_default=false()``: the server's for raw SQL and
            # migrations) the INSERT always sends the Python one, as the ORM does
            return None
        if col is mapper.version_id_col:
            if not callable(mapper.version_id_generator):
                return None  # a server-side version counter
            kind, arg = "version", mapper.version_id_generator
        elif d is None:
            kind, arg = "none", None
        elif getattr(d, "is_scalar", False):
            kind, arg = "scalar", d.arg
        elif getattr(d, "is_callable", False):
            kind, arg = "callable", d.arg
        else:
            return None
        columns.append((col.key, attr, kind, arg))
    children, parents, others = {}, set(), set()
    for rel in mapper.relationships:
        if rel.direction is ONETOMANY and rel.uselist and rel.secondary is None:
            children[rel.key] = [
                (
                    mapper.get_property_by_column(lc).key,
                    rel.mapper.get_property_by_column(rc).key,
                    rc.key,
                )
                for lc, rc in rel.local_remote_pairs
            ]
        elif rel.direction is MANYTOONE and rel.secondary is None:
            parents.add(rel.key)
        else:
            others.add(rel.key)
    pk = (mapper.get_property_by_column(pk_col).key, pk_col.key)
    return _Plan(table, pk, columns, children, frozenset(parents), frozenset(others))


def _params(plan: _Plan, obj, parent=None) -> dict:
    """The INSERT parameters of a new object; also stores every default in the object,
    so that, once attached, it reads like a loaded one (no lazy load per column)."""
    state = instance_state(obj)
    if state.key is not None or state.session_id is not None:
        raise _Unsupported("not a new object")
    d = state.dict
    for key in plan.parents:
        if d.get(key) is not None and d[key] is not parent:
            raise _Unsupported(f"{key} is set to an object")
    for key in plan.others:
        if d.get(key):
            raise _Unsupported(f"{key} is set")
    params: dict = {}
    for colkey, attr, kind, arg in plan.columns:
        if attr in d and not (kind == "version" and d[attr] is None):
            value = d[attr]
            if isinstance(value, ClauseElement):
                raise _Unsupported(f"{attr} is an SQL expression")
        elif kind == "none":
            value = d[attr] = None
        elif kind == "scalar":
            value = d[attr] = arg
        elif kind == "version":
            value = d[attr] = arg(None)
        else:
            value = d[attr] = arg(DefaultContext(params))
        params[colkey] = value
    return params


def _allocate_ids(db, table, n: int) -> list[int]:
    """``n`` new primary keys of ``table``, so that parents and children can be inserted
    with plain executemany (no RETURNING, whose row order SQLite does not promise).
    PostgreSQL: taken from the column's sequence. SQLite: above the largest id (and the
    AUTOINCREMENT counter); the transaction holds the write lock once it wrote, and a
    concurrent writer would make the INSERT fail, never share an id."""
    dialect = db.get_bind().dialect.name
    pk = next(iter(table.primary_key.columns))
    if dialect == "postgresql":
        ids = (
            db.execute(
                text("SELECT nextval(pg_get_serial_sequence(:t, :c)) FROM generate_series(1, :n)"),
                {"t": table.fullname, "c": pk.name, "n": n},
            )
            .scalars()
            .all()
        )
        if any(i is None for i in ids):
            raise _Unsupported("no sequence")
        return sorted(ids)
    if dialect == "sqlite":
        top = db.execute(select(func.max(pk))).scalar() or 0
        if table.dialect_options["sqlite"].get("autoincrement"):
            seq = db.execute(
                text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table.name}
            ).scalar()
            top = max(top, seq or 0)
        return list(range(top + 1, top + 1 + n))
    raise _Unsupported(dialect)


#: set while :func:`create_many` builds its new objects (see :func:`new_children`)
_BUILDING_NEW: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "kyklos_building_new", default=False
)
#: ``obj.__dict__`` key: the collections :func:`new_children` filled without events
_NEW_CHILDREN = "_kyklos_new_children"


def new_children(obj, key: str, rows: list[dict]) -> bool:
    """Fill the one-to-many collection ``key`` of the new ``obj`` with new child
    objects made from ``rows`` (``{attribute: value}``) without the ORM's attribute
    events, when :func:`create_many` is building ``obj``; returns ``False`` (nothing
    done) anywhere else, and the caller sets the collection the usual way.

    A model's property setter that turns a field's value into child rows (a person's
    phones) calls it first. On a batch of new records the events only record history
    for objects :func:`insert_new` writes from their ``__dict__`` anyway, and they cost
    more than the rest of building a record (an import's phone and e-mail rows: a
    tenth of its time). Outside that path - a record saved through the unit of work, an
    object already in a session or whose collection is loaded - the events are what
    gives the children their parent's key, so nothing is skipped."""
    if not _BUILDING_NEW.get() or key in instance_dict(obj):
        return False
    state = instance_state(obj)
    if not state.transient:
        return False
    prop = state.mapper.relationships[key]
    if prop.direction is not ONETOMANY or prop.secondary is not None:
        return False
    manager = prop.mapper.class_manager
    back = prop.back_populates or (prop.backref if isinstance(prop.backref, str) else None)
    children = []
    for values_ in rows:
        child = manager.new_instance()
        instance_dict(child).update(values_)
        if back:
            set_committed_value(child, back, obj)
        children.append(child)
    set_committed_value(obj, key, children)
    instance_dict(obj).setdefault(_NEW_CHILDREN, set()).add(key)
    return True


def _restore_child_events(records: list) -> None:
    """Collections :func:`new_children` filled, set again through the ORM's events so
    that the unit of work (:func:`insert_new`'s fallback) sees them as added."""
    for obj in records:
        for key in instance_dict(obj).pop(_NEW_CHILDREN, ()):
            items = list(instance_dict(obj).get(key) or ())
            set_committed_value(obj, key, [])
            setattr(obj, key, items)


def insert_new(db, records: list) -> list:
    """Insert new ORM objects of one class, and the new objects in their one-to-many
    collections (a person's phone rows), with one Core ``executemany`` per table; then
    attach them to the session as if flushed: persistent, every column loaded, history
    clean. Returns every object attached.

    Whatever only the ORM's unit of work handles (see :func:`_plan`; a many-to-one set
    to an object, nested collections) makes it fall back to ``add_all`` + ``flush``.
    Mapper validators and property setters have run already: they act when attributes
    are set.
    """
    if not records:
        return []
    mapper = instance_state(records[0]).mapper
    plan = _plan(mapper)
    try:
        if plan is None or any(instance_state(r).mapper is not mapper for r in records):
            raise _Unsupported("mapper")
        batches = _insert_batches(db, plan, records)
    except _Unsupported:
        _restore_child_events(records)
        db.add_all(records)
        db.flush()
        return list(records)
    for obj in records:
        instance_dict(obj).pop(_NEW_CHILDREN, None)
    attached = []
    for table, objects, rows in batches:
        bulk_insert(db, table, rows)
        attached += objects
    for obj in attached:
        state = instance_state(obj)
        for key in _plan(state.mapper).children:
            if key not in state.dict:
                set_committed_value(obj, key, [])  # a new record has none: no lazy load
        make_transient_to_detached(obj)
    # Adding the records cascades to their children; only the others are added alone.
    db.add_all(records)
    for obj in attached[len(records) :]:
        if obj not in db:
            db.add(obj)
    return attached


def _insert_batches(db, plan: _Plan, records: list) -> list:
    """``[(table, objects, parameter rows)]``, parents first, every id assigned; raises
    :class:`_Unsupported` before anything is written."""
    rows = [_params(plan, r) for r in records]
    kids: dict = {}  # id(child plan) -> (child plan, [(child, parent, pairs)])
    for r in records:
        d = instance_dict(r)
        for key, pairs in plan.children.items():
            for child in d.get(key) or ():
                cplan = _plan(instance_state(child).mapper)
                if cplan is None or any(instance_dict(child).get(k) for k in cplan.children):
                    raise _Unsupported("child")
                kids.setdefault(id(cplan), (cplan, []))[1].append((child, r, pairs))
    out = [(plan, list(records), rows)]
    for cplan, items in kids.values():
        crows = [_params(cplan, c, parent=p) for c, p, _pairs in items]
        out.append((cplan, [c for c, _p, _pairs in items], crows, items))
    ids = [_allocate_ids(db, p.table, len(objs)) for p, objs, *_rest in out]
    for (p, objs, prows, *_rest), idents in zip(out, ids, strict=True):
        attr, colkey = p.pk
        for obj, params, ident in zip(objs, prows, idents, strict=True):
            params[colkey] = instance_dict(obj)[attr] = ident
    for _cplan, _objs, crows, items in out[1:]:
        for (child, parent, pairs), params in zip(items, crows, strict=True):
            cd, pd = instance_dict(child), instance_dict(parent)
            for parent_attr, child_attr, child_col in pairs:
                params[child_col] = cd[child_attr] = pd[parent_attr]
    return [(p.table, objs, prows) for p, objs, prows, *_rest in out]


# --- output -----------------------------------------------------------------------------


def serialize(request, et, record, fields=None) -> dict:
    """A JSON-safe dict of ``record``: ``id``, ``version`` and the readable fields (all,
    or those named in ``fields``), custom fields included."""
    readable, _writable = field_access(request, et)
    names = et.fields if fields is None else fields
    out = {"id": record.id, "version": record.version}
    for name in names:
        if name in out or name not in readable:
            continue
        field = et.fields.get(name)
        if field is not None:
            out[name] = values.to_json(field, values.read_value(et, field, record))
    return out


def includeme(config):
    # Importing the models registers their tables on the shared metadata.
    from kyklos.entities import money  # noqa: F401

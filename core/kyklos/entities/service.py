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

import colander
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from kyklos.db import utcnow
from kyklos.entities import SYSTEM_FIELDS, EntityType, RecordError, customfields, history, values
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


def _user_id(request) -> int | None:
    ident = getattr(request, "identity", None)
    return ident.user.id if ident is not None else None


def visible_select(request, et, action: str = "read", include_deleted: bool = False):
    """``select(model)`` narrowed to the records the user may ``action`` (record rules)
    and, unless ``include_deleted``, to records not soft-deleted."""
    stmt = select(et.model).where(rules.visibility_clause(request, et, action))
    if et.soft_delete and not include_deleted:
        stmt = stmt.where(et.model.deleted_at.is_(None))
    return stmt


def get_record(request, et, record_id, action: str = "read", include_deleted: bool = False):
    """The record ``record_id`` if the user may see it; :class:`HTTPNotFound` when it is
    missing *or* invisible (existence is never revealed). For an ``action`` other than
    read, :class:`HTTPForbidden` when the user lacks the permission or the record rules
    refuse that action on a record they can see."""
    if action != "read":
        _require(request, et, action)
    try:
        rid = int(record_id)
    except (TypeError, ValueError):
        raise HTTPNotFound() from None
    if not 0 < rid <= values.id_limit(et):
        raise HTTPNotFound()
    stmt = visible_select(request, et, "read", include_deleted).where(et.model.id == rid)
    record = request.dbsession.execute(stmt).scalar_one_or_none()
    if record is None:
        raise HTTPNotFound()
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
    _readable, writable = field_access(request, et)
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"), name=et.name)
    for f in et.writable_fields():
        if f.name not in writable or (f.name == "owner_id" and not may_assign(request, et)):
            continue
        node = values.field_node(f, values.column_of(et, f))
        if node is not None:
            schema.add(node)
    return schema


def _check_reference(request, field, value, errors: dict) -> None:
    db = request.dbsession
    if field.reference == "user":
        found = db.execute(select(User.id).where(User.id == value)).first()
    else:
        target = request.registry.kyklos_entities.get(field.reference)
        if target is None:
            found = None
        else:
            # Only records the user can see may be linked: a hidden id is "not found".
            stmt = visible_select(request, target).where(target.model.id == value)
            found = db.execute(stmt.with_only_columns(target.model.id)).first()
    if found is None:
        errors[field.name] = _("No such record.")


def _schema_validators(request, et, record, clean: dict, errors: dict) -> None:
    """Run the validators of a declared schema's nodes on the fields being written."""
    if et.schema_factory is None:
        return
    schema = et.schema_factory(request, et, record)
    for name, value in clean.items():
        node = schema.get(name)
        if node is None or node.validator is None or value is None or name in errors:
            continue
        try:
            node.validator(node, value)
        except colander.Invalid as exc:
            errors[name] = "; ".join(str(m) for m in exc.messages()) or _("Invalid value.")


def _clean(request, et, data, record, errors: dict) -> dict:
    """Check every key and value of ``data``; fills ``errors``, returns the valid part."""
    if not isinstance(data, dict):
        errors[""] = _("Send an object of field values.")
        return {}
    _readable, writable = field_access(request, et)
    uid = _user_id(request)
    clean: dict = {}
    for key, value in data.items():
        field = et.fields.get(key) if isinstance(key, str) else None
        if isinstance(key, str) and (key in SYSTEM_FIELDS or (field and field.readonly)):
            errors[key] = _("This field is read-only.")
            continue
        if field is None:
            errors[str(key)] = _("Unknown field.")
            continue
        if key == "owner_id":
            current = record.owner_id if record is not None else uid
            if value != current and not may_assign(request, et):
                errors[key] = _("You may not assign records to someone else.")
                continue
        elif key not in writable:
            errors[key] = _("You may not change this field.")
            continue
        if value is None or (isinstance(value, str) and not value.strip() and field.required):
            if field.required:
                errors[key] = _("Required.")
            else:
                clean[key] = None
            continue
        try:
            clean[key] = values.parse_value(field, value, values.column_of(et, field))
        except values.Invalid as exc:
            errors[key] = exc.msg
            continue
        if field.type == "reference":
            _check_reference(request, field, clean[key], errors)
    if record is None:
        for f in et.writable_fields():
            if f.name in data or f.name == "owner_id":
                continue
            if f.default is not None:
                clean[f.name] = f.default
            elif f.required and f.name in writable:
                errors[f.name] = _("Required.")
    _schema_validators(request, et, record, clean, errors)
    customfields.check_unique(request, et, record, clean, errors)
    return clean


def _validate(request, et, record, data, source: str) -> dict:
    errors: dict = {}
    clean = _clean(request, et, data, record, errors)
    request.registry.kyklos_pm.hook.kyklos_record_validate(
        request=request, entity_type=et, record=record, data=clean, errors=errors, source=source
    )
    if errors:
        raise RecordError(errors)
    return clean


def _json_changes(et, changes: dict) -> dict:
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
    clean = _validate(request, et, None, data, source)
    record = et.model()
    uid = _user_id(request)
    for name, value in clean.items():
        values.write_value(et, et.fields[name], record, value)
    if "owner_id" not in clean:
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
    customfields.sync_record(request, et, record, clean)
    history.record_change(request, et, record, "create", _json_changes(et, changes), source)
    db.flush()
    hook.kyklos_record_after_save(
        request=request,
        entity_type=et,
        record=record,
        changes=changes,
        created=True,
        source=source,
    )
    return record


def _check_version(request, et, record, expected_version) -> None:
    if expected_version is not None and record.version != expected_version:
        changes = history.changes_since(request, et, record.id, expected_version)
        raise StaleRecord(record, expected_version, changes)


def _apply_update(request, et, record, clean: dict, source: str) -> dict:
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
    record.updated_by_id = _user_id(request)
    expected = record.version
    try:
        request.dbsession.flush()
    except StaleDataError:
        # Another transaction wrote the row between our read and this UPDATE.
        request.dbsession.expire(record)
        raise StaleRecord(record, expected) from None
    customfields.sync_record(request, et, record, changes)
    history.record_change(request, et, record, "update", _json_changes(et, changes), source)
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
    _check_version(request, et, record, expected_version)
    clean = _validate(request, et, record, data, source)
    _apply_update(request, et, record, clean, source)
    return record


def delete_record(request, et, record, source: str = "api", expected_version=None) -> None:
    """Delete ``record``: soft (restorable) when the type has ``deleted_at``."""
    _require(request, et, "delete")
    if not rules.can_access(request, et, record, "delete"):
        raise HTTPForbidden()
    _check_version(request, et, record, expected_version)
    hook = request.registry.kyklos_pm.hook
    hook.kyklos_record_before_delete(request=request, entity_type=et, record=record, source=source)
    db = request.dbsession
    soft = et.soft_delete
    if soft:
        now = utcnow()
        record.deleted_at = now
        record.updated_by_id = _user_id(request)
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
    record.updated_by_id = _user_id(request)
    request.dbsession.flush()
    history.record_change(request, et, record, "restore", _json_changes(et, changes), source)
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
            cleaned.append((r, _validate(request, et, r, data, source)))
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
            if _apply_update(request, et, r, clean, source):
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

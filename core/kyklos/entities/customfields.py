"""Custom fields: administrators add fields to any entity type at run time.

Storage (see docs/custom-fields.md):

- definitions live in ``kyklos_custom_field``; values in the record's own ``custom`` JSON
  column (one read, no join per field);
- fields flagged ``filterable`` (and ``unique`` ones) are mirrored into the typed table
  ``kyklos_custom_value`` (``v_text``/``v_num``/``v_date``/``v_bool``) with composite
  indexes ``(field_id, v_x, record_id)``, written in the same transaction as the record;
  a filter compiles to ``id IN (SELECT record_id ... WHERE field_id = ? AND v_x <op> ?)``,
  an index range scan on both databases;
- ``unique`` fields fill ``unique_key``; a unique index on ``(field_id, unique_key)``
  guards against races (NULLs never collide).

The definitions are merged into each :class:`~kyklos.entities.EntityType`'s ``fields``
(a new dict swapped in atomically), so validation, serialisation, forms, list columns,
filters, OpenAPI and field-level permissions treat custom fields like built-in ones.
Each process re-reads definitions when it wrote them itself, and otherwise checks a
cheap stamp (row count and latest ``updated_at``) at most every
``kyklos.customfields.check_seconds`` (default 5) so other processes see changes.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from pyramid.threadlocal import get_current_request
from sqlalchemy import (
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    not_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column
from translationstring import TranslationString

from kyklos.db import (
    Base,
    IdMixin,
    JSONType,
    TimestampMixin,
    UTCDateTime,
    bulk_insert,
    ci_contains,
)
from kyklos.entities import FieldInfo
from kyklos.entities import money as m
from kyklos.i18n import _

#: field types an administrator may choose, with their titles
TYPES = {
    "string": _("Text"),
    "text": _("Long text"),
    "integer": _("Integer"),
    "decimal": _("Decimal"),
    "money": _("Money"),
    "date": _("Date"),
    "datetime": _("Date and time"),
    "boolean": _("Yes/no"),
    "choice": _("Single choice"),
    "multichoice": _("Multiple choice"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "url": _("URL"),
    "reference": _("Reference to a record"),
}
#: types that cannot be mirrored (long text is not indexed: use search instead)
UNFILTERABLE = frozenset({"text"})
TEXT_KIND = frozenset({"string", "email", "phone", "url", "choice", "multichoice"})
NUM_KIND = frozenset({"integer", "decimal", "money", "reference"})
DATE_KIND = frozenset({"date", "datetime"})
NAME_RE = re.compile(r"^cf_[a-z][a-z0-9_]{0,58}$")
MAX_FIELDS = 200
MAX_CHOICES = 500
MIRROR_TEXT = 1000
STRING_LENGTH = 255
TEXT_LENGTH = 10_000


class CustomField(IdMixin, TimestampMixin, Base):
    """The definition of one custom field of an entity type."""

    __tablename__ = "kyklos_custom_field"
    __table_args__ = (UniqueConstraint("entity", "name"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(63), nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    #: {"en": "Shoe size", "el": "Νούμερο παπουτσιού"}
    label: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    help: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    required: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    default: Mapped[object] = mapped_column(JSONType, nullable=True)
    unique: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: [{"value": "gold", "label": {"en": "Gold"}}, ...]
    choices: Mapped[list | None] = mapped_column(JSONType, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=100)
    filterable: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class CustomValue(IdMixin, Base):
    """The typed, indexed mirror of a filterable or unique custom field's value."""

    __tablename__ = "kyklos_custom_value"
    __table_args__ = (
        Index("ix_kyklos_custom_value_text", "field_id", "v_text", "record_id"),
        Index("ix_kyklos_custom_value_num", "field_id", "v_num", "record_id"),
        Index("ix_kyklos_custom_value_date", "field_id", "v_date", "record_id"),
        Index("ix_kyklos_custom_value_bool", "field_id", "v_bool", "record_id"),
        Index("ix_kyklos_custom_value_record", "entity", "record_id"),
        UniqueConstraint("field_id", "unique_key"),
    )

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    field_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_custom_field.id", ondelete="CASCADE"), nullable=False
    )
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    v_text: Mapped[str | None] = mapped_column(String(MIRROR_TEXT))
    v_num: Mapped[Decimal | None] = mapped_column(Numeric(38, 10))
    v_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    v_bool: Mapped[bool | None] = mapped_column(Boolean)
    unique_key: Mapped[str | None] = mapped_column(String(MIRROR_TEXT))


class Label(TranslationString):
    """A label given per language by an administrator: translated by the current
    request's locale (falling back to English, then to any language given)."""

    def __new__(cls, labels: dict):
        labels = {k: v for k, v in (labels or {}).items() if isinstance(v, str) and v}
        first = labels.get("en") or next(iter(labels.values()), "")
        self = TranslationString.__new__(cls, first, domain="kyklos-custom")
        self.labels = labels
        return self

    @property
    def default(self):
        request = get_current_request()
        lang = getattr(request, "locale_name", None) if request is not None else None
        return self.labels.get(lang) or str(self)

    @default.setter
    def default(self, _value):
        pass  # the base class sets it; ours is computed per request


@dataclass(frozen=True)
class Definition:
    """What the write path needs to know about a merged custom field."""

    id: int
    entity: str
    name: str
    type: str
    unique: bool
    filterable: bool

    @property
    def mirrored(self) -> bool:
        return self.filterable or self.unique


# --- the per-process cache ----------------------------------------------------------------


class _State:
    def __init__(self):
        self.lock = threading.Lock()
        self.static: dict[str, dict[str, FieldInfo]] = {}
        self.defs: dict[str, dict[str, Definition]] = {}
        self.stamp = None
        self.checked = 0.0
        self.dirty = True


def _state(registry) -> _State:
    st = getattr(registry, "kyklos_custom_state", None)
    if st is None:
        st = registry.kyklos_custom_state = _State()
    return st


def invalidate(registry) -> None:
    """Re-read definitions on the next request (after a change in this process)."""
    _state(registry).dirty = True


def _stamp(db):
    n, latest = db.execute(select(func.count(), func.max(CustomField.updated_at))).one()
    return n, latest


def field_info(d: CustomField, registry=None) -> FieldInfo:
    choices = None
    if d.type in ("choice", "multichoice"):
        choices = [
            (c["value"], Label(c.get("label") or {"en": c["value"]})) for c in d.choices or ()
        ]
    length = {"string": STRING_LENGTH, "text": TEXT_LENGTH, "phone": 50, "email": 254}.get(d.type)
    if d.type == "url":
        length = 2000
    return FieldInfo(
        name=d.name,
        title=Label(d.label or {"en": d.name}),
        type=d.type,
        required=bool(d.required),
        max_length=length,
        choices=choices,
        reference=d.reference if d.type == "reference" else None,
        filterable=bool(d.filterable) and d.type not in UNFILTERABLE,
        sortable=bool(d.filterable) and d.type not in UNFILTERABLE | {"multichoice", "money"},
        searchable=False,
        custom=True,
        description=Label(d.help) if d.help else "",
        default=d.default,
    )


def refresh(registry, db, force: bool = False) -> None:
    """Merge the active definitions into the entity types when they changed."""
    st = _state(registry)
    entities = registry.kyklos_entities
    now = time.monotonic()
    interval = float(registry.settings.get("kyklos.customfields.check_seconds", 5))
    if not (force or st.dirty or now - st.checked >= interval):
        return
    with st.lock:
        stamp = _stamp(db)
        st.checked = now
        if not force and not st.dirty and stamp == st.stamp:
            return
        rows = db.execute(
            select(CustomField)
            .where(CustomField.active.is_(True))
            .order_by(CustomField.position, CustomField.id)
        ).scalars().all()
        by_entity: dict[str, list] = {}
        for d in rows:
            by_entity.setdefault(d.entity, []).append(d)
        defs: dict[str, dict[str, Definition]] = {}
        for name, et in entities.items():
            static = st.static.setdefault(name, dict(et.fields))
            merged = dict(static)
            defs[name] = {}
            for d in by_entity.get(name, ()):
                if d.name in static:
                    continue  # a built-in field always wins (names differ by the cf_ prefix)
                merged[d.name] = field_info(d, registry)
                defs[name][d.name] = Definition(
                    d.id, d.entity, d.name, d.type, bool(d.unique),
                    bool(d.filterable) and d.type not in UNFILTERABLE,
                )
            et.fields = merged  # one assignment: readers see the old or the new dict
        st.defs = defs
        st.stamp = stamp
        st.dirty = False


def definitions(registry, entity: str) -> dict[str, Definition]:
    return _state(registry).defs.get(entity, {})


def static_fields(registry, et) -> dict[str, FieldInfo]:
    return _state(registry).static.get(et.name, et.fields)


def _on_new_request(event):
    request = event.request
    if request.path_info.startswith("/static") or "/static/" in request.path_info[:40]:
        return
    refresh(request.registry, request.dbsession)


# --- the mirror -----------------------------------------------------------------------------


def _as_datetime(value) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None


def mirror_rows(d: Definition, record_id: int, value) -> list[dict]:
    """The mirror rows for one value (a multiple choice has one row per chosen code)."""
    if value is None or value == [] or value == "":
        return []
    base = {"entity": d.entity, "field_id": d.id, "record_id": record_id,
            "v_text": None, "v_num": None, "v_date": None, "v_bool": None, "unique_key": None}
    out = []
    if d.type == "multichoice":
        for v in value:
            out.append({**base, "v_text": str(v)[:MIRROR_TEXT]})
        return out
    row = dict(base)
    if d.type in TEXT_KIND or d.type == "text":
        row["v_text"] = str(value)[:MIRROR_TEXT]
    elif d.type in NUM_KIND:
        row["v_num"] = value.amount if isinstance(value, m.Money) else Decimal(value)
    elif d.type in DATE_KIND:
        row["v_date"] = _as_datetime(value)
    elif d.type == "boolean":
        row["v_bool"] = bool(value)
    if d.unique:
        row["unique_key"] = unique_key(d, value)
    return [row]


def unique_key(d: Definition, value) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, m.Money):
        return f"{value.amount}:{value.currency}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    text = str(value)
    if d.type in ("email", "string", "url", "choice"):
        text = text.strip().casefold()
    return text[:MIRROR_TEXT]


def check_unique(request, et, record, clean: dict, errors: dict) -> None:
    """Refuse values of unique custom fields already held by another record."""
    defs = definitions(request.registry, et.name)
    exclude = record.id if record is not None else None
    for name, value in clean.items():
        d = defs.get(name)
        if d is None or not d.unique or name in errors:
            continue
        key = unique_key(d, value)
        if key is not None and taken_keys(request.dbsession, d, {key}, exclude):
            errors[name] = _("This value is already used by another record.")


def taken_keys(db, d: Definition, keys, exclude_id: int | None = None) -> set[str]:
    """Which of the unique ``keys`` of field ``d`` a record other than ``exclude_id``
    holds already: one query for any number of keys (an import batch)."""
    if not keys:
        return set()
    stmt = select(CustomValue.unique_key).where(
        CustomValue.field_id == d.id, CustomValue.unique_key.in_(sorted(keys))
    )
    if exclude_id is not None:
        stmt = stmt.where(CustomValue.record_id != exclude_id)
    return set(db.execute(stmt).scalars())


def sync_record(request, et, record, names) -> None:
    """Rewrite the mirror rows of ``record`` for the mirrored fields in ``names``."""
    from kyklos.entities import values

    defs = definitions(request.registry, et.name)
    mirrored = [defs[n] for n in names if n in defs and defs[n].mirrored]
    if not mirrored:
        return
    db = request.dbsession
    db.execute(
        delete(CustomValue).where(
            CustomValue.record_id == record.id,
            CustomValue.field_id.in_([d.id for d in mirrored]),
        )
    )
    rows = []
    for d in mirrored:
        value = values.read_value(et, et.fields[d.name], record)
        rows += mirror_rows(d, record.id, value)
    if rows:
        db.execute(insert(CustomValue), rows)


def forget_record(request, et, record_id: int) -> None:
    """Drop the mirror rows of a record deleted for good."""
    request.dbsession.execute(
        delete(CustomValue).where(
            CustomValue.entity == et.name, CustomValue.record_id == record_id
        )
    )


def rebuild_mirror(db, registry, et, d: CustomField, batch: int = 1000) -> int:
    """Fill the mirror of field ``d`` from the records' JSON (after it becomes filterable
    or unique). Returns the number of rows written; raises ``ValueError`` when existing
    values break a new uniqueness rule."""
    from kyklos.entities import values

    db.execute(delete(CustomValue).where(CustomValue.field_id == d.id))
    defn = Definition(d.id, d.entity, d.name, d.type, bool(d.unique), bool(d.filterable))
    if not defn.mirrored:
        return 0
    info = field_info(d)
    model = et.model
    last, written, seen = 0, 0, {}
    while True:
        chunk = db.execute(
            select(model.id, model.custom).where(model.id > last).order_by(model.id).limit(batch)
        ).all()
        if not chunk:
            return written
        rows = []
        for rid, doc in chunk:
            value = values.from_json(info, (doc or {}).get(d.name))
            for row in mirror_rows(defn, rid, value):
                key = row["unique_key"]
                if key is not None:
                    if key in seen:
                        raise ValueError(f"records {seen[key]} and {rid} share {key!r}")
                    seen[key] = rid
                rows.append(row)
        if rows:
            bulk_insert(db, CustomValue.__table__, rows)
        written += len(rows)
        last = chunk[-1][0]


def fill_mirror_batch(conn, et, d: Definition, info: FieldInfo, after_id: int, seen: dict,
                      batch: int = 1000) -> tuple[int | None, int, int]:
    """Mirror field ``d`` for the next ``batch`` records after ``after_id``, in the
    caller's transaction on the Core connection ``conn`` (the background fill commits
    batch by batch, so SQLite's write lock is held for one batch, not the whole table).

    The batch's old mirror rows are deleted first (on SQLite that takes the write lock
    before the values are read) and the records are read ``FOR UPDATE`` on PostgreSQL,
    so a record the record service writes meanwhile ends up mirrored once, from its
    latest value. ``seen`` (unique key -> record id) carries across batches; a shared
    value raises ``ValueError``. Returns ``(last id or None when no record is left,
    records read, rows written)``."""
    from kyklos.entities import values

    model = et.model
    ids = conn.execute(
        select(model.id).where(model.id > after_id).order_by(model.id).limit(batch)
    ).scalars().all()
    if not ids:
        return None, 0, 0
    last = ids[-1]
    conn.execute(
        delete(CustomValue).where(
            CustomValue.field_id == d.id,
            CustomValue.record_id > after_id,
            CustomValue.record_id <= last,
        )
    )
    stmt = select(model.id, model.custom).where(model.id > after_id, model.id <= last)
    if conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    rows = []
    n = 0
    for rid, doc in conn.execute(stmt):
        n += 1
        value = values.from_json(info, (doc or {}).get(d.name))
        for row in mirror_rows(d, rid, value):
            key = row["unique_key"]
            if key is not None:
                if seen.setdefault(key, rid) != rid:
                    raise ValueError(f"records {seen[key]} and {rid} share {key!r}")
            rows.append(row)
    if rows:
        bulk_insert(conn, CustomValue.__table__, rows)
    return last, n, len(rows)


# --- filters --------------------------------------------------------------------------------


def _mirror_column(d: Definition):
    if d.type in NUM_KIND:
        return CustomValue.v_num
    if d.type in DATE_KIND:
        return CustomValue.v_date
    if d.type == "boolean":
        return CustomValue.v_bool
    return CustomValue.v_text


def _mirror_value(d: Definition, value):
    if isinstance(value, list):
        return [_mirror_value(d, v) for v in value]
    if d.type in DATE_KIND:
        return _as_datetime(value)
    if d.type in NUM_KIND and value is not None and not isinstance(value, bool):
        return Decimal(value.amount if isinstance(value, m.Money) else value)
    return value


def filter_condition(registry, et, f: FieldInfo, op: str, value):
    """The SQL condition of a list filter on a mirrored custom field, or ``None`` when
    ``f`` is not mirrored."""
    d = definitions(registry, et.name).get(f.name)
    if d is None or not d.filterable:
        return None
    col = _mirror_column(d)
    ids = select(CustomValue.record_id).where(CustomValue.field_id == d.id)
    if op == "isnull":
        return not_(et.model.id.in_(ids)) if value else et.model.id.in_(ids)
    value = _mirror_value(d, value)
    if d.type == "multichoice":
        wanted = value if isinstance(value, list) else [value]
        return et.model.id.in_(ids.where(col.in_(wanted)))
    if d.type == "date" and op in ("eq", "ne", "in"):
        pass  # midnight UTC stands for the day on both sides
    conds = {
        "eq": lambda: col == value,
        "ne": lambda: col == value,
        "lt": lambda: col < value,
        "lte": lambda: col <= value,
        "gt": lambda: col > value,
        "gte": lambda: col >= value,
        "in": lambda: col.in_(value),
        "between": lambda: and_(col >= value[0], col <= value[1]),
        "contains": lambda: ci_contains(col, value),
        "startswith": lambda: ci_contains(col, value, start=True),
    }
    if op not in conds:
        raise ValueError(op)
    inner = et.model.id.in_(ids.where(conds[op]()))
    # "not equal" includes records without a value, like the built-in filters
    return not_(inner) if op == "ne" else inner


def includeme(config):
    from pyramid.events import NewRequest

    config.add_subscriber(_on_new_request, NewRequest)
    config.declare_permission("kyklos.customfields.manage", "Manage custom fields")
    config.include(".customfields_views")

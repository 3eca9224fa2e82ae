"""List queries: allow-listed filters and sort keys, keyset pagination, capped counts.

Query-string syntax (``parse_list_params``)::

    <field>=v                 equal (same as <field>__eq=v)
    <field>__<op>=v           op in eq ne lt lte gt gte in contains startswith isnull between
    <relation>.<field>__<op>  a field of a related entity, where the type declares it
    sort=-size,name           sort keys (a leading "-" sorts descending)
    cursor=...                the ``next_cursor`` of the previous page
    limit=50                  1..200 (default: setting kyklos.list.page_size)
    fields=a,b                projection (id and version are always included)
    q=text                    free text over the type's searchable fields
    count=capped|exact|none   capped (default) stops counting at kyklos.list.count_cap
    deleted=exclude|include|only   soft-deleted records

``in`` and ``between`` take comma-separated values; ``isnull`` takes true/false.
A date whose year may be unknown (a birthday) also takes ``annual``: days of the year,
``MM-DD,MM-DD`` or a month, in any year (see :mod:`kyklos.entities.annual`).
Anything not allow-listed is a 400 naming the parameter, never SQL.

Pagination is keyset on (sort keys..., id): each page is an index range scan that costs
the same at any depth, and rows inserted meanwhile never shift a page. NULLs sort where
the database puts them (PostgreSQL: above every value, SQLite: below), so both can use
a plain index on the sort key.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import decimal
import hashlib
import hmac
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import Numeric, String, and_, cast, false, func, literal, or_, select, tuple_
from sqlalchemy.orm import lazyload, load_only

from kyklos.db import ci_contains
from kyklos.entities import FieldInfo, annual, children, customfields, values
from kyklos.entities.service import field_access, visible_select
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.settings import asint

OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "in", "contains", "startswith", "isnull", "between")
RESERVED = ("sort", "cursor", "limit", "fields", "q", "count", "deleted")
#: tag filters (kyklos.entities.tags): records with any / every one of the named tags
TAG_PARAMS = ("tags__in", "tags__all")
#: parameters other parts of the app read from every request (the locale switch)
IGNORED = frozenset({"_LOCALE_"})
MAX_LIMIT = 200
MAX_IN = 100
MAX_SORT_KEYS = 4
MAX_CURSOR = 2000
MAX_VALUE = 1000
MAX_Q_WORDS = 5
STRING_OPS = ("contains", "startswith")
RANGE_OPS = ("lt", "lte", "gt", "gte", "between")
_INT_RE = re.compile(r"^-?\d{1,19}$")


@dataclass
class Filter:
    field: str
    op: str
    value: object


@dataclass
class ListParams:
    filters: list[Filter] = field(default_factory=list)
    #: (field, descending) pairs; ``id`` is added as the last key when missing
    sort: list[tuple[str, bool]] = field(default_factory=list)
    cursor: str | None = None
    limit: int = 50
    fields: list[str] | None = None
    q: str | None = None
    count: str = "capped"  # "capped" | "exact" | "none"
    deleted: str = "exclude"  # "exclude" | "include" | "only"
    #: tag names (``tags__in``: any of them, ``tags__all``: every one); see entities.tags
    tags: list[str] = field(default_factory=list)
    tags_all: bool = False


@dataclass
class ListResult:
    items: list
    next_cursor: str | None
    count: int | None
    count_capped: bool


def ops_for(f: FieldInfo) -> tuple[str, ...]:
    """The filter operators a field type supports."""
    t = f.type
    if t == "multichoice":
        return ("contains", "in") if f.custom else ("contains", "in", "isnull")
    if t == "json" or (f.custom and t == "money"):
        return ("isnull",)
    if t == "boolean":
        return ("eq", "ne", "isnull")
    ops = ["eq", "ne", "in", "isnull"]
    if t in values.ORDERED_TYPES:
        ops += ["lt", "lte", "gt", "gte", "between"]
    if t in ("string", "text", "richtext", "email", "phone", "url"):
        ops += ["contains", "startswith"]
    return tuple(o for o in OPS if o in ops)


@dataclass(frozen=True)
class FilterPath:
    """A filterable path: ``field`` of this type, or ``field`` of ``target`` reached
    through this type's reference column ``via``."""

    path: str
    field: FieldInfo
    target: object = None  # the related EntityType
    via: str | None = None


def filter_paths(registry, et, readable=None, readable_of=None) -> dict[str, FilterPath]:
    """Every allow-listed filter path of ``et``, limited to readable fields when
    ``readable`` (and ``readable_of(target)`` for related types) are given."""
    out = {}
    for name in et.filterable:
        if readable is None or name in readable:
            out[name] = FilterPath(name, et.fields[name])
    for path, via in et.related_filters.items():
        rel, _sep, target_field = path.partition(".")
        ref = et.fields.get(via)
        target = registry.kyklos_entities.get(ref.reference) if ref is not None else None
        if target is None or target_field not in target.filterable:
            continue
        if readable is not None and via not in readable:
            continue
        if readable_of is not None and target_field not in readable_of(target):
            continue
        out[path] = FilterPath(path, target.fields[target_field], target, via)
    return out


def sort_keys(et, readable=None) -> list[str]:
    keys = [n for n in et.sortable if readable is None or n in readable]
    return keys if "id" in keys else keys + ["id"]


# --- parsing ----------------------------------------------------------------------------


class _Bad(ValueError):
    pass


def _parse_one(f: FieldInfo, text: str):
    """One query-string value for field ``f`` (never None)."""
    if len(text) > MAX_VALUE:
        raise _Bad(_("The value is too long."))
    try:
        values.check_text(text)
    except values.Invalid as exc:
        raise _Bad(exc.msg) from None
    t = f.type
    if t in ("integer", "reference"):
        if not _INT_RE.match(text):
            raise _Bad(_("Not an integer."))
        try:
            return values.parse_int(int(text))
        except values.Invalid as exc:
            raise _Bad(exc.msg) from None
    if t in ("decimal", "money"):
        try:
            value = Decimal(text)
        except decimal.InvalidOperation:
            raise _Bad(_("Not a number.")) from None
        if not value.is_finite() or abs(value) >= Decimal(10) ** 30:
            raise _Bad(_("Not a number."))
        return value
    if t == "boolean":
        low = text.lower()
        if low not in ("true", "false", "1", "0"):
            raise _Bad(_("Not true or false."))
        return low in ("true", "1")
    try:
        if t == "date":
            return values.parse_date(text)
        if t == "datetime":
            if len(text) == 10:  # a day means its midnight, UTC
                d = values.parse_date(text)
                return dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC)
            return values.parse_datetime(text)
    except values.Invalid as exc:
        raise _Bad(exc.msg) from None
    if (
        t in ("choice", "multichoice")
        and f.choices is not None
        and text not in {str(v) for v, _t in f.choices}
    ):
        raise _Bad(_("Not one of the allowed values."))
    return text


def _parse_filter_value(f: FieldInfo, op: str, text: str):
    if op == "isnull":
        low = text.lower()
        if low not in ("true", "false", "1", "0"):
            raise _Bad(_("Use true or false."))
        return low in ("true", "1")
    if op in ("in", "between"):
        parts = text.split(",")
        if op == "between" and len(parts) != 2:
            raise _Bad(_("Give two values separated by a comma."))
        if op == "in" and not 1 <= len(parts) <= MAX_IN:
            raise _Bad(_("Give 1 to ${n} values separated by commas.", mapping={"n": MAX_IN}))
        return [_parse_one(f, p) for p in parts]
    if op in STRING_OPS and not text:
        raise _Bad(_("Give a value."))
    return _parse_one(f, text)


def _parse_sort(et, text: str, allowed) -> list[tuple[str, bool]]:
    keys: list[tuple[str, bool]] = []
    parts = [p.strip() for p in text.split(",")]
    if not text or len(parts) > MAX_SORT_KEYS or any(not p for p in parts):
        raise _Bad(_("Give 1 to ${n} sort keys.", mapping={"n": MAX_SORT_KEYS}))
    for p in parts:
        desc = p.startswith("-")
        name = p[1:] if desc else p
        if name not in allowed:
            raise _Bad(_("Unknown sort key: ${key}", mapping={"key": name[:50]}))
        if any(k == name for k, _d in keys):
            continue  # a repeated key cannot change the order: the first one counts
        keys.append((name, desc))
    return keys


def default_sort(et) -> list[tuple[str, bool]]:
    return [(p.lstrip("-"), p.startswith("-")) for p in et.default_sort.split(",") if p]


def parse_list_params(request, et, params) -> ListParams:
    """Parse and check a list request's query arguments (a webob MultiDict).

    Raises :class:`kyklos.problem.Problem` (400) naming every bad parameter.
    """
    errors: dict[str, object] = {}
    readable, _writable = field_access(request, et)
    related: dict[str, FilterPath] | None = None

    def path_of(name: str) -> FilterPath | None:
        # ``filter_paths(...).get(name)``. A name without a dot can only be a field of
        # this type: the related types' field access is worked out only for a
        # ``relation.field`` filter.
        nonlocal related
        if "." not in name:
            f = et.fields.get(name)
            if f is not None and f.filterable and name in readable:
                return FilterPath(name, f)
            return None
        if related is None:
            related = filter_paths(
                request.registry, et, readable, lambda target: field_access(request, target)[0]
            )
        return related.get(name)

    settings = request.registry.settings
    lp = ListParams(limit=asint(settings, "kyklos.list.page_size"))
    seen: set[str] = set()
    for key, raw in params.items():
        if key in IGNORED:
            continue
        if key in seen:
            errors[key] = _("Given more than once.")
            continue
        seen.add(key)
        if not isinstance(raw, str):
            errors[key] = _("Not a text value.")
            continue
        try:
            if key in RESERVED:
                _reserved(request, et, lp, key, raw, readable)
                continue
            if key in TAG_PARAMS:
                _tags(lp, key, raw)
                continue
            name, sep, op = key.rpartition("__")
            if not sep:
                name, op = key, "eq"
            path = path_of(name)
            if path is None:
                raise _Bad(_("Unknown filter field: ${field}", mapping={"field": name[:50]}))
            if op == annual.OP and annual.applies(path.field):
                # days of the year (birthdays): a list filter only, see kyklos.entities.annual
                try:
                    lp.filters.append(Filter(name, op, annual.parse(raw)))
                except annual.Bad as exc:
                    raise _Bad(exc.args[0]) from None
                continue
            if op not in ops_for(path.field):
                raise _Bad(
                    _(
                        "Operator ${op} is not allowed here; use one of: ${ops}",
                        mapping={"op": op[:20], "ops": ", ".join(ops_for(path.field))},
                    )
                )
            lp.filters.append(Filter(name, op, _parse_filter_value(path.field, op, raw)))
        except _Bad as exc:
            errors[key[:100]] = exc.args[0]
    if not lp.sort:
        lp.sort = default_sort(et)
    if lp.cursor is not None and "cursor" not in errors:
        try:
            decode_cursor(request, et, lp)
        except _Bad as exc:
            errors["cursor"] = exc.args[0]
    if errors:
        raise Problem(400, _("Invalid list parameters"), errors=errors)
    return lp


def _tags(lp: ListParams, key: str, raw: str) -> None:
    from kyklos.entities.tags import clean_name

    names = [n for n in (clean_name(p) for p in raw.split(",")) if n]
    if not 1 <= len(names) <= MAX_IN:
        raise _Bad(_("Give 1 to ${n} tag names separated by commas.", mapping={"n": MAX_IN}))
    lp.tags = names
    lp.tags_all = key == "tags__all"


def _reserved(request, et, lp: ListParams, key: str, raw: str, readable) -> None:
    if key == "sort":
        lp.sort = _parse_sort(et, raw, set(sort_keys(et, readable)))
    elif key == "cursor":
        if not raw or len(raw) > MAX_CURSOR:
            raise _Bad(_("Invalid cursor."))
        lp.cursor = raw
    elif key == "limit":
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise _Bad(_("Give a number from 1 to ${n}.", mapping={"n": MAX_LIMIT}))
        lp.limit = int(raw)
    elif key == "fields":
        names = [n.strip() for n in raw.split(",")]
        unknown = [n for n in names if n not in readable or n not in et.fields]
        if not raw or unknown:
            raise _Bad(_("Unknown fields: ${names}", mapping={"names": ", ".join(unknown)[:200]}))
        lp.fields = list(dict.fromkeys(names))
    elif key == "q":
        if len(raw) > 200:
            raise _Bad(_("At most 200 characters."))
        try:
            values.check_text(raw)
        except values.Invalid as exc:
            raise _Bad(exc.msg) from None
        if not [n for n in et.searchable if n in readable]:
            raise _Bad(_("This list has no free-text search."))
        lp.q = raw.strip() or None
    elif key == "count":
        if raw not in ("capped", "exact", "none"):
            raise _Bad(_("Use capped, exact or none."))
        lp.count = raw
    elif key == "deleted":
        if raw not in ("exclude", "include", "only"):
            raise _Bad(_("Use exclude, include or only."))
        if raw != "exclude" and not et.soft_delete:
            raise _Bad(_("Records of this type are deleted for good."))
        lp.deleted = raw


# --- SQL --------------------------------------------------------------------------------


def _kind(f: FieldInfo) -> str:
    if f.type in ("integer", "reference"):
        return "int"
    if f.type in ("decimal", "money"):
        return "decimal"
    if f.type == "boolean":
        return "bool"
    if not f.custom and f.type in ("date", "datetime"):
        return f.type
    return "str"  # custom dates live in JSON as ISO strings, which sort correctly


def expr_of(et, f: FieldInfo):
    """The SQL expression of a field (a column, or a typed JSON path for custom ones)."""
    if not f.custom:
        return getattr(et.model, f.name)
    item = et.model.custom[f.name]
    kind = _kind(f)
    if kind == "int":
        return item.as_integer()
    if kind == "bool":
        return item.as_boolean()
    if kind == "decimal":
        return cast(item.as_string(), Numeric(38, 10))
    return item.as_string()


def _custom_value(f: FieldInfo, value):
    # Custom values are compared in their stored JSON form.
    if f.custom and _kind(f) == "str" and not isinstance(value, str):
        return values.to_json(f, value)
    return value


def _has_choice(expr, value: str):
    # A multichoice value is a JSON array of choice codes (never containing quotes):
    # its text form contains '"code"' exactly when the array holds that code, on both
    # databases, without JSON functions that differ between them.
    return cast(expr, String).contains(json.dumps(value), autoescape=True)


def _condition(expr, f: FieldInfo, op: str, value):
    if op == annual.OP:
        return annual.condition(expr, value)
    if f.type == "multichoice" and op in ("contains", "in"):
        wanted = value if isinstance(value, list) else [value]
        return or_(*[_has_choice(expr, v) for v in wanted])
    if f.type == "multichoice" and op == "isnull":
        return (
            or_(expr.is_(None), cast(expr, String).in_(["[]", "null"]))
            if value
            else and_(expr.is_not(None), cast(expr, String).not_in(["[]", "null"]))
        )
    value = (
        [_custom_value(f, v) for v in value] if isinstance(value, list) else _custom_value(f, value)
    )
    if op == "eq":
        return expr == value
    if op == "ne":
        return or_(expr != value, expr.is_(None))
    if op == "lt":
        return expr < value
    if op == "lte":
        return expr <= value
    if op == "gt":
        return expr > value
    if op == "gte":
        return expr >= value
    if op == "in":
        return expr.in_(value)
    if op == "between":
        return expr.between(value[0], value[1])
    if op == "contains":
        return ci_contains(expr, value)
    if op == "startswith":
        return ci_contains(expr, value, start=True)
    if op == "isnull":
        return expr.is_(None) if value else expr.is_not(None)
    raise ValueError(op)


def _field_condition(request, et, f: FieldInfo, op: str, value):
    # A mirrored custom field filters through its indexed value table, unless a job is
    # still filling it (then the records' JSON answers, slower but complete).
    if f.custom and not _indexing(request, et, f):
        mirrored = customfields.filter_condition(request.registry, et, f, op, value)
        if mirrored is not None:
            return mirrored
    if op == annual.OP and f.day_of_year:
        return annual.condition(expr_of(et, f), value, md=getattr(et.model, f.day_of_year))
    return _condition(expr_of(et, f), f, op, value)


def _indexing(request, et, f: FieldInfo) -> bool:
    d = customfields.definitions(request.registry, et.name).get(f.name)
    if d is None or not d.filterable:
        return False
    from kyklos.entities.customfields_views import indexing

    return d.id in indexing(request)


def path_condition(request, et, path: FilterPath, op: str, value):
    """The SQL condition of one parsed filter on an allow-listed ``path``."""
    if path.target is None:
        return _field_condition(request, et, path.field, op, value)
    target = path.target
    # The related records must be visible to the user: a filter on a hidden
    # account's fields would otherwise reveal them one guess at a time.
    inner = (
        visible_select(request, target)
        .with_only_columns(target.model.id)
        .where(_field_condition(request, target, path.field, op, value))
    )
    return getattr(et.model, path.via).in_(inner)


def _where(request, et, lp: ListParams) -> list:
    paths = filter_paths(request.registry, et)
    conds = []
    for flt in lp.filters:
        path = paths.get(flt.field)
        allowed = path is not None and (
            flt.op in ops_for(path.field) or (flt.op == annual.OP and annual.applies(path.field))
        )
        if not allowed:
            raise Problem(400, _("Invalid list parameters"), errors={flt.field: _("Unknown.")})
        conds.append(path_condition(request, et, path, flt.op, flt.value))
    if lp.q:
        conds.extend(q_conditions(request, et, lp))
    if lp.tags:
        from kyklos.entities.tags import tag_filter_clause

        conds.append(tag_filter_clause(et, lp.tags, lp.tags_all))
    if lp.deleted == "only" and et.soft_delete:
        conds.append(et.model.deleted_at.is_not(None))
    return conds


def q_words(q: str) -> list[str]:
    """The words of a list's free text: each must occur (case-insensitively) in some
    searchable field."""
    return [w[:100] for w in q.split()[:MAX_Q_WORDS]]


def q_like_conditions(request, et, lp: ListParams) -> list:
    """``?q=`` as a ``LIKE`` per word over the readable searchable columns: a scan of
    the type's rows. Used only where the search index cannot answer for the user (see
    :func:`q_conditions`)."""
    readable, _w = field_access(request, et)
    # a JSON field of texts per language is not a column a LIKE can read on both
    # databases (stored with escapes); only the index searches it
    fields = [et.fields[n] for n in et.searchable if n in readable and et.fields[n].type != "json"]
    if not fields:
        return [false()]
    return [or_(*[ci_contains(expr_of(et, f), word) for f in fields]) for word in q_words(lp.q)]


def q_uses_index(request, et, lp: ListParams) -> bool:
    """Whether the search index may answer this list's ``?q=``: it holds the text of
    every searchable field of live records, so it answers exactly when the user may
    read all of them (a hidden field must not be findable one guess at a time) and
    every one is indexed as text; soft-deleted records are not in it."""
    from kyklos.entities.search import is_text_field

    if lp.deleted != "exclude" or not et.searchable:
        return False
    readable, _w = field_access(request, et)
    return all(
        n in readable and n in et.fields and is_text_field(et.fields[n]) for n in et.searchable
    )


def q_conditions(request, et, lp: ListParams) -> list:
    """The criteria of a list's ``?q=``: through the global search's index (trigram
    GIN on PostgreSQL, FTS5 trigrams on SQLite) as ``id IN (matching rows)``, inside the
    list's one statement with its record rules, or the ``LIKE`` scan when the index may
    not answer (:func:`q_uses_index`)."""
    if not q_uses_index(request, et, lp):
        return q_like_conditions(request, et, lp)
    from kyklos.entities.search import list_match

    dialect = request.dbsession.get_bind().dialect.name
    return [et.model.id.in_(list_match(dialect, et.name, q_words(lp.q)))]


def _keys(et, lp: ListParams) -> list[tuple[str, bool]]:
    keys = []
    for name, desc in lp.sort:
        keys.append((name, desc))
        if name == "id":
            break  # id is unique: later keys could never matter
    if all(name != "id" for name, _d in keys):
        keys.append(("id", keys[0][1] if keys else False))
    return keys


def _nullable(et, f: FieldInfo) -> bool:
    col = values.column_of(et, f)
    return col is None or bool(col.nullable)


def _keyset(et, keys, vals, nulls_high: bool):
    """Rows strictly after ``vals`` in the order ``keys`` (see the module docstring)."""
    parts = [(expr_of(et, et.fields[n]), desc, _nullable(et, et.fields[n])) for n, desc in keys]

    def nulls_after(desc):
        return nulls_high != desc

    def eq(expr, v):
        return expr.is_(None) if v is None else expr == v

    def after(expr, desc, nullable, v):
        if v is None:
            return false() if nulls_after(desc) else expr.is_not(None)
        cmp = expr < v if desc else expr > v
        return or_(cmp, expr.is_(None)) if nullable and nulls_after(desc) else cmp

    uniform = len({d for _e, d, _n in parts}) == 1 and all(v is not None for v in vals)
    if uniform:
        # One row-value comparison: an index range scan on (key, id) on both databases.
        desc = parts[0][1]
        exprs = [e for e, _d, _n in parts]
        if len(exprs) == 1:
            main = exprs[0] < vals[0] if desc else exprs[0] > vals[0]
        else:
            # Typed literals: the column types' bind processing (UTC datetimes) applies.
            lhs = tuple_(*exprs)
            rhs = tuple_(*[literal(v, e.type) for e, v in zip(exprs, vals, strict=True)])
            main = lhs < rhs if desc else lhs > rhs
        extra = [
            and_(
                *[eq(e, v) for (e, _d, _n), v in zip(parts[:i], vals[:i], strict=True)],
                parts[i][0].is_(None),
            )
            for i in range(len(parts))
            if parts[i][2] and nulls_after(desc)
        ]
        return or_(main, *extra) if extra else main
    ors = []
    for i, (expr, desc, nullable) in enumerate(parts):
        prefix = [eq(e, v) for (e, _d, _n), v in zip(parts[:i], vals[:i], strict=True)]
        ors.append(and_(*prefix, after(expr, desc, nullable, vals[i])))
    return or_(*ors)


def _order(et, keys):
    out = []
    for name, desc in keys:
        expr = expr_of(et, et.fields[name])
        out.append(expr.desc() if desc else expr.asc())
    return out


# --- cursors ----------------------------------------------------------------------------


def _signature(keys) -> str:
    return ",".join(("-" if d else "") + n for n, d in keys)


def _mac(request, payload: bytes) -> str:
    secret = (request.registry.settings.get("kyklos.secret") or "kyklos").encode()
    digest = hmac.new(secret, b"cursor:" + payload, hashlib.sha256).digest()[:12]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _cursor_json(f: FieldInfo, value):
    if value is None:
        return None
    kind = _kind(f)
    if kind == "decimal":
        return str(value)
    if kind in ("date", "datetime"):
        return values.to_json(f, value)
    return value


def encode_cursor(request, et, keys, record) -> str:
    vals = []
    for name, _desc in keys:
        f = et.fields[name]
        if f.custom:
            raw = (record.custom or {}).get(name)
            value = raw if _kind(f) != "str" or raw is None else values.to_json(f, raw)
        else:
            value = getattr(record, name)
        vals.append(_cursor_json(f, value))
    payload = json.dumps({"s": _signature(keys), "v": vals}, separators=(",", ":")).encode()
    body = base64.urlsafe_b64encode(payload).decode().rstrip("=")
    return f"{body}.{_mac(request, payload)}"


def _from_cursor_json(f: FieldInfo, raw):
    kind = _kind(f)
    if kind == "int" and isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if kind == "bool" and isinstance(raw, bool):
        return raw
    if isinstance(raw, str):
        try:
            if kind == "decimal":
                v = Decimal(raw)
                if v.is_finite():
                    return v
            elif kind == "date":
                return dt.date.fromisoformat(raw)
            elif kind == "datetime":
                v = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
                if v.tzinfo is not None:
                    return v
            elif kind == "str":
                return raw
        except (ValueError, decimal.InvalidOperation):
            pass
    raise _Bad(_("Invalid cursor."))


def decode_cursor(request, et, lp: ListParams) -> list | None:
    """The sort-key values a cursor carries. Raises ``_Bad`` for anything but a cursor
    this server issued for the same sort order."""
    if lp.cursor is None:
        return None
    keys = _keys(et, lp)
    body, dot, mac = lp.cursor.partition(".")
    # a cursor the server issued is ASCII (base64 and hex): anything else is not one
    if not dot or len(lp.cursor) > MAX_CURSOR or not lp.cursor.isascii():
        raise _Bad(_("Invalid cursor."))
    try:
        payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        if not hmac.compare_digest(mac, _mac(request, payload)):
            raise _Bad(_("Invalid cursor."))
        data = json.loads(payload)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise _Bad(_("Invalid cursor.")) from None
    if not isinstance(data, dict) or data.get("s") != _signature(keys):
        raise _Bad(_("This cursor belongs to another sort order."))
    vals = data.get("v")
    if not isinstance(vals, list) or len(vals) != len(keys):
        raise _Bad(_("Invalid cursor."))
    out = []
    for (name, _desc), raw in zip(keys, vals, strict=True):
        f = et.fields[name]
        out.append(None if raw is None and _nullable(et, f) else _from_cursor_json(f, raw))
    return out


# --- running ----------------------------------------------------------------------------


def _projection(et, lp: ListParams, keys):
    """``(options, children)``: the page statement's load options for ``lp.fields``
    (None: every column) and whether the page shows child collections."""
    if lp.fields is None:
        return None, True
    names = set(lp.fields) | {n for n, _d in keys} | {et.title_field}
    attrs = {"id", "version"}
    virtual = False
    for n in names:
        f = et.fields.get(n)
        if f is None or getattr(f, "virtual", False):
            virtual = virtual or f is not None
            continue  # a property: it loads what it needs itself
        if f.custom:
            attrs.add("custom")
        else:
            attrs.add(n)
            if f.currency_field:
                attrs.add(f.currency_field)
    if et.soft_delete:
        attrs.add("deleted_at")
    options = [load_only(*[getattr(et.model, a) for a in sorted(attrs)])]
    if not virtual:
        # Only virtual fields (properties) read child collections: without one in the
        # projection, the model's eager (selectin) loads would be queries for nothing.
        options.append(lazyload("*"))
    return options, virtual


#: value types ``values.to_json`` returns unchanged
_PLAIN = frozenset({str, int, bool, float, list, dict})
#: custom-field types whose stored JSON form is not already the API's form
_CUSTOM_CONVERTED = frozenset({"date", "datetime", "decimal", "money"})
_MISSING = object()
# plan kinds (see ``serializer``)
_COLUMN, _READ, _CUSTOM_PLAIN, _CUSTOM_CONVERT, _CUSTOM_DATE = range(5)


def _column_keys(model) -> frozenset:
    """Keys of the model's mapped column attributes (their loaded values live in the
    instance ``__dict__`` under the same key)."""
    from sqlalchemy import inspect

    return frozenset(p.key for p in inspect(model).column_attrs)


def _custom_date(raw):
    # ``values.to_json(f, values.from_json(f, raw))`` for a custom date field, inlined:
    # the same parse (invalid stored text gives None) and the same ISO form.
    if raw is None:
        return None
    try:
        return dt.date.fromisoformat(raw).isoformat()
    except (TypeError, ValueError):
        return None


def serializer(request, et, fields=None):
    """A function turning a record into exactly what ``service.serialize(request, et,
    record, fields)`` returns, with the per-field decisions (access, kind of value)
    taken once per list instead of once per cell."""
    readable, _writable = field_access(request, et)
    names = et.fields if fields is None else fields
    mapped = _column_keys(et.model)
    plan = []
    for name in names:
        if name in ("id", "version") or name not in readable:
            continue
        f = et.fields.get(name)
        if f is None:
            continue
        if f.custom:
            # Stored custom values are JSON already; only these types round-trip.
            if f.type == "date":
                kind = _CUSTOM_DATE
            elif f.type in _CUSTOM_CONVERTED:
                kind = _CUSTOM_CONVERT
            else:
                kind = _CUSTOM_PLAIN
        elif f.type == "money" or getattr(f, "virtual", False) or name not in mapped:
            kind = _READ
        else:
            kind = _COLUMN
        plan.append((name, kind, f))
    to_json, from_json, read_value = values.to_json, values.from_json, values.read_value
    plain = _PLAIN
    # The output keeps the plan's key order (the JSON is the same byte for byte): a
    # template dict holds the keys in order, each group of fields then fills its own.
    template = dict.fromkeys(["id", "version", *(name for name, _k, _f in plan)])
    columns = [(name, f) for name, kind, f in plan if kind == _COLUMN]
    # (``to_json`` turns a decimal field's int or float into a string)
    reads = [(name, f, f.type != "decimal") for name, kind, f in plan if kind == _READ]
    custom_plain = [name for name, kind, _f in plan if kind == _CUSTOM_PLAIN]
    custom_dates = [name for name, kind, _f in plan if kind == _CUSTOM_DATE]
    custom_other = [(name, f) for name, kind, f in plan if kind == _CUSTOM_CONVERT]
    has_custom = bool(custom_plain or custom_dates or custom_other)

    def one(record) -> dict:
        # A loaded column's value is in the instance dict under its key, which is what
        # the instrumented attribute returns; reading the dict skips that descriptor
        # call per cell. A missing key (expired, deferred) goes through getattr, which
        # loads it exactly as before.
        state = record.__dict__
        out = template.copy()
        out["id"] = record.id
        out["version"] = record.version
        for name, f in columns:
            v = state.get(name, _MISSING)
            if v is _MISSING:
                v = getattr(record, name)
            out[name] = v if v is None or type(v) in plain else to_json(f, v)
        for name, f, as_is in reads:
            v = read_value(et, f, record)
            # a property's list or string is JSON already (what ``to_json`` returns)
            out[name] = v if as_is and (v is None or type(v) in plain) else to_json(f, v)
        if has_custom:
            # what ``values.read_value`` reads for a custom field
            custom = record.custom or {}
            get = custom.get
            out.update(zip(custom_plain, map(get, custom_plain), strict=True))
            for name in custom_dates:
                out[name] = _custom_date(get(name))
            for name, f in custom_other:
                out[name] = to_json(f, from_json(f, get(name)))
        return out

    return one


def _base(request, et, lp: ListParams):
    """The visible, filtered records of the list, before cursor, order and limit."""
    return visible_select(request, et, "read", lp.deleted != "exclude").where(
        *_where(request, et, lp)
    )


def count(request, et, lp: ListParams, base=None) -> tuple[int | None, bool]:
    """``(count, capped)`` for the filtered list (without cursor). ``base``: the
    ``_base(request, et, lp)`` statement when the caller built it already (statements
    are immutable: the page query and the count share it instead of building the
    record-rule and filter criteria twice)."""
    if lp.count == "none":
        return None, False
    if base is None:
        base = _base(request, et, lp)
    ids = base.with_only_columns(et.model.id)
    db = request.dbsession
    if lp.count == "exact":
        return db.execute(select(func.count()).select_from(ids.subquery())).scalar_one(), False
    cap = asint(request.registry.settings, "kyklos.list.count_cap")
    n = db.execute(select(func.count()).select_from(ids.limit(cap + 1).subquery())).scalar_one()
    return min(n, cap), n > cap


def run_list(request, et, lp: ListParams) -> ListResult:
    """One page of records (ORM objects, projected to ``lp.fields`` when given), the
    cursor of the next page, and the count. Two statements, whatever the page size."""
    try:
        vals = decode_cursor(request, et, lp)
    except _Bad as exc:
        raise Problem(400, _("Invalid list parameters"), errors={"cursor": exc.args[0]}) from None
    keys = _keys(et, lp)
    base = _base(request, et, lp)
    stmt = base
    if vals is not None:
        nulls_high = request.dbsession.get_bind().dialect.name == "postgresql"
        stmt = stmt.where(_keyset(et, keys, vals, nulls_high))
    stmt = stmt.order_by(*_order(et, keys)).limit(lp.limit + 1)
    options, with_children = _projection(et, lp, keys)
    if options is not None:
        stmt = stmt.options(*options)
    if with_children:
        # the child collections come from plain Core selects after the page (below)
        stmt = stmt.options(*children.deferred_options(et.model))
    db = request.dbsession
    rows = list(db.execute(stmt).scalars())
    next_cursor = None
    if len(rows) > lp.limit:
        rows = rows[: lp.limit]
        next_cursor = encode_cursor(request, et, keys, rows[-1])
    if with_children:
        # read when a consumer first reads a collection (the API's serialiser does; a
        # list page without such a column, or a caller wanting ids, does not)
        children.attach_on_access(db, et.model, rows)
    n, capped = count(request, et, lp, base)
    return ListResult(rows, next_cursor, n, capped)


__all__ = [
    "OPS",
    "Filter",
    "ListParams",
    "ListResult",
    "count",
    "filter_paths",
    "ops_for",
    "parse_list_params",
    "path_condition",
    "run_list",
    "serializer",
    "sort_keys",
]

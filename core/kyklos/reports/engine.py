"""The report engine: a report specification checked against the allow-lists and the
viewer's rights, compiled to ONE grouped SQL statement, and its rows turned into words.

A specification (the API's JSON, and what a saved report keeps)::

    {"entity": "opportunity",
     "filters": {"stage_id": "3", "account.city__eq": "Athens"},  # the list's filters
     "segment": 12,                                 # optional: a saved segment's records
     "group_by": [{"field": "owner_id"},
                  {"field": "expected_close", "bucket": "month"}],     # 0 to 2
     "measures": [{"op": "count"}, {"op": "sum", "field": "amount"}],  # 1 to 4
     "currency": "EUR", "rates": "today" | "<a date field>",   # money measures
     "sort": "m0" | "-m0" | "d0" | "-d1",  "limit": 50, "chart": "bar"}

Everything a report may name comes from the entity type's declaration: its list
filters (``filters=``, ``related_filters``), its readable fields, its custom fields.
The record rules of the viewer narrow the rows (the list's own ``visible_select``);
their field permissions decide which fields may be filtered, grouped or summed, and a
field they cannot read is refused with a reason, never silently left out.
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    Numeric,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    null,
    select,
    true,
    type_coerce,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from webob.multidict import MultiDict

from kyklos.entities import FieldInfo, query, service
from kyklos.entities.money import ExchangeRate, base_currency, is_currency, precision
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.security import rules

BUCKETS = ("day", "week", "month", "quarter", "year")
OPS = ("count", "sum", "avg", "min", "max")
CHARTS = ("bar", "stacked", "line", "pie", "funnel")
#: field types a report may group by (besides date buckets)
GROUP_TYPES = frozenset({"choice", "reference", "boolean", "string", "integer", "email", "url"})
DATE_TYPES = frozenset({"date", "datetime"})
NUMBER_TYPES = frozenset({"integer", "decimal", "money"})
MAX_DIMS = 2
MAX_MEASURES = 4
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


# --- date buckets in the viewer's time zone ------------------------------------------------


class bucket_start(FunctionElement):
    """The first day (a date) of the day/week/month/quarter/year holding the value, in
    the time zone ``tz`` for date-times (stored as UTC). Compiled per database below."""

    type = Date()
    inherit_cache = True


@compiles(bucket_start, "postgresql")
def _bucket_pg(element, compiler, **kw):
    value, unit, tz, is_dt = list(element.clauses)
    v = compiler.process(value, **kw)
    if is_dt.value:
        # stored UTC without a zone: make it UTC, then the viewer's local time
        v = f"timezone({compiler.process(tz, **kw)}, timezone('UTC', CAST({v} AS TIMESTAMP)))"
    else:
        v = f"CAST({v} AS TIMESTAMP)"
    return f"CAST(date_trunc({compiler.process(unit, **kw)}, {v}) AS DATE)"


@compiles(bucket_start)
def _bucket_sqlite(element, compiler, **kw):
    value, unit, tz, is_dt = list(element.clauses)
    return (
        f"kyklos_bucket({compiler.process(value, **kw)}, {compiler.process(unit, **kw)}, "
        f"{compiler.process(tz, **kw)}, {1 if is_dt.value else 0})"
    )


def _first_day(day: dt.date, unit: str) -> dt.date:
    if unit == "week":
        return day - dt.timedelta(days=day.weekday())  # ISO weeks start on Monday
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    if unit == "year":
        return day.replace(month=1, day=1)
    return day


def sqlite_bucket(value, unit, tz, is_dt):
    """SQLite's ``kyklos_bucket``: the same answer as PostgreSQL's ``date_trunc`` in
    the zone (SQLite has no zones: Python's zoneinfo knows the daylight-saving days)."""
    if value is None:
        return None
    try:
        text = str(value)
        if is_dt:
            moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.UTC)
            day = moment.astimezone(ZoneInfo(tz)).date()
        else:
            day = dt.date.fromisoformat(text[:10])
    except (ValueError, KeyError):
        return None
    return _first_day(day, unit).isoformat()


#: SQLite's buckets of date-times: the zone's UTC offsets are tabulated over these years
#: (an offset change is found to the second); a value outside them, or a zone zoneinfo
#: does not know, goes to the Python ``kyklos_bucket``
SQL_TZ_YEARS = (1970, 2100)


@functools.lru_cache(maxsize=64)
def utc_offsets(tz: str) -> tuple[int, tuple[tuple[str, int], ...]]:
    """``(offset at the start, ((UTC moment, offset from that moment on), ...))`` of the
    zone ``tz`` over :data:`SQL_TZ_YEARS`, offsets in seconds, moments as SQLite stores
    them (``YYYY-MM-DD HH:MM:SS``). Offsets are sampled daily and each change is pinned
    to its second by bisection: zones change offset at most twice a year."""
    zone = ZoneInfo(tz)
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    def off(seconds: int) -> int:
        return int(dt.datetime.fromtimestamp(seconds, zone).utcoffset().total_seconds())

    start = int((dt.datetime(SQL_TZ_YEARS[0], 1, 1, tzinfo=dt.UTC) - epoch).total_seconds())
    end = int((dt.datetime(SQL_TZ_YEARS[1], 1, 1, tzinfo=dt.UTC) - epoch).total_seconds())
    first = prev = off(start)
    changes = []
    for t in range(start, end, 86_400):
        now = off(t + 86_400)
        if now == prev:
            continue
        lo, hi = t, t + 86_400  # off(lo) == prev, off(hi) == now
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if off(mid) == prev:
                lo = mid
            else:
                hi = mid
        moment = epoch + dt.timedelta(seconds=hi)
        changes.append((moment.strftime("%Y-%m-%d %H:%M:%S"), now))
        prev = now
    return first, tuple(changes)


def _sql_text(value: str):
    return literal_column("'" + value.replace("'", "''") + "'")


def _offset_modifier(value, first: int, changes) -> object:
    """The SQLite date modifier (``'+7200 seconds'``) of the offset in force at the
    stored UTC ``value``: a balanced tree of CASEs over the zone's changes, so a row
    costs about log2(changes) string comparisons in C instead of a Python call."""

    def mod(seconds: int):
        return _sql_text(f"{seconds:+d} seconds")

    offsets = [first, *(o for _m, o in changes)]
    moments = [m for m, _o in changes]

    def tree(lo: int, hi: int):
        # offsets[lo..hi] and the moments between them, moments[lo..hi-1]
        if lo == hi:
            return mod(offsets[lo])
        mid = (lo + hi) // 2
        return case((value < _sql_text(moments[mid]), tree(lo, mid)), else_=tree(mid + 1, hi))

    return tree(0, len(offsets) - 1)


@functools.lru_cache(maxsize=256)
def _column_modifier(column, tz: str):
    """:func:`_offset_modifier` of a table's column, built once per column and zone:
    the tree is some 500 immutable SQL elements, reused by every report on them."""
    first, changes = utc_offsets(tz)
    return _offset_modifier(column, first, changes)


def sqlite_bucket_expr(expr, unit: str, tz: str, is_dt: bool, stored: bool):
    """The first day of ``unit`` holding ``expr`` as SQL SQLite computes in C, the same
    answer as :func:`sqlite_bucket`. ``stored``: ``expr`` is a date-time column as the
    core stores it (``YYYY-MM-DD HH:MM:SS.ffffff``, UTC), compared as it is; other
    date-times (a custom field's ISO text) are normalised by ``datetime()`` first."""
    if not is_dt:
        value, mods = func.substr(expr, 1, 10), []
    else:
        try:
            first, changes = utc_offsets(tz)
        except (KeyError, ValueError, OSError):
            return bucket_start(expr, literal(unit), literal(tz), literal(True))
        if stored:
            value = expr
            mods = [_column_modifier(expr, tz)]
        else:
            value = func.datetime(expr)
            mods = [_offset_modifier(value, first, changes)]
    if unit == "quarter":
        month = cast(func.strftime(_sql_text("%m"), value, *mods), Integer)
        back = func.printf(_sql_text("-%d months"), (month - 1) % 3)
        day = func.date(value, *mods, _sql_text("start of month"), back)
    else:
        extra = {
            "day": [],
            "week": [_sql_text("-6 days"), _sql_text("weekday 1")],  # the Monday on or before
            "month": [_sql_text("start of month")],
            "quarter": [],
            "year": [_sql_text("start of year")],
        }[unit]
        day = func.date(value, *mods, *extra)
    if not is_dt:
        return type_coerce(day, Date())
    lo, hi = (f"{y:04d}-01-01" for y in SQL_TZ_YEARS)
    return type_coerce(
        case(
            (expr.is_(None), null()),
            (and_(value >= _sql_text(lo), value < _sql_text(hi)), day),
            else_=func.kyklos_bucket(expr, literal(unit), literal(tz), literal(1)),
        ),
        Date(),
    )


def prepare_connection(request) -> None:
    """Teach this SQLite connection ``kyklos_bucket`` (PostgreSQL has ``date_trunc``)."""
    conn = request.dbsession.connection()
    if conn.dialect.name != "sqlite":
        return
    raw = conn.connection.dbapi_connection
    raw.create_function("kyklos_bucket", 4, sqlite_bucket, deterministic=True)


# --- the specification -----------------------------------------------------------------------


@dataclass
class Dim:
    path: str
    fp: query.FilterPath
    bucket: str | None = None

    @property
    def field(self) -> FieldInfo:
        return self.fp.field


@dataclass
class Measure:
    op: str
    path: str | None = None
    fp: query.FilterPath | None = None

    @property
    def money(self) -> bool:
        return self.fp is not None and self.fp.field.type == "money"


@dataclass
class Spec:
    et: object
    filters: MultiDict
    lp: query.ListParams
    segment: int | None
    dims: list[Dim]
    measures: list[Measure]
    currency: str
    rates: str  # "today" or a date field of the type
    sort: str
    limit: int
    chart: str
    raw: dict = field(default_factory=dict)


def _t(request, text) -> str:
    return request.localizer.translate(text) if text is not None else ""


def reportable_types(request) -> list:
    """The entity types the user may read, by translated plural title."""
    out = [
        et
        for et in request.registry.kyklos_entities.values()
        if request.has_permission(et.permission("read"))
    ]
    return sorted(out, key=lambda et: _t(request, et.plural).casefold())


def all_paths(request, et) -> dict[str, query.FilterPath]:
    """Every field of the type and of the types its declared related filters reach
    (before the viewer's rights: refusals name the reason)."""
    out = {n: query.FilterPath(n, f) for n, f in et.fields.items()}
    registry = request.registry
    for path, via in et.related_filters.items():
        _rel, _sep, target_field = path.partition(".")
        ref = et.fields.get(via)
        target = registry.kyklos_entities.get(ref.reference) if ref is not None else None
        if target is None or target is et or target_field not in target.fields:
            continue
        out[path] = query.FilterPath(path, target.fields[target_field], target, via)
    return out


def _readable(request, fp: query.FilterPath, et) -> bool:
    readable = service.field_access(request, et)[0]
    if fp.target is None:
        return fp.field.name in readable
    return fp.via in readable and fp.field.name in service.field_access(request, fp.target)[0]


def groupable(fp: query.FilterPath) -> bool:
    f = fp.field
    if getattr(f, "virtual", False) or f.name == "id" or not f.form and f.type != "reference":
        return False
    return f.type in GROUP_TYPES or f.type in DATE_TYPES


def summable(fp: query.FilterPath) -> bool:
    f = fp.field
    if getattr(f, "virtual", False) or f.name in ("id", "version") or f.type == "reference":
        return False
    if f.type == "money":
        return not f.custom and fp.target is None and bool(f.currency_field)
    return f.type in ("integer", "decimal")


def dimension_paths(request, et) -> dict[str, query.FilterPath]:
    """What the viewer may group ``et`` by."""
    return {
        p: fp
        for p, fp in all_paths(request, et).items()
        if groupable(fp) and _readable(request, fp, et)
    }


def measure_paths(request, et) -> dict[str, query.FilterPath]:
    """What the viewer may sum, average, ... (numbers and money of the type itself)."""
    return {
        p: fp
        for p, fp in all_paths(request, et).items()
        if fp.target is None and summable(fp) and _readable(request, fp, et)
    }


def date_fields(request, et) -> dict[str, FieldInfo]:
    readable = service.field_access(request, et)[0]
    return {
        n: f
        for n, f in et.fields.items()
        if f.type in DATE_TYPES and not f.custom and n in readable
    }


def _refusal(request, et, path: str, fp, purpose: str):
    """Why ``path`` cannot serve ``purpose``: unknown, not readable, or not suitable."""
    if fp is None:
        return _("Unknown field: ${field}", mapping={"field": str(path)[:50]})
    if not _readable(request, fp, et):
        return _("You may not read this field, so a report cannot use it.")
    if purpose == "group":
        return _("A report cannot group by this field.")
    return _("This field is not a number: it can only be counted.")


def parse_spec(request, body) -> Spec:
    """Check a specification; :class:`Problem` (400) names every bad part."""
    if not isinstance(body, dict):
        raise Problem(400, _("Invalid report"), errors={"": _("Send an object.")})
    errors: dict = {}
    from kyklos.entities.customfields import refresh

    refresh(request.registry, request.dbsession)
    name = body.get("entity")
    et = request.registry.kyklos_entities.get(name) if isinstance(name, str) else None
    if et is None or not request.has_permission(et.permission("read")):
        raise Problem(400, _("Invalid report"), errors={"entity": _("Unknown entity type.")})
    paths = all_paths(request, et)

    filters = body.get("filters") or {}
    lp = query.ListParams()
    params = MultiDict()
    if not isinstance(filters, dict):
        errors["filters"] = _("Send an object of list filters.")
    else:
        for k, v in filters.items():
            if k in query.RESERVED and k != "q":
                errors[f"filters.{k}"[:100]] = _("Not a filter.")
                continue
            params.add(str(k), v if isinstance(v, str) else _text(v))
        if params:
            try:
                lp = query.parse_list_params(request, et, params)
            except Problem as exc:
                for k, msg in (exc.errors or {}).items():
                    errors[f"filters.{k}"] = msg
                    # the list calls a hidden field unknown; a report says why
                    name = k.rpartition("__")[0] or k
                    fp = paths.get(name)
                    if fp is not None and not _readable(request, fp, et):
                        errors[f"filters.{k}"] = _refusal(request, et, name, fp, "filter")

    segment = body.get("segment")
    if segment in ("", None):
        segment = None
    else:
        from kyklos.segments import Segment

        seg = (
            request.dbsession.get(Segment, segment)
            if isinstance(segment, int) and not isinstance(segment, bool) and 0 < segment < 2**31
            else None
        )
        if seg is None or seg.entity != et.name:
            errors["segment"] = _("Choose a segment of the same records.")
            segment = None

    dims: list[Dim] = []
    group_by = body.get("group_by") or []
    if not isinstance(group_by, list) or len(group_by) > MAX_DIMS:
        errors["group_by"] = _("Group by at most ${n} fields.", mapping={"n": MAX_DIMS})
        group_by = []
    for i, g in enumerate(group_by):
        key = f"group_by.{i}"
        g = g if isinstance(g, dict) else {}
        path = g.get("field")
        fp = paths.get(path) if isinstance(path, str) else None
        if fp is None or not groupable(fp) or not _readable(request, fp, et):
            errors[f"{key}.field"] = _refusal(request, et, path, fp, "group")
            continue
        bucket = g.get("bucket")
        if fp.field.type in DATE_TYPES:
            bucket = bucket or "month"
            if bucket not in BUCKETS:
                errors[f"{key}.bucket"] = _("Use day, week, month, quarter or year.")
                continue
        elif bucket:
            errors[f"{key}.bucket"] = _("Only dates are grouped by period.")
            continue
        dims.append(Dim(path, fp, bucket))

    measures: list[Measure] = []
    raw_measures = body.get("measures") or [{"op": "count"}]
    if not isinstance(raw_measures, list) or not 1 <= len(raw_measures) <= MAX_MEASURES:
        errors["measures"] = _("Give 1 to ${n} measures.", mapping={"n": MAX_MEASURES})
        raw_measures = []
    for i, m in enumerate(raw_measures):
        key = f"measures.{i}"
        m = m if isinstance(m, dict) else {}
        op = m.get("op")
        if op not in OPS:
            errors[f"{key}.op"] = _("Use count, sum, avg, min or max.")
            continue
        if op == "count":
            measures.append(Measure("count"))
            continue
        path = m.get("field")
        fp = paths.get(path) if isinstance(path, str) else None
        if (
            fp is None
            or fp.target is not None
            or not summable(fp)
            or not _readable(request, fp, et)
        ):
            errors[f"{key}.field"] = _refusal(request, et, path, fp, "measure")
            continue
        measures.append(Measure(op, path, fp))

    currency = body.get("currency") or _default_currency(request)
    if not isinstance(currency, str) or not is_currency(currency):
        errors["currency"] = _("Not an ISO 4217 currency code.")
        currency = "EUR"
    rates = body.get("rates") or "today"
    if not isinstance(rates, str) or rates != "today" and rates not in date_fields(request, et):
        errors["rates"] = _("Use today's rates or a date field of these records.")

    n = len(measures)
    sort = body.get("sort") or ("-m0" if measures else "d0")
    allowed = {f"m{i}" for i in range(n)} | {f"d{i}" for i in range(len(dims))}
    if not isinstance(sort, str) or sort.lstrip("-") not in allowed:
        errors["sort"] = _("Sort by one of the groups or measures of the report.")
    limit = body.get("limit", DEFAULT_LIMIT)
    if isinstance(limit, str) and limit.isdigit():
        limit = int(limit)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        errors["limit"] = _("Give a number from 1 to ${n}.", mapping={"n": MAX_LIMIT})
        limit = DEFAULT_LIMIT
    chart = body.get("chart") or "bar"
    if not isinstance(chart, str) or chart not in CHARTS:
        errors["chart"] = _("Use bar, stacked, line, pie or funnel.")
    if errors:
        raise Problem(400, _("Invalid report"), errors=errors)
    clean = {
        "entity": et.name,
        "filters": dict(params.items()),
        "segment": segment,
        "group_by": [{"field": d.path, **({"bucket": d.bucket} if d.bucket else {})} for d in dims],
        "measures": [{"op": m.op, **({"field": m.path} if m.path else {})} for m in measures],
        "currency": currency,
        "rates": rates,
        "sort": sort,
        "limit": limit,
        "chart": chart,
    }
    return Spec(et, params, lp, segment, dims, measures, currency, rates, sort, limit, chart, clean)


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _default_currency(request) -> str:
    from kyklos.i18n import _site_setting

    code = _site_setting(request, "currency.default", "kyklos.currency") or "EUR"
    return code if is_currency(code) else "EUR"


# --- SQL -------------------------------------------------------------------------------------


def _rate(cur, on_day, base: str):
    """Units of ``cur`` per unit of the base currency on ``on_day``: the latest rate on
    or before it (a correlated scalar subquery: still one statement)."""
    sub = (
        select(ExchangeRate.rate)
        .where(
            ExchangeRate.base == base,
            ExchangeRate.currency == cur,
            ExchangeRate.rate_date <= on_day,
        )
        .order_by(ExchangeRate.rate_date.desc())
        .limit(1)
        .scalar_subquery()
    )
    return case((cur == base, literal(Decimal(1), Numeric(38, 10))), else_=sub)


def _converted(request, spec: Spec, m: Measure):
    """The money amount in the report's currency at the rates of the chosen day."""
    et = spec.et
    f = m.fp.field
    amount = cast(getattr(et.model, f.name), Numeric(38, 10))
    cur = getattr(et.model, f.currency_field)
    base = base_currency(request.registry.settings)
    if spec.rates == "today":
        on_day = literal(dt.datetime.now(request.timezone).date(), Date())
    else:
        col = getattr(et.model, spec.rates)
        on_day = cast(col, Date()) if et.fields[spec.rates].type == "datetime" else col
    target = spec.currency
    in_base = amount / _rate(cur, on_day, base)
    converted = in_base if target == base else in_base * _rate(literal(target), on_day, base)
    return case((cur == target, amount), else_=converted)


def _dim_expr(request, spec: Spec, d: Dim, joined: dict):
    fp = d.fp
    if fp.target is None:
        model, et = spec.et.model, spec.et
    else:
        model, et = fp.target.model, fp.target
        joined.setdefault(fp.via, fp.target)
    f = fp.field
    expr = query.expr_of(et, f) if f.custom else getattr(model, f.name)
    if d.bucket:
        is_dt = f.type == "datetime"
        if f.custom and is_dt:
            expr = cast(expr, DateTime())
        tz = str(getattr(request.timezone, "key", None) or "UTC")
        if request.dbsession.get_bind().dialect.name == "sqlite":
            return sqlite_bucket_expr(expr, d.bucket, tz, is_dt, stored=not f.custom)
        return bucket_start(expr, literal(d.bucket), literal(tz), literal(is_dt))
    return expr


def _measure_expr(request, spec: Spec, m: Measure):
    et = spec.et
    if m.op == "count":
        return func.count(et.model.id)
    f = m.fp.field
    if m.money:
        value = _converted(request, spec, m)
    else:
        value = query.expr_of(et, f)
        if f.type == "decimal" or m.op == "avg":
            value = cast(value, Numeric(38, 10))
    return getattr(func, m.op)(value)


def statement(request, spec: Spec):
    """The report's one ``SELECT dims..., measures... GROUP BY dims`` over the records
    the viewer may read, filtered like the list."""
    et = spec.et
    joined: dict = {}
    dims = [_dim_expr(request, spec, d, joined).label(f"d{i}") for i, d in enumerate(spec.dims)]
    measures = [_measure_expr(request, spec, m).label(f"m{i}") for i, m in enumerate(spec.measures)]
    extra = []
    for i, m in enumerate(spec.measures):
        if m.money:
            # amounts left out for want of a rate: the page says how many
            conv = _converted(request, spec, m)
            col = getattr(et.model, m.fp.field.name)
            extra.append(
                func.count(case((and_(col.is_not(None), conv.is_(None)), 1))).label(f"x{i}")
            )
    base = query._base(request, et, spec.lp)
    if spec.segment is not None:
        from kyklos.segments import segment_select

        base = base.where(et.model.id.in_(segment_select(request, spec.segment)))
    frm = et.model.__table__
    for via, target in joined.items():
        # A related record the viewer cannot read adds nothing to the group but its
        # absence: its values are never shown (the same rule as the list's filters).
        on = and_(
            getattr(et.model, via) == target.model.id,
            rules.visibility_clause(request, target, "read"),
            target.model.deleted_at.is_(None) if target.soft_delete else true(),
        )
        frm = frm.outerjoin(target.model.__table__, on)
    stmt = base.with_only_columns(*dims, *measures, *extra, maintain_column_froms=False)
    stmt = stmt.select_from(frm)
    if dims:
        stmt = stmt.group_by(*[d.element for d in dims])
    key = spec.sort.lstrip("-")
    desc = spec.sort.startswith("-")
    by = {c.name: c for c in (*dims, *measures)}[key]
    order = [by.desc() if desc else by.asc()]
    order += [d.asc() for d in dims if d is not by]
    return stmt.order_by(*order).limit(spec.limit + 1)


# --- running and words -------------------------------------------------------------------------


@dataclass
class Result:
    spec: Spec
    rows: list  # [(keys tuple, values list)]
    truncated: bool
    unconverted: int = 0
    labels: dict = field(default_factory=dict)  # {(dim index, key): text}


def run(request, spec: Spec) -> Result:
    prepare_connection(request)
    rows = request.dbsession.execute(statement(request, spec)).all()
    truncated = len(rows) > spec.limit
    rows = rows[: spec.limit]
    nd, nm = len(spec.dims), len(spec.measures)
    out = []
    unconverted = 0
    for r in rows:
        keys = tuple(_key(d, r[i]) for i, d in enumerate(spec.dims))
        vals = [_value(spec.measures[j], r[nd + j], spec.currency) for j in range(nm)]
        unconverted += sum(r[nd + nm :] or [0])
        out.append((keys, vals))
    res = Result(spec, out, truncated, unconverted)
    res.labels = labels(request, spec, out)
    return res


def _key(d: Dim, value):
    if d.bucket and value is not None and not isinstance(value, dt.date):
        try:
            return dt.date.fromisoformat(str(value)[:10])
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value
    return value


def _value(m: Measure, value, currency: str):
    if value is None:
        return None if m.op != "count" else 0
    if m.op == "count":
        return int(value)
    if m.money:
        q = Decimal(1).scaleb(-precision(currency))
        return Decimal(str(value)).quantize(q, rounding=decimal.ROUND_HALF_UP)
    if m.fp.field.type == "integer" and m.op in ("sum", "min", "max"):
        return int(value)
    return Decimal(str(value)).quantize(Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


def bucket_text(request, unit: str, day: dt.date) -> str:
    from babel import dates as babel_dates

    from kyklos.i18n import babel_locale, format_month

    loc = babel_locale(request)
    if unit == "day":
        return request.format_date(day)
    if unit == "week":
        return _t(
            request,
            _(
                "Week of ${day}",
                mapping={"day": babel_dates.format_date(day, "medium", locale=loc)},
            ),
        )
    if unit == "month":
        return format_month(request, day, "long")
    if unit == "quarter":
        return _t(
            request,
            _("Q${q} ${year}", mapping={"q": (day.month - 1) // 3 + 1, "year": day.year}),
        )
    return str(day.year)


def labels(request, spec: Spec, rows) -> dict:
    """``{(dim index, key): words}``: choices translated, records and users by title,
    periods in the user's language; one look-up per referenced type."""
    from kyklos.entities import display

    out = {}
    empty = _t(request, _("(not set)"))
    for i, d in enumerate(spec.dims):
        keys = {r[0][i] for r in rows}
        f = d.field
        et = d.fp.target or spec.et
        refs = {}
        if f.type == "reference" and not d.bucket:
            refs = display.titles_by_id(request, f.reference, keys)
        for k in keys:
            if k is None or k == "":
                out[(i, k)] = empty
            elif d.bucket:
                out[(i, k)] = bucket_text(request, d.bucket, k)
            elif f.type == "reference":
                out[(i, k)] = refs.get(k, (_t(request, _("(hidden)")), None))[0]
            else:
                out[(i, k)] = display.display_text(request, et, f, k) or empty
    return out


def dim_title(request, spec_or_et, d: Dim) -> str:
    fp = d.fp
    et = spec_or_et.et if isinstance(spec_or_et, Spec) else spec_or_et
    if fp.target is None:
        title = _t(request, fp.field.title)
    else:
        via = et.fields.get(fp.via)
        title = (
            f"{_t(request, via.title if via else fp.target.title)} › {_t(request, fp.field.title)}"
        )
    if d.bucket:
        title = f"{title} ({_t(request, BUCKET_WORDS[d.bucket])})"
    return title


BUCKET_WORDS = {
    "day": _("by day"),
    "week": _("by week"),
    "month": _("by month"),
    "quarter": _("by quarter"),
    "year": _("by year"),
}
OP_WORDS = {
    "count": _("Number of records"),
    "sum": _("Sum of ${field}"),
    "avg": _("Average of ${field}"),
    "min": _("Smallest ${field}"),
    "max": _("Largest ${field}"),
}


def measure_title(request, m: Measure) -> str:
    if m.op == "count":
        return _t(request, OP_WORDS["count"])
    from pyramid.i18n import TranslationString

    ts = OP_WORDS[m.op]
    return _t(
        request,
        TranslationString(
            ts,
            domain=ts.domain,
            default=ts.default,
            mapping={"field": _t(request, m.fp.field.title)},
        ),
    )


def format_measure(request, m: Measure, value, currency: str) -> str:
    if value is None:
        return "—"
    if m.money:
        return request.format_money(value, currency)
    if m.op == "count":
        return request.format_number(value)
    grouping = getattr(m.fp.field, "grouping", True)
    from kyklos.entities.display import format_number

    return format_number(request, value, grouping)


# --- drilling down ------------------------------------------------------------------------


def _day_start(request, day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time.min, request.timezone).isoformat()


def _next_bucket(day: dt.date, unit: str) -> dt.date:
    if unit == "day":
        return day + dt.timedelta(days=1)
    if unit == "week":
        return day + dt.timedelta(days=7)
    months = {"month": 1, "quarter": 3, "year": 12}[unit]
    m = day.month - 1 + months
    return dt.date(day.year + m // 12, m % 12 + 1, 1)


def drill_params(request, spec: Spec, keys: tuple) -> list[tuple[str, str]] | None:
    """The list's query parameters for the records behind one cell (the report's filters
    and the cell's groups), or ``None`` when the list cannot express them (a segment, a
    group the list cannot filter by)."""
    if spec.segment is not None:
        return None
    params = list(spec.filters.items())
    given = {k.rpartition("__")[0] or k for k, _v in params}
    filterable = query.filter_paths(request.registry, spec.et)
    for d, k in zip(spec.dims, keys, strict=True):
        if d.path not in filterable or d.path in given:
            return None
        f = d.field
        if k is None or k == "":
            if "isnull" not in query.ops_for(f):
                return None
            params.append((f"{d.path}__isnull", "true"))
        elif d.bucket:
            end = _next_bucket(k, d.bucket)
            if f.type == "datetime":
                params.append((f"{d.path}__gte", _day_start(request, k)))
                params.append((f"{d.path}__lt", _day_start(request, end)))
            else:
                params.append((f"{d.path}__gte", k.isoformat()))
                params.append((f"{d.path}__lt", end.isoformat()))
        else:
            params.append((d.path, _text(k)))
    return params


def drill_url(request, spec: Spec, keys: tuple) -> str | None:
    params = drill_params(request, spec, keys)
    if params is None:
        return None
    return request.route_url("entity.list", slug=spec.et.slug, _query=params)


__all__ = [
    "BUCKETS",
    "CHARTS",
    "OPS",
    "Result",
    "Spec",
    "dimension_paths",
    "drill_url",
    "measure_paths",
    "parse_spec",
    "run",
    "statement",
]

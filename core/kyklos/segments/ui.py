"""The segment wizard's conditions as a person reads them: fields by their translated
titles (``Account › City``), operators in words that suit the field ("is before",
"contains"), and values entered with the record forms' widgets (pickers, drop-downs,
days in the user's time zone).

A definition keeps the query module's vocabulary (``{"field": "account.city", "op":
"eq", "value": "..."}``); this module only translates between it and the form. The
form's extra operator ``notnull`` is ``isnull`` with the value ``false``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from kyklos.entities import query
from kyklos.entities import ui as entity_ui
from kyklos.i18n import _

#: an operator in words, by the kind of value it compares
OP_WORDS = {
    "eq": _("is"),
    "ne": _("is not"),
    "contains": _("contains"),
    "startswith": _("starts with"),
    "gt": _("greater than"),
    "gte": _("at least"),
    "lt": _("less than"),
    "lte": _("at most"),
    "in": _("is one of"),
    "between": _("is between"),
    "isnull": _("is empty"),
    "notnull": _("is not empty"),
}
DAY_WORDS = {
    "eq": _("is on"),
    "lt": _("is before"),
    "gt": _("is after"),
    "lte": _("is on or before"),
    "gte": _("is on or after"),
}
LIST_WORDS = {"contains": _("includes")}
#: the operators the wizard offers, by how the value is entered (the query module
#: allow-lists them again per field type)
WIZARD_OPS = {
    "text": ("contains", "eq", "ne", "startswith"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte"),
    "date": ("eq", "lt", "gt", "lte", "gte"),
    "datetime": ("lt", "gt", "lte", "gte"),
    "boolean": ("eq",),
    "multichoice": ("contains",),
    "other": ("eq", "ne"),
}
#: a condition whose field is not chosen yet offers every word (no JavaScript: the
#: field, operator and value may be chosen in one go)
ANY_OPS = ("eq", "ne", "contains", "startswith", "gt", "gte", "lt", "lte", "isnull", "notnull")
NO_VALUE = ("isnull", "notnull")


@dataclass
class FieldChoice:
    path: str
    title: str
    group: str
    fp: object  # query.FilterPath


@dataclass
class CondUI:
    """One condition row of the wizard."""

    path: str
    op: str
    ops: list  # [(op, words)]
    value: object  # an entity.ui.FilterUI for the value input, or None
    kind: str = "text"
    day: str = ""  # a date or date-time condition: the day, in the user's time zone
    raw: str = ""  # the value as text, for a field not chosen yet
    errors: list = field(default_factory=list)


def _t(request, text) -> str:
    return request.localizer.translate(text) if text is not None else ""


def field_choices(request, et, paths: dict) -> list[tuple[str, list[FieldChoice]]]:
    """The wizard's fields grouped under this type's title and each related type
    (``Account``), by translated title; ids and API conveniences are left out."""
    own: list[FieldChoice] = []
    related: dict[str, list[FieldChoice]] = {}
    for path, fp in paths.items():
        f = fp.field
        if f.name == "id" or not query.ops_for(f) or not f.form:
            continue
        if fp.via is None:
            own.append(FieldChoice(path, _t(request, f.title), _t(request, et.title), fp))
            continue
        via = et.fields.get(fp.via)
        group = _t(request, via.title) if via is not None else _t(request, fp.target.title)
        related.setdefault(group, []).append(
            FieldChoice(path, f"{group} › {_t(request, f.title)}", group, fp)
        )
    out = [(_t(request, et.title), sorted(own, key=lambda c: c.title.casefold()))]
    for group in sorted(related, key=str.casefold):
        out.append((group, sorted(related[group], key=lambda c: c.title.casefold())))
    return out


def path_title(request, et, fp) -> str:
    if fp.via is None:
        return _t(request, fp.field.title)
    via = et.fields.get(fp.via)
    head = _t(request, via.title if via is not None else fp.target.title)
    return f"{head} › {_t(request, fp.field.title)}"


def value_kind(request, f) -> str:
    if f.type == "multichoice":
        return "choice"
    return entity_ui.filter_kind(f, request.registry)


def ops_of(request, f) -> list[str]:
    kind = value_kind(request, f)
    allowed = query.ops_for(f)
    if f.type == "multichoice":
        wanted = WIZARD_OPS["multichoice"]
    elif kind in WIZARD_OPS:
        wanted = WIZARD_OPS[kind]
    else:
        wanted = WIZARD_OPS["other"]
    ops = [o for o in wanted if o in allowed]
    if "isnull" in allowed:
        ops += list(NO_VALUE)
    return ops


def op_words(request, f, op) -> str:
    if f is not None and f.type in ("date", "datetime") and op in DAY_WORDS:
        return _t(request, DAY_WORDS[op])
    if f is not None and f.type == "multichoice" and op in LIST_WORDS:
        return _t(request, LIST_WORDS[op])
    return _t(request, OP_WORDS.get(op, op))


# --- days in the user's time zone ---------------------------------------------------------


def _day_bound(request, day: dt.date, end: bool) -> str:
    start = dt.datetime.combine(day, dt.time.min, request.timezone)
    if end:
        # the last instant of the day: "after 5 May" is after its evening too
        start = dt.datetime.combine(
            day + dt.timedelta(days=1), dt.time.min, request.timezone
        ) - dt.timedelta(microseconds=1)
    return start.isoformat()


def day_to_value(request, f, op: str, text: str) -> str:
    """A day typed for a date-time field as the instant the query compares with:
    the start of the day for "before" and "on or after", its end for "after" and
    "on or before" (the user's days, not UTC's)."""
    if f.type != "datetime":
        return text
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return text  # left as typed: the query module explains what is wrong
    return _day_bound(request, day, end=op in ("gt", "lte"))


def value_to_day(request, f, value) -> str:
    text = "" if value is None else str(value)
    if f.type != "datetime" or len(text) <= 10:
        return text
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(request.timezone)
    return moment.date().isoformat()


# --- form <-> definition ------------------------------------------------------------------


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    return "" if value is None else str(value)


def condition_from_form(request, paths: dict, c: dict) -> dict:
    """One submitted row (``field``, ``op``, ``value`` or ``day``) as a definition
    condition."""
    path, op = c.get("field", ""), c.get("op") or "eq"
    fp = paths.get(path)
    if op in NO_VALUE:
        return {"field": path, "op": "isnull", "value": op == "isnull"}
    if fp is not None and fp.field.type in ("date", "datetime") and "day" in c:
        return {"field": path, "op": op, "value": day_to_value(request, fp.field, op, c["day"])}
    return {"field": path, "op": op, "value": c.get("value", "")}


def condition_ui(request, et, paths: dict, cond: dict) -> CondUI:
    """The row for a definition condition (or an empty one)."""
    path = cond.get("field") or ""
    op = cond.get("op") or "eq"
    value = cond.get("value")
    fp = paths.get(path) if isinstance(path, str) else None
    if op == "isnull":
        op = "isnull" if _as_text(value) in ("true", "1") else "notnull"
    if fp is None:
        ops = list(ANY_OPS)
        if op not in ops:
            ops.append(op)
        return CondUI(
            path,
            op,
            [(o, _t(request, OP_WORDS.get(o, o))) for o in ops],
            None,
            raw=_as_text(value) if op not in NO_VALUE else "",
        )
    f = fp.field
    ops = ops_of(request, f)
    if op not in ops:
        ops.append(op)  # a definition made through the API keeps its operator
    kind = value_kind(request, f)
    row = entity_ui.FilterUI(f, tuple(ops), op=op, kind=kind)
    text = _as_text(value) if op not in NO_VALUE else ""
    out = CondUI(path, op, [(o, op_words(request, f, o)) for o in ops], row, kind=kind)
    if kind in ("date", "datetime") and op not in ("in", "between"):
        out.day = value_to_day(request, f, text)
        return out
    if op in ("in", "between") or (f.type == "multichoice" and "," in text):
        # several values: typed, separated by commas (made through the API)
        row.kind, out.kind, row.value = "text", "text", text
        return out
    row.value = text
    entity_ui.fill_options(request, et, row)
    out.kind = row.kind
    return out

"""Rule conditions in the list filters' ``field__op`` language, evaluated on one record.

``{"status__eq": "won", "size__gte": 3}`` holds when every clause holds;
``{"any": [{...}, {...}]}`` holds when one of the groups does. Fields, operators and
values are allow-listed and parsed by the field's type exactly like list filters (see
:mod:`kyklos.entities.query`); nothing becomes SQL or code. Each evaluation explains
itself: ``"condition status__eq=won false (was lost)"``.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from kyklos.entities import values
from kyklos.entities.query import ops_for

_INT = re.compile(r"^-?\d{1,19}$")
MAX_CLAUSES = 50
MAX_DEPTH = 3
MAX_IN = 100


class ConditionError(ValueError):
    """A condition names an unknown field or operator, or a value of the wrong type."""


def _split(key: str) -> tuple[str, str]:
    name, sep, op = key.rpartition("__")
    return (name, op) if sep else (key, "eq")


def _parse(et, field, op, raw):
    column = values.column_of(et, field)
    if op == "isnull":
        if not isinstance(raw, bool):
            raise ConditionError(f"{field.name}__isnull takes true or false")
        return raw
    if op in ("in", "between"):
        items = raw.split(",") if isinstance(raw, str) else raw
        if not isinstance(items, list) or not 1 <= len(items) <= MAX_IN:
            raise ConditionError(f"{field.name}__{op} takes a list of 1 to {MAX_IN} values")
        if op == "between" and len(items) != 2:
            raise ConditionError(f"{field.name}__between takes two values")
        return [_one(field, column, v) for v in items]
    return _one(field, column, raw)


def _one(field, column, raw):
    # "1,2" lists arrive as text, as in query strings.
    if field.type in ("integer", "reference") and isinstance(raw, str) and _INT.match(raw):
        raw = int(raw)
    if field.type in (
        "string",
        "text",
        "richtext",
        "email",
        "phone",
        "url",
        "choice",
    ) and not isinstance(raw, str):
        raw = str(raw)
    try:
        return values.parse_value(field, raw, column)
    except values.Invalid as exc:
        raise ConditionError(f"{field.name}: {exc.msg}") from None
    except (TypeError, ValueError) as exc:
        raise ConditionError(f"{field.name}: {exc}") from None


def compile_conditions(et, doc, readable=None, depth=0) -> list:
    """Check ``doc`` and return its clauses: ``[(key, field, op, value)]`` or
    ``[("any", groups)]``. Raises :class:`ConditionError` naming the first problem."""
    if doc in (None, ""):
        return []
    if not isinstance(doc, dict):
        raise ConditionError("conditions must be an object of field__op: value")
    if depth > MAX_DEPTH:
        raise ConditionError("conditions are nested too deeply")
    if len(doc) > MAX_CLAUSES:
        raise ConditionError(f"at most {MAX_CLAUSES} conditions")
    out = []
    for key, raw in doc.items():
        if key == "any":
            if not isinstance(raw, list) or not raw or len(raw) > MAX_CLAUSES:
                raise ConditionError("'any' takes a list of condition objects")
            out.append(("any", [compile_conditions(et, g, readable, depth + 1) for g in raw]))
            continue
        if not isinstance(key, str):
            raise ConditionError("condition keys are field__op strings")
        name, op = _split(key)
        field = et.fields.get(name)
        if field is None or (readable is not None and name not in readable):
            raise ConditionError(f"unknown field {name!r}")
        if op not in ops_for(field):
            raise ConditionError(f"operator {op!r} does not apply to field {name!r}")
        out.append((key, field, op, _parse(et, field, op, raw)))
    return out


def _cmp(value):
    # Compare numbers as Decimal and dates as dates whatever their Python type.
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    return value


def _holds(op, actual, wanted) -> bool:
    if op == "isnull":
        return (actual is None or actual == "") == wanted
    if op == "ne":
        return _cmp(actual) != _cmp(wanted)
    if actual is None:
        return False
    a = _cmp(actual)
    if (
        isinstance(a, dt.datetime)
        and isinstance(wanted, dt.date)
        and not isinstance(wanted, dt.datetime)
    ):
        a = a.date()
    try:
        if op == "eq":
            return a == _cmp(wanted)
        if op == "in":
            return a in [_cmp(w) for w in wanted]
        if op == "lt":
            return a < _cmp(wanted)
        if op == "lte":
            return a <= _cmp(wanted)
        if op == "gt":
            return a > _cmp(wanted)
        if op == "gte":
            return a >= _cmp(wanted)
        if op == "between":
            return _cmp(wanted[0]) <= a <= _cmp(wanted[1])
        if op == "contains":
            return str(wanted).casefold() in str(a).casefold()
        if op == "startswith":
            return str(a).casefold().startswith(str(wanted).casefold())
    except TypeError:
        return False
    return False


def _show(value) -> str:
    if value is None:
        return "empty"
    if isinstance(value, list):
        return ",".join(_show(v) for v in value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def evaluate(et, record, clauses) -> tuple[bool, str]:
    """Whether ``record`` meets ``clauses`` (from :func:`compile_conditions`), and why."""
    if not clauses:
        return True, "no conditions"
    for clause in clauses:
        if clause[0] == "any":
            results = [evaluate(et, record, g) for g in clause[1]]
            if not any(ok for ok, _why in results):
                return False, "none of the 'any' groups held (" + "; ".join(
                    why for _ok, why in results
                ) + ")"
            continue
        key, field, op, wanted = clause
        actual = values.read_value(et, field, record)
        if hasattr(actual, "amount"):  # money: compare the amount
            actual = actual.amount
        if not _holds(op, actual, wanted):
            return False, f"condition {key}={_show(wanted)} false (was {_show(actual)})"
    return True, "all conditions held"

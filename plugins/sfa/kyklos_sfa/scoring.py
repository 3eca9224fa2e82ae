"""Lead scoring (SFA-03): explainable rules in the list filters' language.

A rule ``field op value -> points`` reads like a list filter (``source__eq=trade_show``,
``employees__gte=50``, ``country__in=GR,CY``, ``email__isnull=true``); a lead's score
is the sum of the points of the rules it matches, and its explanation lists them
("+20 Source is trade show"), so a rep can see why a lead is hot.
"""

from __future__ import annotations

import decimal
from decimal import Decimal

from markupsafe import Markup
from sqlalchemy import select

from kyklos_sdk import FILTER_OPS, display_list

from . import _
from .models import ScoringRule
from .models.choices import SCORING_FIELDS, SCORING_OPS, values

FIELDS = values(SCORING_FIELDS)
OPS = tuple(o for o in values(SCORING_OPS) if o in FILTER_OPS)
NUMERIC_FIELDS = ("employees",)
NUMERIC_OPS = ("gt", "gte", "lt", "lte")
TEXT_OPS = ("contains", "startswith")
MAX_IN = 100


def check_rule(field: str | None, op: str | None, value: str | None) -> dict:
    """Errors of a rule definition, ``{field name: message}`` (empty when valid)."""
    errors: dict = {}
    if field not in FIELDS:
        errors["field"] = _("Not a field rules can test.")
        return errors
    if op not in OPS:
        errors["op"] = _("Not an allowed operator.")
        return errors
    if op in NUMERIC_OPS and field not in NUMERIC_FIELDS:
        errors["op"] = _("Only numeric fields compare greater or less.")
    if op in TEXT_OPS and field in NUMERIC_FIELDS:
        errors["op"] = _("Only text fields can contain text.")
    try:
        parse_value(field, op, value)
    except ValueError:
        errors["value"] = _("This value does not suit the field and operator.")
    return errors


def parse_value(field: str, op: str, value: str | None):
    text = (value or "").strip()
    if op == "isnull":
        if text.lower() not in ("true", "false", "1", "0"):
            raise ValueError(text)
        return text.lower() in ("true", "1")
    if not text:
        raise ValueError(text)
    parts = [p.strip() for p in text.split(",")] if op == "in" else [text]
    if op == "in" and not 1 <= len(parts) <= MAX_IN:
        raise ValueError(text)
    if field in NUMERIC_FIELDS:
        try:
            nums = [Decimal(p) for p in parts]
        except decimal.InvalidOperation:
            raise ValueError(text) from None
        return nums if op == "in" else nums[0]
    return parts if op == "in" else text


def matches(field: str, op: str, target, actual) -> bool:
    """Whether a lead's ``actual`` value satisfies ``op target`` (already parsed)."""
    if op == "isnull":
        return (actual in (None, "")) == target
    if actual in (None, ""):
        return op == "ne"
    if field in NUMERIC_FIELDS:
        actual = Decimal(actual)
    else:
        actual = str(actual)
    if op == "eq":
        return actual == target
    if op == "ne":
        return actual != target
    if op == "in":
        return actual in target
    if op == "contains":
        return target.casefold() in actual.casefold()
    if op == "startswith":
        return actual.casefold().startswith(target.casefold())
    if op == "gt":
        return actual > target
    if op == "gte":
        return actual >= target
    if op == "lt":
        return actual < target
    if op == "lte":
        return actual <= target
    return False


def active_rules(db) -> list[ScoringRule]:
    return list(
        db.execute(
            select(ScoringRule)
            .where(ScoringRule.active.is_(True))
            .order_by(ScoringRule.position, ScoringRule.id)
        ).scalars()
    )


def score(rules, lead_values: dict) -> tuple[int, list[dict]]:
    """``(score, explanation)`` of a lead's values under ``rules``. A rule whose
    definition became invalid (edited outside the API) is skipped, not fatal."""
    total = 0
    why = []
    for r in rules:
        try:
            target = parse_value(r.field, r.op, r.value)
            hit = matches(r.field, r.op, target, lead_values.get(r.field))
        except (ValueError, decimal.InvalidOperation):
            continue
        if hit:
            total += r.points
            why.append({"rule": r.id, "label": r.label, "points": r.points})
    return total, why


def explain_line(request, item: dict) -> str:
    """One matched rule in words: "+20 points: Trade show visitor"."""
    points = int(item.get("points", 0) or 0)
    label = str(item.get("label") or "")
    msg = (_("+${points} points: ${rule}", mapping={"points": points, "rule": label})
           if points >= 0 else
           _("${points} points: ${rule}", mapping={"points": points, "rule": label}))
    return request.localizer.translate(msg)


def render_explanation(request, field, value) -> Markup:
    """The display kind of a lead's score explanation: one line per matched rule."""
    items = [i for i in (value or []) if isinstance(i, dict)]
    if not items:
        return Markup("")
    return display_list([Markup("{}").format(explain_line(request, i)) for i in items])

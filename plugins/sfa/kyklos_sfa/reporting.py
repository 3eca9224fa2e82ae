"""What every sales report shares: record-rule filtered sub-selects, per-currency sums
converted to the base currency, and month buckets that work on both databases."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import Numeric, cast, func, null

from kyklos_sdk import (
    NoRate,
    base_currency,
    convert,
    field_access,
    get_entity_type,
    visible_select,
)

ZERO = Decimal(0)


def base(request) -> str:
    return base_currency(request.registry.settings)


def visible_ids(request, name: str, action: str = "read"):
    """A sub-select of the ids of entity type ``name`` the user may ``action``: the
    one filter every report applies (record rules and soft deletes)."""
    et = get_entity_type(request, name)
    return visible_select(request, et, action).with_only_columns(et.model.id)


def may_read(request, *fields: str, entity: str = "opportunity") -> bool:
    """Whether the user may read every one of ``fields`` of ``entity``: the core's field
    rules, which every total, chart and forecast of those fields obeys."""
    readable, _w = field_access(request, get_entity_type(request, entity))
    return all(f in readable for f in fields)


def guard(request, expr, *fields: str, entity: str = "opportunity"):
    """``expr``, or a typed SQL NULL when it reads a field hidden from the user: the
    database never sums an amount the user may not see."""
    if may_read(request, *fields, entity=entity):
        return expr
    return cast(null(), Numeric(20, 4))


def shown(values: list, visible: bool) -> list:
    """``values``, or as many ``None`` (not zeros, which would be a false total)."""
    return list(values) if visible else [None] * len(values)


def visible(request, name: str, action: str = "read"):
    """``select(model)`` of the records of ``name`` the user may ``action``; reports
    replace its columns with ``with_only_columns`` and group them."""
    return visible_select(request, get_entity_type(request, name), action)


class Converter:
    """Sums per currency into base-currency amounts at today's rates, remembering the
    currencies that had no rate (their amounts are left out and reported)."""

    def __init__(self, request, on_date: dt.date | None = None):
        self.db = request.dbsession
        self.base = base(request)
        self.on_date = on_date or dt.date.today()
        self.missing: set[str] = set()
        self._cache: dict[str, Decimal | None] = {}

    def __call__(self, amount, currency: str | None) -> Decimal:
        if amount is None:
            return ZERO
        amount = Decimal(amount)
        currency = currency or self.base
        if currency == self.base:
            return amount.quantize(Decimal("0.01"))
        if currency not in self._cache:
            try:
                self._cache[currency] = convert(
                    self.db,
                    Decimal(1),
                    currency,
                    self.base,
                    self.on_date,
                    base=self.base,
                    rounded=False,
                )
            except (NoRate, ValueError):
                self._cache[currency] = None
        factor = self._cache[currency]
        if factor is None:
            self.missing.add(currency)
            return ZERO
        return (amount * factor).quantize(Decimal("0.01"))

    def fold(self, rows, key_len: int) -> dict:
        """Rows ``(*key, currency, amount, ...)`` -> ``{key: [base sums...]}``."""
        out: dict = defaultdict(lambda: None)
        for row in rows:
            key = tuple(row[:key_len]) if key_len != 1 else row[0]
            currency = row[key_len]
            amounts = [self(v, currency) for v in row[key_len + 1 :]]
            prev = out[key]
            out[key] = (
                amounts if prev is None else [a + b for a, b in zip(prev, amounts, strict=True)]
            )
        return dict(out)


def month_of(request, column):
    """``YYYY-MM`` of a date or datetime column, as SQL."""
    if request.dbsession.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def day_start(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


def money_json(value: Decimal | None) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))

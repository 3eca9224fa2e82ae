"""Money: amounts with a currency, ISO 4217 currencies, exchange rates and conversion.

Storage: a money field is two columns on the entity's table, a ``Numeric`` amount
``<name>`` and a ``String(3)`` currency code ``<name>_currency``. The entity registry
recognises the pair (:func:`kyklos.entities.derive_fields`) and exposes one field of
type ``"money"``. Two typed columns (not a JSON document) keep amounts sortable,
filterable and summable in SQL, and indexable on both databases.

In the API a money value is ``{"amount": "12.50", "currency": "EUR"}``: the amount is a
decimal string so no float ever rounds it.

Exchange rates are stored per currency and day as "units of the currency for one unit
of the base currency" (the ECB convention: EUR 1 = USD 1.0850), with the base currency
the rate was entered against (setting ``kyklos.base_currency``, default ``EUR``).
Conversion uses the latest rate on or before the requested day.
"""

from __future__ import annotations

import datetime as dt
import decimal
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel.numbers import get_currency_precision, list_currencies
from sqlalchemy import Date, Numeric, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin
from kyklos.i18n import _

DEFAULT_BASE = "EUR"
#: digits after the point kept for a stored rate
RATE_SCALE = 10


@lru_cache(maxsize=1)
def currencies() -> frozenset[str]:
    """The ISO 4217 codes known to CLDR (through babel)."""
    return frozenset(c for c in list_currencies() if len(c) == 3 and c.isalpha() and c.isupper())


def is_currency(code) -> bool:
    return isinstance(code, str) and code in currencies()


def precision(code: str) -> int:
    """Minor-unit digits of a currency (EUR 2, JPY 0, BHD 3)."""
    return get_currency_precision(code)


@dataclass(frozen=True)
class Money:
    """An amount in a currency. Arithmetic is left to :class:`decimal.Decimal`."""

    amount: Decimal
    currency: str

    def to_json(self) -> dict:
        return {"amount": str(self.amount), "currency": self.currency}

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"


class MoneyError(ValueError):
    """A money value or a conversion is not valid; ``str()`` is a user-facing message."""


class NoRate(LookupError):
    """No exchange rate is known for a currency on or before the requested day."""

    def __init__(self, currency: str, on_date: dt.date):
        super().__init__(f"no exchange rate for {currency} on or before {on_date.isoformat()}")
        self.currency = currency
        self.on_date = on_date


def parse_amount(value, max_digits: int | None = None, scale: int | None = None) -> Decimal:
    """A finite decimal from a Decimal, int or numeric string (floats are refused: they
    have already lost precision). Raises :class:`MoneyError`."""
    if isinstance(value, bool) or value is None:
        raise MoneyError(_("Enter an amount."))
    if isinstance(value, float):
        raise MoneyError(_('Send the amount as a string, e.g. "12.50".'))
    if isinstance(value, int):
        value = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            raise MoneyError(_("Enter an amount."))
        try:
            value = Decimal(text)
        except decimal.InvalidOperation:
            raise MoneyError(_("Not a number.")) from None
    if not isinstance(value, Decimal) or not value.is_finite():
        raise MoneyError(_("Not a number."))
    if scale is not None:
        exponent = value.as_tuple().exponent
        if isinstance(exponent, int) and -exponent > scale:
            raise MoneyError(_("At most ${n} digits after the point.", mapping={"n": scale}))
    if max_digits is not None:
        whole = max_digits - (scale or 0)
        if abs(value) >= Decimal(10) ** whole:
            raise MoneyError(_("The number is too large."))
    if scale is not None:
        # As the column will store it: "99" and "99.00" are one value, shown one way.
        value = value.quantize(Decimal(1).scaleb(-scale))
    return value


def parse_money(value, max_digits: int | None = None, scale: int | None = None) -> Money:
    """A :class:`Money` from a Money or ``{"amount": ..., "currency": ...}``."""
    if isinstance(value, Money):
        amount, currency = value.amount, value.currency
    elif isinstance(value, dict):
        extra = set(value) - {"amount", "currency"}
        if extra:
            raise MoneyError(_("Only 'amount' and 'currency' are allowed."))
        amount, currency = value.get("amount"), value.get("currency")
    else:
        raise MoneyError(_("Send an object with 'amount' and 'currency'."))
    if not is_currency(currency):
        raise MoneyError(_("Not an ISO 4217 currency code."))
    return Money(parse_amount(amount, max_digits, scale), currency)


class ExchangeRate(IdMixin, Base):
    """Units of ``currency`` for one unit of ``base`` on ``rate_date``."""

    __tablename__ = "kyklos_exchange_rate"
    # The unique constraint's index also serves the "latest rate on or before" look-up.
    __table_args__ = (UniqueConstraint("base", "currency", "rate_date"),)

    base: Mapped[str] = mapped_column(String(3), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    rate_date: Mapped[dt.date] = mapped_column(Date, nullable=False)
    rate: Mapped[Decimal] = mapped_column(Numeric(24, RATE_SCALE), nullable=False)


def base_currency(settings) -> str:
    code = (settings or {}).get("kyklos.base_currency") or DEFAULT_BASE
    return code if is_currency(code) else DEFAULT_BASE


def _base_of(db) -> str:
    request = db.info.get("request") if hasattr(db, "info") else None
    settings = request.registry.settings if request is not None else None
    return base_currency(settings)


def get_rate(db, currency: str, on_date: dt.date | None = None, base: str | None = None) -> Decimal:
    """Units of ``currency`` for one unit of the base currency on ``on_date`` (default
    today): the latest rate on or before that day. Raises :class:`NoRate`."""
    base = base or _base_of(db)
    on_date = on_date or dt.date.today()
    if currency == base:
        return Decimal(1)
    rate = db.execute(
        select(ExchangeRate.rate)
        .where(
            ExchangeRate.base == base,
            ExchangeRate.currency == currency,
            ExchangeRate.rate_date <= on_date,
        )
        .order_by(ExchangeRate.rate_date.desc())
        .limit(1)
    ).scalar_one_or_none()
    if rate is None:
        raise NoRate(currency, on_date)
    return Decimal(rate)


def rate_date(
    db, currency: str, on_date: dt.date | None = None, base: str | None = None
) -> dt.date | None:
    """The day of the rate a conversion of ``currency`` on ``on_date`` (today) uses: the
    latest on or before it; ``on_date`` itself for the base currency; ``None`` when there
    is no rate. A converted document names it beside the rate."""
    base = base or _base_of(db)
    on_date = on_date or dt.date.today()
    if currency == base:
        return on_date
    return db.execute(
        select(ExchangeRate.rate_date)
        .where(
            ExchangeRate.base == base,
            ExchangeRate.currency == currency,
            ExchangeRate.rate_date <= on_date,
        )
        .order_by(ExchangeRate.rate_date.desc())
        .limit(1)
    ).scalar_one_or_none()


def convert(
    db,
    amount,
    from_currency: str,
    to_currency: str,
    on_date: dt.date | None = None,
    *,
    base: str | None = None,
    rounded: bool = True,
) -> Decimal:
    """``amount`` in ``from_currency`` expressed in ``to_currency`` at the rates of
    ``on_date`` (through the base currency). Rounded half-up to the target currency's
    minor unit unless ``rounded=False``. Raises :class:`NoRate` or :class:`MoneyError`."""
    for code in (from_currency, to_currency):
        if not is_currency(code):
            raise MoneyError(_("Not an ISO 4217 currency code."))
    amount = parse_amount(amount)
    if from_currency == to_currency:
        result = amount
    else:
        base = base or _base_of(db)
        ctx = decimal.Context(prec=34)
        in_base = ctx.divide(amount, get_rate(db, from_currency, on_date, base))
        result = ctx.multiply(in_base, get_rate(db, to_currency, on_date, base))
    if not rounded:
        return result
    quantum = Decimal(1).scaleb(-precision(to_currency))
    return result.quantize(quantum, rounding=decimal.ROUND_HALF_UP)


def convert_money(db, money: Money, to_currency: str, on_date=None, **kw) -> Money:
    return Money(convert(db, money.amount, money.currency, to_currency, on_date, **kw), to_currency)


def set_rate(db, currency: str, rate_date: dt.date, rate, base: str | None = None):
    """Insert or replace the rate of ``currency`` on ``rate_date``; returns the row."""
    base = base or _base_of(db)
    if not is_currency(currency) or currency == base:
        raise MoneyError(_("Not an ISO 4217 currency code other than the base currency."))
    value = parse_amount(rate, max_digits=24, scale=RATE_SCALE)
    if value <= 0:
        raise MoneyError(_("A rate must be positive."))
    row = db.execute(
        select(ExchangeRate).where(
            ExchangeRate.base == base,
            ExchangeRate.currency == currency,
            ExchangeRate.rate_date == rate_date,
        )
    ).scalar_one_or_none()
    if row is None:
        row = ExchangeRate(base=base, currency=currency, rate_date=rate_date, rate=value)
        db.add(row)
    else:
        row.rate = value
    db.flush()
    return row


# --- the site's currencies (settings) ------------------------------------------------------


def currency_groups(request) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(group label, [(code, "EUR — Euro")])]`` for a currency ``<select>`` on any
    page: the currencies in use first, in a group of their own, then every other ISO
    4217 code, each with its name in the user's language."""
    from kyklos import sitesettings

    in_use = sitesettings.currencies_in_use(request)
    names = dict(sitesettings.currency_names(request.locale_name))
    tr = request.localizer.translate
    return [
        (tr(_("In use")), [(c, names.get(c, c)) for c in in_use]),
        (tr(_("Other currencies")), [(c, n) for c, n in names.items() if c not in in_use]),
    ]


def currency_options(request) -> list:
    """:func:`currency_groups` as deform ``OptGroup`` choices (record forms)."""
    import deform.widget

    return [deform.widget.OptGroup(label, *pairs) for label, pairs in currency_groups(request)]


def apply_currency_defaults(request, schema, et=None) -> None:
    """Every money field of a form starts in the site's default currency and offers the
    currencies in use first. Without it a new amount's currency was the first of the 307
    ISO codes (ADP), which no total converts. A text field of ``et`` declared with
    ``display="currency"`` (a quote's or a price list's currency) is the same drop-down."""
    import colander
    import deform.widget

    from kyklos import sitesettings

    default = None
    options = None
    declared = {
        n for n, f in (et.fields.items() if et is not None else ()) if f.display == "currency"
    }
    for node in schema.children:
        children = {c.name: c for c in getattr(node, "children", ())}
        currency = children.get("currency") if "amount" in children else None
        if currency is None and node.name in declared:
            currency = node
        if currency is None:
            continue
        if options is None:
            default = sitesettings.default_currency(request)
            options = currency_options(request)
        # an optional currency field may stay empty; an amount's currency may not
        optional = currency is node and node.missing is not colander.required
        currency.default = default
        currency.widget = deform.widget.SelectWidget(
            values=[("", "—"), *options] if optional else options
        )


def stale_rates(request, currencies, on_date: dt.date | None = None) -> list[tuple[str, dt.date]]:
    """``[(currency, rate date)]`` of the rates a conversion on ``on_date`` (today) would
    use that are older than the ``rates.max_age_days`` setting; currencies without any
    rate are not listed (:class:`NoRate` tells those)."""
    from kyklos import sitesettings

    on_date = on_date or dt.date.today()
    base = base_currency(request.registry.settings)
    max_age = sitesettings.get(request, "rates.max_age_days")
    out = []
    for code in sorted(set(currencies) - {base}):
        day = request.dbsession.execute(
            select(ExchangeRate.rate_date)
            .where(
                ExchangeRate.base == base,
                ExchangeRate.currency == code,
                ExchangeRate.rate_date <= on_date,
            )
            .order_by(ExchangeRate.rate_date.desc())
            .limit(1)
        ).scalar_one_or_none()
        if day is not None and (on_date - day).days > max_age:
            out.append((code, day))
    return out

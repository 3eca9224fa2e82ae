"""Quotes (SFA-10, SFA-11): race-safe numbers per year, totals computed with Decimal,
new revisions, variants and copies of earlier quotes."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .models import Quote, QuoteLine, QuoteSequence

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


def money(value) -> Decimal:
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def line_net(quantity, unit_price, discount_percent) -> Decimal:
    """Quantity x unit price less the discount, rounded half-up to cents."""
    gross = Decimal(quantity or 0) * Decimal(unit_price or 0)
    return money(gross * (HUNDRED - Decimal(discount_percent or 0)) / HUNDRED)


def line_tax(net: Decimal, tax_rate) -> Decimal:
    """The tax of one line, rounded per line (as an invoice prints it)."""
    return money(net * Decimal(tax_rate or 0) / HUNDRED)


def totals(lines) -> tuple[Decimal, Decimal, Decimal]:
    """``(net, tax, total)`` of quote lines."""
    net = tax = Decimal("0.00")
    for ln in lines:
        n = line_net(ln.quantity, ln.unit_price, ln.discount_percent)
        net += n
        tax += line_tax(n, ln.tax_rate)
    return net, tax, net + tax


def recompute(db, quote: Quote) -> None:
    lines = db.execute(select(QuoteLine).where(QuoteLine.quote_id == quote.id)).scalars().all()
    net, tax, total = totals(lines)
    if (quote.net_total, quote.tax_total, quote.total) != (net, tax, total):
        quote.net_total, quote.tax_total, quote.total = net, tax, total


def next_number(db, year: int) -> int:
    """The next quote number of ``year``. The UPDATE locks the year's row until the
    transaction ends, so concurrent quotes queue and never share a number; the first
    quote of a year inserts the row inside a savepoint and retries if another
    transaction inserted it first."""
    for _attempt in range(3):
        result = db.execute(
            update(QuoteSequence)
            .where(QuoteSequence.year == year)
            .values(last=QuoteSequence.last + 1)
            .returning(QuoteSequence.last)
        ).scalar_one_or_none()
        if result is not None:
            return result
        try:
            with db.begin_nested():
                db.execute(insert(QuoteSequence).values(year=year, last=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a quote number for {year}")


def format_number(year: int, seq: int) -> str:
    return f"Q-{year}-{seq:04d}"


def assign_number(db, quote: Quote, today: dt.date | None = None) -> None:
    year = (today or dt.date.today()).year
    seq = next_number(db, year)
    quote.year, quote.seq, quote.number = year, seq, format_number(year, seq)
    quote.revision = 1


def next_revision(db, quote: Quote) -> int:
    return (
        db.execute(
            select(func.max(Quote.revision)).where(
                Quote.year == quote.year, Quote.seq == quote.seq, Quote.variant == quote.variant
            )
        ).scalar_one()
        or 0
    ) + 1


COPIED = ("title", "opportunity_id", "account_id", "person_id", "currency", "valid_until",
          "notes", "variant", "language", "introduction", "terms")
LINE_COPIED = ("position", "product_id", "description", "details", "unit", "quantity",
               "unit_price", "discount_percent", "tax_rate", "line_total", "price_note")


class Conversion:
    """How a variant in another currency converts its prices (SFA-11): ``rate`` units of
    ``to`` for one of ``source``, at the rates of ``day`` (the older of the two rates
    the conversion goes through)."""

    def __init__(self, source: str, to: str, rate: Decimal, day: dt.date):
        self.source, self.to, self.rate, self.day = source, to, rate, day

    def price(self, amount) -> Decimal:
        return money(Decimal(amount or 0) * self.rate)


def conversion(db, source: str, to: str, on: dt.date | None = None) -> Conversion:
    """The :class:`Conversion` from ``source`` to ``to`` on ``on`` (today) through the
    core's dated exchange rates. Raises ``NoRate`` when a rate is missing."""
    from kyklos_sdk import convert, rate_date

    on = on or dt.date.today()
    rate = convert(db, 1, source, to, on, rounded=False)
    days = [rate_date(db, code, on) for code in (source, to)]
    return Conversion(source, to, rate.quantize(Decimal("0.0000000001")),
                      min(d for d in days if d is not None))


def clone(db, source: Quote, mode: str, user_id: int | None, variant: str | None = None,
          conv: Conversion | None = None, note=None):
    """A new quote from ``source`` with its lines: ``revision`` (same number, next
    revision), ``variant`` (same number, another variant label) or ``copy`` (a new
    number). Returns the new quote, flushed; totals are copied with the lines. With
    ``conv`` the new quote is in ``conv.to`` and every price is converted; ``note(line,
    converted price)`` says so on each line."""
    q = Quote(**{name: getattr(source, name) for name in COPIED})
    if conv is not None:
        q.currency = conv.to
        q.rate_from, q.exchange_rate, q.rate_date = conv.source, conv.rate, conv.day
    q.based_on_id = source.id
    q.status = "draft"
    q.owner_id = user_id if user_id is not None else source.owner_id
    q.created_by_id = q.updated_by_id = user_id
    if mode == "copy":
        assign_number(db, q)
    else:
        q.year, q.seq, q.number = source.year, source.seq, source.number
        if mode == "variant":
            q.variant = (variant or "").strip()[:10]
        q.revision = next_revision(db, q)
    q.net_total, q.tax_total, q.total = source.net_total, source.tax_total, source.total
    db.add(q)
    db.flush()
    lines = db.execute(
        select(QuoteLine).where(QuoteLine.quote_id == source.id).order_by(QuoteLine.position)
    ).scalars()
    for ln in lines:
        copy = QuoteLine(
            quote_id=q.id,
            owner_id=q.owner_id,
            created_by_id=user_id,
            updated_by_id=user_id,
            **{name: getattr(ln, name) for name in LINE_COPIED},
        )
        if conv is not None:
            copy.unit_price = conv.price(ln.unit_price)
            copy.line_total = line_net(copy.quantity, copy.unit_price, copy.discount_percent)
            copy.price_note = note(ln, copy.unit_price) if note else None
        db.add(copy)
    db.flush()
    if conv is not None:
        recompute(db, q)
        db.flush()
    return q


def line_form_context(request, quote) -> dict:
    """What the quote page's "Add a line" form offers: the tax rate of the quote's last
    line (quotes rarely mix rates) and the descriptions of recent lines the user may
    read, to pick instead of typing."""
    from kyklos_sdk import can_access, get_entity_type, visible_select

    db = request.dbsession
    line_et = get_entity_type(request, "quoteline")
    can_add = request.has_permission("sfa.quoteline.create") and can_access(
        request, get_entity_type(request, "quote"), quote, "update")
    last = db.execute(
        select(QuoteLine.tax_rate).where(QuoteLine.quote_id == quote.id)
        .order_by(QuoteLine.position.desc(), QuoteLine.id.desc()).limit(1)
    ).scalar_one_or_none()
    known = []
    if can_add:
        rows = db.execute(
            visible_select(request, line_et).with_only_columns(QuoteLine.description)
            .order_by(QuoteLine.id.desc()).limit(200)
        ).scalars()
        known = list(dict.fromkeys(d for d in rows if d))[:30]
    tax = Decimal(last if last is not None else 0).normalize()
    lines = db.execute(
        select(QuoteLine).where(QuoteLine.quote_id == quote.id)
        .order_by(QuoteLine.position, QuoteLine.id)
    ).scalars().all()
    return {"can_add": can_add, "tax_rate": format(tax, "f"), "known": known, "lines": lines,
            "num": lambda v: request.format_number(Decimal(v or 0).normalize()),
            **_catalog_context(request, quote, lines)}


def _catalog_context(request, quote, lines) -> dict:
    """The product picker of the "Add a line" form, the units, and the titles of the
    lines' products the user may read (one query)."""
    from kyklos_catalog.models import UNITS

    from kyklos_sdk import get_entity_type, record_titles, visible_select

    tr = request.localizer.translate
    units = [(code, tr(title)) for code, title in UNITS]
    names = dict(units)
    product_et = get_entity_type(request, "product")
    readable = request.has_permission(product_et.permission("read"))
    products: dict = {}
    ids = {ln.product_id for ln in lines if ln.product_id}
    if readable and ids:
        rows = request.dbsession.execute(
            visible_select(request, product_et).where(product_et.model.id.in_(ids))
        ).scalars().all()
        products = record_titles(request, product_et, rows)
    from .catalog_lines import margins, may_see_cost

    return {
        **_conversion_context(request, quote),
        # INV-07: only for those who may read what products cost
        "margin": margins(request, quote, lines) if may_see_cost(request) else None,
        "units": units,
        "unit_title": lambda code: names.get(code, code or ""),
        "products": products,
        "product_picker": request.route_url("entity.lookup", slug=product_et.slug)
        if readable else "",
        "product_options": [],
        "price_url": request.route_url("sfa.api.quote.lineprice", id=quote.id),
    }


def render_amount(request, field, value):
    """The display kind of a quote's sums: "17.255,00" in Greek, "17,255.00" in English
    (the quote's currency is its own field)."""
    from babel.numbers import format_decimal
    from markupsafe import Markup

    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return Markup("{}").format(value)
    return Markup("{}").format(
        format_decimal(number, format="#,##0.00", locale=request.locale_name or "en"))


def _conversion_context(request, quote) -> dict:
    """The rate a converted variant used, with a warning when it is older than the
    site's limit on the quote's day, and the currencies a new variant may be in."""
    from babel.numbers import get_currency_name

    from kyklos_sdk import site_setting

    conversion = None
    if quote.rate_from and quote.exchange_rate and quote.rate_date:
        max_age = int(site_setting(request, "rates.max_age_days") or 0)
        made = quote.created_at.date() if quote.created_at else dt.date.today()
        conversion = {
            "from": quote.rate_from,
            "rate": request.format_number(Decimal(quote.exchange_rate).quantize(
                Decimal("0.0001"))),
            "day": request.format_date(quote.rate_date),
            "stale": (made - quote.rate_date).days > max_age,
            "max_age": max_age,
        }
    codes = [site_setting(request, "currency.default") or "EUR"]
    codes += [c for c in site_setting(request, "currency.in_use") or () if c not in codes]
    locale = request.locale_name or "en"
    currencies = [(c, f"{c} · {get_currency_name(c, locale=locale)}") for c in codes
                  if c != quote.currency]
    return {
        "conversion": conversion,
        "variant_currencies": currencies
        if request.has_permission("sfa.quote.create") else [],
    }

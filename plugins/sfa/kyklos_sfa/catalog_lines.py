"""Quote lines from the catalog (SFA-14, INV-02): a line that names a product takes its
name and description (its ``details``) in the quote's language, its unit, VAT rate and
the price its price lists give the quote's account on the quote's day, in the quote's
currency, with the rule that gave it.
Every value stays editable: a price typed by hand replaces the catalog's and its note.

The price of all the lines of a quote is asked in one call of
:func:`kyklos_catalog.pricing.prices_for` (a handful of queries, however many lines)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from babel.numbers import format_decimal
from kyklos_catalog.models import Product, product_description, product_name
from kyklos_catalog.pricing import prices_for
from sqlalchemy import select

from . import _, quoting
from .models import Quote, QuoteLine


def _merged(record, data, name):
    return data[name] if name in data else getattr(record, name, None)


def quote_language(request, quote) -> str:
    """The language a quote is written in: its own, else its contact person's, else the
    user's."""
    if quote.language:
        return quote.language
    if quote.person_id:
        from kyklos_contacts.models import Person

        lang = request.dbsession.execute(
            select(Person.language).where(Person.id == quote.person_id)
        ).scalar_one_or_none()
        if lang:
            return lang
    return request.locale_name or "en"


def quote_day(quote) -> dt.date:
    """The day a quote's prices are taken on: the day it was made."""
    created = getattr(quote, "created_at", None)
    return created.date() if created is not None else dt.date.today()


def line_price(request, quote, product_id, quantity):
    """The catalog's :class:`~kyklos_catalog.pricing.Price` of one line of ``quote``."""
    return prices_for(
        request,
        [(product_id, Decimal(quantity or 1))],
        account_id=quote.account_id,
        on=quote_day(quote),
        currency=quote.currency,
    )[0]


def fill_line(request, record, data: dict, errors: dict) -> None:
    """The ``kyklos_record_validate`` part of a quote line: a newly chosen product fills
    what was left empty; a new quantity of a catalog-priced line asks its tier again; a
    price given by hand that differs from the catalog's drops the catalog's note."""
    db = request.dbsession
    product_id = _merged(record, data, "product_id")
    if "unit_price" in data and data["unit_price"] is None and product_id is None:
        errors["unit_price"] = _("Give the unit price.")
    if product_id is None:
        if record is None and not (data.get("description") or "").strip():
            errors["description"] = _("Give a description or choose a product.")
        if record is not None and record.product_id is not None and "product_id" in data:
            data["price_note"] = None  # no longer the catalog's price
        return
    quote = db.get(Quote, _merged(record, data, "quote_id") or 0)
    product = db.get(Product, product_id)
    if quote is None or product is None:
        return  # the reference checks have said so
    new_product = record is None or record.product_id != product_id
    quantity = _merged(record, data, "quantity") or Decimal(1)
    new_quantity = (
        record is not None and "quantity" in data and data["quantity"] != (record.quantity)
    )
    if new_product:
        lang = quote_language(request, quote)
        if not (data.get("description") or "").strip():
            data["description"] = product_name(product, lang)[:500]
        if not (data.get("details") or "").strip():
            # the description in the quote's language, else the plain one
            data["details"] = product_description(product, lang)
        if not data.get("unit"):
            data["unit"] = product.unit
        if data.get("tax_rate") is None:
            data["tax_rate"] = product.tax_rate
    from_catalog = new_product or (new_quantity and record.price_note is not None)
    typed = data.get("unit_price")
    if record is not None and typed == record.unit_price and not new_product:
        typed = None  # the form sent the price back unchanged
    if not from_catalog:
        if typed is not None:
            data["price_note"] = None
        return
    price = line_price(request, quote, product_id, quantity)
    if typed is not None:
        data["price_note"] = price.reason if price.amount == typed else None
        return
    if price.amount is None:
        errors["unit_price"] = _("${reason} Give the unit price.", mapping={"reason": price.reason})
        return
    data["unit_price"] = price.amount
    data["price_note"] = price.reason


def reprice(request, quote) -> int:
    """Every product line of ``quote`` priced again from the catalog in one look-up
    (after a change of account, currency or price list); returns how many lines
    changed. Lines without a product keep their price."""
    db = request.dbsession
    lines = (
        db.execute(
            select(QuoteLine)
            .where(QuoteLine.quote_id == quote.id, QuoteLine.product_id.is_not(None))
            .order_by(QuoteLine.position, QuoteLine.id)
        )
        .scalars()
        .all()
    )
    if not lines:
        return 0
    prices = prices_for(
        request,
        [(ln.product_id, ln.quantity) for ln in lines],
        account_id=quote.account_id,
        on=dt.date.today(),
        currency=quote.currency,
    )
    changed = 0
    for ln, price in zip(lines, prices, strict=True):
        if price.amount is None:
            continue
        if (ln.unit_price, ln.price_note) != (price.amount, price.reason):
            ln.unit_price, ln.price_note = price.amount, price.reason
            ln.line_total = quoting.line_net(ln.quantity, ln.unit_price, ln.discount_percent)
            changed += 1
    if changed:
        db.flush()
        quoting.recompute(db, quote)
        db.flush()
    return changed


def line_json(request, quote, product_id: int, quantity) -> dict:
    """What the "Add a line" form fills in when a product is chosen."""
    from kyklos_catalog.models import UNITS

    product = request.dbsession.get(Product, product_id)
    price = line_price(request, quote, product_id, quantity)
    units = dict(UNITS)
    tr = request.localizer.translate
    lang = quote_language(request, quote)
    return {
        "product_id": product_id,
        "description": product_name(product, lang),
        "details": product_description(product, lang) or "",
        "unit": product.unit,
        "unit_title": tr(units[product.unit]) if product.unit in units else product.unit,
        "tax_rate": str(Decimal(product.tax_rate or 0).normalize()),
        "unit_price": None if price.amount is None else str(price.amount),
        # as the user types it: "1.234,50" in Greek
        "unit_price_text": None
        if price.amount is None
        else format_decimal(price.amount, format="#,##0.00", locale=request.locale_name or "en"),
        "currency": quote.currency,
        "price_note": price.reason,
    }


# --- margin (INV-07) ----------------------------------------------------------------------


def may_see_cost(request) -> bool:
    """Whether the user may read what products cost (the field permission of the
    product's ``cost``): the margin derives from it and is shown to the same people."""
    from kyklos_sdk import field_access, get_entity_type

    et = get_entity_type(request, "product")
    if not request.has_permission(et.permission("read")):
        return False
    readable, _writable = field_access(request, et)
    return "cost" in readable


def _percent(part: Decimal, whole: Decimal) -> Decimal | None:
    if not whole:
        return None
    return (part * 100 / whole).quantize(Decimal("0.1"))


def margins(request, quote, lines) -> dict:
    """``{"lines": {line id: (margin, percent)}, "total": margin, "percent": ...,
    "without_cost": n}``: each product line's net less quantity x cost (in the quote's
    currency at the quote's day), and the sum over the lines whose cost is known. The
    caller checks :func:`may_see_cost` first."""
    from kyklos_catalog.pricing import costs_for

    costs = costs_for(
        request,
        {ln.product_id for ln in lines if ln.product_id},
        currency=quote.currency,
        on=quote_day(quote),
    )
    per_line: dict = {}
    total = net = Decimal("0.00")
    missing = 0
    for ln in lines:
        cost = costs.get(ln.product_id) if ln.product_id else None
        if cost is None:
            missing += 1
            continue
        line_net = Decimal(ln.line_total or 0)
        margin = quoting.money(line_net - Decimal(ln.quantity or 0) * cost)
        per_line[ln.id] = (margin, _percent(margin, line_net))
        total += margin
        net += line_net
    return {
        "lines": per_line,
        "total": total,
        "percent": _percent(total, net),
        "without_cost": missing,
    }


def margin_json(request, quote, lines) -> dict:
    m = margins(request, quote, lines)
    return {
        "currency": quote.currency,
        "margin": str(m["total"]),
        "margin_percent": None if m["percent"] is None else str(m["percent"]),
        "lines_without_cost": m["without_cost"],
        "lines": [
            {
                "id": ln.id,
                "margin": str(m["lines"][ln.id][0]),
                "margin_percent": None
                if m["lines"][ln.id][1] is None
                else str(m["lines"][ln.id][1]),
            }
            if ln.id in m["lines"]
            else {"id": ln.id, "margin": None, "margin_percent": None}
            for ln in lines
        ],
    }

"""The one answer to "what does this product cost this customer, in this quantity, on this
day, in this currency?" (INV-02), with the rule that gave it. Quotes, the API and any
later order or portal page call :func:`prices_for`.

How a price is found, for each line:

1. The price lists that apply: active, valid on the day, in the wanted currency, for
   the account or for everyone. An account's own list comes first, then the lower
   ``priority``, then the older list.
2. In the first list that has one, the rule for the product itself, else for its
   category or the nearest parent category, with the largest "from quantity" not above
   the quantity: a fixed price, or a discount off the list price; then rounded.
3. No rule anywhere: the product's list price, converted into the currency at the
   exchange rate of the day (and the rate is named).

A whole quote costs one query for the lists, one for their rules, one for the products
and one for the categories, however many lines it has.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select

from kyklos_sdk import MoneyError, NoRate, convert, format_money, format_number

from . import _
from .models import Category, PriceList, PriceRule, Product

CENT = Decimal("0.01")


@dataclass
class Price:
    """The price of one line, and why."""

    product_id: int
    quantity: Decimal
    amount: Decimal | None
    currency: str
    #: a sentence in the user's language saying where the price comes from
    reason: str
    pricelist_id: int | None = None
    rule_id: int | None = None
    #: ``(rate date, rate)`` when the list price was converted
    rate: tuple[dt.date, Decimal] | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {
            "product_id": self.product_id,
            "quantity": str(self.quantity),
            "unit_price": None if self.amount is None else str(self.amount),
            "currency": self.currency,
            "reason": self.reason,
            "pricelist_id": self.pricelist_id,
            "rule_id": self.rule_id,
            "rate": None
            if self.rate is None
            else {"date": self.rate[0].isoformat(), "rate": str(self.rate[1])},
        }


def _round(amount: Decimal, step: Decimal | None) -> Decimal:
    if step and step > 0:
        return ((amount / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step).quantize(CENT)
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def applicable_lists(db, account_id: int | None, on: dt.date, currency: str) -> list[PriceList]:
    """The price lists that apply, the one to try first first."""
    stmt = select(PriceList).where(
        PriceList.active.is_(True),
        PriceList.currency == currency,
        or_(PriceList.valid_from.is_(None), PriceList.valid_from <= on),
        or_(PriceList.valid_to.is_(None), PriceList.valid_to >= on),
    )
    if account_id is None:
        stmt = stmt.where(PriceList.account_id.is_(None))
    else:
        stmt = stmt.where(or_(PriceList.account_id.is_(None), PriceList.account_id == account_id))
    lists = list(db.execute(stmt).scalars())
    lists.sort(key=lambda pl: (pl.account_id is None, pl.priority, pl.id))
    return lists


def prices_for(
    request, lines, *, account_id=None, on: dt.date | None = None, currency: str
) -> list[Price]:
    """The :class:`Price` of each ``(product_id, quantity)`` of ``lines``; ``on`` defaults
    to today. A product the user may not read, or that does not exist, gets no amount and
    a reason saying so."""
    db = request.dbsession
    on = on or dt.date.today()
    lines = [(int(pid), Decimal(str(qty))) for pid, qty in lines]
    ids = {pid for pid, _q in lines}
    products = {
        p.id: p
        for p in db.execute(
            select(Product).where(Product.id.in_(ids), Product.deleted_at.is_(None))
        ).scalars()
    }
    categories = {c.id: c for c in db.execute(select(Category)).scalars()} if products else {}
    lists = applicable_lists(db, account_id, on, currency) if products else []
    rules_by_list: dict[int, list[PriceRule]] = {}
    if lists:
        for rule in db.execute(
            select(PriceRule).where(PriceRule.pricelist_id.in_([pl.id for pl in lists]))
        ).scalars():
            rules_by_list.setdefault(rule.pricelist_id, []).append(rule)
    return [
        _price_one(
            request, products.get(pid), pid, qty, lists, rules_by_list, categories, on, currency
        )
        for pid, qty in lines
    ]


def _ancestors(categories, category_id) -> list[int]:
    out, seen = [], set()
    while category_id is not None and category_id not in seen:
        seen.add(category_id)
        out.append(category_id)
        parent = categories.get(category_id)
        category_id = parent.parent_id if parent is not None else None
    return out


def _best_rule(rules, product, qty, chain) -> PriceRule | None:
    """The product's own rule, else the nearest category's, with the largest "from
    quantity" the quantity reaches."""

    def reached(r):
        return (r.min_quantity or 0) <= qty

    own = [r for r in rules if r.product_id == product.id and reached(r)]
    if own:
        return max(own, key=lambda r: (r.min_quantity or 0, r.id))
    for cid in chain:
        cat = [r for r in rules if r.product_id is None and r.category_id == cid and reached(r)]
        if cat:
            return max(cat, key=lambda r: (r.min_quantity or 0, r.id))
    return None


def _list_price_in(db, product, currency, on) -> tuple[Decimal | None, tuple | None, str | None]:
    """The list price in ``currency``: ``(amount, (day, rate) or None, problem)``; the
    rate is what one unit of the list price's currency was worth that day."""
    if product.list_price is None or not product.list_price_currency:
        return None, None, "no list price"
    if product.list_price_currency == currency:
        return product.list_price, None, None
    try:
        one = convert(db, 1, product.list_price_currency, currency, on, rounded=False)
    except (NoRate, MoneyError):
        return None, None, "no rate"
    return product.list_price * one, (on, one.quantize(Decimal("0.0001"))), None


def _price_one(request, product, pid, qty, lists, rules_by_list, categories, on, currency):
    tr = request.localizer.translate
    if product is None:
        return Price(pid, qty, None, currency, tr(_("No such product.")))
    chain = _ancestors(categories, product.category_id)
    for pl in lists:
        rule = _best_rule(rules_by_list.get(pl.id, ()), product, qty, chain)
        if rule is None:
            continue
        if rule.method == "fixed" and rule.price is not None:
            amount = _round(rule.price, rule.round_to)
            reason = _("Price list ${list}: fixed price.", mapping={"list": pl.name})
            if (rule.min_quantity or 0) > 1:
                reason = _(
                    "Price list ${list}: fixed price from ${qty}.",
                    mapping={"list": pl.name, "qty": _qty(request, rule.min_quantity)},
                )
            return Price(pid, qty, amount, currency, tr(reason), pl.id, rule.id)
        base, rate, problem = _list_price_in(request.dbsession, product, currency, on)
        if base is None:
            continue  # a discount needs a list price; try the next list
        amount = _round(base * (1 - (rule.discount_percent or 0) / Decimal(100)), rule.round_to)
        pct = _qty(request, rule.discount_percent)
        reason = _(
            "Price list ${list}: ${pct} % off the list price.",
            mapping={"list": pl.name, "pct": pct},
        )
        if (rule.min_quantity or 0) > 1:
            reason = _(
                "Price list ${list}: ${pct} % off the list price from ${qty}.",
                mapping={"list": pl.name, "pct": pct, "qty": _qty(request, rule.min_quantity)},
            )
        return Price(pid, qty, amount, currency, tr(reason), pl.id, rule.id, rate)
    base, rate, problem = _list_price_in(request.dbsession, product, currency, on)
    if base is None:
        if problem == "no rate":
            reason = _(
                "No exchange rate from ${from} to ${to} on ${day}.",
                mapping={
                    "from": product.list_price_currency,
                    "to": currency,
                    "day": request.format_date(on),
                },
            )
        else:
            reason = _("The product has no list price.")
        return Price(pid, qty, None, currency, tr(reason))
    if rate is not None:
        reason = _(
            "List price ${price}, converted at ${rate} of ${day}.",
            mapping={
                "price": format_money(request, product.list_price, product.list_price_currency),
                "rate": format_number(request, rate[1]),
                "day": request.format_date(rate[0]),
            },
        )
    else:
        reason = _("List price.")
    return Price(pid, qty, _round(base, None), currency, tr(reason), rate=rate)


def _qty(request, value) -> str:
    value = Decimal(value or 0)
    return format_number(request, value.normalize() if value == value.to_integral() else value)

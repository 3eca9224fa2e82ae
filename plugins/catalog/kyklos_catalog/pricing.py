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
and one for the categories, however many lines it has (and one per currency pair it
converts, each asked once).
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
    # plain rows of the columns pricing reads: loading whole ORM objects (and every rule
    # of a list with thousands of them) was what made a look-up hundreds of times slower
    # than its SQL
    products = {
        row.id: row
        for row in db.execute(
            select(
                Product.id, Product.category_id, Product.list_price, Product.list_price_currency
            ).where(Product.id.in_(ids), Product.deleted_at.is_(None))
        )
    }
    parents = (
        dict(db.execute(select(Category.id, Category.parent_id)).all()) if products else {}
    )
    chains = {p.id: _ancestors(parents, p.category_id) for p in products.values()}
    lists = applicable_lists(db, account_id, on, currency) if products else []
    rules = _RuleIndex()
    if lists:
        wanted = {cid for chain in chains.values() for cid in chain}
        # only the rules that can apply to these lines: the products' own and their
        # categories' (and their parents'); one query for every list involved
        which = PriceRule.product_id.in_(products)
        if wanted:
            which = or_(which, (PriceRule.product_id.is_(None) & PriceRule.category_id.in_(wanted)))
        for rule in db.execute(
            select(*_RULE_COLUMNS).where(PriceRule.pricelist_id.in_([pl.id for pl in lists]), which)
        ):
            rules.add(rule)
    # one rate look-up per currency pair, not per line that converts
    rates: dict = {}
    return [
        _price_one(
            request,
            products.get(pid),
            pid,
            qty,
            lists,
            rules,
            chains.get(pid, ()),
            on,
            currency,
            rates,
        )
        for pid, qty in lines
    ]


_RULE_COLUMNS = (
    PriceRule.id,
    PriceRule.pricelist_id,
    PriceRule.product_id,
    PriceRule.category_id,
    PriceRule.min_quantity,
    PriceRule.method,
    PriceRule.price,
    PriceRule.discount_percent,
    PriceRule.round_to,
)


class _RuleIndex:
    """The rules of a call by ``(list, product)`` and ``(list, category)``: a line looks
    up its candidates instead of scanning every rule of every list."""

    def __init__(self):
        self.by_product: dict[tuple[int, int], list] = {}
        self.by_category: dict[tuple[int, int], list] = {}

    def add(self, rule) -> None:
        if rule.product_id is not None:
            self.by_product.setdefault((rule.pricelist_id, rule.product_id), []).append(rule)
        elif rule.category_id is not None:
            self.by_category.setdefault((rule.pricelist_id, rule.category_id), []).append(rule)


def _ancestors(parents, category_id) -> list[int]:
    """``category_id`` and its parents, nearest first; ``parents`` maps id to parent id."""
    out, seen = [], set()
    while category_id is not None and category_id not in seen:
        seen.add(category_id)
        out.append(category_id)
        category_id = parents.get(category_id)
    return out


def _best_rule(rules: _RuleIndex, list_id, product, qty, chain):
    """The product's own rule, else the nearest category's, with the largest "from
    quantity" the quantity reaches."""

    def best(candidates):
        reached = [r for r in candidates if (r.min_quantity or 0) <= qty]
        return max(reached, key=lambda r: (r.min_quantity or 0, r.id)) if reached else None

    own = best(rules.by_product.get((list_id, product.id), ()))
    if own is not None:
        return own
    for cid in chain:
        cat = best(rules.by_category.get((list_id, cid), ()))
        if cat is not None:
            return cat
    return None


def _list_price_in(
    db, product, currency, on, rates=None
) -> tuple[Decimal | None, tuple | None, str | None]:
    """The list price in ``currency``: ``(amount, (day, rate) or None, problem)``; the
    rate is what one unit of the list price's currency was worth that day. ``rates``
    remembers each pair's rate for the other lines of the same call."""
    if product.list_price is None or not product.list_price_currency:
        return None, None, "no list price"
    if product.list_price_currency == currency:
        return product.list_price, None, None
    rates = {} if rates is None else rates
    pair = (product.list_price_currency, currency)
    if pair not in rates:
        try:
            rates[pair] = convert(db, 1, pair[0], pair[1], on, rounded=False)
        except (NoRate, MoneyError):
            rates[pair] = None
    one = rates[pair]
    if one is None:
        return None, None, "no rate"
    return product.list_price * one, (on, one.quantize(Decimal("0.0001"))), None


def _price_one(request, product, pid, qty, lists, rules, chain, on, currency, rates=None):
    tr = request.localizer.translate
    if product is None:
        return Price(pid, qty, None, currency, tr(_("No such product.")))
    for pl in lists:
        rule = _best_rule(rules, pl.id, product, qty, chain)
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
        base, rate, problem = _list_price_in(request.dbsession, product, currency, on, rates)
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
    base, rate, problem = _list_price_in(request.dbsession, product, currency, on, rates)
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


def costs_for(request, product_ids, *, currency: str, on: dt.date | None = None) -> dict:
    """``{product id: unit cost in currency or None}``: what each product costs the
    company, converted at the rate of ``on`` (one query for the products, one per
    currency pair). For margins (INV-07): the caller shows them only to users who may
    read the ``cost`` field of products."""
    db = request.dbsession
    on = on or dt.date.today()
    ids = {int(i) for i in product_ids if i}
    if not ids:
        return {}
    rows = db.execute(
        select(Product.id, Product.cost, Product.cost_currency).where(Product.id.in_(ids))
    ).all()
    rates: dict = {}
    out: dict = {}
    for pid, cost, cur in rows:
        if cost is None or not cur:
            out[pid] = None
            continue
        if cur == currency:
            out[pid] = cost
            continue
        if (cur, currency) not in rates:
            try:
                rates[(cur, currency)] = convert(db, 1, cur, currency, on, rounded=False)
            except (NoRate, MoneyError):
                rates[(cur, currency)] = None
        rate = rates[(cur, currency)]
        out[pid] = None if rate is None else (cost * rate).quantize(CENT, rounding=ROUND_HALF_UP)
    return out

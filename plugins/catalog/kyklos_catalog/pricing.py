"""The one answer to "what does this product cost this customer, in this quantity, on this
day, in this currency?" (INV-02), with the rule that gave it. Quotes, the API and any
later order or portal page call :func:`prices_for`.

How a price is found, for each line:

1. The price lists that apply: active, valid on the day, in the wanted currency, and
   for the account, for a group it belongs to (a tag it carries, a saved segment of
   accounts holding it, a territory it lies in by the record rules' rule) or for
   everyone. The account's own list comes first, then the group lists, then the
   general ones; within each the lower ``priority``, then the older list.
2. In the first list that has one, the rule for the product itself, else for its
   category or the nearest parent category, with the largest "from quantity" not above
   the quantity: a fixed price, or a discount off the list price or off another list's
   price for the product (found by the same rules, that list valid on the day and in
   the currency); then rounded. A rule that gives no price (no list price, nothing in
   the other list) lets the next list answer.
3. No rule anywhere: the product's list price, converted into the currency at the
   exchange rate of the day (and the rate is named).

A whole quote costs one query for the lists, one for their rules, one for the products
and one for the categories, however many lines it has; with an account, one for its
tags, two for its territory and one per segment a list names; one for the lists and one
for the rules of each level of "discount off another list"; and one per currency pair
it converts, each asked once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import or_, select

from kyklos_sdk import (
    MoneyError,
    NoRate,
    all_tags,
    convert,
    format_money,
    format_number,
    record_tag_ids,
    segments_containing,
    territories_of,
    territory_choices,
    visible_segments,
)

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


def _groups(request, account_id) -> tuple[set[int], set[int]]:
    """``(tag ids, territory ids)`` of the account: what group lists may apply."""
    if account_id is None:
        return set(), set()
    return (
        record_tag_ids(request.dbsession, "account", account_id),
        territories_of(request, "account", account_id),
    )


def _base_where(on: dt.date, currency: str | None):
    where = (
        PriceList.active.is_(True),
        or_(PriceList.valid_from.is_(None), PriceList.valid_from <= on),
        or_(PriceList.valid_to.is_(None), PriceList.valid_to >= on),
    )
    return where if currency is None else (*where, PriceList.currency == currency)


def applicable_lists(request, account_id: int | None, on: dt.date, currency: str | None) -> list:
    """The price lists that apply, the one to try first first: the account's own, then
    those for a group it belongs to (a tag it carries, a segment holding it, its
    territory), then those for everyone; within each, the lower priority, then the
    older list. ``currency`` ``None``: the lists in any currency."""
    db = request.dbsession
    # a group list whose group was deleted keeps its audience and applies to nobody
    everyone = PriceList.audience == "everyone"
    stmt = select(PriceList).where(*_base_where(on, currency))
    if account_id is None:
        stmt = stmt.where(everyone)
        lists = list(db.execute(stmt).scalars())
    else:
        tags, territories = _groups(request, account_id)
        which = [everyone, PriceList.account_id == account_id, PriceList.segment_id.is_not(None)]
        if tags:
            which.append(PriceList.tag_id.in_(sorted(tags)))
        if territories:
            which.append(PriceList.territory_id.in_(sorted(territories)))
        lists = list(db.execute(stmt.where(or_(*which))).scalars())
        # segment lists apply to the segment's members only: asked once per segment
        segs = {pl.segment_id for pl in lists if pl.segment_id is not None}
        held = segments_containing(request, "account", account_id, segs) if segs else set()
        lists = [pl for pl in lists if pl.segment_id is None or pl.segment_id in held]
    lists.sort(key=lambda pl: (_rank(pl), pl.priority, pl.id))
    return lists


def _rank(pl) -> int:
    return {"account": 0, "everyone": 2}.get(pl.audience, 1)


def customer_currency(request, account_id: int | None, on: dt.date | None = None) -> str:
    """The currency a customer reads prices in (the portal): that of the first list made
    for the account or a group it belongs to, valid on ``on``; else, when only the lists
    for everyone apply (one per currency), the deployment's default currency."""
    from kyklos_sdk import site_setting

    on = on or dt.date.today()
    if account_id is not None:
        for pl in applicable_lists(request, account_id, on, None):
            if pl.audience != "everyone":
                return pl.currency
    return site_setting(request, "currency.default") or "EUR"


def _why(request, pl, memo=None) -> str:
    """ "Hotels 2026 (accounts tagged hotel)": a list's name and whom it is for; ``memo``
    keeps each list's and the groups' names for the other lines of the call (reading
    the names of the tags, segments or territories is one query for each kind)."""
    memo = {} if memo is None else memo
    if pl.id in memo:
        return memo[pl.id]
    if memo.get(NAMES_ONLY):
        # a customer reads the list's name, never the groups staff file accounts in
        memo[pl.id] = pl.name
        return pl.name

    def names(kind, load):
        if kind not in memo:
            memo[kind] = dict(load())
        return memo[kind]

    if pl.tag_id is not None:
        group = names("tags", lambda: [(t.id, t.name) for t in all_tags(request.dbsession)])
        text = _(
            "${list} (accounts tagged ${group})",
            mapping={"list": pl.name, "group": group.get(pl.tag_id, "?")},
        )
    elif pl.segment_id is not None:
        group = names(
            "segments", lambda: [(s.id, s.name) for s in visible_segments(request, "account")]
        )
        text = _(
            "${list} (accounts of the segment ${group})",
            mapping={"list": pl.name, "group": group.get(pl.segment_id, "?")},
        )
    elif pl.territory_id is not None:
        group = names("territories", lambda: territory_choices(request))
        text = _(
            "${list} (accounts in the territory ${group})",
            mapping={"list": pl.name, "group": group.get(pl.territory_id, "?")},
        )
    elif pl.account_id is not None:
        text = _("${list} (for this account)", mapping={"list": pl.name})
    else:
        memo[pl.id] = pl.name  # for everyone: the name says it all
        return pl.name
    memo[pl.id] = _t(request, text)
    return memo[pl.id]


def _t(request, ts) -> str:
    return request.localizer.translate(ts)


#: the key of ``_why``'s memo that leaves the groups out of the reasons
NAMES_ONLY = "names only"


def prices_for(
    request,
    lines,
    *,
    account_id=None,
    on: dt.date | None = None,
    currency: str,
    for_customer: bool = False,
) -> list[Price]:
    """The :class:`Price` of each ``(product_id, quantity)`` of ``lines``; ``on`` defaults
    to today. A product that does not exist gets no amount and a reason saying so; the
    caller reads the products through the record rules. ``for_customer`` (the portal):
    the reasons name each list but not the tag, segment or territory it is for, which
    are the company's own filing."""
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
    parents = dict(db.execute(select(Category.id, Category.parent_id)).all()) if products else {}
    chains = {p.id: _ancestors(parents, p.category_id) for p in products.values()}
    lists = applicable_lists(request, account_id, on, currency) if products else []
    rules = _RuleIndex()
    if for_customer:
        rules.names[NAMES_ONLY] = True
    if lists:
        wanted = {cid for chain in chains.values() for cid in chain}
        # only the rules that can apply to these lines: the products' own and their
        # categories' (and their parents'); one query for every list involved
        which = PriceRule.product_id.in_(products)
        if wanted:
            which = or_(which, (PriceRule.product_id.is_(None) & PriceRule.category_id.in_(wanted)))
        rules.lists = {pl.id: pl for pl in lists}
        todo = [pl.id for pl in lists]
        while todo:
            bases = set()
            for rule in db.execute(
                select(*_RULE_COLUMNS).where(PriceRule.pricelist_id.in_(todo), which)
            ):
                rules.add(rule)
                if rule.base_pricelist_id is not None:
                    bases.add(rule.base_pricelist_id)
            # the lists discounted by these rules (valid that day, in that currency,
            # whomever they are for), and their rules in turn: one more round per level
            bases -= set(rules.lists)
            todo = []
            if bases:
                for pl in db.execute(
                    select(PriceList).where(
                        PriceList.id.in_(sorted(bases)), *_base_where(on, currency)
                    )
                ).scalars():
                    rules.lists[pl.id] = pl
                    todo.append(pl.id)
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
    PriceRule.base_pricelist_id,
    PriceRule.round_to,
)


class _RuleIndex:
    """The rules of a call by ``(list, product)`` and ``(list, category)``: a line looks
    up its candidates instead of scanning every rule of every list."""

    def __init__(self):
        self.by_product: dict[tuple[int, int], list] = {}
        self.by_category: dict[tuple[int, int], list] = {}
        #: every list involved by id: the applicable ones and those their rules discount
        self.lists: dict[int, PriceList] = {}
        #: each list's name and whom it is for, worked out once per call
        self.names: dict = {}

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


def _list_price(request, pl, product, qty, rules, chain, on, currency, rates, seen=()):
    """``(amount, reason, rule, rate)`` of ``pl`` for the product, or ``None`` when the list
    has no rule that gives one (no rule, a discount without a base price). ``seen``:
    the lists asked on the way here, so that a circle saved before the check was made
    ends instead of looping."""
    rule = _best_rule(rules, pl.id, product, qty, chain)
    if rule is None or pl.id in seen:
        return None
    name = _why(request, pl, rules.names)
    more = (rule.min_quantity or 0) > 1
    mq = {"qty": _qty(request, rule.min_quantity)} if more else {}
    if rule.method == "fixed":
        if rule.price is None:
            return None
        amount = _round(rule.price, rule.round_to)
        reason = _("Price list ${list}: fixed price.", mapping={"list": name})
        if more:
            reason = _("Price list ${list}: fixed price from ${qty}.", mapping={"list": name, **mq})
        return amount, _t(request, reason), rule, None
    pct = _qty(request, rule.discount_percent)
    off = 1 - (rule.discount_percent or 0) / Decimal(100)
    if rule.base_pricelist_id is not None:
        base_list = rules.lists.get(rule.base_pricelist_id)
        if base_list is None:
            return None  # not valid that day or not in that currency
        got = _list_price(
            request, base_list, product, qty, rules, chain, on, currency, rates, (*seen, pl.id)
        )
        if got is None:
            return None
        amount = _round(got[0] * off, rule.round_to)
        mapping = {"list": name, "pct": pct, "base": _why(request, base_list, rules.names), **mq}
        reason = _("Price list ${list}: ${pct} % off price list ${base}.", mapping=mapping)
        if more:
            reason = _(
                "Price list ${list}: ${pct} % off price list ${base} from ${qty}.",
                mapping=mapping,
            )
        return amount, _t(request, reason), rule, got[3]
    base, rate, _problem = _list_price_in(request.dbsession, product, currency, on, rates)
    if base is None:
        return None  # a discount needs a list price; try the next list
    amount = _round(base * off, rule.round_to)
    reason = _(
        "Price list ${list}: ${pct} % off the list price.", mapping={"list": name, "pct": pct}
    )
    if more:
        reason = _(
            "Price list ${list}: ${pct} % off the list price from ${qty}.",
            mapping={"list": name, "pct": pct, **mq},
        )
    return amount, _t(request, reason), rule, rate


def _price_one(request, product, pid, qty, lists, rules, chain, on, currency, rates=None):
    tr = request.localizer.translate
    if product is None:
        return Price(pid, qty, None, currency, tr(_("No such product.")))
    for pl in lists:
        got = _list_price(request, pl, product, qty, rules, chain, on, currency, rates)
        if got is not None:
            amount, reason, rule, rate = got
            return Price(pid, qty, amount, currency, reason, pl.id, rule.id, rate)
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

"""Hook implementations: checks on every write path, and the prices panel of a product."""

from __future__ import annotations

import re
from decimal import Decimal

from markupsafe import Markup, escape
from sqlalchemy import func, select

from kyklos_sdk import (
    Panel,
    all_tags,
    create_record,
    format_money,
    format_number,
    hookimpl,
    is_currency,
    site_setting,
    territory_choices,
    visible_segments,
)

from . import _
from .models import Category, PriceList, PriceRule, Product
from .paths import find_path, forget, product_by_code, split_path


def _merged(record, data, name):
    return data[name] if name in data else getattr(record, name, None)


def gtin_ok(code: str) -> bool:
    """An EAN-8, UPC-A (12), EAN-13 or GTIN-14 with a right check digit (GS1 mod 10)."""
    if not re.fullmatch(r"\d{8}|\d{12,14}", code):
        return False
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    # weights 3,1,3,1... from the digit nearest the check digit
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def validate_product(request, record, data, errors) -> None:
    if "sku" in data and data["sku"] is not None:
        sku = data["sku"].strip()
        if not sku:
            errors["sku"] = _("Give the product a code.")
        elif any(c.isspace() for c in sku):
            errors["sku"] = _("A code has no spaces.")
        else:
            data["sku"] = sku.upper()
            taken = (
                select(func.count())
                .select_from(Product)
                .where(func.upper(Product.sku) == sku.upper())
            )
            if record is not None:
                taken = taken.where(Product.id != record.id)
            if request.dbsession.execute(taken).scalar():
                errors["sku"] = _("Another product has this code.")
    code = data.get("barcode")
    if code:
        code = re.sub(r"[\s-]", "", code)
        if not gtin_ok(code):
            errors["barcode"] = _("Not a valid EAN or UPC barcode (check the last digit).")
        else:
            data["barcode"] = code
    for name in ("list_price", "cost"):
        money = data.get(name)
        if money is not None and getattr(money, "amount", 0) < 0:
            errors[name] = _("A price cannot be negative.")


def validate_rule(request, record, data, errors) -> None:
    product = _merged(record, data, "product_id")
    category = _merged(record, data, "category_id")
    if (product is None) == (category is None) and not (
        {"product_code", "category_path"} & set(errors)
    ):
        errors["product_id"] = _("Choose a product or a category (one of the two).")
    method = _merged(record, data, "method") or "fixed"
    if method == "fixed" and _merged(record, data, "price") is None:
        errors["price"] = _("A fixed price needs the price.")
    if method == "fixed" and (_merged(record, data, "price") or 0) < 0:
        errors["price"] = _("A price cannot be negative.")
    if method == "discount" and not _merged(record, data, "discount_percent"):
        errors["discount_percent"] = _("Give the discount in per cent.")
    step = _merged(record, data, "round_to")
    if step is not None and step <= 0:
        errors["round_to"] = _("Round to a positive amount, e.g. 0.05.")


GROUPS = ("account_id", "tag_id", "segment_id", "territory_id")


def validate_pricelist(request, record, data, errors) -> None:
    cur = data.get("currency")
    if cur is not None and not is_currency(cur):
        errors["currency"] = _("Not an ISO 4217 currency code.")
    start, end = _merged(record, data, "valid_from"), _merged(record, data, "valid_to")
    if start and end and end < start:
        errors["valid_to"] = _("The end comes before the start.")
    # whom the list is for: one account, or one group of accounts, or everyone
    given = [name for name in GROUPS if _merged(record, data, name) is not None]
    if len(given) > 1:
        for name in given:
            if name in data:
                errors.setdefault(
                    name,
                    _("A price list is for one account, one tag, one segment or one territory."),
                )
    tag = data.get("tag_id")
    if tag is not None and tag not in {t.id for t in all_tags(request.dbsession)}:
        errors["tag_id"] = _("No such tag.")
    seg = data.get("segment_id")
    if seg is not None and seg not in {s.id for s in visible_segments(request, "account")}:
        errors["segment_id"] = _("Choose a saved segment of accounts.")
    terr = data.get("territory_id")
    if terr is not None and terr not in {i for i, _n in territory_choices(request)}:
        errors["territory_id"] = _("No such territory.")


def validate_rule_base(request, record, data, errors) -> None:
    """A discount off another list: never off its own list, and never in a circle (A off
    B off A), which would have no price."""
    base = _merged(record, data, "base_pricelist_id")
    if base is None or "base_pricelist_id" in errors:
        return
    if (_merged(record, data, "method") or "fixed") != "discount":
        if "base_pricelist_id" in data:
            errors["base_pricelist_id"] = _("Only a discount is taken off another price list.")
        return
    own = _merged(record, data, "pricelist_id")
    if own is None:
        return
    db = request.dbsession
    # the lists the base list's rules take their prices from, and theirs, ...
    seen, todo = set(), {base}
    while todo:
        if own in todo:
            errors["base_pricelist_id"] = _(
                "This price list already takes its prices from this one: choose another."
            )
            return
        seen |= todo
        stmt = select(PriceRule.base_pricelist_id).where(
            PriceRule.pricelist_id.in_(sorted(todo)), PriceRule.base_pricelist_id.is_not(None)
        )
        if record is not None:
            stmt = stmt.where(PriceRule.id != record.id)
        todo = set(db.execute(stmt).scalars()) - seen


def validate_category(request, record, data, errors) -> None:
    parent = data.get("parent_id")
    if record is None or parent is None:
        return
    # a category cannot sit under itself or under one of its own subcategories
    seen = set()
    while parent is not None and parent not in seen:
        if parent == record.id:
            errors["parent_id"] = _("A category cannot be inside itself.")
            return
        seen.add(parent)
        parent = request.dbsession.execute(
            select(Category.parent_id).where(Category.id == parent)
        ).scalar()


def prepare_paths(request, entity_type, data) -> None:
    """Files name a category by its path and a rule's product by its code: turn what
    exists into ids before the types are checked. A product's path with new categories
    stays for the before-save hook, which creates them (never on a dry run)."""
    db = request.dbsession
    path = data.get("category_path")
    if isinstance(path, str):
        parts = split_path(path)
        if not path.strip():
            data.pop("category_path")
            data["category_id"] = None
        elif all(parts):
            cid, depth = find_path(db, parts)
            if depth == len(parts):
                data.pop("category_path")
                data["category_id"] = cid
    if entity_type.name == "product":
        # shop exports give bare amounts ("12.50"): the deployment's currency then
        for name in ("list_price", "cost"):
            money = data.get(name)
            if isinstance(money, dict) and not money.get("currency") and money.get("amount"):
                money["currency"] = site_setting(request, "currency.default") or "EUR"
    code = data.get("product_code")
    if entity_type.name == "pricerule" and isinstance(code, str) and code.strip():
        pid = product_by_code(db, code)
        if pid is not None:
            data.pop("product_code")
            data["product_id"] = pid


def validate_paths(entity_type, data, errors) -> None:
    path = data.get("category_path")
    if isinstance(path, str) and path.strip():
        if not all(split_path(path)):
            errors["category_path"] = _('Write the path as "Hardware / Printers".')
        elif entity_type.name == "pricerule":
            errors["category_path"] = _("No category has this path.")
    code = data.get("product_code")
    if isinstance(code, str) and code.strip():
        errors["product_code"] = _("No product has this code.")


def create_path(request, record) -> None:
    """Create the categories a product's path names and the catalog lacks yet."""
    path = record.__dict__.pop("_pending_category_path", None)
    if not isinstance(path, str) or not path.strip():
        return
    db = request.dbsession
    parts = split_path(path)
    parent, depth = find_path(db, parts)
    et = request.registry.kyklos_entities["productcategory"]
    for name in parts[depth:]:
        made = create_record(request, et, {"name": name, "parent_id": parent}, source="import")
        parent = made.id
    forget(db)
    record.category_id = parent


class Hooks:
    @hookimpl
    def kyklos_record_prepare(self, request, entity_type, record, data, source):
        if entity_type.name in ("product", "pricerule") and isinstance(data, dict):
            prepare_paths(request, entity_type, data)

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created, source):
        if entity_type.name == "product":
            create_path(request, record)
        elif entity_type.name == "pricelist":
            record.audience = record.audience_now()
        elif entity_type.name == "productcategory":
            forget(request.dbsession)

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.plugin != "catalog":
            return
        name = entity_type.name
        if name in ("product", "pricerule"):
            validate_paths(entity_type, data, errors)
        if name == "product":
            validate_product(request, record, data, errors)
        elif name == "pricerule":
            validate_rule(request, record, data, errors)
            validate_rule_base(request, record, data, errors)
        elif name == "pricelist":
            validate_pricelist(request, record, data, errors)
        elif name == "productcategory":
            validate_category(request, record, data, errors)

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "product":
            return None
        from .pricing import prices_for

        db = request.dbsession
        currencies = [site_setting(request, "currency.default") or "EUR"]
        for cur in site_setting(request, "currency.in_use") or ():
            if cur not in currencies:
                currencies.append(cur)
        # the general price of one unit in each currency in use, and what each list
        # that has a rule for the product asks
        items = []
        for cur in currencies[:4]:
            price = prices_for(request, [(record.id, Decimal(1))], currency=cur)[0]
            if price.amount is not None:
                items.append((format_money(request, price.amount, cur), None, price.reason))
        # each list's own rules for the product, in words: "€8.50", "10 % off", "from 100"
        rows = db.execute(
            select(PriceList, PriceRule)
            .join(PriceRule, PriceRule.pricelist_id == PriceList.id)
            .where(PriceRule.product_id == record.id, PriceList.active.is_(True))
            .order_by(PriceList.priority, PriceList.id, PriceRule.min_quantity)
            .limit(30)
        ).all()
        asks: dict[int, tuple] = {}
        for pl, rule in rows:
            if pl.id not in asks and len(asks) >= 10:
                continue
            asks.setdefault(pl.id, (pl, []))[1].append(_rule_words(request, pl, rule))
        for pl, words in asks.values():
            items.append(
                (
                    pl.name,
                    request.route_path("entity.detail", slug="price-lists", id=pl.id),
                    "; ".join(words),
                )
            )
        if not items:
            return None
        return [Panel(_("Prices"), items=items, count=None, order=5)]


def _rule_words(request, pl, rule) -> str:
    """One price rule in words: "€8.50", "10 % off", "... from 100"."""
    tr = request.localizer.translate
    if rule.method == "fixed" and rule.price is not None:
        text = format_money(request, rule.price, pl.currency)
    else:
        pct = format_number(request, (rule.discount_percent or Decimal(0)).normalize())
        base = (
            request.dbsession.get(PriceList, rule.base_pricelist_id)
            if rule.base_pricelist_id
            else None
        )
        if base is not None:
            text = tr(_("${pct} % off ${list}", mapping={"pct": pct, "list": base.name}))
        else:
            text = tr(_("${pct} % off", mapping={"pct": pct}))
    qty = rule.min_quantity or Decimal(0)
    if qty > 1:
        number = format_number(request, qty.normalize() if qty == qty.to_integral() else qty)
        text = tr(_("${price} from ${qty}", mapping={"price": text, "qty": number}))
    return text


def _render_choice(find):
    def render(request, field, value):
        name = find(request, value)
        if name is None:
            return Markup('<span class="text-muted">{}</span>').format(
                request.localizer.translate(_("Restricted"))
            )
        return escape(name)

    return render


def _tag_name(request, value):
    return next((t.name for t in all_tags(request.dbsession) if t.id == value), None)


def _segment_name(request, value):
    return next((s.name for s in visible_segments(request, "account") if s.id == value), None)


def _territory_name(request, value):
    return next((n for i, n in territory_choices(request) if i == value), None)


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_catalog.hooks")
    # the groups a price list is for, read by their names on its page and in lists
    config.add_display_kind("catalog_tag", _render_choice(_tag_name))
    config.add_display_kind("catalog_segment", _render_choice(_segment_name))
    config.add_display_kind("catalog_territory", _render_choice(_territory_name))

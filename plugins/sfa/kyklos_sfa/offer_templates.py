"""Offer templates (issue #20, SFA-11): a quote started from a template, and a template
saved from a quote.

A template's product lines carry no price: the new quote's lines are written through
the quote line's own write path (``create_record``), so each is priced by the catalog
(:func:`kyklos_catalog.pricing.prices_for`) for the new quote's account, currency and
day, exactly as a line a rep adds by hand. Free-text lines keep the template's price."""

from __future__ import annotations

from decimal import Decimal

from kyklos_catalog.models import Product, product_description, product_name
from sqlalchemy import select

from kyklos_sdk import Problem, RecordError, create_record, get_entity_type, get_record

from . import _
from .catalog_lines import quote_language
from .models import QuoteLine, QuoteTemplate, QuoteTemplateLine
from .views.quotes import _visible

FROM_TEMPLATE_FIELDS = ("template_id", "opportunity_id", "account_id", "person_id", "title")
SAVE_FIELDS = ("name",)


def _id(value, name: str, errors: dict, required: bool = False):
    if value is None:
        if required:
            errors[name] = _("Required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 10**18:
        errors[name] = _("Not an integer.")
        return None
    return value


def _text(value, name: str, errors: dict, limit: int = 200):
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        errors[name] = _("At most ${n} characters.", mapping={"n": limit})
        return None
    return value.strip() or None


def active_templates(request) -> list[QuoteTemplate]:
    """The templates the user may see and start from, by name."""
    et = get_entity_type(request, "quotetemplate")
    from kyklos_sdk import visible_select

    return list(
        request.dbsession.execute(
            visible_select(request, et)
            .where(QuoteTemplate.active.is_(True))
            .order_by(QuoteTemplate.name, QuoteTemplate.id)
        ).scalars()
    )


def _template_lines(db, template_id: int) -> list[QuoteTemplateLine]:
    return list(
        db.execute(
            select(QuoteTemplateLine)
            .where(QuoteTemplateLine.template_id == template_id)
            .order_by(QuoteTemplateLine.position, QuoteTemplateLine.id)
        ).scalars()
    )


def _num(value) -> str | None:
    return None if value is None else str(value)


def quote_from_template(request, body: dict, source: str = "api"):
    """A new quote (with its lines) from the template ``body["template_id"]``, on the
    opportunity ``body["opportunity_id"]`` when given (its account and contact person
    with it), for ``body["account_id"]`` / ``body["person_id"]`` when given (they win
    over the opportunity's: the generic new-quote form sends what the rep chose). The
    catalog prices the product lines for that account, the template's currency and
    today. A bad field or a line the catalog cannot price is a :class:`Problem`
    naming the field; the caller's transaction is then to be aborted (the API's is,
    as the problem is raised through it)."""
    errors: dict = {}
    unknown = [k for k in body if k not in FROM_TEMPLATE_FIELDS]
    for k in unknown:
        errors[str(k)[:50]] = _("Unknown field.")
    template_id = _id(body.get("template_id"), "template_id", errors, required=True)
    opp_id = _id(body.get("opportunity_id"), "opportunity_id", errors)
    title = _text(body.get("title"), "title", errors)
    template = _visible(request, "quotetemplate", template_id) if template_id else None
    if template_id and (template is None or not template.active):
        errors["template_id"] = _("No such offer template.")
    opp = _visible(request, "opportunity", opp_id) if opp_id else None
    if opp_id and opp is None:
        errors["opportunity_id"] = _("No such opportunity.")
    chosen = {}
    for name, entity, missing in (
        ("account_id", "account", _("No such account.")),
        ("person_id", "person", _("No such person.")),
    ):
        rid = _id(body.get(name), name, errors)
        if rid and _visible(request, entity, rid) is None:
            errors[name] = missing
        elif rid:
            chosen[name] = rid
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    data = {
        "title": title or (opp.name if opp is not None else template.name),
        "currency": template.currency,
        "language": template.language,
        "introduction": template.introduction,
        "terms": template.terms,
    }
    if opp is not None:
        data["opportunity_id"] = opp.id
        for name in ("account_id", "person_id"):
            if getattr(opp, name):
                data[name] = getattr(opp, name)
    data.update(chosen)
    quote_et = get_entity_type(request, "quote")
    line_et = get_entity_type(request, "quoteline")
    try:
        quote = create_record(request, quote_et, data, source=source)
    except RecordError as exc:
        raise Problem(exc.status, exc.title, errors=exc.errors) from None
    for n, tl in enumerate(_template_lines(request.dbsession, template.id), start=1):
        line = {
            "quote_id": quote.id,
            "position": n,
            "quantity": _num(tl.quantity),
            "discount_percent": _num(tl.discount_percent),
        }
        for name in ("product_id", "description", "details", "unit"):
            if getattr(tl, name):
                line[name] = getattr(tl, name)
        if tl.tax_rate is not None:
            line["tax_rate"] = _num(tl.tax_rate)
        if tl.product_id is None:
            line["unit_price"] = _num(tl.unit_price)
        try:
            create_record(request, line_et, line, source=source)
        except RecordError as exc:
            tr = request.localizer.translate
            why = " ".join(tr(m) for m in exc.errors.values()) or tr(exc.title)
            raise Problem(
                400,
                _("Invalid data"),
                errors={
                    "template_id": _(
                        "Line ${n} (${line}): ${why}",
                        mapping={
                            "n": n,
                            "line": tl.description or _product_title(request, tl),
                            "why": why,
                        },
                    )
                },
            ) from None
    request.dbsession.refresh(quote)
    return quote


def _product_title(request, tl) -> str:
    product = request.dbsession.get(Product, tl.product_id) if tl.product_id else None
    return product_name(product, request.locale_name or "en") if product else ""


def save_as_template(request, quote_id, body: dict, source: str = "api"):
    """A new offer template from the quote ``quote_id``: its texts, language, currency
    and lines. Product lines keep their product and quantity but not their price (a
    quote made from the template asks the catalog again); a description is kept only
    when it is not just the product's name, details only when they are not just the
    product's description."""
    quote = get_record(request, get_entity_type(request, "quote"), quote_id)
    errors: dict = {}
    for k in body:
        if k not in SAVE_FIELDS:
            errors[str(k)[:50]] = _("Unknown field.")
    name = _text(body.get("name"), "name", errors)
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    tet = get_entity_type(request, "quotetemplate")
    let = get_entity_type(request, "quotetemplateline")
    data = {
        "name": name or quote.title,
        "currency": quote.currency,
        "language": quote.language,
        "introduction": quote.introduction,
        "terms": quote.terms,
        "active": True,
    }
    db = request.dbsession
    try:
        template = create_record(request, tet, data, source=source)
        lines = (
            db.execute(
                select(QuoteLine)
                .where(QuoteLine.quote_id == quote.id)
                .order_by(QuoteLine.position, QuoteLine.id)
            )
            .scalars()
            .all()
        )
        lang = quote_language(request, quote)
        for n, ln in enumerate(lines, start=1):
            line = {
                "template_id": template.id,
                "position": n,
                "quantity": _num(ln.quantity),
                "discount_percent": _num(ln.discount_percent or Decimal(0)),
            }
            if ln.unit:
                line["unit"] = ln.unit
            product = db.get(Product, ln.product_id) if ln.product_id else None
            if product is not None:
                line["product_id"] = product.id
                if ln.description != product_name(product, lang):
                    line["description"] = ln.description
                # kept only when a rep wrote it: the product's own description is
                # looked up again, in the new quote's language, when a quote is made
                if (ln.details or "").strip() and ln.details != product_description(product, lang):
                    line["details"] = ln.details
                if ln.tax_rate != product.tax_rate:
                    line["tax_rate"] = _num(ln.tax_rate)
            else:
                line.update(
                    description=ln.description,
                    details=ln.details or None,
                    unit_price=_num(ln.unit_price),
                    tax_rate=_num(ln.tax_rate),
                )
            create_record(request, let, line, source=source)
    except RecordError as exc:
        raise Problem(exc.status, exc.title, errors=exc.errors) from None
    return template

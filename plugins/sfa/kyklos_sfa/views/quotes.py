"""Quote PDF output and the clone actions (new revision, variant, copy)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import select

from kyklos_sdk import get_entity_type, get_record, visible_select

from .. import _, pdf, quoting
from ..models import QuoteLine

CLONE_MODES = ("revision", "variant", "copy")


def _visible(request, name: str, record_id):
    """The record if the user may see it, else ``None``."""
    if record_id is None:
        return None
    et = get_entity_type(request, name)
    return request.dbsession.execute(
        visible_select(request, et).where(et.model.id == record_id)
    ).scalar_one_or_none()


def _title(request, name: str, record_id):
    row = _visible(request, name, record_id)
    return get_entity_type(request, name).record_title(row) if row is not None else None


def _lines_of(request, quote_id):
    return request.dbsession.execute(
        select(QuoteLine).where(QuoteLine.quote_id == quote_id)
        .order_by(QuoteLine.position, QuoteLine.id)
    ).scalars().all()


def offer_variants(request, quote) -> list:
    """The variants of the same offer (number and revision) the user may see, this
    quote among them, by variant letter."""
    from ..models import Quote

    if not quote.seq:
        return [quote]
    et = get_entity_type(request, "quote")
    found = request.dbsession.execute(
        visible_select(request, et).where(
            Quote.year == quote.year, Quote.seq == quote.seq, Quote.revision == quote.revision
        ).order_by(Quote.variant, Quote.id)
    ).scalars().all()
    return found or [quote]


def pdf_view(request):
    """The quote's PDF; ``?variants=all``: one document presenting the offer's variants
    side by side (SFA-11)."""
    from kyklos_sdk import Problem

    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"])
    mode = request.GET.get("variants")
    if mode not in (None, "", "all"):
        raise Problem(400, _("Invalid parameters"),
                      errors={"variants": _("Leave it out, or \"all\" for every variant.")})
    lines = _lines_of(request, quote.id)
    variants = None
    if mode == "all":
        siblings = offer_variants(request, quote)
        if len(siblings) > 1:
            variants = [
                (q, lines if q.id == quote.id else _lines_of(request, q.id)) for q in siblings
            ]
    body = pdf.render_quote(
        request, quote, lines, _visible(request, "account", quote.account_id),
        _title(request, "person", quote.person_id), variants=variants,
    )
    resp = Response(body=body, content_type="application/pdf")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in quote.number or str(quote.id))
    suffix = "-variants" if variants else ""
    resp.headers["Content-Disposition"] = f'inline; filename="quote-{safe}{suffix}.pdf"'
    return resp


def do_clone(request, quote_id, mode: str, variant: str | None = None,
             currency: str | None = None):
    """A revision, variant or copy of a quote; with ``currency`` (another than the
    quote's) a variant whose prices are converted at today's exchange rates (SFA-11).
    A missing rate is a :class:`Problem` naming ``currency``."""
    from kyklos_sdk import NoRate, Problem, format_money, is_currency

    et = get_entity_type(request, "quote")
    source = get_record(request, et, quote_id)
    ident = request.identity
    conv = note = None
    if currency is not None and not is_currency(currency):
        raise Problem(400, _("Invalid data"),
                      errors={"currency": _("Not an ISO 4217 currency code.")})
    if currency and currency != source.currency:
        mode = "variant"
        try:
            conv = quoting.conversion(request.dbsession, source.currency, currency)
        except NoRate:
            raise Problem(400, _("Invalid data"), errors={"currency": _(
                "No exchange rate from ${from} to ${to}: add one on the settings page.",
                mapping={"from": source.currency, "to": currency})}) from None
        tr = request.localizer.translate

        def note(line, _price):
            return tr(_("Converted from ${price}.", mapping={
                "price": format_money(request, line.unit_price, source.currency)}))[:300]
    if mode == "variant" and not (variant or "").strip():
        variant = next_variant(request, source)
    return quoting.clone(request.dbsession, source, mode, ident.user.id if ident else None,
                         variant, conv, note)


def next_variant(request, source) -> str:
    """The next free letter among the variants of an offer ("A" -> "B")."""
    from ..models import Quote

    used = set(request.dbsession.execute(
        select(Quote.variant).where(Quote.year == source.year, Quote.seq == source.seq)
    ).scalars())
    for letter in "BCDEFGHIJKLMNOPQRSTUVWXYZ":
        if letter not in used:
            return letter
    return "Z"


def clone_view(request):
    from kyklos_sdk import Problem

    from .closing import error_messages

    mode = request.params.get("mode", "revision")
    if mode not in CLONE_MODES:
        mode = "revision"
    try:
        q = do_clone(request, request.matchdict["id"], mode, request.params.get("variant"),
                     request.params.get("currency") or None)
    except Problem as exc:
        request.session.flash(
            " ".join(error_messages(request, get_entity_type(request, "quote"), exc.errors)),
            "danger")
        return HTTPSeeOther(request.route_url("entity.detail", slug="quotes",
                                              id=request.matchdict["id"]))
    request.session.flash(_("Created ${label}.", mapping={"label": q.label}), "success")
    return HTTPSeeOther(request.route_url("entity.detail", slug="quotes", id=q.id))


def parse_amount(text: str) -> str | None:
    """A number as people type it -> "1234.50"; ``None`` for an empty box.

    Both separators ("1.234,50", "1,234.50"): the last one is the decimal point. One
    kind once ("199,99", "199.99"): it is the decimal point. One kind repeated
    ("1.234.567"): thousands. Anything else is left to the field's own check."""
    t = "".join((text or "").split()).replace("\u00a0", "").replace("\u202f", "")
    if not t:
        return None
    if "," in t and "." in t:
        dec = "," if t.rfind(",") > t.rfind(".") else "."
    elif t.count(",") == 1 or t.count(".") == 1:
        dec = "," if "," in t else "."
    else:
        return t.replace(",", "").replace(".", "")
    whole, _sep, frac = t.rpartition(dec)
    return whole.replace(",", "").replace(".", "") + "." + frac


LINE_FIELDS = ("description", "quantity", "unit_price", "discount_percent", "tax_rate")


def line_price_view(request):
    """``GET /api/v1/quotes/{id}/line-price?product_id=&quantity=``: what a line of this
    quote with that product would say: name in the quote's language, unit, VAT rate and
    the catalog's price for the quote's account, day and currency, with its rule."""
    from kyklos_sdk import Problem

    from ..catalog_lines import line_json
    from .common import json_response

    quote = get_record(request, get_entity_type(request, "quote"), request.matchdict["id"])
    errors: dict = {}
    raw = request.GET.get("product_id", "")
    product_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    if product_id is None:
        errors["product_id"] = _("Choose a product.")
    else:
        product_et = get_entity_type(request, "product")
        if not request.has_permission(product_et.permission("read")) or _visible(
            request, "product", product_id
        ) is None:
            errors["product_id"] = _("No such product.")
    qty = parse_amount(request.GET.get("quantity", "")) or "1"
    try:
        quantity = Decimal(qty)
        if not quantity.is_finite() or quantity <= 0 or quantity > Decimal("1e11"):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["quantity"] = _("Give a quantity above zero.")
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    return json_response(line_json(request, quote, product_id, quantity))


def _reprice(request):
    from ..catalog_lines import reprice

    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"], action="update")
    return quote, reprice(request, quote)


def reprice_view(request):
    """The quote page's "Update prices from the catalog" button."""
    quote, changed = _reprice(request)
    request.session.flash(
        _("${n} lines priced again from the catalog.", mapping={"n": changed}), "success"
    )
    return HTTPSeeOther(
        request.route_url("entity.detail", slug="quotes", id=quote.id) + "#sfa-lines"
    )


def reprice_api_view(request):
    """``POST /api/v1/quotes/{id}/reprice``: every product line priced again."""
    from kyklos_sdk import serialize

    from .common import json_response

    quote, changed = _reprice(request)
    et = get_entity_type(request, "quote")
    return json_response({"changed": changed, "quote": serialize(request, et, quote)})


def add_line_view(request):
    """The quote page's "Add a line" form: the line's words and numbers, never ids."""
    from kyklos_sdk import RecordError, create_record

    from .closing import error_messages

    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"], action="update")
    line_et = get_entity_type(request, "quoteline")
    back = request.route_url("entity.detail", slug=et.slug, id=quote.id) + "#sfa-lines"
    p = request.POST
    data: dict = {"quote_id": quote.id, "description": (p.get("description") or "").strip()}
    product = p.get("product_id", "")
    if product.isdigit() and len(product) < 19:
        data["product_id"] = int(product)
    if p.get("unit"):
        data["unit"] = p["unit"]
    if (p.get("details") or "").strip():
        data["details"] = p["details"].strip()
    for name in LINE_FIELDS[1:]:
        value = parse_amount(p.get(name, ""))
        if value is not None:
            data[name] = value
    if "product_id" not in data and "unit_price" not in data:
        request.session.flash(request.localizer.translate(_("Give the unit price.")), "danger")
        return HTTPSeeOther(back)
    try:
        create_record(request, line_et, data, source="ui")
    except RecordError as exc:
        request.session.flash(" ".join(error_messages(request, line_et, exc.errors)), "danger")
        return HTTPSeeOther(back)
    request.session.flash(_("Line added."), "success")
    return HTTPSeeOther(back)


def margin_view(request):
    """``GET /api/v1/quotes/{id}/margin``: the margin of each line and of the quote
    (INV-07), for users who may read what products cost; others get 403."""
    from kyklos_sdk import Problem

    from ..catalog_lines import margin_json, may_see_cost
    from .common import json_response

    quote = get_record(request, get_entity_type(request, "quote"), request.matchdict["id"])
    if not may_see_cost(request):
        raise Problem(403, _("You may not see what products cost."))
    lines = request.dbsession.execute(
        select(QuoteLine).where(QuoteLine.quote_id == quote.id)
        .order_by(QuoteLine.position, QuoteLine.id)
    ).scalars().all()
    return json_response(margin_json(request, quote, lines))

"""Quote PDF output and the clone actions (new revision, variant, copy)."""

from __future__ import annotations

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


def pdf_view(request):
    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"])
    lines = request.dbsession.execute(
        select(QuoteLine).where(QuoteLine.quote_id == quote.id)
        .order_by(QuoteLine.position, QuoteLine.id)
    ).scalars().all()
    body = pdf.render_quote(
        request, quote, lines, _visible(request, "account", quote.account_id),
        _title(request, "person", quote.person_id),
    )
    resp = Response(body=body, content_type="application/pdf")
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in quote.number or str(quote.id))
    resp.headers["Content-Disposition"] = f'inline; filename="quote-{safe}.pdf"'
    return resp


def do_clone(request, quote_id, mode: str, variant: str | None = None):
    et = get_entity_type(request, "quote")
    source = get_record(request, et, quote_id)
    ident = request.identity
    if mode == "variant" and not (variant or "").strip():
        variant = next_variant(request, source)
    return quoting.clone(request.dbsession, source, mode, ident.user.id if ident else None,
                         variant)


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
    mode = request.params.get("mode", "revision")
    if mode not in CLONE_MODES:
        mode = "revision"
    q = do_clone(request, request.matchdict["id"], mode, request.params.get("variant"))
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
    for name in LINE_FIELDS[1:]:
        value = parse_amount(p.get(name, ""))
        if value is not None:
            data[name] = value
    try:
        create_record(request, line_et, data, source="ui")
    except RecordError as exc:
        request.session.flash(" ".join(error_messages(request, line_et, exc.errors)), "danger")
        return HTTPSeeOther(back)
    request.session.flash(_("Line added."), "success")
    return HTTPSeeOther(back)

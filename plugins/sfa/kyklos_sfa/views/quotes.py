"""Quote PDF output and the clone actions (new revision, variant, copy)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import select

from kyklos_sdk import get_entity_type, get_record, visible_select

from .. import _, pdf, quoting
from ..models import QuoteLine

CLONE_MODES = ("revision", "variant", "copy")


def _title(request, name: str, record_id):
    if record_id is None:
        return None
    et = get_entity_type(request, name)
    row = request.dbsession.execute(
        visible_select(request, et).where(et.model.id == record_id)
    ).scalar_one_or_none()
    return et.record_title(row) if row is not None else None


def pdf_view(request):
    et = get_entity_type(request, "quote")
    quote = get_record(request, et, request.matchdict["id"])
    lines = request.dbsession.execute(
        select(QuoteLine).where(QuoteLine.quote_id == quote.id)
        .order_by(QuoteLine.position, QuoteLine.id)
    ).scalars().all()
    body = pdf.render_quote(
        request, quote, lines, _title(request, "account", quote.account_id),
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

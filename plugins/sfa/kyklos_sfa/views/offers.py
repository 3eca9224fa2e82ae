"""The pages of offer templates: "New quote from template" on an opportunity and
"Save as template" on a quote (issue #20)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from kyklos_sdk import Problem, get_entity_type, get_record

from .. import _
from ..offer_templates import active_templates, quote_from_template, save_as_template
from .closing import error_messages
from .common import parse_int


def from_template_view(request):
    """GET: the form (a drop-down of templates and the title); POST: the new quote.
    A refusal answers 400, which rolls the whole request back (no half-made quote)."""
    opp = get_record(request, get_entity_type(request, "opportunity"), request.matchdict["id"])
    detail = request.route_url("entity.detail", slug="opportunities", id=opp.id)
    form = {"template_id": "", "title": opp.name}
    errors: list[str] = []
    if request.method == "POST":
        form = {k: (request.POST.get(k) or "").strip() for k in form}
        body = {"opportunity_id": opp.id, "title": form["title"][:200] or None}
        bad: dict = {}
        template_id = parse_int(form["template_id"], "template_id", bad)
        if template_id is not None:
            body["template_id"] = template_id
        try:
            quote = quote_from_template(request, body, source="ui")
        except Problem as exc:
            errors = error_messages(
                request, get_entity_type(request, "quote"), {**exc.errors, **bad}
            )
            request.response.status = 400
        else:
            request.session.flash(_("Created ${label}.", mapping={"label": quote.label}), "success")
            return HTTPSeeOther(request.route_url("entity.detail", slug="quotes", id=quote.id))
    return {
        "record": opp,
        "templates": active_templates(request),
        "form": form,
        "errors": errors,
        "detail_url": detail,
    }


def save_template_view(request):
    """GET: the form (the template's name); POST: the new template."""
    quote = get_record(request, get_entity_type(request, "quote"), request.matchdict["id"])
    detail = request.route_url("entity.detail", slug="quotes", id=quote.id)
    form = {"name": quote.title}
    errors: list[str] = []
    if request.method == "POST":
        form = {"name": (request.POST.get("name") or "").strip()[:200]}
        try:
            template = save_as_template(
                request, quote.id, {"name": form["name"] or None}, source="ui"
            )
        except Problem as exc:
            errors = error_messages(request, get_entity_type(request, "quotetemplate"), exc.errors)
            request.response.status = 400
        else:
            request.session.flash(
                _("Saved as the offer template ${name}.", mapping={"name": template.name}),
                "success",
            )
            return HTTPSeeOther(
                request.route_url("entity.detail", slug="quote-templates", id=template.id)
            )
    return {"record": quote, "form": form, "errors": errors, "detail_url": detail}

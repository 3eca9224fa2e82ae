"""The pages of offer templates: "New quote from template" on an opportunity, "Start
from a template" beside the generic new-quote form, and "Save as template" on a quote
(issue #20)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from kyklos_sdk import Problem, get_entity_type, get_record

from .. import _
from ..offer_templates import active_templates, quote_from_template, save_as_template
from .closing import error_messages
from .common import parse_int
from .quotes import _visible


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


#: the template drop-down's name in the generic form: not a quote field, so the form's
#: own "Save" ignores it
TEMPLATE_FIELD = "sfa_template_id"


def new_from_template_view(request):
    """POST from the generic new-quote form's "Start from this template" button (the
    whole form is posted here): a quote from the chosen template for the account,
    contact person and opportunity chosen in the form, made by the same code as
    ``POST /api/v1/quotes/from-template``. A refusal shows this page again with the
    reasons (400, nothing saved); the rep can pick another template there."""
    post = request.POST
    bad: dict = {}
    body: dict = {}
    for field, name in (
        (TEMPLATE_FIELD, "template_id"),
        ("opportunity_id", "opportunity_id"),
        ("account_id", "account_id"),
        ("person_id", "person_id"),
    ):
        value = parse_int((post.get(field) or "").strip(), name, bad)
        if value is not None:
            body[name] = value
    if "template_id" not in body and "template_id" not in bad:
        bad["template_id"] = _("Choose an offer template.")
    title = (post.get("title") or "").strip()[:200]
    if title:
        body["title"] = title
    quote_et = get_entity_type(request, "quote")
    errors: list[str] = []
    try:
        if bad:
            raise Problem(400, _("Invalid data"), errors=bad)
        quote = quote_from_template(request, body, source="ui")
    except Problem as exc:
        tr = request.localizer.translate
        labels = {"template_id": _("Offer template")}
        errors = [
            f"{tr(labels[k])}: {tr(v)}" if k in labels else m
            for (k, v), m in zip(
                exc.errors.items(), error_messages(request, quote_et, exc.errors), strict=True
            )
        ]
        request.response.status = 400
    else:
        request.session.flash(_("Created ${label}.", mapping={"label": quote.label}), "success")
        return HTTPSeeOther(request.route_url("entity.detail", slug=quote_et.slug, id=quote.id))
    # the choices of the form, in words, carried as hidden fields
    chosen = []
    for name, entity in (
        ("account_id", "account"),
        ("person_id", "person"),
        ("opportunity_id", "opportunity"),
    ):
        rid = body.get(name)
        row = _visible(request, entity, rid) if rid else None
        if row is not None:
            et = get_entity_type(request, entity)
            chosen.append((name, rid, et.title, et.record_title(row)))
    return {
        "templates": active_templates(request),
        "template_id": str(body.get("template_id") or ""),
        "title": title,
        "chosen": chosen,
        "errors": errors,
        "field": TEMPLATE_FIELD,
        "back_url": request.route_url("entity.new", slug=quote_et.slug),
    }


def template_form_panel(request):
    """The "Start from a template" panel beside the generic new-quote form: a drop-down
    of the templates and a button that posts the whole form (account, contact,
    opportunity, title) to :func:`new_from_template_view` (HTML ``form``/``formaction``
    attributes: the panel is outside the form and needs no script)."""
    from pyramid.renderers import render

    from kyklos_sdk import Panel

    templates = active_templates(request)
    if not templates:
        return None
    html = render(
        "kyklos_sfa:templates/panel_quote_from_template.pt",
        {
            "templates": templates,
            "field": TEMPLATE_FIELD,
            "action": request.route_url("sfa.quote.newfromtemplate"),
        },
        request=request,
    )
    return Panel(
        _("Start from a template"),
        html=html,
        id="sfa-template-panel",
        permission="sfa.quote.create",
        order=1,
    )

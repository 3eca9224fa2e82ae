"""Lead conversion in the browser: candidates first, then the user's choice."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from kyklos_sdk import RecordError, get_entity_type, get_record, is_currency

from .. import _, convert, pipeline


def convert_view(request):
    lead_et = get_entity_type(request, "lead")
    lead = get_record(request, lead_et, request.matchdict["id"], action="update")
    detail = request.route_url("entity.detail", slug=lead_et.slug, id=lead.id)
    if lead.converted_at is not None:
        request.session.flash(_("This lead is already converted."), "info")
        return HTTPSeeOther(detail)
    found = convert.candidates(request, lead)
    errors: dict = {}
    form = {"account": "", "person": "", "opportunity": "1", "opportunity_name": lead.company
            or lead.full_name, "amount": "", "currency": "EUR", "expected_close": ""}
    if request.method == "POST":
        p = request.POST
        form.update({k: p.get(k, "") for k in form if k != "opportunity"})
        form["opportunity"] = "1" if p.get("opportunity") else ""
        body = {
            "account": form["account"] or None,
            "person": form["person"] or None,
            "opportunity": bool(form["opportunity"]),
            "opportunity_name": form["opportunity_name"],
            "expected_close": form["expected_close"] or None,
        }
        if form["amount"].strip():
            if not is_currency(form["currency"]):
                errors["currency"] = _("Not an ISO 4217 currency code.")
            body["amount"] = {"amount": form["amount"].strip(), "currency": form["currency"]}
        try:
            if errors:
                raise RecordError(errors)
            decision = convert.parse_decision(request, lead, body, found)
            ids = convert.convert(request, lead, decision, source="ui")
        except RecordError as exc:
            errors.update(exc.errors)
        else:
            request.session.flash(_("Lead converted."), "success")
            if ids["opportunity_id"]:
                return HTTPSeeOther(request.route_url("entity.detail", slug="opportunities",
                                                      id=ids["opportunity_id"]))
            return HTTPSeeOther(detail)
    return {
        "title": _("Convert ${name}", mapping={"name": lead.full_name}),
        "lead": lead,
        "detail_url": detail,
        "found": found,
        "form": form,
        "errors": {k: request.localizer.translate(v) for k, v in errors.items()},
        "first_stage": pipeline.stage_title(request, convert.first_stage(request.dbsession)),
    }

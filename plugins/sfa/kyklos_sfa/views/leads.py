"""Lead conversion in the browser: candidates first, then the user's choice."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther

from kyklos_sdk import (
    RecordError,
    currency_groups,
    get_entity_type,
    get_record,
    is_currency,
    site_setting,
)

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
    # the site's default currency (settings page), not a fixed one
    currency = site_setting(request, "currency.default") or "EUR"
    form = {"account": "", "person": "", "opportunity": "1", "opportunity_name": lead.company
            or lead.full_name, "amount": "", "currency": currency, "expected_close": ""}
    if request.method == "POST":
        p = request.POST
        form.update({k: p.get(k, "") for k in form if k != "opportunity"})
        form["opportunity"] = "1" if p.get("opportunity") else ""
        picks = {party: (p.get(f"{party}_pick") or "").strip() for party in ("account",
                                                                             "person")}
        chosen = {}
        for party in ("account", "person"):
            chosen[party] = form[party] or None
            if form[party] == "pick":
                if picks[party].isdigit():
                    chosen[party] = picks[party]
                else:
                    chosen[party] = None
                    errors[party] = (_("Choose the account to link to.") if party == "account"
                                     else _("Choose the person to link to."))
        body = {
            "account": chosen["account"],
            "person": chosen["person"],
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
    picked = {"account": None, "person": None}
    if request.method == "POST":
        for party in ("account", "person"):
            pid = (request.POST.get(f"{party}_pick") or "").strip()
            if form[party] == "pick" and pid.isdigit():
                picked[party] = _picked(request, party, int(pid))
    return {
        "lookup": {slug: _lookup_url(request, slug) for slug in ("accounts", "persons")},
        "picked": picked,
        "title": _("Convert ${name}", mapping={"name": lead.full_name}),
        "lead": lead,
        "detail_url": detail,
        "found": found,
        "form": form,
        # the core's currency drop-down: the currencies in use first, names in words
        "currencies": currency_groups(request),
        "errors": {k: request.localizer.translate(v) for k, v in errors.items()},
        "first_stage": pipeline.stage_title(request, convert.first_stage(request.dbsession)),
    }


def _lookup_url(request, slug: str) -> str:
    """The picker's search URL (the core's ``entity.lookup`` route)."""
    try:
        return request.route_url("entity.lookup", slug=slug)
    except KeyError:  # a core without pickers: the select stays a plain one
        return ""


def _picked(request, party: str, record_id: int):
    """``(id, title)`` of the record chosen in a picker, to show it again after an
    error; ``None`` when the user may not see it."""
    from kyklos_sdk import visible_select

    et = get_entity_type(request, party)
    row = request.dbsession.execute(
        visible_select(request, et).where(et.model.id == record_id)
    ).scalar_one_or_none()
    return (row.id, et.record_title(row)) if row is not None else None

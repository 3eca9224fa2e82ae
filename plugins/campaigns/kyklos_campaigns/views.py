"""The campaigns' own pages and API beyond what the core derives for their entity types:
the target list's form (a segment drop-down) and build, a template's preview on a chosen
person, sending a campaign, and its results."""

from __future__ import annotations

import decimal

import colander
import deform
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.response import Response
from sqlalchemy import case, func, select

from kyklos_sdk import (
    CHART_SCRIPTS,
    ChartData,
    Problem,
    RecordError,
    Series,
    display_text,
    format_money,
    format_number,
    get_entity_type,
    get_record,
    read_json,
    record_title,
    visible_segments,
)

from . import PERMISSIONS, SEND, _
from .models import KINDS, LIST_CHANNELS, RESPONSES, Recipient
from .rendering import TemplateError, merge_context, render

ID = r"{id:\d{1,18}}"


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status or 400, exc.title, errors=exc.errors)


def _tr(request, text):
    return request.localizer.translate(text)


# --- the target list's form ------------------------------------------------------------


def targetlist_schema(request, et, record=None):
    """The list's form and the API's validation: the segment is a drop-down of the
    people and account segments the user may see, never a typed number."""
    schema = colander.SchemaNode(colander.Mapping(unknown="ignore"), name=et.name, title="")
    segs = [s for s in visible_segments(request) if s.entity in ("person", "account")]
    kinds = {"person": _tr(request, _("People")), "account": _tr(request, _("Accounts"))}
    seg_values = [("", "")] + [(str(s.id), f"{s.name} ({kinds[s.entity]})") for s in segs]
    f = et.fields
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="name",
            title=f["name"].title,
            validator=colander.Length(1, 200),
        )
    )
    schema.add(
        colander.SchemaNode(
            colander.Integer(),
            name="segment_id",
            title=f["segment_id"].title,
            description=f["segment_id"].description,
            missing=None,
            widget=deform.widget.SelectWidget(values=seg_values),
        )
    )
    for name, choices in (("kind", KINDS), ("channel", LIST_CHANNELS)):
        schema.add(
            colander.SchemaNode(
                colander.String(),
                name=name,
                title=f[name].title,
                missing=f[name].default,
                validator=colander.OneOf([v for v, _t in choices]),
                widget=deform.widget.SelectWidget(values=[(v, t) for v, t in choices]),
            )
        )
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="description",
            title=f["description"].title,
            missing=None,
            widget=deform.widget.TextAreaWidget(rows=3),
        )
    )
    return schema


# --- words -----------------------------------------------------------------------------


def excluded_words(request, counts: dict) -> str:
    """ "excluded: 12 no consent, 3 duplicates" in the user's language ("" for none)."""
    loc = request.localizer
    d = "kyklos_campaigns"
    parts = []
    n = counts.get("excluded_consent", 0)
    if n:
        parts.append(
            loc.pluralize("${n} no consent", "${n} no consent", n, domain=d, mapping={"n": n})
        )
    n = counts.get("excluded_duplicate", 0)
    if n:
        parts.append(
            loc.pluralize("${n} duplicate", "${n} duplicates", n, domain=d, mapping={"n": n})
        )
    n = counts.get("excluded_suppressed", 0)
    if n:
        parts.append(
            loc.pluralize("${n} suppressed", "${n} suppressed", n, domain=d, mapping={"n": n})
        )
    n = counts.get("excluded_no_address", 0)
    if n:
        parts.append(
            loc.pluralize(
                "${n} without an address", "${n} without an address", n, domain=d, mapping={"n": n}
            )
        )
    if not parts:
        return ""
    return loc.translate(_("excluded: ${what}", mapping={"what": ", ".join(parts)}))


def members_words(request, n: int) -> str:
    return request.localizer.pluralize(
        "${n} recipient", "${n} recipients", n, domain="kyklos_campaigns", mapping={"n": n}
    )


# --- target lists ----------------------------------------------------------------------


def _list(request, action="read"):
    et = get_entity_type(request, "targetlist")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def api_build(request):
    """``POST /api/v1/target-lists/{id}/build``: evaluate the segment now (a static
    list freezes its members); answers the counts."""
    from .targets import build

    _et, tl = _list(request, "update")
    try:
        res = build(request, tl)
    except RecordError as exc:
        raise _problem(exc) from None
    return {**res.counts(), "excluded": excluded_words(request, res.counts())}


def api_list_preview(request):
    """``GET /api/v1/target-lists/{id}/preview?channel=email``: who the list reaches
    now (consent and the suppression list applied), without changing anything."""
    from .targets import resolve

    _et, tl = _list(request)
    channel = request.GET.get("channel") or tl.channel
    if channel not in dict(LIST_CHANNELS):
        raise Problem(400, _("Invalid parameters"), errors={"channel": _("Unknown channel.")})
    try:
        res = resolve(request, tl, channel)
    except RecordError as exc:
        raise _problem(exc) from None
    return {**res.counts(), "excluded": excluded_words(request, res.counts())}


def build_page(request):
    from .targets import build

    et, tl = _list(request, "update")
    if request.POST.get("csrf_token") != request.session.get_csrf_token():
        raise HTTPNotFound()
    url = request.route_url("entity.detail", slug=et.slug, id=tl.id)
    try:
        res = build(request, tl)
    except RecordError as exc:
        for msg in exc.errors.values():
            request.session.flash(_tr(request, msg), "danger")
        return HTTPFound(url)
    text = members_words(request, len(res.members))
    extra = excluded_words(request, res.counts())
    request.session.flash(f"{text} ({extra})" if extra else text, "success")
    return HTTPFound(url)


# --- templates -------------------------------------------------------------------------


def _person(request, person_id):
    from kyklos_contacts.models import Account

    pet = get_entity_type(request, "person")
    person = get_record(request, pet, person_id)
    account = None
    if person.account_id:
        account = request.dbsession.get(Account, person.account_id)
    return person, account


def _preview(request, template, person_id):
    person, _account = _person(request, person_id)
    # a sample coupon code: the real ones are made per person by the coupons page
    extra = {"unsubscribe_url": "#", "response_url": "#", "coupon": "ABCD-EFGH"}
    values = merge_context(request, person, extra)
    return render(template, values)


def api_template_preview(request):
    """``POST /api/v1/campaign-templates/{id}/preview`` ``{"person_id": 3}``: the
    subject, HTML and text the person would get."""
    et = get_entity_type(request, "emailtemplate")
    template = get_record(request, et, request.matchdict["id"])
    body = read_json(request)
    pid = body.get("person_id")
    if isinstance(pid, bool) or not isinstance(pid, int):
        raise Problem(400, _("Invalid parameters"), errors={"person_id": _("Choose a person.")})
    try:
        return _preview(request, template, pid)
    except HTTPNotFound:
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"person_id": _("No such person, or you may not see them.")},
        ) from None
    except TemplateError as exc:
        raise Problem(400, _("Invalid parameters"), errors={exc.field: exc.message}) from None


def _pid(request):
    raw = request.GET.get("person_id", "")
    return int(raw) if raw.isdigit() else None


def preview_page(request):
    et = get_entity_type(request, "emailtemplate")
    template = get_record(request, et, request.matchdict["id"])
    pid = _pid(request)
    out, error, picked = None, None, None
    if pid is not None:
        try:
            person, _a = _person(request, pid)
            picked = (person.id, record_title(request, "person", person))
            out = _preview(request, template, pid)
        except HTTPNotFound:
            error = _("No such person, or you may not see them.")
        except TemplateError as exc:
            error = exc.message
    return {
        "title": _("Preview: ${name}", mapping={"name": template.name}),
        "template": template,
        "detail_url": request.route_url("entity.detail", slug=et.slug, id=template.id),
        "list_url": request.route_url("entity.list", slug=et.slug),
        "lookup_url": request.route_url("entity.lookup", slug="persons"),
        "picked": picked,
        "preview": out,
        "frame_url": (
            request.route_url("campaigns.template.html", id=template.id, _query={"person_id": pid})
            if out
            else None
        ),
        "error": error,
    }


def preview_html(request):
    """The rendered HTML alone, for the preview page's frame: sandboxed by its Content
    Security Policy (no script, no form), as sanitised as the e-mail itself."""
    et = get_entity_type(request, "emailtemplate")
    template = get_record(request, et, request.matchdict["id"])
    pid = _pid(request)
    if pid is None:
        raise HTTPNotFound()
    try:
        out = _preview(request, template, pid)
    except TemplateError as exc:
        out = {"html": f"<p>{exc.message}</p>"}
    response = Response(out["html"], content_type="text/html", charset="utf-8")
    response.headers["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; img-src https: data:; style-src 'unsafe-inline'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


# --- sending ---------------------------------------------------------------------------


def _campaign(request, action="read"):
    et = get_entity_type(request, "campaign")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def api_send(request):
    """``POST /api/v1/campaigns/{id}/send``: queue the campaign at its time."""
    from .sending import start

    _et, campaign = _campaign(request, "update")
    try:
        job_id = start(request, campaign)
    except RecordError as exc:
        raise _problem(exc) from None
    return {"status": campaign.status, "job_id": job_id}


def send_page(request):
    """Confirm before sending: who it reaches now, who is left out and why."""
    from .models import TargetList
    from .sending import start
    from .targets import resolve

    et, campaign = _campaign(request, "update")
    detail = request.route_url("entity.detail", slug=et.slug, id=campaign.id)
    errors: dict = {}
    if request.method == "POST":
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors[""] = _("The form expired; send it again.")
        else:
            try:
                start(request, campaign)
            except RecordError as exc:
                errors = exc.errors
            else:
                request.session.flash(_tr(request, _("The campaign is on its way.")), "success")
                return HTTPFound(request.route_url("campaigns.results", id=campaign.id))
    reach = excluded = ""
    tl = request.dbsession.get(TargetList, campaign.list_id) if campaign.list_id else None
    if tl is not None:
        try:
            channel = campaign.channel if campaign.channel in ("email", "letter") else "sms"
            res = resolve(request, tl, channel)
            reach = members_words(request, len(res.members))
            excluded = excluded_words(request, res.counts())
        except RecordError as exc:
            errors.update(exc.errors)
    return {
        "title": _("Send: ${name}", mapping={"name": campaign.name}),
        "campaign": campaign,
        "detail_url": detail,
        "list_url": request.route_url("entity.list", slug=et.slug),
        "list_title": tl.name if tl else "",
        "channel": display_text(request, "campaign", "channel", campaign.channel),
        "when": (
            display_text(request, "campaign", "scheduled_at", campaign.scheduled_at)
            if campaign.scheduled_at
            else _tr(request, _("now"))
        ),
        "reach": reach,
        "excluded": excluded,
        "errors": {k: _tr(request, v) for k, v in errors.items()},
        "can_send": campaign.status == "draft",
    }


# --- results ---------------------------------------------------------------------------

STEPS = (
    ("sent", _("Messages sent")),
    ("delivered", _("Delivered")),
    ("opened", _("Opened")),
    ("clicked", _("Clicked")),
    ("responded", _("Responded")),
    ("unsubscribed", _("Unsubscribed")),
    ("bounced", _("Hard bounces")),
)


def won_revenue(request, campaign):
    """Won revenue of the opportunities that came from the campaign's leads, when the
    sfa plugin is loaded (through the entity registry: no import); ``None`` otherwise
    or when they are in several currencies."""
    ents = request.registry.kyklos_entities
    if "lead" not in ents or "opportunity" not in ents:
        return None
    Lead, Opp = ents["lead"].model, ents["opportunity"].model  # noqa: N806 - model classes
    rows = request.dbsession.execute(
        select(Opp.amount_currency, func.sum(Opp.amount))
        .join(Lead, Lead.converted_opportunity_id == Opp.id)
        .where(Lead.campaign == campaign.name, Opp.status == "won")
        .group_by(Opp.amount_currency)
    ).all()
    if not rows:
        return (decimal.Decimal(0), campaign.cost_currency)
    if len(rows) > 1:
        return None
    return (rows[0][1] or decimal.Decimal(0), rows[0][0])


def results(request, campaign) -> dict:
    db = request.dbsession
    r = Recipient
    q = select(
        func.count(),
        func.count(r.sent_at),
        func.count(r.opened_at),
        func.count(r.clicked_at),
        func.count(r.responded_at),
        func.count(r.unsubscribed_at),
        func.count(case((r.state == "failed", 1))),
        func.count(case((r.state.in_(("queued", "sending")), 1))),
        func.count(case((r.state == "bounced", 1))),
        func.count(case((r.soft_bounces > 0, 1))),
    ).where(r.campaign_id == campaign.id)
    (total, sent, opened, clicked, responded, unsub, failed, waiting, bounced, soft) = db.execute(
        q
    ).one()
    by_response = dict(
        db.execute(
            select(r.response, func.count())
            .where(r.campaign_id == campaign.id, r.response.is_not(None))
            .group_by(r.response)
        ).all()
    )
    # answers the recipients gave themselves on the campaign's response page
    on_page = db.execute(
        select(func.count()).where(
            r.campaign_id == campaign.id,
            r.response.is_not(None),
            r.response_source == "landing",
        )
    ).scalar_one()
    out = {
        "recipients": total,
        "queued": int(waiting or 0),
        "failed": int(failed or 0),
        "sent": sent,
        # accepted by the SMTP server and not bounced back (the mail plugin reads the
        # bounces from its mailboxes when it is present)
        "delivered": sent - int(bounced or 0),
        "bounced": int(bounced or 0),
        # messages with a delay or temporary refusal reported: still being tried
        "soft_bounced": int(soft or 0),
        "opened": opened,
        "clicked": clicked,
        "responded": responded,
        "unsubscribed": unsub,
        "responses": {k: by_response.get(k, 0) for k, _t in RESPONSES},
        "responses_on_page": int(on_page or 0),
        "excluded_consent": campaign.excluded_consent,
        "excluded_duplicate": campaign.excluded_duplicate,
        "excluded_suppressed": campaign.excluded_suppressed,
        "excluded_no_address": campaign.excluded_no_address,
        "cost": None,
        "revenue": None,
        "roi": None,
    }
    from .coupons import counts as coupon_counts

    out["coupons"] = coupon_counts(request, campaign.id)
    if campaign.cost is not None:
        out["cost"] = {"amount": str(campaign.cost), "currency": campaign.cost_currency}
    won = won_revenue(request, campaign)
    if won is not None:
        out["revenue"] = {"amount": str(won[0]), "currency": won[1]}
        if campaign.cost and won[1] == campaign.cost_currency:
            out["roi"] = float(round((won[0] - campaign.cost) / campaign.cost, 4))
    return out


def api_results(request):
    """``GET /api/v1/campaigns/{id}/results``: the campaign's numbers."""
    from .results import by_segment, segment_id_of

    _et, campaign = _campaign(request)
    out = results(request, campaign)
    # ?segment_id=N: the same counts inside and outside a saved segment
    seg = segment_id_of(request)
    if seg is not None:
        try:
            out["by_segment"] = by_segment(request, campaign, seg)
        except RecordError as exc:
            raise Problem(400, _("Invalid parameters"), errors=exc.errors) from None
    return out


def results_page(request):
    from kyklos_sdk import render_chart

    et, campaign = _campaign(request)
    data = results(request, campaign)
    chart = ChartData(
        kind="bar",
        labels=[_tr(request, t) for _k, t in STEPS],
        series=[Series(_tr(request, _("Recipients")), [data[k] for k, _t in STEPS])],
        label_title=_tr(request, _("Step")),
    )
    money = None
    if data["cost"]:
        money = {
            "cost": format_money(
                request, decimal.Decimal(data["cost"]["amount"]), data["cost"]["currency"] or "EUR"
            )
        }
    if data["revenue"] and data["revenue"]["currency"]:
        money = money or {}
        money["revenue"] = format_money(
            request, decimal.Decimal(data["revenue"]["amount"]), data["revenue"]["currency"]
        )
    if data["roi"] is not None:
        money = money or {}
        money["roi"] = f"{format_number(request, data['roi'] * 100, 1)} %"
    rows = [(_tr(request, t), request_number(request, data[k])) for k, t in STEPS]
    rows.insert(0, (_tr(request, _("Recipients")), request_number(request, data["recipients"])))
    if data["coupons"]["issued"]:
        for key, label in (("issued", _("Coupons issued")), ("redeemed", _("Coupons redeemed"))):
            rows.append((_tr(request, label), request_number(request, data["coupons"][key])))
    if data["soft_bounced"]:
        rows.append(
            (
                _tr(request, _("Delayed (soft bounces)")),
                request_number(request, data["soft_bounced"]),
            )
        )
    if data["failed"]:
        rows.append((_tr(request, _("Could not be sent")), request_number(request, data["failed"])))
    if data["queued"]:
        rows.append(
            (_tr(request, _("Waiting to be sent")), request_number(request, data["queued"]))
        )
    responses = [
        (display_text(request, "campaignrecipient", "response", k), request_number(request, v))
        for k, v in data["responses"].items()
    ]
    responses.append(
        (
            _tr(request, _("Of these, answered on the response page")),
            request_number(request, data["responses_on_page"]),
        )
    )
    from .results import page_part

    return {
        **page_part(request, campaign),
        "title": _("Results: ${name}", mapping={"name": campaign.name}),
        "campaign": campaign,
        "status": display_text(request, "campaign", "status", campaign.status),
        "detail_url": request.route_url("entity.detail", slug=et.slug, id=campaign.id),
        "list_url": request.route_url("entity.list", slug=et.slug),
        "recipients_url": request.route_url(
            "entity.list", slug="campaign-recipients", _query={"campaign_id": campaign.id}
        ),
        "rows": rows,
        "responses": responses,
        "excluded": excluded_words(request, data),
        "money": money,
        "chart": render_chart(request, chart, "cmp-results-chart", _("Results")),
        "chart_scripts": [request.static_url(s) for s in CHART_SCRIPTS],
    }


def request_number(request, n) -> str:
    return format_number(request, n or 0)


def includeme(config):
    tpl = "kyklos_campaigns:templates/"
    r = config.add_route
    v = config.add_view
    r("campaigns.api.list.build", f"/api/v1/target-lists/{ID}/build", request_method="POST")
    r("campaigns.api.list.preview", f"/api/v1/target-lists/{ID}/preview", request_method="GET")
    r(
        "campaigns.api.template.preview",
        f"/api/v1/campaign-templates/{ID}/preview",
        request_method="POST",
    )
    r("campaigns.api.send", f"/api/v1/campaigns/{ID}/send", request_method="POST")
    r("campaigns.api.results", f"/api/v1/campaigns/{ID}/results", request_method="GET")
    r("campaigns.list.build", f"/target-lists/{ID}/build", request_method="POST")
    r("campaigns.template.preview", f"/campaign-templates/{ID}/preview")
    r("campaigns.template.html", f"/campaign-templates/{ID}/preview/html")
    r("campaigns.send", f"/campaigns/{ID}/send")
    r("campaigns.results", f"/campaigns/{ID}/results")
    p = PERMISSIONS
    v(
        api_build,
        route_name="campaigns.api.list.build",
        renderer="json",
        permission=p["targetlist"]["update"],
    )
    v(
        api_list_preview,
        route_name="campaigns.api.list.preview",
        renderer="json",
        permission=p["targetlist"]["read"],
    )
    v(
        api_template_preview,
        route_name="campaigns.api.template.preview",
        renderer="json",
        permission=p["emailtemplate"]["read"],
    )
    v(api_send, route_name="campaigns.api.send", renderer="json", permission=SEND)
    v(
        api_results,
        route_name="campaigns.api.results",
        renderer="json",
        permission=p["campaign"]["read"],
    )
    v(build_page, route_name="campaigns.list.build", permission=p["targetlist"]["update"])
    v(
        preview_page,
        route_name="campaigns.template.preview",
        renderer=tpl + "preview.pt",
        permission=p["emailtemplate"]["read"],
    )
    v(preview_html, route_name="campaigns.template.html", permission=p["emailtemplate"]["read"])
    v(send_page, route_name="campaigns.send", renderer=tpl + "send.pt", permission=SEND)
    v(
        results_page,
        route_name="campaigns.results",
        renderer=tpl + "results.pt",
        permission=p["campaign"]["read"],
    )

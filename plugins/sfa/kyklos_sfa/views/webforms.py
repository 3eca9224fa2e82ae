"""Web-to-lead: the public endpoint, the hosted form, the token for embedded forms, and
the snippet page administrators copy the HTML from."""

from __future__ import annotations

import secrets

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response

from kyklos_sdk import get_entity_type, get_record

from .. import _, webtolead
from ..webtolead import FIELDS, HONEYPOT, REDIRECT, STAMP
from .common import json_response

FIELD_TITLES = {
    "first_name": _("First name"),
    "last_name": _("Last name"),
    "company": _("Company"),
    "job_title": _("Job title"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "country": _("Country (two letters)"),
    "description": _("Message"),
}


def _setting(request, name: str) -> int:
    return int(request.registry.settings.get(f"kyklos.sfa.webform.{name}") or 0)


def _form(request):
    form = webtolead.form_by_key(request.dbsession, request.matchdict["key"])
    if form is None:
        raise HTTPNotFound()
    return form


def hosted_form_view(request):
    """The form on our own site, for links and for visitors without JavaScript."""
    form = _form(request)
    return {
        "title": form.name,
        "form": form,
        "fields": [(n, FIELD_TITLES[n], m) for n, m in FIELDS.items()],
        "stamp": webtolead.make_stamp(request.registry.settings, form.form_key),
        "action": request.route_url("sfa.webtolead", key=form.form_key),
        "errors": {},
        "values": {},
    }


def token_view(request):
    """A fresh signed timestamp for a form embedded on another site (fetched by
    ``webtolead.js``); only that site's origin may read it."""
    form = _form(request)
    resp = json_response({"stamp": webtolead.make_stamp(request.registry.settings,
                                                         form.form_key)})
    if form.allowed_origin:
        resp.headers["Access-Control-Allow-Origin"] = form.allowed_origin.rstrip("/")
        resp.headers["Vary"] = "Origin"
    resp.headers["Cache-Control"] = "no-store"
    return resp


def _refuse(request, status: int, message, form=None, values=None, errors=None):
    request.response.status = status
    return {
        "title": _("Not sent"),
        "ok": False,
        "message": message,
        "form": form,
        "errors": errors or {},
        "field_titles": FIELD_TITLES,
    }


def post_view(request):
    settings = request.registry.settings
    client = (request.client_addr or "unknown")[:64]
    limit = _setting(request, "rate_limit") or 10
    if not webtolead.count_hit(request.registry["dbengine"], client, limit):
        resp = Response(status=429, content_type="text/plain", charset="utf-8",
                        body=request.localizer.translate(
                            _("Too many submissions. Try again in a minute.")).encode())
        resp.headers["Retry-After"] = "60"
        return resp
    if (request.content_length or 0) > webtolead.MAX_BODY:
        return _refuse(request, 413, _("The submission is too large."))
    form = _form(request)
    params = request.POST
    if params.get(HONEYPOT):
        return _refuse(request, 400, _("Your submission could not be accepted."))
    age = webtolead.stamp_age(settings, form.form_key, params.get(STAMP))
    max_age = _setting(request, "max_age") or 86400
    if age is None or age < (_setting(request, "min_seconds")) or age > max_age:
        return _refuse(request, 400, _("Your submission could not be accepted. "
                                       "Reload the form and send it again."))
    values, errors = webtolead.clean_fields(params)
    if errors:
        return _refuse(request, 400, _("Please correct the form."), form, values, errors)
    webtolead.create_lead(request.dbsession, form, values)
    target = webtolead.redirect_target(form, params.get(REDIRECT))
    if target:
        return HTTPSeeOther(target)
    return {
        "title": form.name,
        "ok": True,
        "message": form.thank_you or _("Thank you. We will be in touch."),
        "form": form,
        "errors": {},
        "field_titles": FIELD_TITLES,
    }


def snippet_view(request):
    et = get_entity_type(request, "webform")
    form = get_record(request, et, request.matchdict["id"])
    action = request.route_url("sfa.webtolead", key=form.form_key)
    token_url = request.route_url("sfa.webtolead.token", key=form.form_key)
    script = request.static_url("kyklos_sfa:static/webtolead.js")
    return {
        "title": _("Embed ${name}", mapping={"name": form.name}),
        "form": form,
        "action": action,
        "token_url": token_url,
        "script": script,
        "hosted_url": action,
        "snippet": webtolead.snippet_html(
            action, token_url, script,
            [(n, FIELD_TITLES[n], m) for n, m in FIELDS.items()],
            request.localizer.translate,
        ),
        "detail_url": request.route_url("entity.detail", slug=et.slug, id=form.id),
        "can_update": request.has_permission(et.permission("update")),
    }


def rekey_view(request):
    """A new key revokes every embedded copy of the old one."""
    et = get_entity_type(request, "webform")
    form = get_record(request, et, request.matchdict["id"], action="update")
    # form_key is read-only for clients: only the server sets it.
    form.form_key = secrets.token_urlsafe(24)
    request.dbsession.flush()
    request.session.flash(_("New key created; the old snippet no longer works."), "success")
    return HTTPSeeOther(request.route_url("sfa.webform.snippet", id=form.id))

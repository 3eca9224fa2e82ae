"""Outbound webhooks an administrator keeps (issue #17): which events of which record
types are sent where, signed with a secret shown once, with the last deliveries and
their exact errors, and "send a test".

Delivery: a record saved or deleted enqueues one ``webhooks.deliver`` job per active
webhook subscribed to the event (after the commit, so a rolled-back change sends
nothing); the job POSTs the JSON through :func:`kyklos.workflow.webhooks.post_json`
(SSRF-checked) and keeps the outcome. A failure is retried by the job runner and each
attempt is logged.

Pages: ``/admin/webhooks`` (list, empty state), ``/admin/webhooks/new``,
``/admin/webhooks/{id}`` (edit, deliveries, test, delete). API (``kyklos.workflow.manage``):
``GET|POST /api/v1/_webhooks``, ``GET|PATCH|DELETE /api/v1/_webhooks/{id}``,
``POST /api/v1/_webhooks/{id}/test``, ``GET /api/v1/_webhooks/{id}/deliveries``,
``GET /api/v1/_webhooks/_events``.
"""

from __future__ import annotations

import secrets

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from sqlalchemy import delete, select

from kyklos.db import utcnow
from kyklos.i18n import _, format_datetime
from kyklos.problem import Problem
from kyklos.security.encryption import decrypt_secret, encrypt_secret
from kyklos.workflow import MANAGE
from kyklos.workflow.configured import configured
from kyklos.workflow.models import WebhookDelivery, WebhookSubscription
from kyklos.workflow.webhooks import (
    MAX_URL,
    WebhookFailed,
    WebhookRefused,
    check_url,
    post_json,
)

DELIVER_JOB = "webhooks.deliver"
EVENTS = ("created", "updated", "deleted")
EVENT_TITLES = {
    "created": _("webhook-event-created", default="created"),
    "updated": _("webhook-event-updated", default="changed"),
    "deleted": _("webhook-event-deleted", default="deleted"),
}
#: deliveries shown per webhook (older ones stay in the table until the webhook goes)
SHOWN_DELIVERIES = 20
MAX_NAME = 200
SIGNATURE_HEADER = "X-Kyklos-Signature"
_SHOWN_ONCE = "kyklos.webhook.shown_once"


# --- events ---------------------------------------------------------------------------------


def event_choices(request) -> list[tuple[str, list[tuple[str, str]]]]:
    """``[(entity type title, [("opportunity:created", "created"), ...])]`` sorted by
    title in the user's language: what the page's event picker offers."""
    tr = request.localizer.translate
    out = []
    for name, et in request.registry.kyklos_entities.items():
        if et.lookup:
            continue
        out.append((tr(et.plural), [(f"{name}:{e}", tr(EVENT_TITLES[e])) for e in EVENTS]))
    return sorted(out, key=lambda g: g[0].casefold())


def event_title(request, key: str) -> str:
    """``"opportunity:created"`` -> "Opportunities: created" in the user's language."""
    tr = request.localizer.translate
    if key == "test":
        return tr(_("webhook-event-test", default="test"))
    name, _sep, event = key.partition(":")
    et = request.registry.kyklos_entities.get(name)
    if et is None or event not in EVENT_TITLES:
        return key
    return tr(
        _(
            "${types}: ${event}",
            mapping={"types": tr(et.plural), "event": tr(EVENT_TITLES[event])},
        )
    )


def _known_events(request) -> set[str]:
    return {k for _g, items in event_choices(request) for k, _t in items}


# --- checking and writing --------------------------------------------------------------------


def check(request, data: dict, partial: bool = False) -> tuple[dict, dict]:
    """``(clean, errors)`` of a webhook's fields (``name``, ``url``, ``events``,
    ``active``); unknown fields are errors. Nothing is written."""
    errors: dict = {}
    clean: dict = {}
    for key in data:
        if key not in ("name", "url", "events", "active"):
            errors[str(key)[:50]] = _("Unknown field.")
    if "name" in data or not partial:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            errors["name"] = _("Give the webhook a name.")
        elif len(name.strip()) > MAX_NAME:
            errors["name"] = _("At most ${n} characters.", mapping={"n": MAX_NAME})
        else:
            clean["name"] = name.strip()
    if "url" in data or not partial:
        url = data.get("url")
        url = url.strip() if isinstance(url, str) else url
        try:
            check_url(url)
            if not str(url).lower().startswith(("http://", "https://")):
                raise WebhookRefused(_("only http and https addresses are allowed"))
            clean["url"] = url
        except WebhookRefused as exc:
            why = request.localizer.translate(exc.message)
            errors["url"] = _("Not an address Kyklos may call: ${why}.", mapping={"why": why})
    if "events" in data or not partial:
        events = data.get("events")
        known = _known_events(request)
        if not isinstance(events, list) or not events:
            errors["events"] = _("Choose at least one event.")
        elif bad := [str(e)[:60] for e in events if e not in known]:
            errors["events"] = _("Unknown events: ${e}", mapping={"e": ", ".join(bad[:5])})
        else:
            clean["events"] = sorted(set(events))
    if "active" in data:
        if not isinstance(data["active"], bool):
            errors["active"] = _("true or false.")
        else:
            clean["active"] = data["active"]
    return clean, errors


def create(request, clean: dict) -> tuple[WebhookSubscription, str]:
    """A new webhook and its secret (returned once: only its owner sees it again)."""
    secret = "whsec_" + secrets.token_urlsafe(24)
    row = WebhookSubscription(
        name=clean["name"],
        url=clean["url"],
        events=clean["events"],
        active=clean.get("active", True),
        # kept encrypted like every stored secret: a copy of the database must not let
        # anyone forge deliveries the receiver trusts
        secret=encrypt_secret(request.registry, secret),
        created_by_id=request.identity.user.id if request.identity else None,
    )
    request.dbsession.add(row)
    request.dbsession.flush()
    return row, secret


def _row(request, raw) -> WebhookSubscription:
    try:
        row = request.dbsession.get(WebhookSubscription, int(raw))
    except (TypeError, ValueError, OverflowError):
        row = None
    if row is None:
        raise HTTPNotFound()
    return row


def deliveries(request, row, limit=SHOWN_DELIVERIES) -> list[WebhookDelivery]:
    return list(
        request.dbsession.execute(
            select(WebhookDelivery)
            .where(WebhookDelivery.webhook_id == row.id)
            .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
            .limit(limit)
        ).scalars()
    )


# --- delivering ------------------------------------------------------------------------------


def signature(secret: str, body: bytes) -> str:
    import hashlib
    import hmac

    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def send(request, row: WebhookSubscription, event: str, payload: dict, record_id=None):
    """POST ``payload`` to the webhook now and log the delivery; returns it."""
    import json

    body = json.dumps(payload, default=str).encode()
    delivery = WebhookDelivery(webhook_id=row.id, event=event, record_id=record_id, ok=False)
    try:
        result = post_json(
            request.registry.settings,
            row.url,
            payload,
            {
                SIGNATURE_HEADER: signature(decrypt_secret(request.registry, row.secret), body),
                "X-Kyklos-Event": event,
            },
        )
        delivery.ok = True
        delivery.http_status = result["status"]
    except (WebhookRefused, WebhookFailed) as exc:
        delivery.error = str(exc)[:2000]
        status = getattr(exc, "status", None)
        delivery.http_status = status
        if delivery.http_status is None:
            import re

            m = re.search(r" answered (\d{3})", str(exc))
            delivery.http_status = int(m.group(1)) if m else None
    request.dbsession.add(delivery)
    request.dbsession.flush()
    return delivery


#: attempts of one event delivery (the first and the retries, 1, 2, 4... minutes apart)
ATTEMPTS = 4


def deliver_job(ctx, webhook_id: int, event: str, payload: dict, record_id=None, attempt=1):
    """Job: deliver one event. A failure is logged (in this job's transaction, so the
    log survives) and retried by a later job, not by raising: a raised error would roll
    the log back."""
    from kyklos import jobs

    row = ctx.dbsession.get(WebhookSubscription, int(webhook_id))
    if row is None or not row.active:
        return {"skipped": True}
    delivery = send(ctx.request, row, event, payload, record_id)
    if delivery.ok:
        return {"status": delivery.http_status}
    if attempt < ATTEMPTS:
        delivery.error = f"{delivery.error} (attempt {attempt} of {ATTEMPTS}; retried later)"
        jobs.enqueue(
            ctx.request,
            DELIVER_JOB,
            args={
                "webhook_id": row.id,
                "event": event,
                "payload": payload,
                "record_id": record_id,
                "attempt": attempt + 1,
            },
            delay=60 * 2 ** (attempt - 1),
            user_id=None,
        )
    else:
        delivery.error = f"{delivery.error} (attempt {attempt} of {ATTEMPTS}; given up)"
    return {"failed": delivery.error}


def subscribed(request, entity: str, event: str) -> list[WebhookSubscription]:
    key = f"{entity}:{event}"
    cache = request.environ.setdefault("kyklos.webhooks", {})
    if "rows" not in cache:
        known = configured(request)
        if known is not None and key not in known.webhook_events:
            return []  # no active webhook wants this event: no statement
        cache["rows"] = list(
            request.dbsession.execute(
                select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
            ).scalars()
        )
    return [r for r in cache["rows"] if key in (r.events or ())]


def on_event(request, et, record, event: str, changes=None) -> None:
    """Queue a delivery to every webhook subscribed to ``event`` of ``et``."""
    from kyklos import jobs

    rows = subscribed(request, et.name, event)
    if not rows:
        return
    from kyklos.entities.service import serialize

    try:
        data = serialize(request, et, record) if event != "deleted" else {"id": record.id}
    except Exception:  # noqa: BLE001 - a record the serializer cannot read: its id only
        data = {"id": record.id}
    payload = {
        "event": f"{et.name}:{event}",
        "entity": et.name,
        "id": record.id,
        "occurred_at": utcnow().isoformat(),
        "changed": sorted(changes) if changes else [],
        "record": data,
    }
    for row in rows:
        jobs.enqueue(
            request,
            DELIVER_JOB,
            args={
                "webhook_id": row.id,
                "event": payload["event"],
                "payload": payload,
                "record_id": record.id,
            },
            user_id=None,
        )


def test_payload(request, row) -> dict:
    return {
        "event": "test",
        "webhook": row.name,
        "occurred_at": utcnow().isoformat(),
        "message": "This is a test delivery from Kyklos.",
    }


# --- JSON ------------------------------------------------------------------------------------


def as_json(request, row, secret: str | None = None) -> dict:
    out = {
        "id": row.id,
        "name": row.name,
        "url": row.url,
        "events": list(row.events or []),
        "event_titles": [event_title(request, e) for e in row.events or []],
        "active": row.active,
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }
    if secret is not None:
        out["secret"] = secret
    return out


def delivery_json(request, d: WebhookDelivery) -> dict:
    return {
        "id": d.id,
        "event": d.event,
        "event_title": event_title(request, d.event),
        "record_id": d.record_id,
        "ok": d.ok,
        "http_status": d.http_status,
        "error": d.error,
        "created_at": d.created_at.isoformat(),
    }


# --- pages -----------------------------------------------------------------------------------


def _form_data(post) -> dict:
    return {
        "name": post.get("name", ""),
        "url": post.get("url", ""),
        "events": [e for e in post.getall("events") if e],
        "active": post.get("active") == "1",
    }


def _tr_errors(request, errors) -> dict:
    return {k: request.localizer.translate(v) for k, v in errors.items()}


def list_view(request):
    rows = list(
        request.dbsession.execute(
            select(WebhookSubscription).order_by(WebhookSubscription.name)
        ).scalars()
    )
    last = {}
    for row in rows:
        found = deliveries(request, row, 1)
        last[row.id] = found[0] if found else None
    return {
        "title": _("Webhooks"),
        "rows": rows,
        "last": last,
        "event_title": lambda e: event_title(request, e),
        "fmt": lambda v: format_datetime(request, v, "short"),
    }


def _edit_page(request, row, values, errors, status=200):
    from pyramid.renderers import render_to_response

    secret = request.session.pop(_SHOWN_ONCE, None) if row is not None else None
    data = {
        "title": row.name if row is not None else request.localizer.translate(_("New webhook")),
        "row": row,
        "values": values,
        "errors": _tr_errors(request, errors),
        "choices": event_choices(request),
        "secret": secret if secret and row is not None and secret[0] == row.id else None,
        "deliveries": deliveries(request, row) if row is not None else [],
        "event_title": lambda e: event_title(request, e),
        "fmt": lambda v: format_datetime(request, v, "short"),
    }
    if data["secret"]:
        data["secret"] = data["secret"][1]
    response = render_to_response("kyklos:web/templates/admin_webhook.pt", data, request=request)
    response.status = status
    return response


def new_view(request):
    values = {"name": "", "url": "", "events": [], "active": True}
    if request.method == "POST":
        values = _form_data(request.POST)
        clean, errors = check(request, values)
        if errors:
            return _edit_page(request, None, values, errors, 400)
        row, secret = create(request, clean)
        # the secret is shown once, on the page the browser is sent to next
        request.session[_SHOWN_ONCE] = (row.id, secret)
        request.session.flash(_("Webhook created."), "success")
        return HTTPSeeOther(request.route_url("webhooks.edit", id=row.id))
    return _edit_page(request, None, values, {})


def edit_view(request):
    row = _row(request, request.matchdict["id"])
    values = {"name": row.name, "url": row.url, "events": list(row.events), "active": row.active}
    if request.method == "POST":
        action = request.POST.get("action", "save")
        if action == "delete":
            request.dbsession.execute(
                delete(WebhookDelivery).where(WebhookDelivery.webhook_id == row.id)
            )
            request.dbsession.delete(row)
            request.session.flash(_("Webhook deleted."), "success")
            return HTTPSeeOther(request.route_url("webhooks"))
        if action == "test":
            d = send(request, row, "test", test_payload(request, row))
            if d.ok:
                request.session.flash(_("The test was delivered."), "success")
            else:
                request.session.flash(
                    _("The test failed: ${why}", mapping={"why": d.error}), "danger"
                )
            return HTTPSeeOther(request.route_url("webhooks.edit", id=row.id))
        values = _form_data(request.POST)
        clean, errors = check(request, values)
        if errors:
            return _edit_page(request, row, values, errors, 400)
        for k, v in clean.items():
            setattr(row, k, v)
        request.session.flash(_("Webhook saved."), "success")
        return HTTPSeeOther(request.route_url("webhooks.edit", id=row.id))
    return _edit_page(request, row, values, {})


# --- API -------------------------------------------------------------------------------------


def _json(request) -> dict:
    from kyklos.entities.api import read_json

    return read_json(request)


def _invalid(request, errors):
    return Problem(400, _("Invalid data"), errors=errors)


def api_list(request):
    rows = request.dbsession.execute(
        select(WebhookSubscription).order_by(WebhookSubscription.name)
    ).scalars()
    return {"items": [as_json(request, r) for r in rows]}


def api_create(request):
    clean, errors = check(request, _json(request))
    if errors:
        raise _invalid(request, errors)
    row, secret = create(request, clean)
    request.response.status = 201
    return as_json(request, row, secret)


def _api_row(request):
    try:
        return _row(request, request.matchdict["id"])
    except HTTPNotFound:
        raise Problem(404, _("Not found")) from None


def api_get(request):
    return as_json(request, _api_row(request))


def api_patch(request):
    row = _api_row(request)
    clean, errors = check(request, _json(request), partial=True)
    if errors:
        raise _invalid(request, errors)
    for k, v in clean.items():
        setattr(row, k, v)
    request.dbsession.flush()
    return as_json(request, row)


def api_delete(request):
    row = _api_row(request)
    request.dbsession.execute(delete(WebhookDelivery).where(WebhookDelivery.webhook_id == row.id))
    request.dbsession.delete(row)
    request.response.status = 204
    return request.response


def api_test(request):
    row = _api_row(request)
    return delivery_json(request, send(request, row, "test", test_payload(request, row)))


def api_deliveries(request):
    row = _api_row(request)
    return {"items": [delivery_json(request, d) for d in deliveries(request, row, 100)]}


def api_events(request):
    return {
        "items": [
            {"group": group, "events": [{"key": k, "title": t} for k, t in items]}
            for group, items in event_choices(request)
        ]
    }


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    tag = "Webhooks"
    # events and addresses are checked against the registry and resolved: a body the
    # schema allows may still get a 400 naming the problem
    semantic = {"x-kyklos-semantic-checks": True}
    hook = o.obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "url": {"type": "string"},
            "events": o.array({"type": "string"}),
            "event_titles": o.array({"type": "string"}),
            "active": {"type": "boolean"},
            "secret": {"type": "string", "description": "only in the answer to the creation"},
        },
        ["id", "name", "url", "events", "active"],
        strict=False,
    )
    fields = {
        "name": o.text(MAX_NAME, required=True),
        "url": o.text(MAX_URL, required=True),
        "events": o.array({"type": "string", "maxLength": 150}, minItems=1, maxItems=500),
        "active": {"type": "boolean"},
    }
    delivery = o.obj(
        {
            "id": {"type": "integer"},
            "event": {"type": "string"},
            "event_title": {"type": "string"},
            "record_id": {"type": ["integer", "null"]},
            "ok": {"type": "boolean"},
            "http_status": {"type": ["integer", "null"]},
            "error": {"type": ["string", "null"]},
            "created_at": {"type": "string"},
        },
        ["id", "event", "ok"],
        strict=False,
    )
    rid = [o.path_id()]
    return {
        "/api/v1/_webhooks": {
            "get": o.operation(
                tag,
                "list_webhooks",
                {
                    "200": o.json_ok(o.obj({"items": o.array(hook)}, ["items"], strict=False)),
                    **o.problems("401", "403"),
                },
            ),
            "post": o.operation(
                tag,
                "create_webhook",
                {
                    "201": o.json_ok(hook, "created; holds the secret, shown this once"),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                body=o.json_body(o.obj(fields, ["name", "url", "events"])),
                **semantic,
            ),
        },
        "/api/v1/_webhooks/_events": {
            "get": o.operation(
                tag,
                "webhook_events",
                {"200": o.json_ok({"type": "object"}), **o.problems("401", "403")},
                summary="The events a webhook may subscribe to, in words",
            )
        },
        "/api/v1/_webhooks/{id}": {
            "get": o.operation(
                tag,
                "get_webhook",
                {"200": o.json_ok(hook), **o.problems("401", "403", "404")},
                parameters=rid,
            ),
            "patch": o.operation(
                tag,
                "update_webhook",
                {"200": o.json_ok(hook), **o.problems("400", "401", "403", "404", "413", "415")},
                parameters=rid,
                body=o.json_body(o.obj({k: dict(v) for k, v in fields.items()})),
                **semantic,
            ),
            "delete": o.operation(
                tag,
                "delete_webhook",
                {"204": o.no_content(), **o.problems("401", "403", "404")},
                parameters=rid,
            ),
        },
        "/api/v1/_webhooks/{id}/test": {
            "post": o.operation(
                tag,
                "test_webhook",
                {
                    "200": o.json_ok(delivery, "the test delivery and its outcome"),
                    **o.problems("401", "403", "404"),
                },
                summary="Send a test delivery now",
                parameters=rid,
            )
        },
        "/api/v1/_webhooks/{id}/deliveries": {
            "get": o.operation(
                tag,
                "webhook_deliveries",
                {
                    "200": o.json_ok(o.obj({"items": o.array(delivery)}, ["items"], strict=False)),
                    **o.problems("401", "403", "404"),
                },
                summary="The last deliveries, newest first",
                parameters=rid,
            )
        },
    }


def includeme(config):
    config.add_job(DELIVER_JOB, deliver_job, retries=0, title=_("Deliver a webhook"))
    config.add_route("webhooks", "/admin/webhooks", request_method="GET")
    config.add_view(
        list_view,
        route_name="webhooks",
        renderer="kyklos:web/templates/admin_webhooks.pt",
        permission=MANAGE,
    )
    config.add_route("webhooks.new", "/admin/webhooks/new", request_method=("GET", "POST"))
    config.add_view(new_view, route_name="webhooks.new", permission=MANAGE)
    config.add_route(
        "webhooks.edit", r"/admin/webhooks/{id:\d{1,18}}", request_method=("GET", "POST")
    )
    config.add_view(edit_view, route_name="webhooks.edit", permission=MANAGE)

    def route(name, pattern, method, view):
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name, renderer="json", permission=MANAGE)

    one = r"/api/v1/_webhooks/{id:\d{1,18}}"
    route("api.webhooks", "/api/v1/_webhooks", "GET", api_list)
    route("api.webhooks.create", "/api/v1/_webhooks", "POST", api_create)
    route("api.webhooks.events", "/api/v1/_webhooks/_events", "GET", api_events)
    route("api.webhook", one, "GET", api_get)
    route("api.webhook.patch", one, "PATCH", api_patch)
    route("api.webhook.delete", one, "DELETE", api_delete)
    route("api.webhook.test", one + "/test", "POST", api_test)
    route("api.webhook.deliveries", one + "/deliveries", "GET", api_deliveries)
    config.add_openapi_paths(openapi_paths)

"""Opens, clicks and unsubscribes (no login: the recipient's mail client calls these).

Every link carries a token signed with the deployment's ``kyklos.secret``
(itsdangerous): the recipient row, and for a click the target address. Nothing that is
not signed is followed, so ``/t/c/...`` is no open redirect. Unsubscribing is one-click
(RFC 8058: the ``List-Unsubscribe-Post`` POST from the mail client, no form) or a
translated page for a person, and sets the person's consent for the campaign's
channel to ``opt_out``.
"""

from __future__ import annotations

import base64

from itsdangerous import BadSignature, URLSafeSerializer
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from kyklos_sdk import utcnow

from . import _
from .models import Campaign, Recipient
from .targets import CONSENT_CHANNEL

#: a transparent 1x1 GIF
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _serializer(registry, salt: str) -> URLSafeSerializer:
    secret = registry.settings.get("kyklos.secret") or ""
    if not secret:
        raise ValueError("kyklos.secret is not set: campaign links cannot be signed")
    return URLSafeSerializer(secret, salt=f"kyklos-campaigns-{salt}")


def sign(registry, salt: str, payload) -> str:
    return _serializer(registry, salt).dumps(payload)


def unsign(registry, salt: str, token: str):
    """The payload, or ``None`` for a token that is not ours."""
    try:
        return _serializer(registry, salt).loads(token)
    except (BadSignature, ValueError):
        return None


def open_url(request, recipient_id: int) -> str:
    return request.route_url("campaigns.open", token=sign(request.registry, "o", recipient_id))


def click_url(request, recipient_id: int, target: str) -> str:
    token = sign(request.registry, "c", [recipient_id, target])
    return request.route_url("campaigns.click", token=token)


def unsubscribe_url(request, recipient_id: int) -> str:
    token = sign(request.registry, "u", recipient_id)
    return request.route_url("campaigns.unsubscribe", token=token)


def response_url(request, recipient_id: int) -> str:
    """The recipient's own link to the campaign's response page (the ``response_url``
    merge field of e-mails and letters)."""
    token = sign(request.registry, "r", recipient_id)
    return request.route_url("campaigns.respond", token=token)


def _recipient(request, salt, token):
    payload = unsign(request.registry, salt, token)
    rid = payload[0] if isinstance(payload, list) and payload else payload
    if isinstance(rid, bool) or not isinstance(rid, int):
        return None, payload
    return request.dbsession.get(Recipient, rid), payload


def open_view(request):
    """The pixel: the first open is kept; the image is always answered."""
    rec, _p = _recipient(request, "o", request.matchdict["token"])
    if rec is not None and rec.opened_at is None:
        rec.opened_at = utcnow()
    response = Response(body=PIXEL, content_type="image/gif")
    response.cache_control.no_store = True
    return response


def click_view(request):
    """Keep the click (an open too: images may be blocked) and go to the signed target."""
    rec, payload = _recipient(request, "c", request.matchdict["token"])
    if rec is None or not isinstance(payload, list) or len(payload) != 2:
        raise HTTPNotFound()
    target = payload[1]
    if not isinstance(target, str) or not target.startswith(("http://", "https://")):
        raise HTTPNotFound()
    now = utcnow()
    rec.clicked_at = rec.clicked_at or now
    rec.opened_at = rec.opened_at or now
    return HTTPFound(location=target)


def unsubscribe(request, rec: Recipient) -> None:
    """Opt the person out of the campaign's channel (once; the source says which)."""
    from kyklos_contacts.api import set_consent

    campaign = request.dbsession.get(Campaign, rec.campaign_id)
    channel = CONSENT_CHANNEL.get(campaign.channel if campaign else "email", "email")
    if rec.unsubscribed_at is None:
        rec.unsubscribed_at = utcnow()
    set_consent(
        request.dbsession,
        rec.person_id,
        channel,
        "opt_out",
        source=f"unsubscribe: {campaign.name if campaign else ''}"[:200],
    )


def unsubscribe_view(request):
    """GET: a page asking to confirm; POST: the one-click unsubscribe (RFC 8058) or the
    page's button. A bad token is a 404, never an error page that says why."""
    rec, _p = _recipient(request, "u", request.matchdict["token"])
    if rec is None:
        raise HTTPNotFound()
    done = False
    if request.method == "POST":
        unsubscribe(request, rec)
        done = True
        if request.POST.get("List-Unsubscribe") == "One-Click":
            return Response(status=200, body=b"", content_type="text/plain")
    request.response.headers["Cache-Control"] = "no-store"
    return {
        "title": _("Unsubscribe"),
        "done": done or rec.unsubscribed_at is not None,
        "address": rec.address,
        "action": request.route_url("campaigns.unsubscribe", token=request.matchdict["token"]),
    }


def includeme(config):
    config.add_route("campaigns.open", "/t/o/{token}")
    config.add_route("campaigns.click", "/t/c/{token}")
    config.add_route("campaigns.unsubscribe", "/t/u/{token}")
    public = {"permission": NO_PERMISSION_REQUIRED, "require_csrf": False}
    config.add_view(open_view, route_name="campaigns.open", request_method="GET", **public)
    config.add_view(click_view, route_name="campaigns.click", request_method="GET", **public)
    config.add_view(
        unsubscribe_view,
        route_name="campaigns.unsubscribe",
        request_method=("GET", "POST"),
        renderer="kyklos_campaigns:templates/unsubscribe.pt",
        **public,
    )

"""Opens and clicks of a message sent from Kyklos: optional, off by default (GDPR).

A site turns the option on with ``kyklos.mail.tracking = true`` (the data controller's
decision, not each rep's); even then a message is tracked only when its writer ticks
"Track opens and clicks" (``"track": true`` in the API). A tracked message's HTML gets
a 1x1 image and its web links go through ``/mail/t/c/...``; both carry a token signed
with the deployment's ``kyklos.secret`` (itsdangerous) naming the message's random
``track_key``, and a click's target, so nothing unsigned is followed (no open
redirect). The plain-text part keeps the links as written. Untracked messages carry
nothing of this."""

from __future__ import annotations

import base64
import html
import re

from itsdangerous import BadSignature, URLSafeSerializer
from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.settings import asbool
from sqlalchemy import select

from kyklos_sdk import utcnow

from .models import Message

#: a transparent 1x1 GIF
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
LINK = re.compile(r'href="(https?://[^"]+)"', re.IGNORECASE)


def allowed(registry) -> bool:
    """Whether this site lets its users track their messages at all."""
    return asbool(registry.settings.get("kyklos.mail.tracking", "false")) and bool(
        registry.settings.get("kyklos.secret")
    )


def _serializer(registry, salt: str) -> URLSafeSerializer:
    return URLSafeSerializer(registry.settings["kyklos.secret"], salt=f"kyklos-mail-{salt}")


def _unsign(registry, salt: str, token: str):
    try:
        return _serializer(registry, salt).loads(token)
    except (BadSignature, ValueError, KeyError):
        return None


def tracked_html(request, body_html: str, key: str) -> str:
    """``body_html`` (already sanitised) with its web links through the click address
    and the open pixel at its end."""
    ser = _serializer(request.registry, "c")

    def link(m):
        target = html.unescape(m.group(1))
        url = request.route_url("mail.track_click", token=ser.dumps([key, target]))
        return f'href="{html.escape(url)}"'

    pixel = request.route_url(
        "mail.track_open", token=_serializer(request.registry, "o").dumps(key)
    )
    return LINK.sub(link, body_html) + (
        f'<img src="{html.escape(pixel)}" width="1" height="1" alt="">'
    )


def _message(request, key):
    if not isinstance(key, str) or not key:
        return None
    return request.dbsession.execute(select(Message).where(Message.track_key == key)).scalar()


def open_view(request):
    """The pixel: every open is counted, the first kept; the image always answers."""
    message = _message(request, _unsign(request.registry, "o", request.matchdict["token"]))
    if message is not None:
        message.opens = (message.opens or 0) + 1
        message.opened_at = message.opened_at or utcnow()
    response = Response(body=PIXEL, content_type="image/gif")
    response.cache_control.no_store = True
    return response


def click_view(request):
    """Count the click (an open too: images may be blocked) and go to the signed
    target; anything not signed by us is a 404."""
    payload = _unsign(request.registry, "c", request.matchdict["token"])
    if not isinstance(payload, list) or len(payload) != 2:
        raise HTTPNotFound()
    key, target = payload
    message = _message(request, key)
    if message is None or not isinstance(target, str):
        raise HTTPNotFound()
    if not target.lower().startswith(("http://", "https://")):
        raise HTTPNotFound()
    now = utcnow()
    message.clicks = (message.clicks or 0) + 1
    message.clicked_at = message.clicked_at or now
    message.opened_at = message.opened_at or now
    return HTTPFound(location=target)


def includeme(config):
    config.add_route("mail.track_open", "/mail/t/o/{token}", request_method="GET")
    config.add_route("mail.track_click", "/mail/t/c/{token}", request_method="GET")
    # the recipient's mail client calls these: no login, nothing to forge (signed)
    public = {"permission": NO_PERMISSION_REQUIRED, "require_csrf": False}
    config.add_view(open_view, route_name="mail.track_open", **public)
    config.add_view(click_view, route_name="mail.track_click", **public)

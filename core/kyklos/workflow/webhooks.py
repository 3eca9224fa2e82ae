"""Outbound webhooks with SSRF protection (SECURITY.md class 21).

Only ``http``/``https`` URLs without credentials. The host name is resolved once and
every address it resolves to must be public (not loopback, private, link-local,
shared, multicast, reserved or unspecified, including IPv4-mapped IPv6); the
connection then goes to that checked address, so a DNS answer that changes between
the check and the connection (rebinding) cannot redirect it. Redirects are never
followed. Time and response size are bounded.

``kyklos.webhooks.allow_networks`` lists networks (CIDR) allowed despite being private,
for integrations inside the company network.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
from urllib.parse import urlsplit

from kyklos.i18n import _
from kyklos.settings import aslist

MAX_URL = 2000
DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE = 64 * 1024


class WebhookRefused(ValueError):
    """The URL may not be called (scheme, credentials, or a non-public address).

    ``message`` is the reason as a translation string, for the person who typed the URL;
    ``str()`` is the same reason in English, for logs."""

    def __init__(self, message):
        super().__init__(message.interpolate() if hasattr(message, "interpolate") else message)
        self.message = message


class WebhookFailed(RuntimeError):
    """The call was made but failed (network error, redirect, HTTP error status)."""


def allowed_networks(settings) -> list:
    out = []
    for item in aslist(settings.get("kyklos.webhooks.allow_networks")):
        out.append(ipaddress.ip_network(item, strict=False))
    return out


def _public(ip) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not (
        ip.is_multicast
        or ip.is_reserved
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_private
        or ip.is_unspecified
    )


def check_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path_and_query)`` of an acceptable URL; raises
    :class:`WebhookRefused`."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise WebhookRefused(_("the address is missing or too long"))
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise WebhookRefused(_("the address contains spaces or control characters"))
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise WebhookRefused(
            _("only http and https addresses are allowed, not “${s}”", mapping={"s": scheme})
        )
    if parts.username is not None or parts.password is not None:
        raise WebhookRefused(_("a user name or password in the address is not allowed"))
    host = parts.hostname
    if not host:
        raise WebhookRefused(_("the address has no host name"))
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise WebhookRefused(_("the address's port is not valid")) from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port, path


def resolve(host: str, port: int, allow=()) -> str:
    """The address to connect to; every address ``host`` resolves to must be allowed."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefused(_("the host “${h}” cannot be found", mapping={"h": host})) from exc
    addrs = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%")[0])
        if not (_public(ip) or any(ip in net for net in allow)):
            raise WebhookRefused(
                _(
                    "“${h}” is an address inside a private network (${ip})",
                    mapping={"h": host, "ip": str(ip)},
                )
            )
        addrs.append(str(ip))
    if not addrs:
        raise WebhookRefused(_("the host “${h}” cannot be found", mapping={"h": host}))
    return addrs[0]


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a fixed address, with the certificate checked against the host name."""

    def __init__(self, address, host, port, timeout, context):
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, address, host, port, timeout):
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


def post_json(settings, url: str, payload, headers: dict | None = None) -> dict:
    """POST ``payload`` as JSON. Returns ``{"status", "body"}`` (body cut at 2000
    characters). Raises WebhookRefused before connecting, WebhookFailed after."""
    scheme, host, port, path = check_url(url)
    address = resolve(host, port, allowed_networks(settings))
    timeout = float(settings.get("kyklos.webhooks.timeout") or DEFAULT_TIMEOUT)
    body = json.dumps(payload, default=str).encode()
    if scheme == "https":
        conn = _PinnedHTTPS(address, host, port, timeout, ssl.create_default_context())
    else:
        conn = _PinnedHTTP(address, host, port, timeout)
    send = {
        "Content-Type": "application/json",
        "User-Agent": "Kyklos-Webhook/1",
        "Content-Length": str(len(body)),
    }
    for k, v in (headers or {}).items():
        if any(c in str(k) + str(v) for c in "\r\n"):
            raise WebhookRefused("header values may not contain line breaks")
        send[str(k)] = str(v)
    try:
        conn.request("POST", path, body=body, headers=send)
        resp = conn.getresponse()
        data = resp.read(MAX_RESPONSE + 1)
    except (OSError, http.client.HTTPException) as exc:
        raise WebhookFailed(f"calling {host} failed: {exc}") from exc
    finally:
        conn.close()
    if 300 <= resp.status < 400:
        raise WebhookFailed(f"{host} answered with a redirect ({resp.status}), not followed")
    if len(data) > MAX_RESPONSE:
        raise WebhookFailed(f"{host} answered with more than {MAX_RESPONSE} bytes")
    text = data.decode("utf-8", "replace")[:2000]
    if resp.status >= 400:
        raise WebhookFailed(f"{host} answered {resp.status}: {text[:200]}")
    return {"status": resp.status, "body": text}

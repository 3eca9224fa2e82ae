"""The security audit log (ASVS 16.3): logins, failures, denials, role and rule
changes, delegations, token changes, exports.

``log_event(request, kind, **detail)`` stores one structured row; nothing is ever
formatted into a line an attacker could forge (16.4.1). Events about refused requests
(failed logins, denials, CSRF failures) are *durable*: they are written after the
request's transaction ended, in a transaction of their own, so the rollback of the
refused request does not take them along.
"""

from __future__ import annotations

import json
import logging
import re

from pyramid.events import NewResponse
from pyramid.exceptions import BadCSRFToken

from kyklos.db import utcnow
from kyklos.security.models import SecurityEvent

log = logging.getLogger("kyklos.security.audit")

#: kinds written even when the request's transaction rolls back
DURABLE_KINDS = frozenset(
    {
        "login.failed",
        "login.locked",
        "login.throttled",
        "totp.failed",
        "access.denied",
        "access.hidden",
        "csrf.failed",
    }
)
KINDS = (
    "login.ok",
    "login.failed",
    "login.locked",
    "login.throttled",
    "logout",
    "totp.failed",
    "totp.enabled",
    "totp.disabled",
    "password.changed",
    "password.reset_requested",
    "password.reset",
    "token.created",
    "token.revoked",
    "access.denied",
    "access.hidden",
    "csrf.failed",
    "user.created",
    "user.changed",
    "role.created",
    "role.changed",
    "role.deleted",
    "rule.changed",
    "field_permission.changed",
    "org.changed",
    "territory.changed",
    "delegation.created",
    "delegation.ended",
    "sessions.ended",
    "export",
    "settings.changed",
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]|\x1b\[[0-9;?]*[ -/]*[@-~]")
_MAX_TEXT = 500


def clean_log_text(value) -> str:
    """A single-line, control-free rendering of ``value`` for text logs: CR, LF, ANSI
    escape sequences and other control characters are shown as ``\\xNN``."""

    def sub(m):
        return "".join(f"\\x{ord(c):02x}" for c in m.group(0))

    return _CONTROL.sub(sub, str(value))


def _jsonable(value, depth=0):
    if depth > 4:
        return str(value)[:_MAX_TEXT]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, dict):
        return {str(k)[:100]: _jsonable(v, depth + 1) for k, v in list(value.items())[:50]}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v, depth + 1) for v in list(value)[:100]]
    return str(value)[:_MAX_TEXT]


def _client_ip(request) -> str:
    return (getattr(request, "client_addr", None) or "")[:64]


def _current_user_id(request):
    # request.identity may be what is being computed; read only a finished one.
    ident = request.__dict__.get("_kyklos_identity")
    return ident.user.id if ident is not None else None


def log_event(
    request, kind: str, *, user_id=None, on_behalf_of=None, durable=None, immediate=False,
    **detail
) -> None:
    """Record a security event. ``user_id`` defaults to the logged-in user.
    ``immediate``: written at once in its own transaction (code running after the
    request's transaction ended, such as a streamed response)."""
    if user_id is None and request is not None:
        user_id = _current_user_id(request)
    row = {
        "at": utcnow(),
        "kind": kind[:50],
        "user_id": user_id,
        "on_behalf_of_id": on_behalf_of,
        "ip": _client_ip(request) if request is not None else "",
        "detail": _jsonable(detail),
    }
    # json.dumps escapes every control character, so the line cannot be split or
    # coloured by what a user typed.
    log.info(
        "%s user=%s ip=%s %s",
        clean_log_text(kind),
        user_id,
        clean_log_text(row["ip"]),
        json.dumps(row["detail"], ensure_ascii=True, default=str),
    )
    if durable is None:
        durable = kind in DURABLE_KINDS
    if request is None or immediate or (
        durable and not hasattr(request, "add_finished_callback")
    ):
        _write_now(request, row)
        return
    if durable:
        pending = request.__dict__.setdefault("_kyklos_durable_events", [])
        if not pending:
            request.add_finished_callback(_write_pending)
        pending.append(row)
        return
    request.dbsession.add(SecurityEvent(**row))


def _write_now(request, row) -> None:
    engine = request.registry["dbengine"]
    with engine.begin() as conn:
        conn.execute(SecurityEvent.__table__.insert().values(**row))


def _write_pending(request) -> None:
    rows = request.__dict__.pop("_kyklos_durable_events", [])
    if not rows:
        return
    try:
        with request.registry["dbengine"].begin() as conn:
            conn.execute(SecurityEvent.__table__.insert(), rows)
    except Exception:  # noqa: BLE001 - an audit write must not turn into an error page
        log.exception("could not store %d security event(s)", len(rows))


def _on_response(event) -> None:
    """Denials and CSRF failures are logged wherever they come from."""
    request, response = event.request, event.response
    status = response.status_int
    exc = getattr(request, "exception", None)
    if isinstance(exc, BadCSRFToken):
        log_event(request, "csrf.failed", method=request.method, path=request.path[:300])
    elif status == 403:
        log_event(request, "access.denied", method=request.method, path=request.path[:300])


def includeme(config):
    config.add_subscriber(_on_response, NewResponse)

"""OAuth2 mailboxes (Gmail, Microsoft 365 and any provider with the same flow): the
authorization-code flow with PKCE (RFC 7636) started from the mailbox page, the tokens
kept encrypted like passwords, the access token renewed before it expires and when the
server refuses it, and the XOAUTH2 SASL string IMAP and SMTP log in with.

The client side is authlib's ``OAuth2Session`` (requests); nothing here speaks HTTP by
hand. A provider that refuses to renew (the user revoked the access, the refresh token
expired) raises :class:`OAuthFailed`: the fetch records it as the mailbox's last error
and notifies its owner, as for any failing mailbox."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import time

from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from requests import RequestException

from kyklos_sdk import Problem

from . import _
from .crypto import decrypt, encrypt

#: the presets: what Google and Microsoft publish for IMAP/SMTP with XOAUTH2
PRESETS = {
    "google": {
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "scopes": "https://mail.google.com/",
        # without these Google gives no refresh token, and the mailbox stops in an hour
        "extra": {"access_type": "offline", "prompt": "consent"},
    },
    "microsoft": {
        "authorize_url": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "scopes": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
        "https://outlook.office.com/SMTP.Send",
        "extra": {},
    },
}
#: an access token this close to its expiry is renewed before it is used
MARGIN = dt.timedelta(minutes=2)
#: how long an authorization the user started may take to come back
PENDING_SECONDS = 15 * 60


class OAuthFailed(RuntimeError):
    """The provider would not give an access token (revoked, expired, misconfigured).
    Its text is what the mailbox page shows as the last error."""


def endpoints(box) -> dict:
    """The mailbox's authorization URL, token URL, scopes and extra parameters: the
    preset's, where the mailbox gives none of its own."""
    preset = PRESETS.get(box.oauth_provider or "", {})
    return {
        "authorize_url": (box.oauth_authorize_url or "").strip() or preset.get("authorize_url", ""),
        "token_url": (box.oauth_token_url or "").strip() or preset.get("token_url", ""),
        "scopes": (box.oauth_scopes or "").strip() or preset.get("scopes", ""),
        "extra": preset.get("extra", {}),
    }


def validate(box, data: dict, errors: dict) -> None:
    """Checks on saving an OAuth2 mailbox (``data`` the changed fields)."""

    def value(key):
        return data[key] if key in data else getattr(box, key, None)

    if value("auth_method") != "oauth2":
        return
    provider = value("oauth_provider")
    if not provider:
        errors["oauth_provider"] = _("Choose the OAuth2 provider.")
    if not (value("oauth_client_id") or "").strip():
        errors["oauth_client_id"] = _("Give the client ID the provider gave you.")
    for key in ("oauth_authorize_url", "oauth_token_url"):
        url = (value(key) or "").strip()
        if url and not url.startswith(("https://", "http://")):
            errors[key] = _("Give a web address starting with https://.")
        elif not url and provider == "custom":
            errors[key] = _("Another provider needs its authorization and token URLs.")


def _session(box, registry, redirect_uri=None, token=None) -> OAuth2Session:
    ends = endpoints(box)
    return OAuth2Session(
        client_id=box.oauth_client_id,
        client_secret=decrypt(registry, box.oauth_client_secret) or None,
        scope=ends["scopes"] or None,
        redirect_uri=redirect_uri,
        token=token,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post" if box.oauth_client_secret else "none",
    )


def _timeout(registry) -> float:
    return float(registry.settings.get("kyklos.mail.timeout") or 30)


def redirect_uri(request) -> str:
    """The callback the provider sends the user back to (register it with the client)."""
    return request.route_url("mail.oauth_callback")


def start(request, box) -> str:
    """Begin the authorization: the provider's URL to send the user to. The state
    names the mailbox; it and the PKCE verifier are kept encrypted on the mailbox until
    the user comes back (so the API can start a flow a browser finishes)."""
    errors: dict = {}
    validate(box, {}, errors)
    if box.auth_method != "oauth2":
        errors["auth_method"] = _("The mailbox does not sign in with OAuth2.")
    ends = endpoints(box)
    if not ends["authorize_url"] and "oauth_authorize_url" not in errors:
        errors["oauth_authorize_url"] = _(
            "Another provider needs its authorization and token URLs."
        )
    if errors:
        raise Problem(400, _("The mailbox's OAuth2 settings are incomplete."), errors=errors)
    verifier = generate_token(64)
    state = f"{box.id}.{generate_token(32)}"
    session = _session(box, request.registry, redirect_uri=redirect_uri(request))
    url, _state = session.create_authorization_url(
        ends["authorize_url"], state=state, code_verifier=verifier, **ends["extra"]
    )
    pending = {"state": state, "verifier": verifier, "user": _user_id(request), "at": time.time()}
    box.oauth_pending = encrypt(request.registry, json.dumps(pending))
    return url


def _user_id(request):
    ident = getattr(request, "identity", None)
    user = getattr(ident, "user", None)
    return user.id if user is not None else None


def mailbox_of_state(state: str) -> int | None:
    head = (state or "").split(".", 1)[0]
    return int(head) if head.isdigit() and len(head) < 19 else None


def finish(request, box, state: str, code: str) -> None:
    """The user came back from the provider: check the state (the same user, in time),
    trade the code and the PKCE verifier for tokens and keep them."""
    try:
        pending = json.loads(decrypt(request.registry, box.oauth_pending) or "{}")
    except ValueError:
        pending = {}
    if (
        not pending
        or not hmac.compare_digest(str(pending.get("state", "")), state or "")
        or pending.get("user") != _user_id(request)
        or time.time() - float(pending.get("at", 0)) > PENDING_SECONDS
    ):
        raise OAuthFailed(_("This authorization is unknown or too old: start it again."))
    box.oauth_pending = ""
    session = _session(box, request.registry, redirect_uri=redirect_uri(request))
    try:
        token = session.fetch_token(
            endpoints(box)["token_url"],
            code=code,
            code_verifier=pending["verifier"],
            timeout=_timeout(request.registry),
        )
    except (OAuthError, RequestException, ValueError) as exc:
        raise OAuthFailed(f"{_describe(exc)}") from None
    save(request.registry, box, token)
    box.state, box.last_error = "new", None


def save(registry, box, token: dict, previous: dict | None = None) -> None:
    """Keep ``token`` (encrypted); a renewal without a new refresh token keeps the old."""
    expires_at = token.get("expires_at")
    if not expires_at and token.get("expires_in"):
        expires_at = time.time() + int(token["expires_in"])
    kept = {
        "access_token": token.get("access_token", ""),
        "refresh_token": token.get("refresh_token") or (previous or {}).get("refresh_token", ""),
        "expires_at": float(expires_at) if expires_at else None,
    }
    box.oauth_tokens = encrypt(registry, json.dumps(kept))
    box.oauth_expires_at = (
        dt.datetime.fromtimestamp(kept["expires_at"], dt.UTC) if kept["expires_at"] else None
    )


def tokens(registry, box) -> dict:
    raw = decrypt(registry, box.oauth_tokens)
    return json.loads(raw) if raw else {}


def _describe(exc) -> str:
    if isinstance(exc, OAuthError):
        return f"{exc.error}: {exc.description}" if exc.description else str(exc.error)
    return f"{exc.__class__.__name__}: {exc}"


def access_token(registry, box, force: bool = False) -> str:
    """A valid access token for ``box`` (attached to a session that commits): renewed
    with the refresh token when it expires within :data:`MARGIN`, or with ``force``
    (the server refused it). Raises :class:`OAuthFailed` when there is none."""
    got = tokens(registry, box)
    if not got.get("access_token"):
        raise OAuthFailed("The mailbox is not connected to its OAuth2 provider yet.")
    expires_at = got.get("expires_at")
    soon = expires_at is not None and expires_at - MARGIN.total_seconds() <= time.time()
    if not (force or soon):
        return got["access_token"]
    if not got.get("refresh_token"):
        raise OAuthFailed(
            "The access token expired and the provider gave no refresh token: "
            "connect the mailbox again."
        )
    session = _session(box, registry, token=got)
    try:
        new = session.refresh_token(
            endpoints(box)["token_url"],
            refresh_token=got["refresh_token"],
            timeout=_timeout(registry),
        )
    except OAuthError as exc:
        # invalid_grant: the user revoked the access or the refresh token expired
        raise OAuthFailed(
            f"The provider refused to renew the access ({_describe(exc)}): "
            "connect the mailbox again."
        ) from None
    except (RequestException, ValueError) as exc:
        raise OAuthFailed(f"The provider could not be reached: {_describe(exc)}") from None
    save(registry, box, new, previous=got)
    return new["access_token"]


def xoauth2(username: str, token: str) -> str:
    """The XOAUTH2 SASL initial response (Google's and Microsoft's format)."""
    return f"user={username}\x01auth=Bearer {token}\x01\x01"

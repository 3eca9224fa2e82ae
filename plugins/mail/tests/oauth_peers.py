"""Real peers for the OAuth2 mailboxes: an OAuth2 provider (authlib's authorization
server on Flask: the authorization-code grant with PKCE, refresh tokens, RFC 7662
introspection and RFC 7009 revocation), a Dovecot whose ``oauth2`` passdb checks the
XOAUTH2 tokens against that provider's introspection endpoint, and an SMTP server
(aiosmtpd) that accepts AUTH XOAUTH2 after asking the same provider.

Nothing is canned: a token is good when the provider says so, at the moment it is used."""

from __future__ import annotations

import base64
import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, grants
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from flask import Flask, request
from werkzeug.serving import make_server

#: the resource servers (Dovecot, the SMTP server) introspect with these credentials
RS_ID, RS_SECRET = "mail-servers", "rs-secret"


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str
    redirect_uris: list = field(default_factory=list)
    scope: str = "mail"

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope):
        allowed = set(self.scope.split())
        return " ".join(s for s in (scope or "").split() if s in allowed)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return secrets.compare_digest(self.client_secret, client_secret or "")

    def check_endpoint_auth_method(self, method, endpoint):
        return method in ("client_secret_post", "client_secret_basic")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Token(TokenMixin):
    client_id: str
    user: str
    access_token: str
    refresh_token: str | None
    scope: str
    issued_at: float
    expires_in: int
    revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client):
        return client.client_id == self.client_id

    def get_scope(self):
        return self.scope

    def get_expires_in(self):
        return self.expires_in

    def is_expired(self):
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self):
        return self.revoked

    def get_user(self):
        return self.user

    def get_client(self):
        return None


@dataclass
class Code:
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope


class Provider:
    """The provider's state: clients, codes, tokens; ``expires_in`` for new tokens."""

    def __init__(self):
        self.clients: dict[str, Client] = {
            RS_ID: Client(RS_ID, RS_SECRET, [], "mail"),
        }
        self.codes: dict[str, Code] = {}
        self.tokens: list[Token] = []
        self.expires_in = 3600
        self.refreshes = 0
        self.lock = threading.Lock()

    def add_client(self, redirect_uri: str) -> Client:
        c = Client(
            f"kyklos-{secrets.token_hex(4)}", secrets.token_urlsafe(16), [redirect_uri], "mail"
        )
        self.clients[c.client_id] = c
        return c

    def access(self, token: str) -> Token | None:
        return next((t for t in self.tokens if t.access_token == token), None)

    def valid_user(self, token: str) -> str | None:
        t = self.access(token)
        return t.user if t and not t.is_expired() and not t.is_revoked() else None

    def revoke_all(self, user: str, access_only: bool = False) -> None:
        """The user revokes the access (``access_only``: the access tokens alone, as a
        server that restarted and forgot them)."""
        for t in self.tokens:
            if t.user == user:
                t.revoked = True
                if not access_only:
                    t.refresh_revoked = True


def build_app(p: Provider) -> Flask:
    app = Flask("kyklos-test-oauth")

    def save_token(token, req):
        with p.lock:
            p.tokens.append(
                Token(
                    client_id=req.client.client_id,
                    user=req.user,
                    access_token=token["access_token"],
                    refresh_token=token.get("refresh_token"),
                    scope=token.get("scope", ""),
                    issued_at=time.time(),
                    expires_in=token["expires_in"],
                )
            )

    server = AuthorizationServer(app, query_client=p.clients.get, save_token=save_token)

    def generate(
        client, grant_type, user=None, scope=None, expires_in=None, include_refresh_token=True
    ):  # noqa: E501
        return {
            "token_type": "Bearer",
            "access_token": secrets.token_urlsafe(24),
            "expires_in": p.expires_in,
            "scope": scope or "",
            **({"refresh_token": secrets.token_urlsafe(24)} if include_refresh_token else {}),
        }

    server.register_token_generator("default", generate)

    class CodeGrant(grants.AuthorizationCodeGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]

        def save_authorization_code(self, code, req):
            p.codes[code] = Code(
                code,
                req.client.client_id,
                req.payload.redirect_uri,
                req.payload.scope or "",
                req.user,
                req.payload.data.get("code_challenge"),
                req.payload.data.get("code_challenge_method"),
            )

        def query_authorization_code(self, code, client):
            c = p.codes.get(code)
            return c if c and c.client_id == client.client_id else None

        def delete_authorization_code(self, authorization_code):
            p.codes.pop(authorization_code.code, None)

        def authenticate_user(self, authorization_code):
            return authorization_code.user

    class RefreshGrant(grants.RefreshTokenGrant):
        TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post", "client_secret_basic"]
        INCLUDE_NEW_REFRESH_TOKEN = True

        def authenticate_refresh_token(self, refresh_token):
            t = next((t for t in p.tokens if t.refresh_token == refresh_token), None)
            return t if t and not t.refresh_revoked else None

        def authenticate_user(self, refresh_token):
            return refresh_token.user

        def revoke_old_credential(self, refresh_token):
            p.refreshes += 1
            refresh_token.refresh_revoked = True

    class Introspect(IntrospectionEndpoint):
        CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

        def query_token(self, token_string, token_type_hint):
            return p.access(token_string)

        def check_permission(self, token, client, req):
            return client.client_id == RS_ID

        def introspect_token(self, token):
            return {
                "active": True,
                "username": token.user,
                "client_id": token.client_id,
                "scope": token.scope,
                "exp": int(token.issued_at + token.expires_in),
            }

    class Revoke(RevocationEndpoint):
        def query_token(self, token_string, token_type_hint):
            return next(
                (t for t in p.tokens if token_string in (t.access_token, t.refresh_token)), None
            )

        def revoke_token(self, token, req):
            token.revoked = token.refresh_revoked = True

    server.register_grant(CodeGrant, [CodeChallenge(required=True)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Introspect)
    server.register_endpoint(Revoke)

    @app.route("/authorize", methods=["GET", "POST"])
    def authorize():
        if request.method == "GET":
            grant = server.get_consent_grant(end_user=None)
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{v}">' for k, v in request.args.items()
            )
            return (
                "<!doctype html><title>Test provider</title><h1>Test provider</h1>"
                f"<p>{grant.client.client_id} asks to read and send your mail.</p>"
                f'<form method="post" action="/authorize">{fields}'
                '<label>User <input name="username" id="username"></label>'
                + '<button name="confirm" value="yes">Allow</button>'
                '<button name="confirm" value="no">Deny</button></form>'
            )
        user = request.form.get("username") if request.form.get("confirm") == "yes" else None
        return server.create_authorization_response(grant_user=user)

    @app.route("/token", methods=["POST"])
    def token():
        return server.create_token_response()

    @app.route("/introspect", methods=["POST"])
    def introspect():
        return server.create_endpoint_response("introspection")

    @app.route("/revoke", methods=["POST"])
    def revoke():
        return server.create_endpoint_response("revocation")

    return app


class ProviderServer:
    def __init__(self):
        self.provider = Provider()
        self.http = make_server("127.0.0.1", 0, build_app(self.provider), threaded=True)
        self.port = self.http.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.http.shutdown()

    def introspect(self, token: str) -> dict:
        return requests.post(
            f"{self.url}/introspect", data={"token": token}, auth=(RS_ID, RS_SECRET), timeout=10
        ).json()


# --- Dovecot with the oauth2 passdb ---------------------------------------------------------

OAUTH2_CONF = """\
introspection_mode = post
introspection_url = http://{rs_id}:{rs_secret}@127.0.0.1:{port}/introspect
username_attribute = username
active_attribute = active
active_value = true
"""

DOVECOT_CONF = """\
instance_name = kyklos-oauth-{port}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
mail_location = maildir:{dir}/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
namespace inbox {{
  inbox = yes
  separator = /
}}
# the tests append their messages with the users' passwords; the mailboxes under test
# log in with XOAUTH2, which only the oauth2 passdb accepts (the passwd-file one fails
# the token and the next passdb is tried)
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {dir}/oauth2.conf
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
  default_fields = uid=nobody gid=nogroup home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def start_dovecot(binary: str, provider_port: int, free_port, ready, users=50):
    folder = Path(tempfile.mkdtemp(prefix="kdo", dir="/tmp"))
    folder.chmod(0o755)
    (folder / "mail").mkdir()
    (folder / "users").write_text(
        "".join(f"ouser{n}:{{PLAIN}}secret::::::\n" for n in range(1, users + 1))
    )
    (folder / "users").chmod(0o644)
    (folder / "oauth2.conf").write_text(
        OAUTH2_CONF.format(rs_id=RS_ID, rs_secret=RS_SECRET, port=provider_port)
    )
    (folder / "oauth2.conf").chmod(0o644)
    shutil.chown(folder / "mail", "nobody", "nogroup")
    port = free_port()
    (folder / "dovecot.conf").write_text(DOVECOT_CONF.format(dir=folder, port=port))
    proc = subprocess.Popen(
        [binary, "-F", "-c", str(folder / "dovecot.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    if not ready(port, time.time() + 20):
        proc.terminate()
        out = proc.communicate(timeout=10)[0].decode(errors="replace")
        log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
        shutil.rmtree(folder, ignore_errors=True)
        raise RuntimeError(f"dovecot (oauth2) did not start:\n{out}\n{log}")
    return proc, folder, port


# --- SMTP with AUTH XOAUTH2 ---------------------------------------------------------------


class XOAuth2SMTP:
    """An aiosmtpd server that requires AUTH and offers XOAUTH2 only; the token is
    introspected at the provider. ``messages``: ``(user, parsed message)``."""

    def __init__(self, provider: ProviderServer, free_port):
        from aiosmtpd.controller import Controller

        self.provider = provider
        self.port = free_port()
        self.messages: list = []
        self.refused = 0
        self.controller = Controller(
            self,
            hostname="127.0.0.1",
            port=self.port,
            auth_required=True,
            auth_require_tls=False,
            auth_exclude_mechanism=["PLAIN", "LOGIN"],
        )

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 - aiosmtpd's name
        from aiosmtpd.smtp import AuthResult

        if len(args) < 2:
            blob = await server.challenge_auth("")
        else:
            blob = base64.b64decode(args[1])
        parts = dict(
            p.split("=", 1) for p in blob.decode(errors="replace").split("\x01") if "=" in p
        )
        token = parts.get("auth", "").removeprefix("Bearer ")
        info = self.provider.introspect(token)
        if info.get("active") and info.get("username") == parts.get("user"):
            return AuthResult(success=True, auth_data=parts.get("user"))
        self.refused += 1
        # RFC 7628 style: a JSON error as a challenge, the client answers with an empty line
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False, message="535 5.7.8 Token refused")

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        from email import message_from_bytes, policy

        msg = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        self.messages.append((session.auth_data, msg))
        return "250 OK"

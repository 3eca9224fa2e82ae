"""OAuth2 mailboxes through the API and the callback page, against real peers: an
OAuth2 provider (authlib's authorization server), a Dovecot whose oauth2 passdb asks
that provider about each XOAUTH2 token, and an SMTP server accepting AUTH XOAUTH2
after asking it too. Connect (authorization code + PKCE), fetch, send, renewal when
the token expires and when the server refuses it, and a revoked authorization."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.utils import make_msgid
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

PROBLEM = "application/problem+json"
CALLBACK = "http://localhost/mail/oauth/callback"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def message(sender, subject) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, "box@example.com", subject
    m["Message-ID"] = make_msgid(domain="test.example")
    m.set_content("Hello")
    return m.as_bytes()


def consent(authorization_url: str, user: str, allow=True) -> str:
    """The user at the provider: the consent page, then "Allow" (or "Deny"); returns
    where the provider sends the browser back to."""
    with requests.Session() as s:
        page = s.get(authorization_url, timeout=10)
        assert page.status_code == 200, page.text
        query = {k: v[0] for k, v in parse_qs(urlsplit(authorization_url).query).items()}
        base = authorization_url.split("?", 1)[0]
        res = s.post(
            base,
            data={**query, "username": user, "confirm": "yes" if allow else "no"},
            allow_redirects=False,
            timeout=10,
        )
    assert res.status_code == 302, res.text
    return res.headers["Location"]


@pytest.fixture
def rep(api, login, testapp):
    """A sales rep: ``(api app, web app)`` for the same user."""
    app = api("sales")
    login(testapp, app.email)
    return app, testapp


def oauth_mailbox(app, oauth_provider, dovecot, user, smtp, **extra) -> tuple[dict, object]:
    client = oauth_provider.provider.add_client(CALLBACK)
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Workspace inbox",
            "address": f"{user}@example.com",
            "kind": "personal",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "auth_method": "oauth2",
            "oauth_provider": "custom",
            "oauth_authorize_url": f"{oauth_provider.url}/authorize",
            "oauth_token_url": f"{oauth_provider.url}/token",
            "oauth_client_id": client.client_id,
            "oauth_scopes": "mail",
            **extra,
        },
        status=201,
    ).json
    app.put_json(
        f"/api/v1/mailboxes/{box['id']}/client-secret",
        {"client_secret": client.client_secret},
        status=204,
    )
    return box, client


def connect(app, web, box_id, user) -> None:
    got = app.post_json(f"/api/v1/mailboxes/{box_id}/oauth/authorize", {}).json
    assert got["redirect_uri"] == CALLBACK
    url = got["authorization_url"]
    q = parse_qs(urlsplit(url).query)
    # PKCE: only the S256 challenge leaves Kyklos, never the verifier
    assert q["code_challenge_method"] == ["S256"] and "code_verifier" not in q
    back = consent(url, user)
    assert back.startswith(CALLBACK)
    res = web.get(back[len("http://localhost") :], status=303)
    assert res.location.endswith(f"/mailboxes/{box_id}")


def test_an_oauth2_mailbox_must_name_its_provider_and_client(api):
    app = api("sales")
    res = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "x",
            "address": "x@example.com",
            "imap_host": "imap.example.com",
            "username": "x",
            "auth_method": "oauth2",
            "oauth_provider": "custom",
            "oauth_token_url": "ftp://nope",
        },
        status=400,
    )
    errors = errors_of(res)
    assert set(errors) >= {"oauth_client_id", "oauth_authorize_url", "oauth_token_url"}
    assert app.get("/api/v1/mailboxes").json["items"] == []
    # a preset knows its URLs: Google's need only the client
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Gmail",
            "address": "x@example.com",
            "imap_host": "imap.gmail.com",
            "username": "x@example.com",
            "auth_method": "oauth2",
            "oauth_provider": "google",
            "oauth_client_id": "abc.apps.googleusercontent.com",
        },
        status=201,
    ).json
    url = app.post_json(f"/api/v1/mailboxes/{box['id']}/oauth/authorize", {}).json[
        "authorization_url"
    ]
    q = parse_qs(urlsplit(url).query)
    assert url.startswith("https://accounts.google.com/o/oauth2/v2/auth?")
    assert q["scope"] == ["https://mail.google.com/"] and q["access_type"] == ["offline"]
    assert q["client_id"] == ["abc.apps.googleusercontent.com"]
    # a password mailbox has no OAuth2 flow
    pw = app.post_json(
        "/api/v1/mailboxes",
        {"name": "pw", "address": "p@example.com", "imap_host": "h.example.com", "username": "p"},
        status=201,
    ).json
    res = app.post_json(f"/api/v1/mailboxes/{pw['id']}/oauth/authorize", {}, status=400)
    assert "auth_method" in errors_of(res)


def test_connect_fetch_and_send_with_xoauth2(
    rep, oauth_provider, oauth_imap, xoauth2_smtp, dbsession, registry
):
    app, web = rep
    dovecot, user, password = oauth_imap
    dovecot.append(user, password, message("anna@acme.example", "Πρώτο μήνυμα"))
    box, _client = oauth_mailbox(app, oauth_provider, dovecot, user, xoauth2_smtp)
    before = app.get(f"/api/v1/mailboxes/{box['id']}").json
    # the secrets never come out of the API
    assert not {"oauth_client_secret", "oauth_tokens", "oauth_pending"} & set(before)
    connect(app, web, box["id"], user)
    # the callback queued the first fetch: the message is in the ledger
    state = app.get(f"/api/v1/mailboxes/{box['id']}").json
    assert state["state"] == "ok", state["last_error"]
    assert state["oauth_expires_at"]
    ledger = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"]
    assert [e["uid"] for e in ledger] == [1]
    # the tokens are stored encrypted: no token text in the row
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        row = db.get(Mailbox, box["id"])
        stored = row.oauth_tokens
        assert stored and not row.oauth_pending
    token = oauth_provider.provider.tokens[-1]
    assert token.access_token not in stored and token.refresh_token not in stored
    # the page shows it connected
    page = web.get(f"/mailboxes/{box['id']}")
    assert "Connected to the provider" in page.text
    # sending goes through SMTP with AUTH XOAUTH2 as the mailbox's user
    sent = len(xoauth2_smtp.messages)
    app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@acme.example"],
            "subject": "Απάντηση",
            "body_html": "<p>Γεια</p>",
        },
        status=201,
    )
    assert len(xoauth2_smtp.messages) == sent + 1
    who, msg = xoauth2_smtp.messages[-1]
    assert who == user and msg["Subject"] == "Απάντηση"


def test_an_expired_token_is_renewed_before_use(
    rep, oauth_provider, oauth_imap, xoauth2_smtp, dbsession
):
    app, web = rep
    dovecot, user, password = oauth_imap
    box, _client = oauth_mailbox(app, oauth_provider, dovecot, user, xoauth2_smtp)
    oauth_provider.provider.expires_in = 2
    try:
        connect(app, web, box["id"], user)
    finally:
        oauth_provider.provider.expires_in = 3600
    first = [t for t in oauth_provider.provider.tokens if t.user == user][-1]
    time.sleep(2.5)
    # the provider no longer accepts it (Dovecot would refuse it)
    assert oauth_provider.introspect(first.access_token) == {"active": False}
    refreshes = oauth_provider.provider.refreshes
    dovecot.append(user, password, message("bob@acme.example", "After expiry"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    state = app.get(f"/api/v1/mailboxes/{box['id']}").json
    assert state["state"] == "ok", state["last_error"]
    assert oauth_provider.provider.refreshes == refreshes + 1
    subjects = {m["subject"] for m in app.get("/api/v1/mail-messages").json["items"]}
    assert "After expiry" in subjects


def test_a_token_the_server_refuses_is_renewed_once(rep, oauth_provider, oauth_imap, xoauth2_smtp):
    app, web = rep
    dovecot, user, password = oauth_imap
    box, _client = oauth_mailbox(app, oauth_provider, dovecot, user, xoauth2_smtp)
    connect(app, web, box["id"], user)
    # the access tokens die early (not the refresh token): Dovecot and SMTP refuse them
    oauth_provider.provider.revoke_all(user, access_only=True)
    refreshes = oauth_provider.provider.refreshes
    dovecot.append(user, password, message("carol@acme.example", "Refused then renewed"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    assert app.get(f"/api/v1/mailboxes/{box['id']}").json["state"] == "ok"
    assert oauth_provider.provider.refreshes == refreshes + 1
    oauth_provider.provider.revoke_all(user, access_only=True)
    refused = xoauth2_smtp.refused
    app.post_json(
        "/api/v1/mail/send",
        {"mailbox_id": box["id"], "to": ["carol@acme.example"], "subject": "Re", "body_html": "ok"},
        status=201,
    )
    assert xoauth2_smtp.refused == refused + 1
    assert xoauth2_smtp.messages[-1][1]["Subject"] == "Re"


def test_a_revoked_authorization_fails_the_mailbox_and_notifies_its_owner(
    rep, oauth_provider, oauth_imap, xoauth2_smtp
):
    app, web = rep
    dovecot, user, _password = oauth_imap
    box, _client = oauth_mailbox(app, oauth_provider, dovecot, user, xoauth2_smtp)
    connect(app, web, box["id"], user)
    oauth_provider.provider.revoke_all(user)  # the user revoked Kyklos at the provider
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    state = app.get(f"/api/v1/mailboxes/{box['id']}").json
    assert state["state"] == "failing"
    assert "connect the mailbox again" in state["last_error"]
    assert "invalid_grant" in state["last_error"]
    items = app.get("/api/v1/_notifications").json["items"]
    assert any("Workspace inbox" in n["title"] for n in items)
    # connecting again brings it back
    connect(app, web, box["id"], user)
    assert app.get(f"/api/v1/mailboxes/{box['id']}").json["state"] == "ok"


def test_the_callback_refuses_a_forged_or_replayed_state(
    rep, oauth_provider, oauth_imap, xoauth2_smtp, api, login
):
    app, web = rep
    dovecot, user, _password = oauth_imap
    box, _client = oauth_mailbox(app, oauth_provider, dovecot, user, xoauth2_smtp)
    got = app.post_json(f"/api/v1/mailboxes/{box['id']}/oauth/authorize", {}).json
    back = consent(got["authorization_url"], user)
    path = back[len("http://localhost") :]
    forged = path.replace("state=", "state=" + "x")
    web.get(forged, status=404)
    # another user cannot finish someone else's authorization
    import webtest

    other = api("sales")
    other_web = webtest.TestApp(web.app, extra_environ={"HTTP_HOST": "localhost"})
    login(other_web, other.email)
    other_web.get(path, status=404)
    web.get(path, status=303)
    assert app.get(f"/api/v1/mailboxes/{box['id']}").json["oauth_expires_at"]
    # the same code and state a second time: refused, nothing changes
    res = web.get(path, status=303).follow()
    assert "could not be connected" in res.text
    # a denial at the provider is said in words
    got = app.post_json(f"/api/v1/mailboxes/{box['id']}/oauth/authorize", {}).json
    denied = consent(got["authorization_url"], user, allow=False)
    res = web.get(denied[len("http://localhost") :], status=303).follow()
    assert "did not authorize" in res.text


def test_rotate_keys_reencrypts_the_mailbox_secrets(api, registry, dbsession):
    """``kyklos rotate-keys`` (reencrypt_all) reaches the columns the plugin declared
    with ``config.add_encrypted_column(...)``: after it, the old key can go."""
    from cryptography.fernet import Fernet
    from kyklos.security.encryption import REGISTRY_KEY, Keyring
    from kyklos.security.totp import reencrypt_all

    from kyklos_mail import oauth
    from kyklos_mail.crypto import decrypt
    from kyklos_mail.models import Mailbox

    app = api("sales")
    box = app.post_json(
        "/api/v1/mailboxes",
        {"name": "r", "address": "r@example.com", "imap_host": "h.example.com", "username": "r"},
        status=201,
    ).json
    app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": "pw-1"}, status=204)
    with dbsession() as db:
        row = db.get(Mailbox, box["id"])
        oauth.save(registry, row, {"access_token": "at-1", "refresh_token": "rt-1"})
    old = registry[REGISTRY_KEY]
    new = Fernet.generate_key()
    try:
        current = Fernet(registry.settings["kyklos.encryption_keys"].split()[0])
        registry[REGISTRY_KEY] = Keyring([Fernet(new), current], "test")
        with dbsession() as db:
            assert reencrypt_all(db, registry) >= 2
        registry[REGISTRY_KEY] = Keyring([Fernet(new)], "test")  # the old key removed
        with dbsession() as db:
            row = db.get(Mailbox, box["id"])
            assert decrypt(registry, row.password_secret) == "pw-1"
            assert oauth.tokens(registry, row)["refresh_token"] == "rt-1"
            assert row.oauth_client_secret == ""  # empty stays empty
    finally:
        registry[REGISTRY_KEY] = old

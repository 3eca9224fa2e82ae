"""Authentication (ASVS 6, 7): login and logout, session fixation, lockout and
throttling, password rules, password change and reset by e-mail, TOTP, absolute
session timeout, cookie flags and security headers."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import webtest
from secsupport import csrf
from sqlalchemy import func, select, update

from kyklos.security.models import PasswordReset, SecurityEvent, User, WebSession
from kyklos.security.passwords import MAX_LENGTH, password_problems, verify_password
from kyklos_sdk.testing import PASSWORD


def new_app(kyklos_app, addr="10.0.0.1"):
    return webtest.TestApp(
        kyklos_app, extra_environ={"HTTP_HOST": "localhost", "REMOTE_ADDR": addr}
    )


def login_form(app, email, password, status="*"):
    page = app.get("/login")
    form = next(f for f in page.forms.values() if f.action.endswith("/login"))
    form["email"] = email
    form["password"] = password
    return form.submit(status=status)


def events(dbsession, kind):
    with dbsession() as db:
        return (
            db.execute(
                select(SecurityEvent).where(SecurityEvent.kind == kind).order_by(SecurityEvent.id)
            )
            .scalars()
            .all()
        )


def sessions_of(dbsession, uid):
    with dbsession() as db:
        return db.execute(
            select(func.count()).select_from(WebSession).where(WebSession.user_id == uid)
        ).scalar_one()


def test_login_rotates_the_session_and_logout_kills_it(kyklos_app, make_user, dbsession):
    uid = make_user(email="fix@example.com")
    app = new_app(kyklos_app)
    app.get("/login")
    before = app.cookies["kyklos_session"]  # an anonymous session (it holds the CSRF token)
    res = login_form(app, "fix@example.com", PASSWORD, status=303)
    cookie = res.headers["Set-Cookie"].lower()
    assert "; httponly" in cookie and "samesite=lax" in cookie and "; secure" not in cookie
    after = app.cookies["kyklos_session"]
    assert after != before  # session fixation (ASVS 7.2.4): a new id at login
    # the pre-login id is dead on the server, not merely replaced in the browser
    stale = new_app(kyklos_app)
    stale.set_cookie("kyklos_session", before)
    assert stale.get("/account", status=303).location.startswith("http://localhost/login")
    app.get("/account", status=200)
    assert sessions_of(dbsession, uid) == 1
    token = csrf(app)
    app.post("/logout", {"csrf_token": token}, status=303)
    assert sessions_of(dbsession, uid) == 0  # logout ends it on the server (ASVS 7.4.1)
    replay = new_app(kyklos_app)
    replay.set_cookie("kyklos_session", after)
    replay.get("/account", status=303)
    assert [e.user_id for e in events(dbsession, "login.ok")] == [uid]
    assert [e.user_id for e in events(dbsession, "logout")] == [uid]


def test_wrong_password_and_unknown_user_look_the_same(kyklos_app, make_user, dbsession):
    make_user(email="same@example.com")
    app = new_app(kyklos_app)
    a = login_form(app, "same@example.com", "wrong-password-1", status=200)
    b = login_form(app, "nobody@example.com", "wrong-password-1", status=200)
    msg = re.compile(r'alert-danger" role="alert">([^<]+)<')
    assert msg.search(a.text).group(1) == msg.search(b.text).group(1)
    failed = events(dbsession, "login.failed")
    assert [e.detail["reason"] for e in failed] == ["password", "unknown"]


def test_account_lockout_after_repeated_failures(kyklos_app, make_user, dbsession):
    uid = make_user(email="lock@example.com")
    # the owner's laptop logged in before the attack and carries the device mark
    laptop = new_app(kyklos_app)
    login_form(laptop, "lock@example.com", PASSWORD, status=303)
    laptop.post("/logout", {"csrf_token": csrf(laptop)}, status=303)
    app = new_app(kyklos_app)
    wrong = None
    for _ in range(5):
        wrong = login_form(app, "lock@example.com", "not-the-password", status=200)
    res = login_form(app, "lock@example.com", PASSWORD, status=200)  # right, but locked
    msg = re.compile(r'alert-danger" role="alert">([^<]+)<')
    # the same words as a wrong password or an unknown account: nothing tells it is locked
    assert msg.search(res.text).group(1) == msg.search(wrong.text).group(1)
    assert [e.user_id for e in events(dbsession, "login.locked")] == [uid]
    # the attacker cannot lock the owner out: the known device opens the locked account
    login_form(laptop, "lock@example.com", PASSWORD, status=303)
    with dbsession() as db:
        assert db.get(User, uid).locked_until is None


def test_login_costs_the_same_for_unknown_accounts(kyklos_app, make_user, monkeypatch):
    """One password hash per attempt, whether the account exists or not (timing)."""
    from kyklos.security import auth

    make_user(email="real@example.com")
    calls = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda h, p: calls.append(h) or real(h, p))
    app = new_app(kyklos_app)
    login_form(app, "nobody@example.com", "whatever-1", status=200)
    login_form(app, "real@example.com", "whatever-1", status=200)
    assert len(calls) == 2 and calls[0] is None and calls[1]


def test_password_reset_requests_are_throttled_per_address(
    kyklos_app, make_user, registry, smtp_server
):
    make_user(email="flood@example.com")
    limit = int(registry.settings["kyklos.login.ip_max_failures"])
    app = new_app(kyklos_app, addr="10.7.7.7")
    sent_before = len(smtp_server.messages)
    for _ in range(limit + 3):
        page = app.get("/password/forgot")
        form = next(f for f in page.forms.values() if f.action.endswith("/password/forgot"))
        form["email"] = "flood@example.com"
        form.submit(status=200)
    assert len(smtp_server.messages) - sent_before == limit


def test_per_address_throttling_stops_password_spraying(kyklos_app, make_user, dbsession, registry):
    limit = int(registry.settings["kyklos.login.ip_max_failures"])
    for i in range(limit):
        make_user(email=f"spray{i}@example.com")
    sprayer = new_app(kyklos_app, addr="10.9.9.9")
    for i in range(limit):  # one try per account: no account reaches its own lockout
        login_form(sprayer, f"spray{i}@example.com", "Summer2026!", status=200)
    res = login_form(sprayer, "spray0@example.com", PASSWORD, status=200)
    assert "from your network" in res.text
    assert events(dbsession, "login.throttled")
    # another address is not affected
    login_form(new_app(kyklos_app, addr="10.9.9.10"), "spray0@example.com", PASSWORD, status=303)


def test_password_rules():
    assert "password_common" in password_problems("password123")
    assert "password_common" in password_problems("qwertyuiop")
    assert "password_too_short" in password_problems("Ab1!x")
    assert password_problems("correct horse battery staple " * 2) == []  # 58 chars
    assert password_problems("x" * 64 + "ΑΒΓ") == []  # ≥ 64 allowed, Unicode fine
    assert "password_too_long" in password_problems("y" * (MAX_LENGTH + 1))
    assert "password_nul" in password_problems("abcdefgh\x00ij")
    assert "password_is_email" in password_problems("me@example.com", email="me@example.com")


def test_change_password_reauthenticates_and_ends_other_sessions(
    kyklos_app, make_user, dbsession, login
):
    uid = make_user(email="chg@example.com")
    laptop, phone = new_app(kyklos_app), new_app(kyklos_app)
    login(laptop, "chg@example.com")
    login(phone, "chg@example.com")
    assert sessions_of(dbsession, uid) == 2
    old_cookie = laptop.cookies["kyklos_session"]
    token = csrf(laptop)
    # wrong current password and a common new one: errors per field, nothing changes
    res = laptop.post(
        "/account/password",
        {
            "csrf_token": token,
            "current_password": "nope",
            "new_password": "password1",
            "confirm_password": "password1",
        },
        status=400,
    )
    assert "This is not your current password." in res.text
    assert "most common" in res.text
    assert sessions_of(dbsession, uid) == 2
    laptop.post(
        "/account/password",
        {
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "a much longer new passphrase",
            "confirm_password": "a much longer new passphrase",
        },
        status=303,
    )
    assert laptop.cookies["kyklos_session"] != old_cookie
    laptop.get("/account", status=200)  # this browser stays logged in
    phone.get("/account", status=303)  # the other session ended
    assert sessions_of(dbsession, uid) == 1
    with dbsession() as db:
        assert verify_password(db.get(User, uid).password_hash, "a much longer new passphrase")
    assert [e.user_id for e in events(dbsession, "password.changed")] == [uid]


def test_absolute_session_timeout(kyklos_app, make_user, dbsession, login, registry):
    make_user(email="abs@example.com")
    app = new_app(kyklos_app)
    login(app, "abs@example.com")
    app.get("/account", status=200)
    limit = int(registry.settings["kyklos.session.absolute_seconds"])
    with dbsession() as db:
        row = db.execute(select(WebSession)).scalars().one()
        row.data = {**row.data, "_auth_at": time.time() - limit - 5}
    app.get("/account", status=303)  # still within the idle expiry, but too old


def test_password_reset_by_email_link(kyklos_app, make_user, dbsession, smtp_server, login):
    uid = make_user(email="reset@example.com")
    other = new_app(kyklos_app)
    login(other, "reset@example.com")
    app = new_app(kyklos_app)
    page = app.get("/password/forgot")
    form = next(f for f in page.forms.values() if f.action.endswith("/password/forgot"))
    form["email"] = "reset@example.com"
    known = form.submit(status=200)
    page = new_app(kyklos_app).get("/password/forgot")
    form = next(f for f in page.forms.values() if f.action.endswith("/password/forgot"))
    form["email"] = "stranger@example.com"
    unknown = form.submit(status=200)
    # the same answer for known and unknown addresses
    strip = re.compile(r'name="csrf_token" value="[^"]+"|nonce-[^\'"]+|nonce="[^"]+"')
    assert strip.sub("", known.text) == strip.sub("", unknown.text)
    msgs = smtp_server.wait(1)
    assert len(msgs) == 1 and msgs[0]["To"] == "reset@example.com"
    link = re.search(r"http://localhost/password/reset\?token=[\w-]+", msgs[0].get_content())
    assert link
    with dbsession() as db:
        row = db.execute(select(PasswordReset)).scalars().one()
        token = link.group(0).split("token=")[1]
        assert token not in (row.token_hash, "") and len(row.token_hash) == 64
    reset = app.get(link.group(0).replace("http://localhost", ""))
    form = next(f for f in reset.forms.values() if f.action.endswith("/password/reset"))
    form["password"] = "short"
    form["confirm"] = "short"
    assert "Use at least 8 characters" in form.submit(status=200).text
    reset = app.get(link.group(0).replace("http://localhost", ""))
    form = next(f for f in reset.forms.values() if f.action.endswith("/password/reset"))
    form["password"] = form["confirm"] = "brand new reset passphrase"
    form.submit(status=303)
    other.get("/account", status=303)  # every session ended
    login(new_app(kyklos_app), "reset@example.com", "brand new reset passphrase")
    # single use
    again = app.get(link.group(0).replace("http://localhost", ""))
    assert "This link is not valid" in again.text
    assert [e.user_id for e in events(dbsession, "password.reset")] == [uid]


def test_reset_link_expires(kyklos_app, make_user, dbsession, smtp_server):
    make_user(email="exp@example.com")
    app = new_app(kyklos_app)
    page = app.get("/password/forgot")
    form = next(f for f in page.forms.values() if f.action.endswith("/password/forgot"))
    form["email"] = "exp@example.com"
    form.submit()
    link = re.search(r"/password/reset\?token=[\w-]+", smtp_server.wait(1)[0].get_content())
    from kyklos.db import utcnow

    with dbsession() as db:
        db.execute(update(PasswordReset).values(expires_at=utcnow()))
    assert "This link is not valid" in app.get(link.group(0)).text
    token = link.group(0).split("token=")[1]
    res = app.post(
        "/password/reset",
        {
            "csrf_token": csrf_of_page(app),
            "token": token,
            "password": "whatever long",
            "confirm": "whatever long",
        },
        status=400,
    )
    assert "This link is not valid" in res.text


def csrf_of_page(app):
    return re.search(r'name="csrf_token" value="([^"]+)"', app.get("/login").text).group(1)


def test_totp_enrol_then_required_at_login(kyklos_app, make_user, dbsession, login):
    uid = make_user(email="otp@example.com")
    app = new_app(kyklos_app)
    login(app, "otp@example.com")
    token = csrf(app)
    app.post("/account/totp/start", {"csrf_token": token}, status=303)
    page = app.get("/account/totp")
    secret = re.search(r'id="k-totp-secret"[^>]*>([A-Z2-7]+)<', page.text).group(1)
    assert "otpauth://totp/" in page.text
    totp = pyotp.TOTP(secret)
    # a wrong code or password refuses, and nothing is enabled
    app.post(
        "/account/totp/confirm",
        {
            "csrf_token": token,
            "password": PASSWORD,
            "code": "000000" if totp.now() != "000000" else "111111",
        },
        status=400,
    )
    app.post(
        "/account/totp/confirm",
        {"csrf_token": token, "password": "wrong", "code": totp.now()},
        status=400,
    )
    with dbsession() as db:
        assert db.get(User, uid).totp_secret is None
    app.post(
        "/account/totp/confirm",
        {"csrf_token": token, "password": PASSWORD, "code": totp.now()},
        status=303,
    )
    with dbsession() as db:
        stored = db.get(User, uid).totp_secret
        assert secret not in stored and stored.startswith("gAAAAA")  # encrypted at rest

    fresh = new_app(kyklos_app)
    res = login_form(fresh, "otp@example.com", PASSWORD, status=303)
    assert res.location.endswith("/login/code")
    fresh.get("/account", status=303)  # not logged in yet
    with dbsession() as db:
        last = db.get(User, uid).totp_last_step

    def submit(code, status):
        step = fresh.get("/login/code")
        form = next(f for f in step.forms.values() if f.action.endswith("/login/code"))
        form["code"] = code
        return form.submit(status=status)

    assert "not valid" in submit(totp.generate_otp(last - 20), 200).text  # an old code
    # the code that enabled TOTP is burnt: replaying it fails
    assert "not valid" in submit(totp.generate_otp(last), 200).text
    submit(totp.generate_otp(last + 1), 303)  # the next step is within the drift window
    fresh.get("/account", status=200)
    ok = events(dbsession, "login.ok")
    assert ok[-1].detail["method"] == "totp"
    assert len(events(dbsession, "totp.failed")) == 2


def test_totp_step_cannot_be_skipped(kyklos_app, make_user, dbsession):
    uid = make_user(email="skip@example.com")
    with dbsession() as db:
        db.get(User, uid).totp_secret = pyotp.random_base32()
    app = new_app(kyklos_app)
    login_form(app, "skip@example.com", PASSWORD, status=303)
    for path in ("/account", "/admin", "/api/v1/_security/me"):
        assert app.get(path, status="*").status_int in (303, 401)


def test_secure_cookie_flag_from_settings(
    kyklos_app, db_url, make_user, _app_cache, tmp_path_factory
):
    from kyklos_sdk.testing import build_app

    key = (db_url, ("samplea",), "default", (("kyklos.session.secure", "true"),))
    app = _app_cache.apps.get(key)
    if app is None:
        app = build_app(
            db_url,
            ["samplea"],
            files_dir=tmp_path_factory.mktemp("f"),
            **{"kyklos.session.secure": "true"},
        )
        _app_cache.apps[key] = app
    make_user(email="sec@example.com")
    ta = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost", "wsgi.url_scheme": "https"})
    page = ta.get("/login")
    assert "; secure" in page.headers["Set-Cookie"].lower()


def test_security_headers(testapp):
    res = testapp.get("/login")
    h = res.headers
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize("path", ["/login", "/password/forgot", "/password/reset?token=x"])
def test_public_pages_render(testapp, path):
    testapp.get(path, status=200)

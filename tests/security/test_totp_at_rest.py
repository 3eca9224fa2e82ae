"""TOTP seeds are encrypted at rest (issue #18, security review LOW): the database column
never holds the seed, login with a code still works, seeds written plain by an older
version are encrypted, keys rotate, and a deployment without a key does not start."""

from __future__ import annotations

import pyotp
import pytest
import webtest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from sqlalchemy import text

from kyklos.cli import main
from kyklos.errors import ConfigError
from kyklos.security.encryption import Keyring, keyring, keyring_from_settings
from kyklos.security.models import User
from kyklos.security.totp import reencrypt_all, set_user_secret, user_secret
from kyklos_sdk.testing import PASSWORD, write_ini


def raw_secret(dbsession, uid):
    with dbsession() as db:
        return db.execute(
            text("SELECT totp_secret FROM kyklos_user WHERE id = :id"), {"id": uid}
        ).scalar_one()


def log_in_with_code(kyklos_app, email, seed, step_offset=0):
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    page = app.get("/login")
    form = next(f for f in page.forms.values() if f.action.endswith("/login"))
    form["email"], form["password"] = email, PASSWORD
    assert form.submit(status=303).location.endswith("/login/code")
    page = app.get("/login/code")
    form = next(f for f in page.forms.values() if f.action.endswith("/login/code"))
    form["code"] = pyotp.TOTP(seed).now()
    form.submit(status=303)
    return app.get("/account", status=200)


def test_the_column_never_holds_the_seed_and_login_works(kyklos_app, make_user, dbsession):
    seed = pyotp.random_base32()
    uid = make_user(email="rest@example.com")
    with dbsession() as db:
        set_user_secret(kyklos_app.registry, db.get(User, uid), seed)
    stored = raw_secret(dbsession, uid)
    assert seed not in stored and stored.startswith("gAAAAA")
    log_in_with_code(kyklos_app, "rest@example.com", seed)
    assert seed not in raw_secret(dbsession, uid)  # the login did not write it back plain


def test_a_plain_seed_from_an_older_version_is_encrypted_at_login(kyklos_app, make_user, dbsession):
    seed = pyotp.random_base32()
    uid = make_user(email="legacy@example.com")
    with dbsession() as db:
        db.get(User, uid).totp_secret = seed  # as a version before kyklos_0011 stored it
    log_in_with_code(kyklos_app, "legacy@example.com", seed)
    stored = raw_secret(dbsession, uid)
    assert stored != seed and stored.startswith("gAAAAA")
    with dbsession() as db:
        assert user_secret(kyklos_app.registry, db.get(User, uid)) == seed


def test_reencrypt_all_encrypts_plain_seeds_and_rotates_keys(kyklos_app, make_user, dbsession):
    registry = kyklos_app.registry
    seed_a, seed_b = pyotp.random_base32(), pyotp.random_base32()
    a, b = make_user(email="a@example.com"), make_user(email="b@example.com")
    with dbsession() as db:
        db.get(User, a).totp_secret = seed_a  # plain, as before kyklos_0011
        set_user_secret(registry, db.get(User, b), seed_b)
    with dbsession() as db:
        assert reencrypt_all(db, registry) == 2  # the plain one, and b's gets a new token
    assert raw_secret(dbsession, a).startswith("gAAAAA")

    old = keyring(registry)
    new_key = Fernet(Fernet.generate_key())
    registry["kyklos.encryption"] = Keyring([new_key, *old.keys], "test")
    try:
        with dbsession() as db:
            assert reencrypt_all(db, registry) == 2
        # now only the new key is needed
        registry["kyklos.encryption"] = Keyring([new_key], "test")
        with dbsession() as db:
            assert user_secret(registry, db.get(User, a)) == seed_a
            assert user_secret(registry, db.get(User, b)) == seed_b
        log_in_with_code(kyklos_app, "b@example.com", seed_b)
    finally:
        registry["kyklos.encryption"] = old


def test_keys_come_from_the_settings_and_a_deployment_without_any_refuses_to_start(tmp_path):
    keys = f"{Fernet.generate_key().decode()} {Fernet.generate_key().decode()}"
    ring = keyring_from_settings({"kyklos.encryption_keys": keys})
    assert len(ring.keys) == 2 and ring.decrypt(ring.encrypt("ABC")) == "ABC"
    with pytest.raises(ConfigError, match="not an encryption key"):
        keyring_from_settings({"kyklos.encryption_keys": "CHANGE-ME"})
    server = {"sqlalchemy.url": "postgresql+psycopg://kyklos@db.internal/kyklos"}
    with pytest.raises(ConfigError, match="no encryption key"):
        keyring_from_settings({**server, "kyklos.secret": "CHANGE-ME"})
    with pytest.raises(ConfigError, match="no encryption key"):
        keyring_from_settings(server)
    # SQLite on one machine: a key file beside the database
    db = tmp_path / "crm.sqlite"
    beside = keyring_from_settings({"sqlalchemy.url": f"sqlite:///{db}"})
    assert (tmp_path / "crm.key").exists() and beside.source == "beside the database"
    # development: a key file in var/ is created once, then reused
    path = tmp_path / "var" / "encryption.key"
    first = keyring_from_settings({"kyklos.encryption_key_file": str(path)})
    assert path.stat().st_mode & 0o777 == 0o600
    token = first.encrypt("SEED")
    assert keyring_from_settings({"kyklos.encryption_key_file": str(path)}).decrypt(token) == "SEED"
    # a derived key is stable for one secret and differs for another
    t = keyring_from_settings({"kyklos.secret": "s1"}).encrypt("SEED")
    assert keyring_from_settings({"kyklos.secret": "s1"}).decrypt(t) == "SEED"
    with pytest.raises(ConfigError):
        keyring_from_settings({"kyklos.secret": "s2"}).decrypt(t)


def test_cli_refuses_to_start_with_the_placeholder_and_rotates_keys(db_url, tmp_path):
    runner = CliRunner()
    bad = write_ini(tmp_path, plugins="", url=db_url)
    text_ = bad.read_text().replace("[app:main]", "[app:main]\nkyklos.encryption_keys = CHANGE-ME")
    bad.write_text(text_)
    res = runner.invoke(main, ["rotate-keys", str(bad)])
    assert res.exit_code != 0 and "not an encryption key" in res.output
    key = runner.invoke(main, ["generate-key"]).output.strip()
    Fernet(key.encode())  # a valid key

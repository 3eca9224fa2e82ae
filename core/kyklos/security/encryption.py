"""Secrets kept encrypted at rest (TOTP seeds): Fernet (AES-128-CBC + HMAC-SHA256) from
the maintained ``cryptography`` library, under keys the deployment configures.

Where the keys come from, first match wins (docs/deployment.md, "Encryption keys"):

1. ``kyklos.encryption_keys`` (or the ``KYKLOS_ENCRYPTION_KEYS`` environment variable):
   Fernet keys separated by spaces, newest first. The first encrypts; every one
   decrypts, so a key can be rotated in without locking anyone out
   (``kyklos rotate-keys INI`` then re-encrypts everything with the first).
2. ``kyklos.encryption_key_file``: a file holding such keys, one a line. When it does not
   exist it is created with a new key (mode 0600): development.ini points it into
   ``var/``, so a developer never has to think about it.
3. Neither: a key derived from ``kyklos.secret`` with HKDF-SHA256 (a deployment that
   set its secret is not left without encryption).
4. None of these, on SQLite (one machine): a key file beside the database, created on
   first start. On a database server (production) the application refuses to start:
   plain TOTP seeds are never written.
"""

from __future__ import annotations

import base64
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import make_url

from kyklos.errors import ConfigError

log = logging.getLogger(__name__)

#: a Fernet token is base64url of a version byte 0x80 and a timestamp: it always starts
#: so, and a base32 TOTP seed ([A-Z2-7]) never does
TOKEN_PREFIX = "gAAAAA"  # noqa: S105 - a format marker, not a password
#: values of ``kyklos.secret`` that are a template's placeholder, not a secret
PLACEHOLDERS = {"", "change-me", "changeme"}
REGISTRY_KEY = "kyklos.encryption"


def _parse_keys(text: str, source: str) -> list[Fernet]:
    keys = []
    for word in text.replace(",", " ").split():
        try:
            keys.append(Fernet(word.encode("ascii")))
        except (ValueError, UnicodeEncodeError) as exc:
            shown = word if len(word) < 12 else word[:6] + "..."
            raise ConfigError(
                f"{source}: {shown!r} is not an encryption key; generate one with "
                "'kyklos generate-key'"
            ) from exc
    return keys


def _key_file(path: Path) -> list[Fernet]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting together do not write two different keys
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(Fernet.generate_key().decode("ascii") + "\n")
            log.warning("created a new encryption key in %s: keep it with the database", path)
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"kyklos.encryption_key_file: cannot read {path}: {exc}") from exc
    keys = _parse_keys(text, f"kyklos.encryption_key_file ({path})")
    if not keys:
        raise ConfigError(f"kyklos.encryption_key_file: {path} holds no key")
    return keys


def derived_key(secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"kyklos", info=b"kyklos at-rest v1")
    return base64.urlsafe_b64encode(hkdf.derive(secret.encode("utf-8")))


class Keyring:
    """Encrypts with the first key, decrypts with any."""

    def __init__(self, keys: list[Fernet], source: str):
        self.keys = keys
        self.source = source
        self._fernet = MultiFernet(keys)

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plain text of a stored value; a value written before encryption existed
        (a legacy plain seed) comes back as it is."""
        if not is_encrypted(stored):
            return stored
        try:
            return self._fernet.decrypt(stored.encode("ascii")).decode("utf-8")
        except InvalidToken as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted with the configured encryption keys "
                "(was a key removed before 'kyklos rotate-keys' ran?)"
            ) from exc

    def rotate(self, stored: str) -> str:
        """``stored`` encrypted with the first key (plain legacy values get encrypted)."""
        if not is_encrypted(stored):
            return self.encrypt(stored)
        return self._fernet.rotate(stored.encode("ascii")).decode("ascii")


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(TOKEN_PREFIX)


def keyring_from_settings(settings: dict) -> Keyring:
    text = os.environ.get("KYKLOS_ENCRYPTION_KEYS") or settings.get("kyklos.encryption_keys")
    if text and text.strip():
        return Keyring(_parse_keys(text, "kyklos.encryption_keys"), "kyklos.encryption_keys")
    path = (settings.get("kyklos.encryption_key_file") or "").strip()
    if path:
        return Keyring(_key_file(Path(path)), "kyklos.encryption_key_file")
    secret = (settings.get("kyklos.secret") or "").strip()
    if secret.lower() not in PLACEHOLDERS:
        return Keyring([Fernet(derived_key(secret))], "kyklos.secret")
    url = settings.get("sqlalchemy.url") or ""
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:":
            # SQLite on one machine: the key lives beside the database file
            return Keyring(_key_file(Path(database).with_suffix(".key")), "beside the database")
        # an in-memory database dies with the process: so may its key
        return Keyring([Fernet(Fernet.generate_key())], "this process")
    raise ConfigError(
        "no encryption key: set kyklos.encryption_keys (generate one with "
        "'kyklos generate-key') or at least kyklos.secret; see docs/deployment.md"
    )


def keyring(registry) -> Keyring:
    ring = registry.get(REGISTRY_KEY)
    if ring is None:
        ring = registry[REGISTRY_KEY] = keyring_from_settings(registry.settings)
    return ring


def check_keys(config) -> None:
    """At start-up (the end of :func:`kyklos.app.make_configurator`): a deployment
    without a key stops here rather than at someone's login."""
    config.registry[REGISTRY_KEY] = keyring_from_settings(config.get_settings())


def encrypt_secret(registry, plain: str) -> str:
    """``plain`` encrypted under the deployment's keys, for any secret a plugin keeps
    (a mailbox password, an API token of another service); the same keys, rotation and
    start-up check as the TOTP seeds."""
    return keyring(registry).encrypt(plain)


def decrypt_secret(registry, stored: str) -> str:
    """The plain text of a value written by :func:`encrypt_secret` (empty stays empty);
    raises :class:`kyklos.errors.ConfigError` when no configured key opens it."""
    return keyring(registry).decrypt(stored) if stored else ""


#: the registry's list of plugin columns holding :func:`encrypt_secret` values
COLUMNS_KEY = "kyklos.encrypted_columns"


def add_encrypted_column(config, column) -> None:
    """Directive ``config.add_encrypted_column``: a column whose values a plugin wrote
    with :func:`encrypt_secret` (a mailbox password, an OAuth2 token), so that
    ``kyklos rotate-keys`` re-encrypts them with the first key like the TOTP seeds;
    without it, removing an old key would leave them unreadable.

    :param column: the mapped attribute, e.g. ``Mailbox.password_secret``
    """
    config.registry.setdefault(COLUMNS_KEY, []).append(column)


def rotate_columns(db, registry) -> int:
    """Re-encrypt every value of the declared columns with the first key; empty values
    stay empty. Returns how many values changed."""
    from sqlalchemy import select, update

    ring = keyring(registry)
    changed = 0
    for column in registry.get(COLUMNS_KEY, ()):
        model = column.class_
        pk = model.__mapper__.primary_key[0]
        rows = db.execute(select(pk, column).where(column.is_not(None), column != "")).all()
        for key, stored in rows:
            if not is_encrypted(stored):
                continue  # not written by encrypt_secret: nothing to rotate
            new = ring.rotate(stored)
            if new != stored:
                db.execute(update(model).where(pk == key).values({column.key: new}))
                changed += 1
    return changed

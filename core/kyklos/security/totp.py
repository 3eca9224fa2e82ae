"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with replay protection.

The seed is stored encrypted (:mod:`kyklos.security.encryption`): the database column
``kyklos_user.totp_secret`` holds a Fernet token, never the seed an attacker with a copy
of the database could generate codes from. Read and write it only through
:func:`user_secret` and :func:`set_user_secret`.
"""

from __future__ import annotations

import hmac
import time

import pyotp
from sqlalchemy import select

from kyklos.security.encryption import is_encrypted, keyring

STEP = 30
#: accept the previous and the next step too (clock drift between phone and server)
DRIFT = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)


def matching_step(secret: str, code: str, now: float | None = None) -> int | None:
    """The time step ``code`` is valid for (within the drift window), else None."""
    code = "".join(c for c in str(code or "") if not c.isspace())
    if not secret or len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = int((now if now is not None else time.time()) // STEP)
    for step in range(current - DRIFT, current + DRIFT + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def set_user_secret(registry, user, secret: str | None) -> None:
    user.totp_secret = keyring(registry).encrypt(secret) if secret else None


def user_secret(registry, user) -> str | None:
    """The plain seed of ``user``. A seed stored before encryption existed is encrypted
    now, on its first use (``kyklos migrate`` has normally done so already)."""
    stored = user.totp_secret
    if not stored:
        return None
    ring = keyring(registry)
    plain = ring.decrypt(stored)
    if not is_encrypted(stored):
        user.totp_secret = ring.encrypt(plain)
    return plain


def verify_user_code(registry, user, code: str, now: float | None = None) -> bool:
    """Check ``code`` for ``user`` and burn its step: the same code never works twice."""
    step = matching_step(user_secret(registry, user), code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True


def reencrypt_all(db, registry) -> int:
    """Encrypt every stored seed with the first configured key: plain seeds of a
    database from before encryption, and seeds under an older key (key rotation); the
    same for the plugins' encrypted columns. Returns how many values changed."""
    from kyklos.security.models import User

    ring = keyring(registry)
    changed = 0
    for user in db.scalars(select(User).where(User.totp_secret.is_not(None))):
        new = ring.rotate(user.totp_secret)
        if new != user.totp_secret:
            user.totp_secret = new
            changed += 1
    # and the plugins' secrets (config.add_encrypted_column)
    from kyklos.security.encryption import rotate_columns

    return changed + rotate_columns(db, registry)

"""TOTP second factor (RFC 6238, 30-second steps, 6 digits) with replay protection."""

from __future__ import annotations

import hmac
import time

import pyotp

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


def verify_user_code(user, code: str, now: float | None = None) -> bool:
    """Check ``code`` for ``user`` and burn its step: the same code never works twice."""
    step = matching_step(user.totp_secret, code, now)
    if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
        return False
    user.totp_last_step = step
    return True

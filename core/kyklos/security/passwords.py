"""Password hashing (argon2id) and password rules (ASVS 6.2)."""

from __future__ import annotations

import gzip
import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


def hash_password(password: str) -> str:
    return _hasher.hash(_normalize(password))


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password. An unknown user still pays for one hash so timing tells nothing."""
    if not stored_hash:
        _hasher.hash("timing-equaliser")
        return False
    try:
        return _hasher.verify(stored_hash, _normalize(password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


def _normalize(password: str) -> str:
    # NFKC so that a password typed on another keyboard (composed vs decomposed accents)
    # still matches.
    return unicodedata.normalize("NFKC", password)


@cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("kyklos") / "data" / "common-passwords.txt.gz"
    try:
        with gzip.open(data.open("rb"), "rt", encoding="utf-8") as fh:
            return frozenset(line.strip().lower() for line in fh if line.strip())
    except FileNotFoundError:
        return frozenset()


def password_problems(password: str, *, email: str = "") -> list[str]:
    """Reasons a password is refused (msgids for translation); empty when acceptable."""
    problems = []
    if "\x00" in password:
        problems.append("password_nul")
    if len(password) < MIN_LENGTH:
        problems.append("password_too_short")
    if len(password) > MAX_LENGTH:
        problems.append("password_too_long")
    lowered = _normalize(password).lower()
    if lowered in _common_passwords():
        problems.append("password_common")
    if email and lowered == email.lower():
        problems.append("password_is_email")
    return problems


def password_messages(password: str, *, email: str = "") -> list:
    """:func:`password_problems` as translatable messages for a form or an API."""
    from kyklos.i18n import _

    texts = {
        "password_nul": _("The password must not contain NUL characters."),
        "password_too_short": _("Use at least ${n} characters.", mapping={"n": MIN_LENGTH}),
        "password_too_long": _("Use at most ${n} characters.", mapping={"n": MAX_LENGTH}),
        "password_common": _("This password is one of the most common ones; choose another."),
        "password_is_email": _("The password must not be your e-mail address."),
    }
    return [texts[p] for p in password_problems(password, email=email)]

"""Mailbox passwords encrypted at rest under the deployment's keys (the SDK's
``encrypt_secret``: Fernet, ``kyklos.encryption_keys``, rotated with the core's
``kyklos rotate-keys``; docs/deployment.md). The mail plugin keeps no key of its own, so
a newcomer's development setup stores passwords without configuring anything."""

from __future__ import annotations

from kyklos_sdk import ConfigError, decrypt_secret, encrypt_secret


class KeyMissing(RuntimeError):
    """No configured key opens a stored password (a key was removed too early)."""


def encrypt(registry, secret: str) -> str:
    return encrypt_secret(registry, secret)


def decrypt(registry, token: str) -> str:
    try:
        return decrypt_secret(registry, token)
    except ConfigError as exc:
        raise KeyMissing(str(exc)) from None

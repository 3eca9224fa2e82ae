"""Every core setting in one defaults table (Kotti's habit), namespaced ``kyklos.*``.

Plugins declare their own under ``kyklos.<plugin id>.*``.
"""

from __future__ import annotations

import os

from kyklos.errors import ConfigError

DEFAULTS: dict[str, str] = {
    "kyklos.plugins": "",
    "kyklos.theme": "default",
    "kyklos.site_name": "Kyklos",
    "kyklos.files_dir": "",
    "kyklos.secret": "",
    "kyklos.session.max_age": "28800",
    "kyklos.session.secure": "false",
    "kyklos.session.backend": "database",
    "kyklos.session.absolute_seconds": "43200",
    "kyklos.redis_url": "",
    "kyklos.check_migrations": "true",
    "kyklos.upload.max_bytes": str(20 * 1024 * 1024),
    "kyklos.list.page_size": "50",
    "kyklos.list.count_cap": "10000",
    "kyklos.login.max_failures": "5",
    "kyklos.login.lockout_seconds": "900",
    "kyklos.login.ip_max_failures": "30",
    "kyklos.login.ip_window_seconds": "900",
    "kyklos.password_reset.seconds": "3600",
    # how long a customer portal invitation (or new-password) link works: a week
    "kyklos.portal.invite_seconds": "604800",
    "kyklos.available_languages": "en el ro pl",
    "kyklos.jobs.backend": "sqlite",
    "kyklos.jobs.url": "",
    "kyklos.mail.host": "",
    "kyklos.mail.port": "25",
    "kyklos.mail.username": "",
    "kyklos.mail.password": "",
    "kyklos.mail.sender": "kyklos@localhost",
    "kyklos.mail.starttls": "false",
    "kyklos.mail.timeout": "30",
    "kyklos.base_url": "",
    "pyramid.default_locale_name": "en",
    "tm.manager_hook": "pyramid_tm.explicit_manager",
    "retry.attempts": "3",
}


def aslist(value) -> list[str]:
    """Split a setting on whitespace and commas ("contacts, sfa" and "contacts sfa" agree)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [part for part in str(value).replace(",", " ").split() if part]


def asbool(value) -> bool:
    return str(value).strip().lower() in {"1", "true", "yes", "on"}


def asint(settings, key: str) -> int:
    try:
        return int(settings[key])
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"setting {key} must be an integer, got {settings.get(key)!r}") from exc


def normalize(settings: dict) -> dict:
    """Return settings with defaults filled in and environment overrides applied.

    ``KYKLOS_DATABASE_URL`` overrides ``sqlalchemy.url`` so containers and CI need no
    edited .ini file.
    """
    out = dict(DEFAULTS)
    out.update({k: v for k, v in settings.items() if v is not None})
    env_url = os.environ.get("KYKLOS_DATABASE_URL")
    if env_url:
        out["sqlalchemy.url"] = env_url
    if not out.get("sqlalchemy.url"):
        raise ConfigError("setting sqlalchemy.url is missing (the database to use)")
    return out

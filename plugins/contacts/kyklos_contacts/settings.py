"""The plugin's settings (``kyklos.contacts.*``), with their defaults in the manifest."""

from __future__ import annotations

from kyklos_sdk import site_setting

from .domain.occasions import CALENDARS

DEFAULTS = {
    # country whose numbering plan reads phone numbers typed without +country code
    "default_country": "",
    # name-day calendars in use, the first is the fallback for people of no known country
    "calendars": "el ro pl",
}


def _get(request, key: str) -> str:
    return request.registry.settings.get(f"kyklos.contacts.{key}", DEFAULTS[key]) or ""


def calendars(request) -> tuple[str, ...]:
    wanted = tuple(c for c in _get(request, "calendars").split() if c in CALENDARS)
    return wanted or CALENDARS


def default_country(request) -> str | None:
    """The plugin's own setting when the deployment gives one, else the site's default
    country (the settings page)."""
    own = _get(request, "default_country").strip().upper()
    if own:
        return own
    return (site_setting(request, "country.default") or "").strip().upper() or None

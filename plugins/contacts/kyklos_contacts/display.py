"""How people read the contacts' typed values: addresses as lines of an envelope,
countries by their name in the user's language (stored as ISO codes)."""

from __future__ import annotations

from markupsafe import Markup, escape

from kyklos_sdk import display_badge, display_list

from . import _
from .countries import country_names
from .models import choices as c

PRIMARY = _("primary")


def country_name(request, code) -> str:
    """``"GR"`` as "Ελλάδα" for a Greek user; anything else as stored."""
    if not isinstance(code, str):
        return str(code)
    return country_names(request.locale_name).get(code.upper(), code)


def render_country(request, field, value) -> Markup:
    return escape(country_name(request, value))


def render_addresses(request, field, value) -> Markup:
    """``[{"kind": "home", "street": ..., "postcode": ..., "city": ..., "country": "GR",
    "is_primary": true}]`` as one line per address with its translated kind."""
    kinds = dict(c.ADDRESS_KINDS)
    items = []
    for a in value if isinstance(value, list) else [value]:
        if not isinstance(a, dict):
            continue
        place = " ".join(p for p in (a.get("postcode"), a.get("city")) if p)
        country = country_name(request, a["country"]) if a.get("country") else ""
        parts = [p for p in (a.get("street"), place, a.get("region"), country) if p]
        if not parts:
            continue
        html = escape(", ".join(parts))
        kind = kinds.get(a.get("kind"))
        if kind is not None:
            html += Markup(' <span class="text-muted small">{}</span>').format(
                request.localizer.translate(kind).lower()
            )
        if a.get("is_primary"):
            html += display_badge(request, PRIMARY)
        items.append(html)
    return display_list(items)


def includeme(config):
    config.add_display_kind("addresses", render_addresses)
    config.add_display_kind("country", render_country)

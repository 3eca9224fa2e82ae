"""JSON endpoints beyond the generic entity API: occasions and consent checks."""

from __future__ import annotations

from kyklos_sdk import Problem

from .. import _
from ..api import CHANNELS, consent_status
from .common import entity, person_of
from .occasions import KINDS, collect_occasions, window


def api_occasions(request):
    _rng, start, end = window(request)
    kinds = [k for k in request.GET.getall("kind") if k in KINDS] or list(KINDS)
    page = collect_occasions(request, start, end, kinds)
    found = page.items
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "total": page.total,
        "items": [
            {
                "date": f.occasion.date.isoformat(),
                "kind": f.occasion.kind,
                "years": f.occasion.years,
                "person": {"id": f.person.id, "first_name": f.person.first_name,
                           "last_name": f.person.last_name, "email": f.person.email},
            }
            for f in found
        ],
    }


def api_consent(request):
    _et, person = person_of(request)
    entity(request, "consent")
    channel = request.GET.get("channel")
    if channel is not None and channel not in CHANNELS:
        raise Problem(400, _("Invalid parameters"),
                      errors={"channel": _("Not one of the allowed values.")})
    out = {}
    for ch in (channel,) if channel else CHANNELS:
        row = consent_status(request.dbsession, person.id, ch)
        out[ch] = {
            "allowed": row is not None and row.status == "opt_in",
            "status": row.status if row else None,
            "source": row.source if row else None,
            "at": row.at.isoformat().replace("+00:00", "Z") if row else None,
        }
    return {"person_id": person.id, "channels": out}


def includeme(config):
    config.add_view(api_occasions, route_name="contacts.api.occasions", renderer="json",
                    permission="contacts.person.read")
    config.add_view(api_consent, route_name="contacts.api.consent", renderer="json",
                    permission="contacts.consent.read")

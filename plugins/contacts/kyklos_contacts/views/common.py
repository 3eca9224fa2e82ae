"""Small helpers the contacts views share."""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPForbidden

from kyklos_sdk import Problem, get_entity_type, get_record

from .. import _


def entity(request, name: str, verb: str = "read"):
    """The entity type ``name`` if the user holds its ``verb`` permission."""
    et = get_entity_type(request, name)
    if not request.has_permission(et.permission(verb)):
        raise HTTPForbidden()
    return et


def person_of(request, action: str = "read"):
    et = entity(request, "person")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def parse_day(raw: str | None, field: str, default: dt.date | None = None) -> dt.date:
    if not raw:
        if default is None:
            raise Problem(400, _("Invalid parameters"), errors={field: _("Required.")})
        return default
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        raise Problem(
            400, _("Invalid parameters"), errors={field: _("Not a date (YYYY-MM-DD).")}
        ) from None


def flash(request, message, queue: str = "success") -> None:
    request.session.flash(request.localizer.translate(message), queue)

"""REST endpoints beyond the generic CRUD of ``/api/v1/activities``.

    GET  /api/v1/activities/_availability?users=1,2&resources=3&duration=60&from=&to=
    GET  /api/v1/activities/_calendar?from=&to=&users=1,2|resources=3
    POST /api/v1/activities/_import/ics        body: text/calendar (or JSON {"ics": "..."})
    POST /api/v1/activities/_mass              {"template": {...}, "person_ids": [...]}
                                               or {"template": {...}, "filter": {...}}
    POST /api/v1/activities/{id}/respond       {"response": "accepted|declined|tentative"}
    POST /api/v1/activities/{id}/complete
    POST /api/v1/activities/{id}/move          {"date": "2026-05-06", "time": "10:30",
                                               "version": 3, "scope": "occurrence",
                                               "occurrence": "2026-05-04T07:00:00Z"}
"""

from __future__ import annotations

import json

from pyramid.httpexceptions import HTTPForbidden
from pyramid.response import Response
from webob.multidict import MultiDict

from kyklos_sdk import Problem, RecordError, get_entity_type, read_json, serialize

from . import _, actions, calendar, ical
from .views import do_move, find, parse_availability, parse_move

MASS_FILTER_MAX = actions.MASS_MAX


def _json(body, status: int = 200) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def _iso(value):
    return value.isoformat().replace("+00:00", "Z") if value else None


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status, exc.title, errors=exc.errors or {"": exc.title})


def _require(request, permission: str) -> None:
    if not request.has_permission(permission):
        raise HTTPForbidden()


def availability_api(request):
    _require(request, "activities.calendar.view")
    allowed = {"users", "resources", "duration", "from", "to", "limit", "_LOCALE_"}
    unknown = {k[:100]: _("Unknown parameter.") for k in request.GET if k not in allowed}
    if unknown:
        raise Problem(400, _("Invalid parameters"), errors=unknown)
    q = parse_availability(request, request.GET)
    if q["errors"]:
        raise Problem(400, _("Invalid parameters"), errors=q["errors"])
    slots = find(request, q)
    return _json({
        "users": q["users"],
        "resources": q["resources"],
        "duration": q["duration"],
        "from": _iso(q["from"]),
        "to": _iso(q["to"]),
        "slots": [{"start": _iso(s), "end": _iso(e)} for s, e in slots],
    })


def calendar_api(request):
    """Occurrences in a range, recurrences expanded; others' or private ones as busy."""
    _require(request, "activities.calendar.view")
    q = parse_availability(request, request.GET)
    errors = {k: v for k, v in q["errors"].items() if k in ("users", "resources", "from", "to")}
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    if q["resources"] and "users" not in request.GET:
        occs = calendar.for_resources(request, q["resources"], q["from"], q["to"])
    else:
        occs = calendar.for_users(request, q["users"], q["from"], q["to"])
    et = get_entity_type(request, "activity")
    items = []
    for o in occs:
        item = {"id": o.id, "start": _iso(o.starts_at), "end": _iso(o.ends_at),
                "busy": not o.visible}
        if o.visible:
            item["activity"] = serialize(request, et, o.activity, ["subject", "type_id", "status",
                                                                   "location", "rrule",
                                                                   "all_day", "private"])
        items.append(item)
    return _json({"from": _iso(q["from"]), "to": _iso(q["to"]), "items": items})


def respond_api(request):
    body = read_json(request)
    extra = {k[:100]: _("Unknown key.") for k in body if k != "response"}
    if extra:
        raise Problem(400, _("Invalid data"), errors=extra)
    try:
        row = actions.respond(request, request.matchdict["id"], body.get("response"), "api")
    except RecordError as exc:
        raise _problem(exc) from None
    return _json({"activity_id": row.activity_id, "user_id": row.user_id,
                  "status": row.status, "responded_at": _iso(row.responded_at)})


def complete_api(request):
    try:
        record = actions.complete(request, request.matchdict["id"], source="api")
    except RecordError as exc:
        raise _problem(exc) from None
    et = get_entity_type(request, "activity")
    resp = _json(serialize(request, et, record))
    resp.headers["ETag"] = f'"{record.version}"'
    return resp


def import_ics_api(request):
    _require(request, "activities.activity.create")
    if request.content_type in ("application/json", "application/merge-patch+json"):
        body = read_json(request)
        data = body.get("ics")
        if not isinstance(data, str):
            raise Problem(400, _("Invalid data"), errors={"ics": _("Send the calendar text.")})
    elif request.content_type in ("text/calendar", "application/octet-stream", "text/plain"):
        data = request.body_file.read(ical.MAX_IMPORT_BYTES + 1)
    else:
        raise Problem(415, _("Unsupported media type"), _("Send text/calendar."))
    try:
        created, updated, errors = ical.import_ics(request, data)
    except RecordError as exc:
        raise _problem(exc) from None
    status = 200 if created or updated or not errors else 400
    return _json({"created": created, "updated": updated, "errors": errors}, status)


def move_api(request):
    """Move an activity, a whole series or one occurrence of it (an exception: 201)."""
    body = read_json(request)
    allowed = {"date", "time", "timezone", "version", "scope", "occurrence"}
    extra = {k[:100]: _("Unknown key.") for k in body if k not in allowed}
    if extra:
        raise Problem(400, _("Invalid data"), errors=extra)
    q = parse_move(body)
    record = do_move(request, request.matchdict["id"], q, "api")
    et = get_entity_type(request, "activity")
    made = record.id != int(request.matchdict["id"])
    resp = _json(serialize(request, et, record), 201 if made else 200)
    resp.headers["ETag"] = f'"{record.version}"'
    if made:
        resp.headers["Location"] = request.route_url("api.entity.item", slug=et.slug,
                                                     id=record.id)
    return resp


def mass_api(request):
    _require(request, "activities.activity.create")
    body = read_json(request)
    errors = {k[:100]: _("Unknown key.") for k in body
              if k not in ("template", "person_ids", "filter", "segment_id")}
    if sum(k in body for k in ("person_ids", "filter", "segment_id")) != 1:
        errors["person_ids"] = _("Send one of person_ids, filter or segment_id.")
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    ids = body.get("person_ids")
    try:
        if "filter" in body:
            ids = persons_matching(request, body["filter"])
        elif "segment_id" in body:
            ids = actions.persons_in_segment(request, body["segment_id"])
        result = actions.create_mass_activity(request, body.get("template"), ids)
    except RecordError as exc:
        raise _problem(exc) from None
    return _json({"batch": result["batch"], "count": len(result["created"]),
                  "created": result["created"]}, 201)


def persons_matching(request, flt) -> list[int]:
    """Ids of the people a list filter selects (the generic list's query language)."""
    from kyklos_sdk import parse_list_params, run_list

    if not isinstance(flt, dict) or not all(
        isinstance(k, str) and isinstance(v, str | int) for k, v in flt.items()
    ):
        raise Problem(400, _("Invalid data"),
                      errors={"filter": _("Send an object of list parameters.")})
    et = get_entity_type(request, "person")
    params = MultiDict({k: str(v) for k, v in flt.items()
                        if k not in ("cursor", "limit", "fields", "count", "sort")})
    params["limit"] = "200"
    params["fields"] = "id"
    params["count"] = "none"
    lp = parse_list_params(request, et, params)
    ids: list[int] = []
    while True:
        result = run_list(request, et, lp)
        ids += [r.id for r in result.items]
        if not result.next_cursor or len(ids) > MASS_FILTER_MAX:
            break
        lp.cursor = result.next_cursor
    return ids


def includeme(config):
    routes = [
        ("api.activities.availability", "/api/v1/activities/_availability", "GET",
         availability_api),
        ("api.activities.calendar", "/api/v1/activities/_calendar", "GET", calendar_api),
        ("api.activities.import_ics", "/api/v1/activities/_import/ics", "POST", import_ics_api),
        ("api.activities.mass", "/api/v1/activities/_mass", "POST", mass_api),
        ("api.activities.respond", r"/api/v1/activities/{id:\d{1,18}}/respond", "POST",
         respond_api),
        ("api.activities.complete", r"/api/v1/activities/{id:\d{1,18}}/complete", "POST",
         complete_api),
        ("api.activities.move", r"/api/v1/activities/{id:\d{1,18}}/move", "POST", move_api),
    ]
    for name, pattern, method, view in routes:
        config.add_route(name, pattern)
        config.add_view(view, route_name=name, request_method=method, permission="authenticated")



"""The REST API every registered entity type gets, under ``/api/v1/<slug>``.

    GET    /api/v1/{slug}                 list (filters, sort, keyset cursor, fields, count)
    POST   /api/v1/{slug}                 create -> 201, Location, ETag
    POST   /api/v1/{slug}/_bulk           {"action": "update"|"delete", "ids": [..], "data": {..}}
    GET    /api/v1/{slug}/{id}            read -> ETag ("<version>")
    PATCH  /api/v1/{slug}/{id}            update; If-Match -> 412, body "version" -> 409
    DELETE /api/v1/{slug}/{id}            delete (soft when the type allows) -> 204
    POST   /api/v1/{slug}/{id}/restore    undo a soft delete
    GET    /api/v1/{slug}/{id}/history    audit entries, newest first

Slugs start with a letter, so system endpoints live beside them as ``/api/v1/_name``.
Errors are RFC 9457 problem+json naming every bad field.
"""

from __future__ import annotations

import json
import re

from pyramid.httpexceptions import HTTPMethodNotAllowed
from pyramid.response import Response

from kyklos.entities import RecordError, history, query, service, values
from kyklos.i18n import _
from kyklos.problem import Problem

JSON_TYPES = ("application/json", "application/merge-patch+json")
DEFAULT_MAX_BODY = 1024 * 1024
MAX_DEPTH = 32
SLUG = r"{slug:[a-z][a-z0-9_-]*}"
ID = r"{id:[0-9]{1,18}}"
_ETAG_RE = re.compile(r'\s*(?:W/)?"([^"]*)"\s*')


# --- request bodies ---------------------------------------------------------------------


class _Duplicate(ValueError):
    pass


def _pairs(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Duplicate(k)
        out[k] = v
    return out


def _constant(name):
    raise ValueError(f"{name} is not JSON")


def _depth(value, limit: int) -> bool:
    """Whether ``value`` nests no deeper than ``limit`` (iteratively: no recursion)."""
    stack = [(value, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return False
        if isinstance(v, dict):
            stack.extend((x, d + 1) for x in v.values())
        elif isinstance(v, list):
            stack.extend((x, d + 1) for x in v)
    return True


def read_json(request) -> dict:
    """The request's JSON object body, checked: media type (415), size (413), UTF-8,
    syntax, duplicate keys, NaN/Infinity and nesting depth (400)."""
    if request.content_type not in JSON_TYPES:
        raise Problem(
            415, _("Unsupported media type"), _("Send JSON with Content-Type: application/json.")
        )
    limit = int(request.registry.settings.get("kyklos.api.max_body_bytes") or DEFAULT_MAX_BODY)
    too_big = Problem(
        413, _("Request body too large"), _("At most ${n} bytes.", mapping={"n": limit})
    )
    if request.content_length is not None and request.content_length > limit:
        raise too_big
    if request.is_body_seekable:
        # pyramid_retry re-runs a request (SQLite "database is locked") on the same
        # wsgi.input: read the body from its start, not from where the last try left it.
        request.body_file_raw.seek(0)
    raw = request.body_file.read(limit + 1)
    if len(raw) > limit:
        raise too_big
    try:
        data = json.loads(raw.decode("utf-8"), object_pairs_hook=_pairs, parse_constant=_constant)
    except _Duplicate as exc:
        key = str(exc.args[0])[:100]
        raise Problem(
            400, _("Invalid JSON"), errors={key: _("This key is given more than once.")}
        ) from None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise Problem(400, _("Invalid JSON"), _("The body is not valid UTF-8 JSON.")) from None
    if not _depth(data, MAX_DEPTH):
        raise Problem(400, _("Invalid JSON"), _("The body is nested too deeply."))
    if not isinstance(data, dict):
        raise Problem(400, _("Invalid JSON"), _("Send a JSON object."))
    return data


# --- responses --------------------------------------------------------------------------


def etag(record) -> str:
    return f'"{record.version}"'


def _encode(body) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _json(request, body, status: int = 200, headers=None) -> Response:
    resp = Response(
        body=body if isinstance(body, bytes) else _encode(body),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _record_response(request, et, record, status=200, extra_headers=None) -> Response:
    headers = {"ETag": etag(record), **(extra_headers or {})}
    return _json(request, service.serialize(request, et, record), status, headers)


def _stale(request, et, exc: service.StaleRecord, status: int) -> Problem:
    record = exc.record
    return Problem(
        status,
        _("The record was changed by someone else"),
        _("Reload it, re-apply your change and send it with the current version."),
        headers={"ETag": etag(record)},
        current_version=exc.current_version,
        your_version=exc.expected_version,
        changes=exc.changes,
        current=service.serialize(request, et, record),
    )


def _record_error(exc: RecordError) -> Problem:
    # ``extra``: further problem members, e.g. the candidates of a duplicate warning
    return Problem(
        exc.status, exc.title, errors=exc.errors or {"": exc.title}, **getattr(exc, "extra", {})
    )


def _if_match(request) -> list[int] | None:
    """The versions an If-Match header accepts; ``None`` when absent or ``*``."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    out = []
    for part in header.split(","):
        m = _ETAG_RE.fullmatch(part)
        if m and m.group(1).isdigit() and len(m.group(1)) < 19:
            out.append(int(m.group(1)))
    return out


# --- views ------------------------------------------------------------------------------


def _et(request, verb: str = "read"):
    et = service.get_entity_type(request, request.matchdict["slug"])
    if not request.has_permission(et.permission(verb)):
        from pyramid.httpexceptions import HTTPForbidden

        raise HTTPForbidden()
    return et


def _list_body(request, et, lp) -> bytes:
    result = query.run_list(request, et, lp)
    one = query.serializer(request, et, lp.fields)
    return _encode(
        {
            "items": [one(r) for r in result.items],
            "next_cursor": result.next_cursor,
            "count": result.count,
            "count_capped": result.count_capped,
        }
    )


def list_view(request):
    et = _et(request)
    lp = query.parse_list_params(request, et, request.GET)
    return _json(request, _list_body(request, et, lp))


def create_view(request):
    et = _et(request, "create")
    data = read_json(request)
    try:
        record = service.create_record(request, et, data, source="api")
    except RecordError as exc:
        raise _record_error(exc) from None
    location = request.route_url("api.entity.item", slug=et.slug, id=record.id)
    return _record_response(request, et, record, 201, {"Location": location})


def get_view(request):
    et = _et(request)
    record = service.get_record(request, et, request.matchdict["id"], core_children=True)
    if request.headers.get("If-None-Match") == etag(record):
        return Response(status=304, headers={"ETag": etag(record)})
    return _record_response(request, et, record)


def _check_if_match(request, et, record) -> None:
    accepted = _if_match(request)
    if accepted is not None and record.version not in accepted:
        changes = history.changes_since(request, et, record.id, min(accepted, default=0))
        stale = service.StaleRecord(record, accepted[0] if accepted else None, changes)
        raise _stale(request, et, stale, 412)


def patch_view(request):
    et = _et(request, "update")
    record = service.get_record(request, et, request.matchdict["id"], action="update")
    data = read_json(request)
    _check_if_match(request, et, record)
    expected = data.pop("version", None)
    if expected is not None and (isinstance(expected, bool) or not isinstance(expected, int)):
        raise Problem(400, _("Invalid data"), errors={"version": _("Not an integer.")})
    if expected is not None and not 0 <= expected <= values.INT64:
        # no record has such a version (and the database could not compare it)
        raise Problem(400, _("Invalid data"), errors={"version": _("The number is too large.")})
    try:
        service.update_record(request, et, record, data, expected_version=expected, source="api")
    except service.StaleRecord as exc:
        # a client that sent If-Match asked for a precondition: it failed (412), whether
        # the check above or a concurrent writer found the newer version
        status = 412 if request.headers.get("If-Match") else 409
        raise _stale(request, et, exc, status) from None
    except RecordError as exc:
        raise _record_error(exc) from None
    return _record_response(request, et, record)


def delete_view(request):
    et = _et(request, "delete")
    record = service.get_record(request, et, request.matchdict["id"], action="delete")
    _check_if_match(request, et, record)
    try:
        service.delete_record(request, et, record, source="api")
    except RecordError as exc:
        raise _record_error(exc) from None
    return Response(status=204)


def restore_view(request):
    et = _et(request, "delete")
    record = service.get_record(
        request, et, request.matchdict["id"], action="delete", include_deleted=True
    )
    try:
        service.restore_record(request, et, record, source="api")
    except RecordError as exc:
        raise _record_error(exc) from None
    return _record_response(request, et, record)


def bulk_view(request):
    et = _et(request)
    body = read_json(request)
    errors = {k: _("Unknown key.") for k in body if k not in ("action", "ids", "data")}
    action = body.get("action")
    if action not in ("update", "delete"):
        errors["action"] = _("Use update or delete.")
    if action == "update" and not isinstance(body.get("data"), dict):
        errors["data"] = _("Send an object of field values.")
    if action == "delete" and "data" in body:
        errors["data"] = _("A delete takes no data.")
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    ids = body.get("ids")
    if isinstance(ids, list):
        # JSON has one number type: 7.0 is the id 7.
        ids = [int(i) if isinstance(i, float) and i.is_integer() else i for i in ids]
    try:
        if action == "update":
            n = service.bulk_update(request, et, ids, body["data"], source="bulk")
        else:
            n = service.bulk_delete(request, et, ids, source="bulk")
    except service.StaleRecord as exc:
        raise _stale(request, et, exc, 409) from None
    except RecordError as exc:
        raise _record_error(exc) from None
    return _json(request, {"action": action, "count": n})


def history_view(request):
    et = _et(request)
    record = service.get_record(request, et, request.matchdict["id"], include_deleted=True)
    errors = {}
    limit, before = 50, None
    for key in request.GET:
        if key not in ("limit", "cursor", "_LOCALE_"):
            errors[key[:100]] = _("Unknown parameter.")
    raw_limit = request.GET.get("limit")
    if raw_limit is not None:
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 200:
            errors["limit"] = _("Give a number from 1 to ${n}.", mapping={"n": 200})
        else:
            limit = int(raw_limit)
    raw_cursor = request.GET.get("cursor")
    if raw_cursor is not None:
        if not raw_cursor.isdigit() or len(raw_cursor) > 10 or int(raw_cursor) > 2**31 - 1:
            errors["cursor"] = _("Invalid cursor.")
        else:
            before = int(raw_cursor)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    readable, _w = service.field_access(request, et)
    rows = history.entries(request, et, record.id, limit=limit + 1, before_id=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return _json(
        request,
        {
            "items": [history.entry_json(e, who, readable) for e, who in rows],
            "next_cursor": str(rows[-1][0].id) if more else None,
        },
    )


def method_not_allowed(request):
    allowed = {
        "api.entity.collection": "GET, POST",
        "api.entity.bulk": "POST",
        "api.entity.item": "GET, PATCH, DELETE",
        "api.entity.restore": "POST",
        "api.entity.history": "GET",
    }.get(request.matched_route.name, "")
    raise HTTPMethodNotAllowed(headers={"Allow": allowed})


def includeme(config):
    routes = {
        "api.entity.collection": f"/api/v1/{SLUG}",
        "api.entity.bulk": f"/api/v1/{SLUG}/_bulk",
        "api.entity.item": f"/api/v1/{SLUG}/{ID}",
        "api.entity.restore": f"/api/v1/{SLUG}/{ID}/restore",
        "api.entity.history": f"/api/v1/{SLUG}/{ID}/history",
    }
    for name, pattern in routes.items():
        config.add_route(name, pattern)
        # Lower-ranked than the method-specific views below: any other method is a 405.
        config.add_view(method_not_allowed, route_name=name, require_csrf=False)
    views = [
        ("api.entity.collection", "GET", list_view),
        ("api.entity.collection", "POST", create_view),
        ("api.entity.bulk", "POST", bulk_view),
        ("api.entity.item", "GET", get_view),
        ("api.entity.item", "PATCH", patch_view),
        ("api.entity.item", "DELETE", delete_view),
        ("api.entity.restore", "POST", restore_view),
        ("api.entity.history", "GET", history_view),
    ]
    for route, method, view in views:
        # Authorization is per entity type inside the view; the route itself needs a
        # login (anonymous -> 401 problem+json).
        config.add_view(view, route_name=route, request_method=method, permission="authenticated")
    config.include(".money_api")
    config.include(".openapi")

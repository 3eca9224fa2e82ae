"""Duplicate pages (``/duplicates/{entity}``: scan, review pairs, merge, dismiss) and the
API (``/api/v1/_duplicates``, ``POST /api/v1/{slug}/{id}/merge``)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.duplicates import DuplicateCandidate, merge, rules_for
from kyklos.entities import RecordError, service
from kyklos.i18n import _
from kyklos.problem import Problem

T = "kyklos:web/templates/"


def _et_or_404(request, name, verb="read"):
    et = request.registry.kyklos_entities.get(name or "")
    if et is None or not request.has_permission(et.permission(verb)):
        raise HTTPNotFound()
    return et


def open_pairs(request, et, limit=100):
    """Open candidate pairs whose records the user can both see."""
    rows = request.dbsession.execute(
        select(DuplicateCandidate)
        .where(DuplicateCandidate.entity == et.name, DuplicateCandidate.state == "open")
        .order_by(DuplicateCandidate.id).limit(limit * 3)
    ).scalars().all()
    ids = {i for c in rows for i in (c.first_id, c.second_id)}
    recs = {r.id: r for r in request.dbsession.execute(
        service.visible_select(request, et).where(et.model.id.in_(ids))).scalars()} if ids else {}
    out = []
    for c in rows:
        if c.first_id in recs and c.second_id in recs:
            out.append((c, recs[c.first_id], recs[c.second_id]))
        if len(out) >= limit:
            break
    return out


def _do_merge(request, et, winner_id, loser_id, source):
    winner = service.get_record(request, et, winner_id, "update")
    loser = service.get_record(request, et, loser_id, "delete")
    merge(request, et, winner, loser, source=source)
    return winner


def _enqueue_scan(request, et) -> str:
    from kyklos.jobs import enqueue

    if not request.has_permission(et.permission("update")):
        raise HTTPForbidden()
    return enqueue(request, "kyklos.duplicates.scan", args={"entity": et.name},
                   key=f"duplicates.scan.{et.name}.{utcnow():%Y%m%d%H%M%S}")


# --- API ------------------------------------------------------------------------------------


def api_list(request):
    et = _et_or_404(request, request.GET.get("entity"))
    return {"items": [
        {"id": c.id, "rule": c.rule,
         "records": [{"id": a.id, "title": et.record_title(a)},
                     {"id": b.id, "title": et.record_title(b)}]}
        for c, a, b in open_pairs(request, et)
    ], "rules": [r.name for r in rules_for(request.registry, et)]}


def api_scan(request):
    from kyklos.entities.api import read_json

    et = _et_or_404(request, read_json(request).get("entity"))
    request.response.status = 202
    return {"job_id": _enqueue_scan(request, et)}


def _candidate(request) -> DuplicateCandidate:
    c = request.dbsession.get(DuplicateCandidate, int(request.matchdict["id"]))
    if c is None:
        raise HTTPNotFound()
    _et_or_404(request, c.entity, "update")
    return c


def api_dismiss(request):
    c = _candidate(request)
    c.state, c.resolved_by_id = "dismissed", service.user_id(request)
    return {"id": c.id, "state": c.state}


def api_merge(request):
    """``POST /api/v1/{slug}/{id}/merge`` ``{"loser": id}``: the record ``id`` wins."""
    from kyklos.entities.api import read_json

    et = service.get_entity_type(request, request.matchdict["slug"])
    body = read_json(request)
    loser = body.get("loser")
    if isinstance(loser, bool) or not isinstance(loser, int):
        raise Problem(400, _("Invalid data"), errors={"loser": _("Not an integer.")})
    try:
        winner = _do_merge(request, et, request.matchdict["id"], loser, "api")
    except RecordError as exc:
        raise Problem(exc.status, exc.title, errors=exc.errors) from None
    return service.serialize(request, et, winner)


# --- pages ------------------------------------------------------------------------------


def page(request):
    et = _et_or_404(request, request.matchdict["entity"])
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "scan":
            _enqueue_scan(request, et)
            return HTTPFound(request.route_url("duplicates", entity=et.name))
        c = request.dbsession.get(DuplicateCandidate, int(request.POST.get("pair") or 0)
                                  if (request.POST.get("pair") or "").isdigit() else 0)
        if c is None or c.entity != et.name:
            raise HTTPNotFound()
        if action == "dismiss":
            if not request.has_permission(et.permission("update")):
                raise HTTPForbidden()
            c.state, c.resolved_by_id = "dismissed", service.user_id(request)
        elif action in ("keep_first", "keep_second"):
            a, b = (c.first_id, c.second_id) if action == "keep_first" else (c.second_id,
                                                                               c.first_id)
            _do_merge(request, et, a, b, "ui")
        return HTTPFound(request.route_url("duplicates", entity=et.name))
    readable, _w = service.field_access(request, et)
    shown = [n for r in rules_for(request.registry, et) for n in r.fields if n in readable]
    return {
        "title": _("Duplicates"),
        "et": et,
        "pairs": open_pairs(request, et),
        "fields": list(dict.fromkeys([et.title_field, *shown])),
        "can_merge": request.has_permission(et.permission("delete")),
        "read": lambda f, r: service.serialize(request, et, r, [f]).get(f),
    }


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    entities = sorted(request.registry.kyklos_entities) or ["-"]
    titled = o.obj({"id": {"type": "integer"}, "title": {}}, ["id"], strict=False)
    pair = o.obj(
        {
            "id": {"type": "integer"},
            "rule": {"type": "string"},
            "records": o.array(titled, minItems=2, maxItems=2),
        },
        ["id", "rule", "records"],
    )
    tag = "Duplicates"
    return {
        "/api/v1/_duplicates": {
            "get": o.operation(
                tag,
                "list_duplicates",
                {
                    "200": o.json_ok(
                        o.page_of(pair, cursor=False, rules=o.array({"type": "string"}))
                    ),
                    **o.problems("401", "404"),
                },
                summary="Open candidate pairs of an entity type whose records you can see",
                parameters=[o.param("entity", {"type": "string", "enum": entities}, required=True)],
            )
        },
        "/api/v1/_duplicates/scan": {
            "post": o.operation(
                tag,
                "scan_duplicates",
                {
                    "202": o.json_ok(o.obj({"job_id": {"type": "string"}}, ["job_id"]), "queued"),
                    **o.problems("400", "401", "403", "404", "413", "415"),
                },
                summary="Queue a scan of an entity type by its duplicate rules",
                body=o.json_body(
                    o.obj(
                        {"entity": {"type": "string", "enum": entities}}, ["entity"], strict=False
                    )
                ),
            )
        },
        "/api/v1/_duplicates/{id}/dismiss": {
            "post": o.operation(
                tag,
                "dismiss_duplicate",
                {
                    "200": o.json_ok(
                        o.obj(
                            {"id": {"type": "integer"}, "state": {"const": "dismissed"}},
                            ["id", "state"],
                        )
                    ),
                    **o.problems("401", "403", "404"),
                },
                parameters=[o.path_id()],
            )
        },
        "/api/v1/{slug}/{id}/merge": {
            "post": o.operation(
                tag,
                "merge_records",
                {
                    "200": o.json_ok({"type": "object"}, "the winner, with the loser's links"),
                    **o.problems("400", "401", "403", "404", "409", "413", "415"),
                },
                summary="Merge the record 'loser' into this one (the loser is deleted)",
                parameters=[o.slug_param(request), o.path_id()],
                body=o.json_body(o.obj({"loser": o.INT_ID}, ["loser"], strict=False)),
                # merging a record into itself, or across visibility, is refused
                **{"x-kyklos-semantic-checks": True},
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("duplicates", "/duplicates/{entity}")
    config.add_view(
        page,
        route_name="duplicates",
        renderer=T + "duplicates_list.pt",
        request_method=("GET", "POST"),
        permission="authenticated",
    )
    routes = [
        ("api.duplicates", "/api/v1/_duplicates", "GET", api_list),
        ("api.duplicates.scan", "/api/v1/_duplicates/scan", "POST", api_scan),
        (
            "api.duplicate.dismiss",
            "/api/v1/_duplicates/{id:[0-9]{1,9}}/dismiss",
            "POST",
            api_dismiss,
        ),
        (
            "api.entity.merge",
            "/api/v1/{slug:[a-z][a-z0-9_-]*}/{id:[0-9]{1,18}}/merge",
            "POST",
            api_merge,
        ),
    ]
    for name, pattern, method, view in routes:
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name, renderer="json", permission="authenticated")

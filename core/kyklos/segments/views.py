"""Segment API (``/api/v1/_segments``) and pages (``/segments``): the wizard works
without JavaScript (``add condition`` / ``add group`` are submit buttons)."""

from __future__ import annotations

import re

from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from sqlalchemy import func, select

from kyklos.entities import RecordError, display, service, values
from kyklos.entities import ui as entity_ui
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.segments import (
    Segment,
    change_members,
    definition_select,
    get_segment,
    may_edit,
    paths_for,
    save_segment,
    segment_select,
    snapshot,
    visible_segments,
)
from kyklos.segments import ui as seg_ui

T = "kyklos:web/templates/"
KIND_WORDS = {"dynamic": _("Dynamic"), "static": _("Static")}
COUNT_CAP = 100_000
MAX_PAGE = 500


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status, exc.title, errors=exc.errors)


def _read_json(request):
    from kyklos.entities.api import read_json

    return read_json(request)


def _count(request, stmt) -> tuple[int, bool]:
    n = request.dbsession.execute(
        select(func.count()).select_from(stmt.limit(COUNT_CAP + 1).subquery())
    ).scalar_one()
    return min(n, COUNT_CAP), n > COUNT_CAP


def segment_json(request, seg: Segment) -> dict:
    return {
        "id": seg.id,
        "entity": seg.entity,
        "name": seg.name,
        "kind": seg.kind,
        "description": seg.description,
        "definition": seg.definition,
        "created_by_id": seg.created_by_id,
        "updated_at": values.to_json(None, seg.updated_at),
    }


def _sample(request, et, stmt, limit=10) -> list[dict]:
    ids = request.dbsession.execute(stmt.order_by(et.model.id).limit(limit)).scalars().all()
    if not ids:
        return []
    recs = list(
        request.dbsession.execute(
            service.visible_select(request, et).where(et.model.id.in_(ids)).order_by(et.model.id)
        ).scalars()
    )
    titles = display.record_titles(request, et, recs)
    return [
        {
            "id": r.id,
            "title": titles.get(r.id) or et.record_title(r),
            "url": request.route_url("entity.detail", slug=et.slug, id=r.id),
        }
        for r in recs
    ]


# --- API ------------------------------------------------------------------------------------


def api_list(request):
    return {
        "items": [
            segment_json(request, s) for s in visible_segments(request, request.GET.get("entity"))
        ]
    }


def api_create(request):
    try:
        seg = save_segment(request, _read_json(request))
    except RecordError as exc:
        raise _problem(exc) from None
    request.response.status = 201
    return segment_json(request, seg)


def api_get(request):
    return segment_json(request, get_segment(request, request.matchdict["id"]))


def api_patch(request):
    seg = get_segment(request, request.matchdict["id"])
    if not may_edit(request, seg):
        raise HTTPForbidden()
    try:
        save_segment(request, _read_json(request), seg)
    except RecordError as exc:
        raise _problem(exc) from None
    return segment_json(request, seg)


def api_delete(request):
    seg = get_segment(request, request.matchdict["id"])
    if not may_edit(request, seg):
        raise HTTPForbidden()
    request.dbsession.delete(seg)
    request.response.status = 204
    return request.response


def api_count(request):
    seg = get_segment(request, request.matchdict["id"])
    n, capped = _count(request, segment_select(request, seg.id))
    return {"count": n, "capped": capped}


def api_members(request):
    """Members, paged by id: ``?after=<last id>&limit=100``."""
    seg = get_segment(request, request.matchdict["id"])
    et = request.registry.kyklos_entities[seg.entity]
    after, limit = request.GET.get("after", "0"), request.GET.get("limit", "100")
    errors = {}
    # ASCII digits only (str.isdigit admits "²"), and within a 64-bit id
    if not re.fullmatch(r"[0-9]{1,18}", after):
        errors["after"] = _("Give the id of the last member you have.")
    if not re.fullmatch(r"[0-9]{1,4}", limit) or not 1 <= int(limit) <= MAX_PAGE:
        errors["limit"] = _("Give a number from 1 to ${n}.", mapping={"n": MAX_PAGE})
    if errors:
        raise Problem(400, _("Invalid list parameters"), errors=errors)
    ids = segment_select(request, seg.id)
    stmt = (
        service.visible_select(request, et)
        .where(et.model.id.in_(ids), et.model.id > int(after))
        .order_by(et.model.id)
        .limit(int(limit) + 1)
    )
    rows = request.dbsession.execute(stmt).scalars().all()
    more = len(rows) > int(limit)
    rows = rows[: int(limit)]
    return {
        "items": [service.serialize(request, et, r) for r in rows],
        "next_after": rows[-1].id if more else None,
    }


def api_change_members(request):
    seg = get_segment(request, request.matchdict["id"])
    if not may_edit(request, seg):
        raise HTTPForbidden()
    body = _read_json(request)
    try:
        if body.get("snapshot") is True:
            snapshot(request, seg)
        else:
            change_members(request, seg, body.get("add") or [], body.get("remove") or [])
    except RecordError as exc:
        raise _problem(exc) from None
    return api_count(request)


def api_preview(request):
    """``POST /api/v1/_segments/preview`` ``{entity, definition}``: the live count and
    the first records, without saving."""
    body = _read_json(request)
    et = request.registry.kyklos_entities.get(body.get("entity"))
    if et is None or not request.has_permission(et.permission("read")):
        raise Problem(400, _("Invalid segment"), errors={"entity": _("Unknown entity type.")})
    try:
        stmt = definition_select(request, et, body.get("definition") or {"and": []})
    except RecordError as exc:
        raise _problem(exc) from None
    n, capped = _count(request, stmt)
    return {"count": n, "capped": capped, "sample": _sample(request, et, stmt)}


# --- pages ------------------------------------------------------------------------------


def _tree_from_form(request, et, post) -> dict:
    """The wizard's two levels: groups (``g.<i>.op``) of conditions
    (``c.<i>.<j>.field|op|value|day``) joined by ``top``."""
    groups: dict[int, dict] = {}
    for key, value in post.items():
        parts = key.split(".")
        if parts[0] == "g" and len(parts) == 3 and parts[1].isdigit() and parts[2] == "op":
            groups.setdefault(int(parts[1]), {"op": "and", "conds": {}})["op"] = (
                "or" if value == "or" else "and"
            )
        if parts[0] == "c" and len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            g = groups.setdefault(int(parts[1]), {"op": "and", "conds": {}})
            g["conds"].setdefault(int(parts[2]), {})[parts[3]] = value
    top = "or" if post.get("top") == "or" else "and"
    paths = paths_for(request, et)
    out = []
    for gi in sorted(groups)[:20]:
        g = groups[gi]
        conds = []
        for ci in sorted(g["conds"])[:50]:
            c = g["conds"][ci]
            if c.get("field"):
                conds.append(seg_ui.condition_from_form(request, paths, c))
        out.append({g["op"]: conds})
    return {top: out}


def _form_groups(definition) -> tuple[str, list]:
    """The wizard's view of a definition (deeper trees are edited through the API)."""
    if not isinstance(definition, dict) or not definition:
        return "and", [("and", [])]
    top = "or" if "or" in definition else "and"
    groups = []
    for node in definition.get(top, []):
        if isinstance(node, dict) and ("and" in node or "or" in node):
            op = "or" if "or" in node else "and"
            conds = [c for c in node[op] if isinstance(c, dict) and "field" in c]
            groups.append((op, conds))
        elif isinstance(node, dict) and "field" in node:
            groups.append(("and", [node]))
    return top, groups or [("and", [])]


_WHERE = re.compile(r"^(?:definition\.)?(?:and|or)\.(\d+)\.(?:and|or)\.(\d+)\.")


def _place_errors(request, groups, errors: dict) -> list[str]:
    """Put each message of a definition's errors (``and.0.or.1.value``) under its
    condition; what belongs to no condition is returned, in words."""
    general = []
    names = {"name": _("Name"), "kind": _("Kind"), "description": _("Description")}
    for key, msg in errors.items():
        m = _WHERE.match(key)
        gi, ci = (int(m.group(1)), int(m.group(2))) if m else (-1, -1)
        if 0 <= gi < len(groups) and ci < len(groups[gi][1]):
            groups[gi][1][ci].errors.append(msg)
        elif key in names:
            general.append(f"{request.localizer.translate(names[key])}: {msg}")
        else:
            general.append(msg)
    return general


def _page(request, et, seg, data, errors, preview=None):
    top, groups = _form_groups(data.get("definition"))
    paths = paths_for(request, et)
    rows = []
    for gop, conds in groups:
        items = [seg_ui.condition_ui(request, et, paths, c) for c in conds]
        rows.append((gop, items or [seg_ui.condition_ui(request, et, paths, {})]))
    general = _place_errors(request, rows, errors)
    return {
        "title": _("Segment"),
        "et": et,
        "seg": seg,
        "data": data,
        "errors": errors,
        "general_errors": general,
        "top": top,
        "groups": rows,
        "fields": seg_ui.field_choices(request, et, paths),
        "preview": preview,
        "inputs": entity_ui.input_macros(),
        "kind_words": KIND_WORDS,
    }


def _count_text(request, n: int, capped: bool) -> str:
    text = request.format_number(n) + ("+" if capped else "")
    return request.localizer.pluralize(
        "${n} matching record", "${n} matching records", n, domain="kyklos", mapping={"n": text}
    )


def list_page(request):
    segs = visible_segments(request)
    types = [
        e
        for e in request.registry.kyklos_entities.values()
        if request.has_permission(e.permission("read"))
    ]
    return {
        "title": _("Segments"),
        "segments": segs,
        "types": types,
        "entities": request.registry.kyklos_entities,
        "kind_words": KIND_WORDS,
    }


def edit_page(request):
    """New (``/segments/new?entity=...``) or existing segment: the wizard."""
    seg = None
    if "id" in request.matchdict:
        seg = get_segment(request, request.matchdict["id"])
        et = request.registry.kyklos_entities[seg.entity]
        data = segment_json(request, seg)
    else:
        et = request.registry.kyklos_entities.get(request.params.get("entity", ""))
        if et is None or not request.has_permission(et.permission("read")):
            return HTTPFound(request.route_url("segments"))
        data = {
            "entity": et.name,
            "name": "",
            "kind": "dynamic",
            "description": "",
            "definition": {"and": [{"and": []}]},
        }
    errors: dict = {}
    preview = None
    if request.method == "POST":
        post = request.POST
        data = {
            **data,
            "name": post.get("name", ""),
            "kind": post.get("kind", "dynamic"),
            "description": post.get("description", ""),
            "definition": _tree_from_form(request, et, post),
        }
        # no button (a field chosen: the page's script re-draws the row's operators
        # and value input for it) only re-draws the form
        action = post.get("action", "refresh")
        tree = data["definition"]
        key = "or" if "or" in tree else "and"
        if action == "add_group":
            tree[key].append({"and": [{"field": "", "op": "eq", "value": ""}]})
        elif action.startswith("add_condition."):
            gi = action.split(".", 1)[1]
            if gi.isdigit() and int(gi) < len(tree[key]):
                grp = tree[key][int(gi)]
                grp[next(iter(grp))].append({"field": "", "op": "eq", "value": ""})
        elif action == "preview":
            try:
                stmt = definition_select(request, et, tree)
                n, capped = _count(request, stmt)
                preview = {
                    "count": n,
                    "capped": capped,
                    "sample": _sample(request, et, stmt),
                    "text": _count_text(request, n, capped),
                }
            except RecordError as exc:
                errors = {k: request.localizer.translate(v) for k, v in exc.errors.items()}
        elif action == "save":
            if seg is not None and not may_edit(request, seg):
                raise HTTPForbidden()
            try:
                body = {k: data[k] for k in ("name", "kind", "description", "definition")}
                if seg is None:
                    body["entity"] = et.name
                saved = save_segment(request, body, seg)
            except RecordError as exc:
                errors = {k: request.localizer.translate(v) for k, v in exc.errors.items()}
                request.response.status = 400
            else:
                return HTTPFound(request.route_url("segment.members", id=saved.id))
    return _page(request, et, seg, data, errors, preview)


def members_page(request):
    seg = get_segment(request, request.matchdict["id"])
    et = request.registry.kyklos_entities[seg.entity]
    errors = {}
    if request.method == "POST":
        if not may_edit(request, seg):
            raise HTTPForbidden()
        try:
            if request.POST.get("action") == "snapshot":
                snapshot(request, seg)
            else:
                # records chosen with the picker (several at once)
                add = [int(x) for x in request.POST.getall("add") if x.isdigit() and len(x) < 10]
                remove = [
                    int(x) for x in request.POST.getall("remove") if x.isdigit() and len(x) < 10
                ]
                change_members(request, seg, add, remove)
        except RecordError as exc:
            errors = {k: request.localizer.translate(v) for k, v in exc.errors.items()}
            request.response.status = 400
        else:
            return HTTPFound(request.route_url("segment.members", id=seg.id))
    after = request.GET.get("after", "0")
    after = int(after) if after.isdigit() and len(after) < 10 else 0
    ids = segment_select(request, seg.id)
    rows = (
        request.dbsession.execute(
            service.visible_select(request, et)
            .where(et.model.id.in_(ids), et.model.id > after)
            .order_by(et.model.id)
            .limit(51)
        )
        .scalars()
        .all()
    )
    n, capped = _count(request, ids)
    rows = rows[:50]
    titles = display.record_titles(request, et, rows)
    return {
        "title": seg.name,
        "seg": seg,
        "et": et,
        "rows": [(r, titles.get(r.id) or et.record_title(r)) for r in rows],
        "count_text": _count_text(request, n, capped),
        "kind_words": KIND_WORDS,
        "picker_url": request.route_url("entity.lookup", slug=et.slug),
        "next_after": rows[49].id if len(rows) > 50 else None,
        "count": n,
        "capped": capped,
        "can_edit": may_edit(request, seg),
        "errors": errors,
    }


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    entities = sorted(request.registry.kyklos_entities) or ["-"]
    segment = o.obj(
        {
            "id": {"type": "integer"},
            "entity": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "description": {"type": ["string", "null"]},
            "definition": {},
            "created_by_id": {"type": ["integer", "null"]},
            "updated_at": {"type": ["string", "null"]},
        },
        ["id", "entity", "name", "kind"],
        strict=False,
    )
    count = o.obj(
        {"count": {"type": "integer"}, "capped": {"type": "boolean"}}, ["count", "capped"]
    )
    # a definition is a tree of {"and"|"or": [...]} and field conditions, checked
    # against the entity type's filterable fields: a 400 names what is wrong
    definition = {
        "type": "object",
        "description": 'e.g. {"and": [{"field": "city", "op": "eq", "value": "Athens"}]}',
    }
    body = o.obj(
        {
            "entity": {"type": "string", "enum": entities},
            "name": o.text(200, required=True),
            "kind": {"type": "string", "enum": ["dynamic", "static"]},
            "description": o.text(2000),
            "definition": definition,
        },
        strict=False,
    )
    ids = o.array(o.INT_ID, maxItems=1000)
    tag = "Segments"
    semantic = {"x-kyklos-semantic-checks": True}
    one = [o.path_id()]
    return {
        "/api/v1/_segments": {
            "get": o.operation(
                tag,
                "list_segments",
                {"200": o.json_ok(o.page_of(segment, cursor=False)), **o.problems("401")},
                parameters=[o.param("entity", {"type": "string", "enum": entities})],
            ),
            "post": o.operation(
                tag,
                "create_segment",
                {
                    "201": o.json_ok(segment, "created"),
                    **o.problems("400", "401", "403", "409", "413", "415"),
                },
                body=o.json_body({**body, "required": ["entity", "name", "kind"]}),
                **semantic,
            ),
        },
        "/api/v1/_segments/preview": {
            "post": o.operation(
                tag,
                "preview_segment",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                **count["properties"],
                                "sample": o.array(
                                    o.obj({"id": {"type": "integer"}, "title": {}}, ["id"])
                                ),
                            },
                            ["count", "capped", "sample"],
                        )
                    ),
                    **o.problems("400", "401", "413", "415"),
                },
                summary="The live count and first records of an unsaved definition",
                body=o.json_body(
                    o.obj(
                        {"entity": {"type": "string", "enum": entities}, "definition": definition},
                        ["entity"],
                        strict=False,
                    )
                ),
                **semantic,
            )
        },
        "/api/v1/_segments/{id}": {
            "get": o.operation(
                tag,
                "get_segment",
                {"200": o.json_ok(segment), **o.problems("401", "403", "404")},
                parameters=one,
            ),
            "patch": o.operation(
                tag,
                "update_segment",
                {
                    "200": o.json_ok(segment),
                    **o.problems("400", "401", "403", "404", "409", "413", "415"),
                },
                parameters=one,
                body=o.json_body(body),
                **semantic,
            ),
            "delete": o.operation(
                tag,
                "delete_segment",
                {"204": o.no_content("deleted"), **o.problems("401", "403", "404")},
                parameters=one,
            ),
        },
        "/api/v1/_segments/{id}/count": {
            "get": o.operation(
                tag,
                "count_segment",
                {"200": o.json_ok(count), **o.problems("401", "403", "404")},
                parameters=one,
            )
        },
        "/api/v1/_segments/{id}/members": {
            "get": o.operation(
                tag,
                "list_segment_members",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                "items": o.array({"type": "object"}),
                                "next_after": {"type": ["integer", "null"]},
                            },
                            ["items", "next_after"],
                        )
                    ),
                    **o.problems("400", "401", "403", "404"),
                },
                summary="Members, paged by id: ?after=<next_after>",
                parameters=[
                    *one,
                    o.param("after", {"type": "string", "pattern": "^[0-9]{1,9}$"}),
                    o.param(
                        "limit",
                        {"type": "string", "pattern": "^([1-9]|[1-9][0-9]|[1-4][0-9]{2}|500)$"},
                    ),
                ],
            ),
            "post": o.operation(
                tag,
                "change_segment_members",
                {
                    "200": o.json_ok(count),
                    **o.problems("400", "401", "403", "404", "409", "413", "415"),
                },
                summary="A static segment: add or remove ids, or snapshot a dynamic one",
                parameters=one,
                body=o.json_body(
                    o.obj(
                        {"add": ids, "remove": ids, "snapshot": {"type": "boolean"}}, strict=False
                    )
                ),
                **semantic,
            ),
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    api = [
        ("api.segments", "/api/v1/_segments", "GET", api_list),
        ("api.segments", "/api/v1/_segments", "POST", api_create),
        ("api.segments.preview", "/api/v1/_segments/preview", "POST", api_preview),
        ("api.segment", "/api/v1/_segments/{id:[0-9]{1,9}}", "GET", api_get),
        ("api.segment", "/api/v1/_segments/{id:[0-9]{1,9}}", "PATCH", api_patch),
        ("api.segment", "/api/v1/_segments/{id:[0-9]{1,9}}", "DELETE", api_delete),
        ("api.segment.count", "/api/v1/_segments/{id:[0-9]{1,9}}/count", "GET", api_count),
        ("api.segment.members", "/api/v1/_segments/{id:[0-9]{1,9}}/members", "GET", api_members),
        (
            "api.segment.members",
            "/api/v1/_segments/{id:[0-9]{1,9}}/members",
            "POST",
            api_change_members,
        ),
    ]
    seen = set()
    for name, pattern, method, view in api:
        if name not in seen:
            config.add_route(name, pattern)
            seen.add(name)
        config.add_view(
            view,
            route_name=name,
            request_method=method,
            renderer="json",
            permission="authenticated",
        )
    config.add_route("segments", "/segments")
    config.add_view(
        list_page, route_name="segments", renderer=T + "segment_list.pt", permission="authenticated"
    )
    config.add_route("segment.new", "/segments/new")
    config.add_view(
        edit_page,
        route_name="segment.new",
        renderer=T + "segment_edit.pt",
        permission="authenticated",
    )
    config.add_route("segment.edit", "/segments/{id:[0-9]{1,9}}/edit")
    config.add_view(
        edit_page,
        route_name="segment.edit",
        renderer=T + "segment_edit.pt",
        permission="authenticated",
    )
    config.add_route("segment.members", "/segments/{id:[0-9]{1,9}}")
    config.add_view(
        members_page,
        route_name="segment.members",
        renderer=T + "segment_members.pt",
        permission="authenticated",
    )

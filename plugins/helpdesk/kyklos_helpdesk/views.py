"""The helpdesk's own pages and API beyond what the core derives for its entity types
(lists, details, forms and the REST API of cases, teams, rules): merging a case into
another, and opening a case from an inbound message over HTTP."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPFound, HTTPNotFound

from kyklos_sdk import (
    Problem,
    RecordError,
    get_entity_type,
    get_record,
    read_json,
    record_title,
    serialize,
)

from . import MERGE, PERMISSIONS, _
from .service import merge_cases, open_case_from_message

ID = r"{id:\d{1,18}}"


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status or 400, exc.title, errors=exc.errors)


def _case_pair(request, into_id):
    et = get_entity_type(request, "case")
    loser = get_record(request, et, request.matchdict["id"], action="update")
    errors = {}
    winner = None
    if isinstance(into_id, str) and into_id.isdigit():
        into_id = int(into_id)
    if isinstance(into_id, bool) or not isinstance(into_id, int) or into_id <= 0:
        errors["into_id"] = _("Choose the case to merge into.")
    else:
        try:
            winner = get_record(request, et, into_id, action="update")
        except HTTPNotFound:
            errors["into_id"] = _("No such case, or you may not see it.")
    return et, loser, winner, errors


def api_merge(request):
    """``POST /api/v1/cases/{id}/merge-into`` ``{"into_id": 7}``: the case is merged into
    case 7 (closed, its activities and related cases moved); answers the winner."""
    body = read_json(request)
    et, loser, winner, errors = _case_pair(request, body.get("into_id"))
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    try:
        merge_cases(request, loser, winner)
    except RecordError as exc:
        raise _problem(exc) from None
    return serialize(request, et, winner)


def merge_page(request):
    """The merge form: the case to keep, picked by number or subject."""
    et, loser, _w, _e = _case_pair(request, 0)
    errors, picked = {}, None
    if request.method == "POST":
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["into_id"] = _("The form expired; send it again.")
        else:
            et, loser, winner, errors = _case_pair(request, request.POST.get("into_id", ""))
            if winner is not None:
                picked = (winner.id, record_title(request, et, winner))
            if not errors:
                try:
                    merge_cases(request, loser, winner)
                except RecordError as exc:
                    errors = exc.errors
                else:
                    request.session.flash(
                        request.localizer.translate(
                            _(
                                "${a} was merged into ${b}.",
                                mapping={"a": loser.number, "b": winner.number},
                            )
                        ),
                        "success",
                    )
                    return HTTPFound(request.route_url("entity.detail", slug="cases", id=winner.id))
        if errors:
            request.response.status = 400
    return {
        "title": _("Merge ${number} into another case", mapping={"number": loser.number}),
        "case": loser,
        "detail_url": request.route_url("entity.detail", slug="cases", id=loser.id),
        "lookup_url": request.route_url("entity.lookup", slug="cases"),
        "errors": errors,
        "picked": picked,
    }


def api_inbound(request):
    """``POST /api/v1/helpdesk/inbound`` ``{"sender", "subject", "body", "sender_name",
    "message_id"}``: what the mail plugin does in-process, for gateways outside it."""
    body = read_json(request)
    errors = {}
    args = {}
    for key in ("sender", "subject", "body", "sender_name", "message_id"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            errors[key] = _("Give text.")
        args[key] = value or ("" if key != "message_id" else None)
    unknown = set(body) - {"sender", "subject", "body", "sender_name", "message_id"}
    for key in unknown:
        errors[key] = _("Unknown field.")
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    try:
        case, created = open_case_from_message(request, **args)
    except RecordError as exc:
        raise _problem(exc) from None
    request.response.status = 201 if created else 200
    out = serialize(request, get_entity_type(request, "case"), case)
    out["created"] = created
    return out


def openapi_paths(request):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    record = {"application/json": {"schema": {"type": "object"}}}
    return {
        "/api/v1/cases/{id}/merge-into": {
            "post": {
                "operationId": "helpdesk_case_merge",
                "tags": ["Helpdesk"],
                "summary": "Merge this case into another one",
                "parameters": [
                    {
                        "name": "id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["into_id"],
                                "properties": {"into_id": {"type": "integer", "minimum": 1}},
                            }
                        }
                    },
                },
                "x-kyklos-semantic-checks": True,
                "responses": {
                    "200": {"description": "the case kept", "content": record},
                    "400": {"description": "bad case to merge into", "content": problem},
                    "403": {"description": "not allowed", "content": problem},
                    "404": {"description": "no such case", "content": problem},
                },
            }
        },
        "/api/v1/helpdesk/inbound": {
            "post": {
                "operationId": "helpdesk_inbound",
                "tags": ["Helpdesk"],
                "summary": "Open a case from an inbound message, or add it to its case",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "additionalProperties": False,
                                "required": ["sender"],
                                "properties": {
                                    "sender": {"type": "string", "format": "email"},
                                    "subject": {"type": "string"},
                                    "body": {"type": "string"},
                                    "sender_name": {"type": "string"},
                                    "message_id": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "x-kyklos-semantic-checks": True,
                "responses": {
                    "200": {"description": "added to an existing case", "content": record},
                    "201": {"description": "a new case", "content": record},
                    "400": {"description": "bad message", "content": problem},
                    "403": {"description": "not allowed", "content": problem},
                },
            }
        },
        "/api/v1/helpdesk/satisfaction": {
            "get": {
                "operationId": "helpdesk_satisfaction",
                "tags": ["Helpdesk"],
                "summary": "Average customer ratings of the visible cases, per team and agent",
                "parameters": [
                    {
                        "name": "team_id",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "{average, count, teams: [...], agents: [...]}",
                        "content": record,
                    },
                    "400": {"description": "bad team id", "content": problem},
                    "403": {"description": "not allowed", "content": problem},
                },
            }
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("helpdesk.api.merge", f"/api/v1/cases/{ID}/merge-into", request_method="POST")
    config.add_view(api_merge, route_name="helpdesk.api.merge", permission=MERGE, renderer="json")
    config.add_route("helpdesk.api.inbound", "/api/v1/helpdesk/inbound", request_method="POST")
    config.add_view(
        api_inbound,
        route_name="helpdesk.api.inbound",
        permission=PERMISSIONS["case"]["create"],
        renderer="json",
    )
    config.add_route("helpdesk.case.merge", f"/helpdesk/cases/{ID}/merge")
    config.add_view(
        merge_page,
        route_name="helpdesk.case.merge",
        permission=MERGE,
        renderer="kyklos_helpdesk:templates/merge.pt",
    )

"""REST API of the workflow engine (problem+json errors).

``GET  /api/v1/{slug}/{id}/transitions``          what this user may do now
``POST /api/v1/{slug}/{id}/transitions/{name}``   do it: ``{"data", "comment", "version"}``
``GET  /api/v1/{slug}/{id}/automation-runs``      the record's rule run log
``GET  /api/v1/_approvals``                       waiting for me (``?mine=1``: I asked)
``GET  /api/v1/_approvals/{id}``                  one approval
``POST /api/v1/_approvals/{id}/approve|reject|cancel``
``GET|PUT|DELETE /api/v1/_workflows/{entity}``    the workflow in force; replace; reset
``GET|POST /api/v1/_automation/rules``, ``GET|PUT|DELETE .../rules/{id}``
``POST /api/v1/_automation/rules/{id}/dry-run``   ``{"record_id"}``: what it would do
``POST /api/v1/_automation/dry-run``              the same for an unsaved rule
"""

from __future__ import annotations

from sqlalchemy import select

from kyklos.entities import service
from kyklos.entities.service import StaleRecord
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.workflow import MANAGE, approvals, automation, runtime
from kyklos.workflow.models import AutomationRule, WorkflowOverride
from kyklos.workflow.views import check_definition, save_definition

SLUG = r"{slug:[a-z][a-z0-9_-]*}"
ID = r"{id:[0-9]{1,18}}"


def _body(request) -> dict:
    if not request.body:
        return {}
    try:
        body = request.json_body
    except ValueError:
        raise Problem(400, _("Bad request"), _("The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise Problem(400, _("Bad request"), _("Send a JSON object."))
    return body


def _record(request, action="read"):
    et = service.get_entity_type(request, request.matchdict["slug"])
    if not request.has_permission(et.permission("read")):
        raise Problem(403, _("Forbidden"))
    return et, service.get_record(request, et, request.matchdict["id"])


def _transition_json(request, wf, a) -> dict:
    t = a.transition
    return {
        "name": t.name,
        "title": request.localizer.translate(t.label),
        "target": t.target,
        "target_title": wf.state_label(t.target),
        "required": list(t.required),
        "requires_approval": t.approval is not None,
        "allowed": a.refused is None,
        "refused": request.localizer.translate(a.refused) if a.refused else None,
    }


def transitions_get(request):
    et, record = _record(request)
    wf = runtime.get_workflow(request, et.name)
    if wf is None:
        raise Problem(404, _("Not found"), _("This record type has no workflow."))
    everything = request.params.get("all") in ("1", "true")
    pending = runtime.pending_approval(request, et, record)
    return {
        "field": wf.field,
        "state": runtime.current_state(wf, record),
        "state_title": wf.state_label(runtime.current_state(wf, record)),
        "transitions": [
            _transition_json(request, wf, a)
            for a in runtime.available(request, et, record, include_refused=everything)
        ],
        "pending_approval": pending.id if pending is not None else None,
    }


def transition_post(request):
    et, record = _record(request)
    body = _body(request)
    data = body.get("data") or {}
    if not isinstance(data, dict):
        raise Problem(400, _("Invalid data"), errors={"data": _("An object of field values.")})
    version = body.get("version")
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise Problem(400, _("Invalid data"), errors={"version": _("An integer.")})
    try:
        outcome = runtime.transition(
            request,
            et,
            record,
            request.matchdict["name"],
            data=data,
            comment=body.get("comment") or "",
            source="api",
            expected_version=version,
        )
    except StaleRecord as exc:
        raise Problem(
            409,
            _("Conflict"),
            _("The record changed meanwhile."),
            current_version=exc.current_version,
        ) from None
    if outcome.status == "pending_approval":
        request.response.status = 202
        return {
            "status": "pending_approval",
            "state": outcome.state,
            "approval": approvals.as_dict(request, outcome.approval),
        }
    return {
        "status": "done",
        "state": outcome.state,
        "record": service.serialize(request, et, record),
    }


def runs_get(request):
    et, record = _record(request)
    if not request.has_permission(MANAGE):
        raise Problem(403, _("Forbidden"))
    runs = automation.runs_for(request, et, record.id, limit=100)
    out = []
    for r in runs:
        d = r.as_dict()
        d["outcome"] = automation.run_state(request, r)
        d["reason"] = automation.run_reason(request, r)
        out.append(d)
    return {"items": out}


# --- approvals -------------------------------------------------------------------------------


def approvals_list(request):
    uid = request.identity.user.id
    if request.params.get("mine") in ("1", "true"):
        rows = request.dbsession.execute(
            select(approvals.ApprovalRequest)
            .where(approvals.ApprovalRequest.requester_id == uid)
            .order_by(approvals.ApprovalRequest.created_at.desc())
            .limit(100)
        ).scalars()
        return {"items": [approvals.as_dict(request, r, uid) for r in rows]}
    return {
        "items": [approvals.as_dict(request, r, uid) for r, _s in approvals.inbox(request, uid)]
    }


def _approval(request, for_update=False):
    aid = int(request.matchdict["id"])
    req = (
        approvals.load_for_update(request, aid)
        if for_update
        else request.dbsession.get(approvals.ApprovalRequest, aid)
    )
    if req is None or not approvals.visible_to(request, req, request.identity.user.id):
        raise Problem(404, _("Not found"))
    return req


def approval_get(request):
    return approvals.as_dict(request, _approval(request), request.identity.user.id)


def approval_decide(request):
    uid = request.identity.user.id
    req = _approval(request, for_update=True)
    action = request.matchdict["action"]
    body = _body(request)
    if action == "cancel":
        approvals.cancel(request, req, uid)
    else:
        step = approvals.actionable_step(request, req, uid)
        if step is None:
            raise Problem(409, _("Conflict"), _("This approval is not waiting for you."))
        approvals.decide(request, req, step, uid, action == "approve", body.get("comment") or "")
    return approvals.as_dict(request, req, uid)


# --- workflows -------------------------------------------------------------------------------


def _entity(request):
    et = request.registry.kyklos_entities.get(request.matchdict["entity"])
    if et is None:
        raise Problem(404, _("Not found"), _("There is no such entity type."))
    return et


def workflow_get(request):
    et = _entity(request)
    wf = runtime.get_workflow(request, et.name)
    if wf is None:
        raise Problem(404, _("Not found"), _("This record type has no workflow."))
    return {"entity": et.name, "origin": wf.origin, "version": wf.version, **wf.to_dict()}


def workflow_put(request):
    et = _entity(request)
    body = _body(request)
    wf, problems = check_definition(request, et, body)
    if problems:
        raise Problem(
            400,
            _("Invalid workflow"),
            errors={f"problem.{i}": p for i, p in enumerate(problems)},
            problems=problems,
        )
    row = save_definition(request, et, wf)
    return {"entity": et.name, "origin": "database", "version": row.version, **wf.to_dict()}


def workflow_delete(request):
    et = _entity(request)
    row = request.dbsession.execute(
        select(WorkflowOverride).where(WorkflowOverride.entity == et.name)
    ).scalar_one_or_none()
    if row is not None:
        request.dbsession.delete(row)
        request.dbsession.flush()
    runtime.forget_workflow(request, et.name)
    wf = runtime.get_workflow(request, et.name)
    if wf is None:
        return {"entity": et.name, "origin": None}
    return {"entity": et.name, "origin": wf.origin, "version": wf.version, **wf.to_dict()}


# --- automation rules ------------------------------------------------------------------------


def _rule(request) -> AutomationRule:
    rule = request.dbsession.get(AutomationRule, int(request.matchdict["id"]))
    if rule is None:
        raise Problem(404, _("Not found"))
    return rule


def _validated(request, body):
    clean, errors = automation.validate_rule(request, body)
    if errors:
        raise Problem(400, _("Invalid rule"), errors=errors)
    return clean


def rules_list(request):
    stmt = select(AutomationRule).order_by(AutomationRule.id)
    if request.params.get("entity"):
        stmt = stmt.where(AutomationRule.entity == request.params["entity"])
    return {"items": [r.as_dict() for r in request.dbsession.execute(stmt).scalars()]}


def rules_create(request):
    clean = _validated(request, _body(request))
    rule = AutomationRule(**clean, created_by_id=request.identity.user.id)
    request.dbsession.add(rule)
    request.dbsession.flush()
    request.response.status = 201
    return rule.as_dict()


def rule_get(request):
    return _rule(request).as_dict()


def rule_put(request):
    rule = _rule(request)
    body = _body(request)
    body.setdefault("entity", rule.entity)
    automation.apply_rule(rule, _validated(request, body))
    request.dbsession.flush()
    return rule.as_dict()


def rule_delete(request):
    request.dbsession.delete(_rule(request))
    request.response.status = 204
    return request.response


def _dry(request, doc, record_id):
    et = request.registry.kyklos_entities.get(doc.get("entity"))
    if et is None:
        raise Problem(400, _("Invalid rule"), errors={"entity": _("Unknown entity type.")})
    record = service.get_record(request, et, record_id)
    return automation.dry_run(request, doc, et, record)


def rule_dry_run(request):
    rule = _rule(request)
    body = _body(request)
    return _dry(request, rule.as_dict(), body.get("record_id"))


def unsaved_dry_run(request):
    body = _body(request)
    rule = body.get("rule")
    if not isinstance(rule, dict):
        raise Problem(400, _("Invalid rule"), errors={"rule": _("Send the rule to try.")})
    clean, errors = automation.validate_rule(request, rule)
    if errors:
        raise Problem(400, _("Invalid rule"), errors=errors)
    return _dry(request, clean, body.get("record_id"))


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    # Workflow definitions and rules are checked against the registry (states, fields,
    # conditions): a body the schema allows may still get a 400 naming the problem.
    semantic = {"x-kyklos-semantic-checks": True}
    tag = "Workflow"
    wf_types = [n for n in sorted(request.registry.kyklos_entities)] or ["-"]
    has_wf = {et.slug for et in request.registry.kyklos_entities.values()}
    record = [o.slug_param(request, lambda et: et.slug in has_wf), o.path_id()]
    anything = {"type": "object"}
    transition = o.obj(
        {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "target": {"type": "string"},
            "target_title": {"type": "string"},
            "required": o.array({"type": "string"}),
            "requires_approval": {"type": "boolean"},
            "allowed": {"type": "boolean"},
            "refused": {"type": ["string", "null"]},
        },
        ["name", "target", "allowed"],
        strict=False,
    )
    approval = o.obj({"id": {"type": "integer"}}, ["id"], strict=False)
    workflow = o.obj(
        {
            "entity": {"type": "string"},
            "origin": {"type": ["string", "null"]},
            "version": {"type": ["integer", "null"]},
        },
        ["entity", "origin"],
        strict=False,
    )
    rule = o.obj(
        {
            "id": {"type": "integer"},
            "entity": {"type": "string"},
            "name": {"type": "string"},
            "enabled": {"type": "boolean"},
            "trigger": anything,
            "conditions": {},
            "actions": o.array(anything),
            "created_at": {"type": ["string", "null"]},
        },
        ["id", "entity", "name", "enabled", "trigger", "actions"],
        strict=False,
    )
    rule_in = o.obj(
        {
            "entity": {"type": "string", "enum": wf_types},
            "name": o.text(200, required=True),
            "enabled": {"type": "boolean"},
            "trigger": o.obj({"kind": {"type": "string"}}, ["kind"], strict=False),
            "conditions": anything,
            "actions": o.array(anything, minItems=1),
        },
        ["entity", "name", "trigger", "actions"],
        strict=False,
    )
    record_id = o.obj({"record_id": o.INT_ID}, ["record_id"], strict=False)
    entity = o.param("entity", {"type": "string", "enum": wf_types}, "path")
    rule_id = [o.path_id()]
    rules_resp = o.json_ok(rule)
    dry = o.json_ok(anything, "what the rule would do, without doing it")
    return {
        "/api/v1/{slug}/{id}/transitions": {
            "get": o.operation(
                tag,
                "list_transitions",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                "field": {"type": "string"},
                                "state": {"type": ["string", "null"]},
                                "transitions": o.array(transition),
                                "pending_approval": {"type": ["integer", "null"]},
                            },
                            ["field", "state", "transitions", "pending_approval"],
                            strict=False,
                        )
                    ),
                    **o.problems("401", "403", "404"),
                },
                summary="What you may do with the record now (all=1: also what is refused, why)",
                parameters=[*record, o.param("all", {"type": "string", "enum": ["0", "1"]})],
            )
        },
        "/api/v1/{slug}/{id}/transitions/{name}": {
            "post": o.operation(
                tag,
                "do_transition",
                {
                    "200": o.json_ok(
                        o.obj(
                            {"status": {"const": "done"}, "state": {}, "record": anything},
                            ["status", "state", "record"],
                            strict=False,
                        )
                    ),
                    "202": o.json_ok(
                        o.obj(
                            {"status": {"const": "pending_approval"}, "approval": approval},
                            ["status", "approval"],
                            strict=False,
                        ),
                        "waiting for approval",
                    ),
                    **o.problems("400", "401", "403", "404", "409"),
                },
                parameters=[
                    *record,
                    o.param(
                        "name", {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,49}$"}, "path"
                    ),
                ],
                body=o.json_body(
                    o.obj(
                        {
                            "data": {"type": "object", "description": "required field values"},
                            "comment": o.text(2000),
                            "version": o.INT_ID,
                        },
                        strict=False,
                    ),
                    required=False,
                ),
                **semantic,
            )
        },
        "/api/v1/{slug}/{id}/automation-runs": {
            "get": o.operation(
                tag,
                "list_automation_runs",
                {
                    "200": o.json_ok(o.page_of(anything, cursor=False)),
                    **o.problems("401", "403", "404"),
                },
                summary="The record's last 100 automation runs: why each rule fired or not",
                parameters=record,
            )
        },
        "/api/v1/_approvals": {
            "get": o.operation(
                tag,
                "list_approvals",
                {"200": o.json_ok(o.page_of(approval, cursor=False)), **o.problems("401")},
                summary="Approvals waiting for you (mine=1: those you asked for)",
                parameters=[o.param("mine", {"type": "string", "enum": ["0", "1", "true"]})],
            )
        },
        "/api/v1/_approvals/{id}": {
            "get": o.operation(
                tag,
                "get_approval",
                {"200": o.json_ok(approval), **o.problems("401", "404")},
                parameters=rule_id,
            )
        },
        "/api/v1/_approvals/{id}/{action}": {
            "post": o.operation(
                tag,
                "decide_approval",
                {"200": o.json_ok(approval), **o.problems("400", "401", "403", "404", "409")},
                parameters=[
                    o.path_id(),
                    o.param(
                        "action",
                        {"type": "string", "enum": ["approve", "reject", "cancel"]},
                        "path",
                    ),
                ],
                body=o.json_body(o.obj({"comment": o.text(2000)}, strict=False), required=False),
            )
        },
        "/api/v1/_workflows/{entity}": {
            "get": o.operation(
                tag,
                "get_workflow",
                {"200": o.json_ok(workflow), **o.problems("401", "403", "404")},
                summary="The workflow in force: the plugin's or an administrator's override",
                parameters=[entity],
            ),
            "put": o.operation(
                tag,
                "put_workflow",
                {"200": o.json_ok(workflow), **o.problems("400", "401", "403", "404")},
                summary="Replace the workflow with a definition (states, transitions)",
                parameters=[entity],
                body=o.json_body(
                    o.obj(
                        {"states": o.array(anything), "transitions": o.array(anything)},
                        ["states", "transitions"],
                        strict=False,
                    )
                ),
                **semantic,
            ),
            "delete": o.operation(
                tag,
                "reset_workflow",
                {
                    "200": o.json_ok(workflow, "the plugin's workflow again"),
                    **o.problems("401", "403", "404"),
                },
                parameters=[entity],
            ),
        },
        "/api/v1/_automation/rules": {
            "get": o.operation(
                tag,
                "list_automation_rules",
                {"200": o.json_ok(o.page_of(rule, cursor=False)), **o.problems("401", "403")},
                parameters=[o.param("entity", {"type": "string", "enum": wf_types})],
            ),
            "post": o.operation(
                tag,
                "create_automation_rule",
                {"201": o.json_ok(rule, "created"), **o.problems("400", "401", "403")},
                body=o.json_body(rule_in),
                **semantic,
            ),
        },
        "/api/v1/_automation/rules/{id}": {
            "get": o.operation(
                tag,
                "get_automation_rule",
                {"200": rules_resp, **o.problems("401", "403", "404")},
                parameters=rule_id,
            ),
            "put": o.operation(
                tag,
                "put_automation_rule",
                {"200": rules_resp, **o.problems("400", "401", "403", "404")},
                parameters=rule_id,
                body=o.json_body(rule_in),
                **semantic,
            ),
            "delete": o.operation(
                tag,
                "delete_automation_rule",
                {"204": o.no_content("deleted"), **o.problems("401", "403", "404")},
                parameters=rule_id,
            ),
        },
        "/api/v1/_automation/rules/{id}/dry-run": {
            "post": o.operation(
                tag,
                "dry_run_automation_rule",
                {"200": dry, **o.problems("400", "401", "403", "404")},
                parameters=rule_id,
                body=o.json_body(record_id),
            )
        },
        "/api/v1/_automation/dry-run": {
            "post": o.operation(
                tag,
                "dry_run_unsaved_rule",
                {"200": dry, **o.problems("400", "401", "403", "404")},
                body=o.json_body(
                    o.obj(
                        {"rule": rule_in, "record_id": o.INT_ID},
                        ["rule", "record_id"],
                        strict=False,
                    )
                ),
                **semantic,
            )
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)

    def route(name, pattern, method, view, permission="authenticated"):
        config.add_route(name, pattern, request_method=method)
        config.add_view(view, route_name=name, renderer="json", permission=permission)

    route("api.wf.transitions", f"/api/v1/{SLUG}/{ID}/transitions", "GET", transitions_get)
    route("api.wf.transition", f"/api/v1/{SLUG}/{ID}/transitions/{{name}}", "POST", transition_post)
    route("api.wf.runs", f"/api/v1/{SLUG}/{ID}/automation-runs", "GET", runs_get)
    route("api.approvals", "/api/v1/_approvals", "GET", approvals_list)
    route("api.approval", r"/api/v1/_approvals/{id:\d{1,18}}", "GET", approval_get)
    route(
        "api.approval.decide",
        r"/api/v1/_approvals/{id:\d{1,18}}/{action:approve|reject|cancel}",
        "POST",
        approval_decide,
    )
    route("api.workflow.get", "/api/v1/_workflows/{entity}", "GET", workflow_get, MANAGE)
    route("api.workflow.put", "/api/v1/_workflows/{entity}", "PUT", workflow_put, MANAGE)
    route("api.workflow.delete", "/api/v1/_workflows/{entity}", "DELETE", workflow_delete, MANAGE)
    route("api.rules", "/api/v1/_automation/rules", "GET", rules_list, MANAGE)
    route("api.rules.create", "/api/v1/_automation/rules", "POST", rules_create, MANAGE)
    route("api.rule", r"/api/v1/_automation/rules/{id:\d{1,18}}", "GET", rule_get, MANAGE)
    route("api.rule.put", r"/api/v1/_automation/rules/{id:\d{1,18}}", "PUT", rule_put, MANAGE)
    route(
        "api.rule.delete", r"/api/v1/_automation/rules/{id:\d{1,18}}", "DELETE", rule_delete, MANAGE
    )
    route(
        "api.rule.dry",
        r"/api/v1/_automation/rules/{id:\d{1,18}}/dry-run",
        "POST",
        rule_dry_run,
        MANAGE,
    )
    route("api.rules.dry", "/api/v1/_automation/dry-run", "POST", unsaved_dry_run, MANAGE)

"""Web pages: transition forms, the approvals inbox and signed approval links, the
workflow editor and the automation rules admin. Every state change is a POST with a
CSRF token; GET never changes anything."""

from __future__ import annotations

import json

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from kyklos.entities import service
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.security.models import Role, User
from kyklos.workflow import MANAGE, approvals, automation, runtime
from kyklos.workflow.definitions import Workflow, validate
from kyklos.workflow.models import AutomationRule, WorkflowOverride

TPL = "kyklos:web/templates/"
INPUT_TYPES = {"date": "date", "datetime": "datetime-local", "integer": "number",
               "decimal": "number", "email": "email", "url": "url"}


def _problem_text(request, exc: Problem) -> list[str]:
    t = request.localizer.translate
    out = [t(exc.detail) if exc.detail else t(exc.title)]
    out += [f"{k}: {t(v)}" for k, v in (exc.errors or {}).items()]
    return out


# --- transitions -----------------------------------------------------------------------------


def transition_view(request):
    et = service.get_entity_type(request, request.matchdict["slug"])
    record = service.get_record(request, et, request.matchdict["id"])
    wf = runtime.get_workflow(request, et.name)
    t = wf.transition(request.matchdict["name"]) if wf else None
    if t is None:
        raise HTTPNotFound()
    back = request.route_url("entity.detail", slug=et.slug, id=record.id)
    errors: dict = {}
    messages: list[str] = []
    submitted = request.method == "POST" and request.POST.get("confirm") == "1"
    quick = request.method == "POST" and not t.required and not t.approval
    if submitted or quick:
        data = {f: request.POST.get(f, "") for f in t.required}
        data = {k: v for k, v in data.items() if v != ""}
        try:
            outcome = runtime.transition(
                request, et, record, t.name, data=data,
                comment=request.POST.get("comment", "")[:5000], source="ui",
            )
        except Problem as exc:
            if exc.status in (403, 404, 409) and not exc.errors:
                request.session.flash(" ".join(_problem_text(request, exc)), "danger")
                return HTTPSeeOther(back)
            errors = dict(exc.errors or {})
            messages = [request.localizer.translate(exc.detail)] if exc.detail else []
            request.response.status = 400
        else:
            if outcome.status == "pending_approval":
                request.session.flash(_("Sent for approval."), "info")
            else:
                request.session.flash(
                    _("Done: ${s}", mapping={"s": wf.state_label(outcome.state)}), "success"
                )
            return HTTPSeeOther(back)
    reason = runtime.refusal(request, et, record, t)
    fields = [et.fields[f] for f in t.required if f in et.fields]
    return {
        "title": t.label,
        "et": et,
        "record": record,
        "wf": wf,
        "t": t,
        "fields": fields,
        "values": {f.name: request.POST.get(f.name, getattr(record, f.name, "") or "")
                   for f in fields},
        "input_type": lambda f: INPUT_TYPES.get(f.type, "text"),
        "errors": errors,
        "messages": messages,
        "refused": reason,
        "back": back,
        "possible": t.allowed_from(runtime.current_state(wf, record)),
    }


# --- approvals -------------------------------------------------------------------------------


def _users(request, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u for u in request.dbsession.execute(select(User).where(User.id.in_(ids)))
            .scalars()}


def approvals_inbox(request):
    uid = request.identity.user.id
    waiting = approvals.inbox(request, uid)
    mine = (
        request.dbsession.execute(
            select(approvals.ApprovalRequest)
            .where(approvals.ApprovalRequest.requester_id == uid)
            .order_by(approvals.ApprovalRequest.created_at.desc())
            .limit(50)
        )
        .scalars()
        .all()
    )
    return {
        "title": _("Approvals"),
        "waiting": [approvals.as_dict(request, r, uid) for r, _s in waiting],
        "mine": [approvals.as_dict(request, r) for r in mine],
    }


def _approval(request, approval_id, for_update=False):
    try:
        aid = int(approval_id)
    except (TypeError, ValueError):
        raise HTTPNotFound() from None
    req = (approvals.load_for_update(request, aid) if for_update
           else request.dbsession.get(approvals.ApprovalRequest, aid))
    if req is None or not approvals.visible_to(request, req, request.identity.user.id):
        raise HTTPNotFound()
    return req


def approval_view(request):
    uid = request.identity.user.id
    req = _approval(request, request.matchdict["id"], for_update=request.method == "POST")
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "cancel":
                approvals.cancel(request, req, uid)
                request.session.flash(_("Approval request withdrawn."), "info")
            elif action in ("approve", "reject"):
                step = approvals.actionable_step(request, req, uid)
                if step is None:
                    raise Problem(409, _("Conflict"), _("This approval is not waiting for you."))
                approvals.decide(request, req, step, uid, action == "approve",
                                 request.POST.get("comment", "")[:5000])
                request.session.flash(
                    _("Approved.") if action == "approve" else _("Rejected."), "success"
                )
            else:
                raise HTTPNotFound()
        except Problem as exc:
            request.session.flash(" ".join(_problem_text(request, exc)), "danger")
        return HTTPSeeOther(request.route_url("approval", id=req.id))
    info = approvals.as_dict(request, req, uid)
    et = request.registry.kyklos_entities.get(req.entity)
    users = _users(request, [req.requester_id] + [s.approver_id for s in req.steps]
                   + [s.decided_by_id for s in req.steps])
    record_url = None
    if et is not None and request.has_permission(et.permission("read")):
        record_url = request.route_url("entity.detail", slug=et.slug, id=req.record_id)
    return {
        "title": _("Approval"),
        "a": info,
        "users": users,
        "record_url": record_url,
        "is_requester": req.requester_id == uid,
    }


def approval_link_view(request):
    """A signed link from an e-mail: GET shows what will be decided; the POST (with the
    page's CSRF token) decides. No login needed; the link works once."""
    found = approvals.read_token(request, request.matchdict["token"])
    req = step = None
    if found is not None:
        step_id, actor = found
        step = request.dbsession.get(approvals.ApprovalStep, step_id)
        if step is not None:
            req = (approvals.load_for_update(request, step.request_id)
                   if request.method == "POST" else step.request)
    usable = (
        req is not None
        and step is not None
        and approvals.can_decide(request, req, step, found[1])
    )
    if not usable:
        request.response.status = 410
        return {"title": _("Approval link"), "usable": False, "a": None, "done": None}
    actor = found[1]
    if request.method == "POST":
        choice = request.POST.get("action")
        if choice not in ("approve", "reject"):
            raise HTTPNotFound()
        approvals.decide(request, req, step, actor, choice == "approve",
                         request.POST.get("comment", "")[:5000])
        return {"title": _("Approval link"), "usable": False, "a": None, "done": choice}
    return {
        "title": _("Approval link"),
        "usable": True,
        "a": approvals.as_dict(request, req),
        "done": None,
    }


# --- workflow editor -------------------------------------------------------------------------


def _entity_types(request):
    return sorted(request.registry.kyklos_entities.values(), key=lambda e: str(e.title))


def workflows_view(request):
    rows = []
    overrides = {w.entity: w for w in request.dbsession.execute(select(WorkflowOverride))
                 .scalars()}
    for et in _entity_types(request):
        wf = runtime.get_workflow(request, et.name)
        rows.append({"et": et, "wf": wf, "override": overrides.get(et.name)})
    return {"title": _("Workflows"), "rows": rows}


def _split(text) -> list[str]:
    return [p.strip() for p in str(text or "").replace(";", ",").split(",") if p.strip()]


def parse_levels(text: str) -> dict | None:
    """``any: role:director, manager`` per line -> an approval spec (None when empty)."""
    levels = []
    for line in str(text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        mode, sep, rest = line.partition(":")
        if sep and mode.strip().lower() in ("any", "all"):
            approvers = _split(rest)
            mode = mode.strip().lower()
        else:
            approvers, mode = _split(line), "any"
        levels.append({"approvers": approvers, "mode": mode})
    return {"levels": levels} if levels else None


def format_levels(approval) -> str:
    if approval is None:
        return ""
    return "\n".join(
        f"{lv.mode}: {', '.join(str(a) for a in lv.approvers)}" for lv in approval.levels
    )


def _form_definition(post) -> dict:
    states = []
    for name, title in zip(post.getall("state_name"), post.getall("state_title"), strict=False):
        if name.strip():
            states.append({"name": name.strip(), "title": title.strip()})
    transitions = []
    cols = ("t_name", "t_title", "t_source", "t_target", "t_roles", "t_permission",
            "t_required", "t_levels", "t_notify")
    for values in zip(*(post.getall(c) for c in cols), strict=False):
        row = dict(zip(cols, values, strict=True))
        if not row["t_name"].strip():
            continue
        approval = parse_levels(row["t_levels"])
        if approval is not None:
            approval["notify"] = _split(row["t_notify"])
        transitions.append({
            "name": row["t_name"].strip(),
            "title": row["t_title"].strip(),
            "source": _split(row["t_source"]),
            "target": row["t_target"].strip(),
            "roles": _split(row["t_roles"]),
            "permission": row["t_permission"].strip() or None,
            "required": _split(row["t_required"]),
            "approval": approval,
        })
    return {
        "field": post.get("field", "status").strip() or "status",
        "initial": post.get("initial", "").strip(),
        "states": states,
        "transitions": transitions,
    }


def check_definition(request, et, doc) -> tuple[Workflow | None, list[str]]:
    """Build and validate an edited definition against the database's roles and users."""
    try:
        wf = Workflow.from_dict(et.name, doc)
    except Exception as exc:  # noqa: BLE001 - any malformed input becomes a message
        return None, [str(exc)]
    roles = set(request.dbsession.execute(select(Role.name)).scalars())

    def user_exists(ref):
        return approvals.find_user_ref(request.dbsession, ref) is not None

    return wf, validate(wf, et, roles=roles, users=user_exists)


def save_definition(request, et, wf: Workflow) -> WorkflowOverride:
    db = request.dbsession
    row = db.execute(select(WorkflowOverride).where(WorkflowOverride.entity == et.name)
                     ).scalar_one_or_none()
    if row is None:
        row = WorkflowOverride(entity=et.name, definition=wf.to_dict(), version=1)
        db.add(row)
    else:
        row.definition = wf.to_dict()
        row.version += 1
    row.updated_by_id = request.identity.user.id
    db.flush()
    runtime.forget_workflow(request, et.name)
    return row


def diagram(wf: Workflow | None) -> dict | None:
    """Boxes in a row and arcs between them, for an SVG the template draws."""
    if wf is None or not wf.states:
        return None
    w, gap, y = 120, 50, 110
    pos = {s.name: 20 + i * (w + gap) for i, s in enumerate(wf.states)}
    boxes = [{"x": pos[s.name], "y": y, "w": w, "label": s.label[:18],
              "initial": s.name == wf.initial} for s in wf.states]
    edges = []
    for k, t in enumerate(wf.transitions):
        sources = [s.name for s in wf.states if t.allowed_from(s.name)] if "*" in t.source \
            else [s for s in t.source if s in pos]
        for src in sources:
            if t.target not in pos:
                continue
            x1, x2 = pos[src] + w / 2, pos[t.target] + w / 2
            forward = x2 > x1
            lift = 30 + 12 * (k % 4) + abs(x2 - x1) / 12
            cy = y - lift if forward else y + 40 + lift
            sy = y if forward else y + 40
            edges.append({
                "d": f"M {x1:.0f} {sy} Q {(x1 + x2) / 2:.0f} {cy:.0f} {x2:.0f} {sy}",
                "lx": (x1 + x2) / 2, "ly": (sy + cy) / 2 + (-4 if forward else 10),
                "label": t.label[:20],
            })
    return {"width": 40 + len(wf.states) * (w + gap), "height": y + 200, "boxes": boxes,
            "edges": edges}


def workflow_edit_view(request):
    et = request.registry.kyklos_entities.get(request.matchdict["entity"])
    if et is None:
        raise HTTPNotFound()
    problems: list[str] = []
    wf = runtime.get_workflow(request, et.name)
    if request.method == "POST":
        if request.POST.get("action") == "reset":
            db = request.dbsession
            row = db.execute(select(WorkflowOverride).where(WorkflowOverride.entity == et.name)
                             ).scalar_one_or_none()
            if row is not None:
                db.delete(row)
            request.session.flash(_("The declared workflow applies again."), "info")
            return HTTPSeeOther(request.route_url("workflow.edit", entity=et.name))
        doc = _form_definition(request.POST)
        candidate, problems = check_definition(request, et, doc)
        if not problems:
            save_definition(request, et, candidate)
            request.session.flash(_("Workflow saved."), "success")
            return HTTPSeeOther(request.route_url("workflow.edit", entity=et.name))
        request.response.status = 400
        wf = candidate or wf
    declared = runtime.declared(request.registry).get(et.name)
    text_fields = [f.name for f in et.fields.values()
                   if f.type in ("string", "choice") and not f.custom]
    return {
        "title": _("Workflow: ${t}", mapping={"t": request.localizer.translate(et.title)}),
        "et": et,
        "wf": wf,
        "declared": declared,
        "problems": problems,
        "text_fields": text_fields,
        "format_levels": format_levels,
        "blank_states": 3,
        "blank_transitions": 3,
        "diagram": diagram(wf),
    }


# --- automation rules ------------------------------------------------------------------------


def _rule_doc(post) -> dict:
    def load(key, default):
        raw = post.get(key, "").strip()
        if not raw:
            return default
        try:
            return json.loads(raw)
        except ValueError:
            return {"__invalid__": key}

    trigger = {"kind": post.get("trigger_kind", "")}
    for k in ("field", "transition", "unit", "direction"):
        if post.get(f"trigger_{k}"):
            trigger[k] = post.get(f"trigger_{k}")
    if post.get("trigger_offset", "").strip():
        try:
            trigger["offset"] = float(post.get("trigger_offset"))
        except ValueError:
            trigger["offset"] = -1
    return {
        "entity": post.get("entity", ""),
        "name": post.get("name", ""),
        "enabled": post.get("enabled") == "1",
        "trigger": trigger,
        "conditions": load("conditions", {}),
        "actions": load("actions", []),
    }


def _bad_json(doc) -> dict:
    out = {}
    for key in ("conditions", "actions"):
        value = doc.get(key)
        if isinstance(value, dict) and "__invalid__" in value:
            out[key] = "not valid JSON"
    return out


def rules_view(request):
    db = request.dbsession
    errors: dict = {}
    form = {"enabled": True, "trigger": {"kind": "created"}, "conditions": {}, "actions": []}
    if request.method == "POST":
        doc = _rule_doc(request.POST)
        errors = _bad_json(doc)
        if not errors:
            clean, errors = automation.validate_rule(request, doc)
        if not errors:
            rule = AutomationRule(**clean, created_by_id=request.identity.user.id)
            db.add(rule)
            db.flush()
            request.session.flash(_("Rule created."), "success")
            return HTTPSeeOther(request.route_url("automation.rule", id=rule.id))
        request.response.status = 400
        form = doc
    rules = db.execute(select(AutomationRule).order_by(AutomationRule.entity, AutomationRule.id)
                       ).scalars().all()
    return {
        "title": _("Automation rules"),
        "rules": rules,
        "errors": errors,
        "form": form,
        "entities": _entity_types(request),
        "describe": automation.describe_trigger,
        "dumps": lambda v: json.dumps(v, indent=1, ensure_ascii=False),
        "action_types": automation.action_types(request.registry),
        "rule": None,
        "dry": None,
    }


def rule_view(request):
    db = request.dbsession
    try:
        rule = db.get(AutomationRule, int(request.matchdict["id"]))
    except ValueError:
        rule = None
    if rule is None:
        raise HTTPNotFound()
    errors: dict = {}
    dry = None
    form = rule.as_dict()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "delete":
            db.delete(rule)
            request.session.flash(_("Rule deleted."), "info")
            return HTTPSeeOther(request.route_url("automation.rules"))
        if action == "dry-run":
            et = request.registry.kyklos_entities.get(rule.entity)
            try:
                record = service.get_record(request, et, request.POST.get("record_id", ""))
                dry = automation.dry_run(request, rule.as_dict(), et, record)
            except HTTPNotFound:
                errors["record_id"] = "no such record"
        else:
            doc = _rule_doc(request.POST)
            errors = _bad_json(doc)
            if not errors:
                clean, errors = automation.validate_rule(request, doc)
            if not errors:
                automation.apply_rule(rule, clean)
                request.session.flash(_("Rule saved."), "success")
                return HTTPSeeOther(request.route_url("automation.rule", id=rule.id))
            request.response.status = 400
            form = doc
    return {
        "title": rule.name,
        "rule": rule,
        "rules": None,
        "errors": errors,
        "form": form,
        "entities": _entity_types(request),
        "describe": automation.describe_trigger,
        "dumps": lambda v: json.dumps(v, indent=1, ensure_ascii=False),
        "action_types": automation.action_types(request.registry),
        "dry": dry,
    }


def includeme(config):
    config.add_route("workflow.transition", r"/workflow/{slug}/{id:\d+}/transitions/{name}")
    config.add_view(transition_view, route_name="workflow.transition",
                    renderer=TPL + "workflow_transition.pt")
    config.add_route("approvals", "/approvals")
    config.add_view(approvals_inbox, route_name="approvals", renderer=TPL + "approvals.pt")
    config.add_route("approval.link", "/approvals/link/{token}")
    config.add_view(approval_link_view, route_name="approval.link",
                    renderer=TPL + "approval_link.pt", permission=NO_PERMISSION_REQUIRED)
    config.add_route("approval", r"/approvals/{id:\d+}")
    config.add_view(approval_view, route_name="approval", renderer=TPL + "approval.pt")
    config.add_route("workflows", "/admin/workflows")
    config.add_view(workflows_view, route_name="workflows", renderer=TPL + "workflows.pt",
                    permission=MANAGE)
    config.add_route("workflow.edit", "/admin/workflows/{entity}")
    config.add_view(workflow_edit_view, route_name="workflow.edit",
                    renderer=TPL + "workflow_edit.pt", permission=MANAGE)
    config.add_route("automation.rules", "/admin/automation")
    config.add_view(rules_view, route_name="automation.rules",
                    renderer=TPL + "automation_rules.pt", permission=MANAGE)
    config.add_route("automation.rule", r"/admin/automation/{id:\d+}")
    config.add_view(rule_view, route_name="automation.rule",
                    renderer=TPL + "automation_rules.pt", permission=MANAGE)


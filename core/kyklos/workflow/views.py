"""Web pages: transition forms, the approvals inbox and signed approval links and the
workflow editor (the automation rule builder is in :mod:`kyklos.workflow.rules_views`).
Every state change is a POST with a CSRF token; GET never changes anything."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import select

from kyklos.entities import service
from kyklos.i18n import LANGUAGES, _, format_datetime
from kyklos.problem import Problem
from kyklos.security.models import Role, User
from kyklos.workflow import MANAGE, approvals, runtime
from kyklos.workflow.definitions import Workflow
from kyklos.workflow.models import WorkflowOverride

TPL = "kyklos:web/templates/"
INPUT_TYPES = {
    "date": "date",
    "datetime": "datetime-local",
    "integer": "number",
    "decimal": "number",
    "email": "email",
    "url": "url",
}


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
                request,
                et,
                record,
                t.name,
                data=data,
                comment=request.POST.get("comment", "")[:5000],
                source="ui",
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
                    _("Done: ${s}", mapping={"s": runtime.state_title(request, wf, outcome.state)}),
                    "success",
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
        "values": {
            f.name: request.POST.get(f.name, getattr(record, f.name, "") or "") for f in fields
        },
        "input_type": lambda f: INPUT_TYPES.get(f.type, "text"),
        "errors": errors,
        "messages": messages,
        "refused": reason,
        "back": back,
        "possible": t.allowed_from(runtime.current_state(wf, record)),
    }


def steps_view(request):
    """Tick or untick a step of the record's checklist (WF-01), then back to the record."""
    et = service.get_entity_type(request, request.matchdict["slug"])
    record = service.get_record(request, et, request.matchdict["id"])
    try:
        runtime.tick(
            request, et, record, request.POST.get("step", ""), request.POST.get("done") == "1"
        )
    except Problem as exc:
        request.session.flash(" ".join(_problem_text(request, exc)), "danger")
    return HTTPSeeOther(request.route_url("entity.detail", slug=et.slug, id=record.id))


# --- approvals -------------------------------------------------------------------------------


def _users(request, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {
        u.id: u for u in request.dbsession.execute(select(User).where(User.id.in_(ids))).scalars()
    }


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
    # a deputy sees whose approval each one is (SEC-03: it waits for the absent person)
    absent = _users(request, {s.approver_id for _r, s in waiting if s.approver_id != uid})
    rows = []
    for r, s in waiting:
        row = approvals.as_dict(request, r, uid)
        user = absent.get(s.approver_id)
        row["for_name"] = user.title if user is not None else None
        rows.append(row)
    return {
        "title": _("Approvals"),
        "waiting": rows,
        "mine": [
            dict(
                approvals.as_dict(request, r),
                state_text=approvals.state_title(request, r.state),
                asked=format_datetime(request, r.created_at, "short"),
            )
            for r in mine
        ],
    }


def _approval(request, approval_id, for_update=False):
    try:
        aid = int(approval_id)
    except (TypeError, ValueError):
        raise HTTPNotFound() from None
    req = (
        approvals.load_for_update(request, aid)
        if for_update
        else request.dbsession.get(approvals.ApprovalRequest, aid)
    )
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
                approvals.decide(
                    request,
                    req,
                    step,
                    uid,
                    action == "approve",
                    request.POST.get("comment", "")[:5000],
                )
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
    users = _users(
        request,
        [req.requester_id]
        + [s.approver_id for s in req.steps]
        + [s.decided_by_id for s in req.steps],
    )
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
            req = (
                approvals.load_for_update(request, step.request_id)
                if request.method == "POST"
                else step.request
            )
    usable = (
        req is not None and step is not None and approvals.can_decide(request, req, step, found[1])
    )
    if not usable:
        request.response.status = 410
        return {"title": _("Approval link"), "usable": False, "a": None, "done": None}
    actor = found[1]
    if request.method == "POST":
        choice = request.POST.get("action")
        if choice not in ("approve", "reject"):
            raise HTTPNotFound()
        approvals.decide(
            request, req, step, actor, choice == "approve", request.POST.get("comment", "")[:5000]
        )
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
    overrides = {w.entity: w for w in request.dbsession.execute(select(WorkflowOverride)).scalars()}
    for et in _entity_types(request):
        wf = runtime.get_workflow(request, et.name)
        rows.append(
            {
                "et": et,
                "wf": wf,
                "override": overrides.get(et.name),
                "states": [
                    runtime.state_title(request, wf, s.name) for s in (wf.states if wf else ())
                ],
            }
        )
    return {"title": _("Workflows"), "rows": rows, "any_workflow": any(r["wf"] for r in rows)}


def _split(text) -> list[str]:
    return [p.strip() for p in str(text or "").replace(";", ",").split(",") if p.strip()]


def parse_levels(text: str) -> dict | None:
    """``any: role:director, manager`` per line -> an approval spec (None when empty).
    Kept for callers of the former text syntax; the editor sends rows."""
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


_GREEK = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώϊϋΐΰ",
        [
            "a",
            "v",
            "g",
            "d",
            "e",
            "z",
            "i",
            "th",
            "i",
            "k",
            "l",
            "m",
            "n",
            "x",
            "o",
            "p",
            "r",
            "s",
            "s",
            "t",
            "y",
            "f",
            "ch",
            "ps",
            "o",
            "a",
            "e",
            "i",
            "i",
            "o",
            "y",
            "o",
            "i",
            "y",
            "i",
            "y",
        ],
        strict=True,
    )
)


def machine_name(title: str, taken=(), prefix="s") -> str:
    """A stored name for a new state, step or transition, made from its title (people
    never type one): lower-case ASCII, '_' between words, unique among ``taken``."""
    text = "".join(_GREEK.get(c, c) for c in str(title or "").lower())
    text = "".join(c if c.isascii() and c.isalnum() else "_" for c in text)
    base = "_".join(p for p in text.split("_") if p)[:40] or prefix
    if not base[0].isalpha():
        base = f"{prefix}_{base}"[:40]
    name, n = base, 2
    while name in taken:
        name, n = f"{base}_{n}", n + 1
    return name


def _rows(post, prefix) -> list[int]:
    """Indexes of the rows ``<prefix><i>_...`` the form sent, in order."""
    seen = set()
    for key in post:
        if key.startswith(prefix) and "_" in key:
            head = key[len(prefix) :].split("_", 1)[0]
            if head.isdigit():
                seen.add(int(head))
    return sorted(seen)


def _known_code(title: str, known: dict, localizer=None) -> str | None:
    """The declared value a typed title names (its code, English or translated
    title, compared without case), so "Κερδισμένη" becomes ``won``, not ``kerdismeni``."""
    wanted = title.casefold()
    for code, label in known.items():
        names = {code.casefold(), str(getattr(label, "default", None) or label).casefold()}
        if localizer is not None:
            names.add(localizer.translate(label).casefold())
        if wanted in names:
            return code
    return None


def _form_definition(post, known: dict | None = None, localizer=None) -> dict:
    """The editor's rows (drop-downs, pickers, level rows) -> a definition. ``known``:
    the field's declared values ``{code: label}`` a new state may be picked from."""
    known = known or {}
    states, taken = [], set()
    for i in _rows(post, "s"):
        g = lambda k, i=i: post.get(f"s{i}_{k}", "").strip()  # noqa: E731
        title = g("title")
        picked = g("known") if g("known") in known else ""
        if post.get(f"s{i}_remove") or not (g("name") or title or picked):
            continue
        if picked and not g("name"):
            # one of the field's values: its own code, titled as the field titles it
            title = title or str(getattr(known[picked], "default", None) or known[picked])
        name = g("name") or picked or _known_code(title, known, localizer)
        if name is None or name in taken:
            name = machine_name(title, taken)
        taken.add(name)
        steps, step_names = [], set()
        for line in post.get(f"s{i}_steps", "").splitlines():
            if line.strip():
                sname = machine_name(line.strip(), step_names, "step")
                step_names.add(sname)
                steps.append({"name": sname, "title": line.strip()[:200]})
        titles = {loc: g(f"title_{loc}") for loc in LANGUAGES if g(f"title_{loc}")}
        states.append({"name": name, "title": title, "titles": titles, "steps": steps})
    by_title = {s["title"]: s["name"] for s in states}
    transitions, tnames = [], set()
    for i in _rows(post, "t"):
        g = lambda k, i=i: post.get(f"t{i}_{k}", "").strip()  # noqa: E731
        if post.get(f"t{i}_remove") or not (g("name") or g("title")):
            continue
        name = g("name") or machine_name(g("title"), tnames, "step")
        tnames.add(name)
        levels = []
        for j in sorted(
            {
                int(k.split("_")[1][1:])
                for k in post
                if k.startswith(f"t{i}_l") and k.split("_")[1][1:].isdigit()
            }
        ):
            who = post.getall(f"t{i}_l{j}_approvers") + [
                f"user:{u}" for u in post.getall(f"t{i}_l{j}_users") if u.strip()
            ]
            if who:
                levels.append({"approvers": who, "mode": post.get(f"t{i}_l{j}_mode", "any")})
        approval = None
        if levels:
            approval = {
                "levels": levels,
                "notify": post.getall(f"t{i}_notify")
                + [f"user:{u}" for u in post.getall(f"t{i}_notify_users") if u.strip()],
            }
        transitions.append(
            {
                "name": name,
                "title": g("title"),
                "source": [by_title.get(v, v) for v in post.getall(f"t{i}_source")],
                "target": by_title.get(g("target"), g("target")),
                "roles": post.getall(f"t{i}_roles"),
                "permission": g("permission") or None,
                "required": post.getall(f"t{i}_required"),
                "approval": approval,
            }
        )
    initial = post.get("initial", "").strip()
    return {
        "field": post.get("field", "status").strip() or "status",
        "initial": by_title.get(initial, initial),
        "states": states,
        "transitions": transitions,
    }


def check_definition(request, et, doc) -> tuple[Workflow | None, list[str]]:
    """Build an edited definition and check it against the database's roles and users
    and the entity type's other rules (:func:`kyklos.workflow.runtime.check`)."""
    try:
        wf = Workflow.from_dict(et.name, doc)
    except Exception as exc:  # noqa: BLE001 - any malformed input becomes a message
        return None, [str(exc)]
    roles = set(request.dbsession.execute(select(Role.name)).scalars())

    def user_exists(ref):
        return approvals.find_user_ref(request.dbsession, ref) is not None

    return wf, runtime.check(request, et, wf, roles=roles, users=user_exists)


def save_definition(request, et, wf: Workflow) -> WorkflowOverride:
    db = request.dbsession
    row = db.execute(
        select(WorkflowOverride).where(WorkflowOverride.entity == et.name)
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


def diagram(wf: Workflow | None, state_label=None, t_label=None) -> dict | None:
    """Boxes in a row and arcs between them, for an SVG the template draws; labels in
    the user's language when ``state_label``/``t_label`` are given."""
    if wf is None or not wf.states:
        return None
    w, gap, y = 120, 50, 110
    pos = {s.name: 20 + i * (w + gap) for i, s in enumerate(wf.states)}
    state_label = state_label or (lambda name: wf.state_label(name))
    t_label = t_label or (lambda t: t.label)
    boxes = [
        {
            "x": pos[s.name],
            "y": y,
            "w": w,
            "label": state_label(s.name)[:18],
            "initial": s.name == wf.initial,
            "steps": len(s.steps),
        }
        for s in wf.states
    ]
    edges = []
    for k, t in enumerate(wf.transitions):
        sources = (
            [s.name for s in wf.states if t.allowed_from(s.name)]
            if "*" in t.source
            else [s for s in t.source if s in pos]
        )
        for src in sources:
            if t.target not in pos:
                continue
            x1, x2 = pos[src] + w / 2, pos[t.target] + w / 2
            forward = x2 > x1
            lift = 30 + 12 * (k % 4) + abs(x2 - x1) / 12
            cy = y - lift if forward else y + 40 + lift
            sy = y if forward else y + 40
            edges.append(
                {
                    "d": f"M {x1:.0f} {sy} Q {(x1 + x2) / 2:.0f} {cy:.0f} {x2:.0f} {sy}",
                    "lx": (x1 + x2) / 2,
                    "ly": (sy + cy) / 2 + (-4 if forward else 10),
                    "label": (t_label(t) + (" ✓" if t.approval else ""))[:22],
                }
            )
    return {
        "width": 40 + len(wf.states) * (w + gap),
        "height": y + 200,
        "boxes": boxes,
        "edges": edges,
    }


def _editor_options(request, et, wf) -> dict:
    """The lists the editor's drop-downs offer, in words."""
    tr = request.localizer.translate
    roles = request.dbsession.execute(select(Role.name, Role.title).order_by(Role.name)).all()
    role_opts = [(n, tr(_(t)) if t else n) for n, t in roles]
    approvers = [
        ("manager", tr(_("The requester's line manager"))),
        ("department_head", tr(_("The head of the requester's department"))),
    ]
    approvers += [
        (f"role:{n}", tr(_("Everyone with the role ${r}", mapping={"r": t}))) for n, t in role_opts
    ]
    fields = sorted(
        (
            (f.name, tr(f.title) if f.title else f.name)
            for f in et.fields.values()
            if f.form and not f.readonly and f.type != "json"
        ),
        key=lambda x: x[1],
    )
    status_fields = [
        (f.name, tr(f.title) if f.title else f.name)
        for f in et.fields.values()
        if f.type in ("string", "choice") and not f.custom and not f.virtual
    ]
    refs = []
    for t in wf.transitions if wf else ():
        if t.approval:
            refs += [a for lv in t.approval.levels for a in lv.approvers] + list(t.approval.notify)
    ids = set()
    for a in refs:
        if a.kind == "user" and a.value:
            u = approvals.find_user_ref(request.dbsession, a.value)
            if u is not None:
                ids.add(u.id)
    users = {str(u.id): u.title for u in _users(request, ids).values()}
    have = {st.name for st in (wf.states if wf else ())}
    known = [
        (code, tr(label))
        for code, label in runtime.known_values(request, wf, et).items()
        if code not in have
    ]
    return {
        "roles": role_opts,
        "approvers": approvers,
        "fields": fields,
        "status_fields": status_fields,
        "users": users,
        "known_states": known,
    }


def _user_values(request, approvers) -> list[str]:
    out = []
    for a in approvers:
        if a.kind == "user" and a.value:
            u = approvals.find_user_ref(request.dbsession, a.value)
            out.append(str(u.id) if u is not None else a.value)
    return out


def workflow_edit_view(request):
    et = request.registry.kyklos_entities.get(request.matchdict["entity"])
    if et is None:
        raise HTTPNotFound()
    problems: list[str] = []
    wf = runtime.get_workflow(request, et.name)
    checked = False
    if request.method == "POST":
        if request.POST.get("action") == "reset":
            db = request.dbsession
            row = db.execute(
                select(WorkflowOverride).where(WorkflowOverride.entity == et.name)
            ).scalar_one_or_none()
            if row is not None:
                db.delete(row)
            request.session.flash(_("The declared workflow applies again."), "info")
            return HTTPSeeOther(request.route_url("workflow.edit", entity=et.name))
        doc = _form_definition(
            request.POST, runtime.known_values(request, wf, et), request.localizer
        )
        candidate, problems = check_definition(request, et, doc)
        if not problems and request.POST.get("action") != "preview":
            save_definition(request, et, candidate)
            request.session.flash(_("Workflow saved."), "success")
            return HTTPSeeOther(request.route_url("workflow.edit", entity=et.name))
        checked = not problems
        if problems and request.POST.get("action") != "preview":
            request.response.status = 400
        wf = candidate or wf
    declared = runtime.declared(request.registry).get(et.name)
    tr = request.localizer.translate
    return {
        "title": _("Workflow: ${t}", mapping={"t": tr(et.title)}),
        "et": et,
        "wf": wf,
        "declared": declared,
        "problems": problems,
        "checked": checked,
        "opts": _editor_options(request, et, wf),
        "languages": [(k, v) for k, v in LANGUAGES.items() if k != "en"],
        "state_title": lambda name: runtime.state_title(request, wf, name),
        "t_title": lambda t: tr(_(t.label)),
        "user_values": lambda approvers: _user_values(request, approvers),
        "blank_states": 2,
        "blank_transitions": 2,
        "diagram": diagram(
            wf, lambda name: runtime.state_title(request, wf, name), lambda t: tr(_(t.label))
        ),
    }


def includeme(config):
    config.add_route("workflow.transition", r"/workflow/{slug}/{id:\d+}/transitions/{name}")
    config.add_view(
        transition_view, route_name="workflow.transition", renderer=TPL + "workflow_transition.pt"
    )
    config.add_route("workflow.steps", r"/workflow/{slug}/{id:\d+}/steps", request_method="POST")
    config.add_view(steps_view, route_name="workflow.steps")
    config.add_route("approvals", "/approvals")
    config.add_view(approvals_inbox, route_name="approvals", renderer=TPL + "approvals.pt")
    config.add_route("approval.link", "/approvals/link/{token}")
    config.add_view(
        approval_link_view,
        route_name="approval.link",
        renderer=TPL + "approval_link.pt",
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route("approval", r"/approvals/{id:\d+}")
    config.add_view(approval_view, route_name="approval", renderer=TPL + "approval.pt")
    config.add_route("workflows", "/admin/workflows")
    config.add_view(
        workflows_view, route_name="workflows", renderer=TPL + "workflows.pt", permission=MANAGE
    )
    config.add_route("workflow.edit", "/admin/workflows/{entity}")
    config.add_view(
        workflow_edit_view,
        route_name="workflow.edit",
        renderer=TPL + "workflow_edit.pt",
        permission=MANAGE,
    )

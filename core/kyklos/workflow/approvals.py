"""Approvals (WF-02): a transition that needs approval waits, level by level, for its
approvers; the last approval applies it.

Each level has one or several approvers, resolved when the request opens: by role, by
name, or by the org chart (the requester's line manager, the head of their top
department). ``any``: one approval completes the level; ``all``: every approver must
approve. One rejection ends the request. The requester never approves their own
request. A deputy (delegation, SEC-03) decides for an absent approver. Approvers get a
notification and an e-mail with signed single-use links; the requester, the record's
owner and the listed beneficiaries hear the outcome.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import logging

from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.security.models import Department, Role, User, UserRole
from kyklos.sitesettings import public_base_url
from kyklos.workflow.definitions import ApprovalSpec, Approver
from kyklos.workflow.models import (
    APPROVED,
    CANCELLED,
    OBSOLETE,
    PENDING,
    REJECTED,
    SKIPPED,
    ApprovalRequest,
    ApprovalStep,
)

log = logging.getLogger("kyklos.workflow.approvals")

#: an approval's or a step's state in words
STATE_TITLES = {
    PENDING: _("approval-state-pending", default="waiting"),
    APPROVED: _("approval-state-approved", default="approved"),
    REJECTED: _("approval-state-rejected", default="rejected"),
    CANCELLED: _("approval-state-cancelled", default="withdrawn"),
    OBSOLETE: _("approval-state-obsolete", default="no longer needed"),
    SKIPPED: _("approval-state-skipped", default="skipped"),
}


def state_title(request, state: str) -> str:
    title = STATE_TITLES.get(state)
    return request.localizer.translate(title) if title is not None else state


LINK_SALT = b"kyklos.approval-link.v1"


# --- who approves --------------------------------------------------------------------------


def _department(db, dep_id):
    return db.get(Department, dep_id) if dep_id else None


def line_manager(db, user: User) -> int | None:
    """The manager of the user's department, or of the nearest department above whose
    manager is someone else (a manager's manager is one level up)."""
    dep = _department(db, user.department_id)
    while dep is not None:
        if dep.manager_id and dep.manager_id != user.id:
            return dep.manager_id
        dep = _department(db, dep.parent_id)
    return None


def department_head(db, user: User) -> int | None:
    """The manager of the top department of the user's branch of the org chart."""
    dep = _department(db, user.department_id)
    if dep is None:
        return None
    ids = [int(p) for p in (dep.path or "").strip("/").split("/") if p.isdigit()]
    top = _department(db, ids[0]) if ids else dep
    while top is not None and top.parent_id is not None:
        top = _department(db, top.parent_id)
    return top.manager_id if top is not None else None


def find_user_ref(db, ref) -> User | None:
    ref = str(ref or "").strip()
    if ref.isdigit():
        return db.get(User, int(ref))
    return db.execute(select(User).where(User.email == ref.lower())).scalar_one_or_none()


def resolve(db, approver: Approver, requester: User | None) -> list[int]:
    """User ids an approver entry stands for (active users only)."""
    kind = approver.kind
    ids: list[int] = []
    if kind == "role":
        ids = list(
            db.execute(
                select(User.id)
                .join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.name == approver.value, User.is_active.is_(True))
                .order_by(User.id)
            ).scalars()
        )
    elif kind == "user":
        u = find_user_ref(db, approver.value)
        ids = [u.id] if u is not None and u.is_active else []
    elif kind == "manager" and requester is not None:
        m = line_manager(db, requester)
        ids = [m] if m else []
    elif kind == "department_head" and requester is not None:
        h = department_head(db, requester)
        ids = [h] if h else []
    if not ids:
        return []
    active = set(
        db.execute(select(User.id).where(User.id.in_(ids), User.is_active.is_(True))).scalars()
    )
    return [i for i in ids if i in active]


def delegators(request, actor_id: int, entity: str) -> set[int]:
    """Users whose approvals ``actor_id`` may decide now (their active delegations to
    the actor that cover ``entity``)."""
    from kyklos.security.delegation import active_delegations, rights_of

    out = set()
    for d in active_delegations(request.dbsession, actor_id):
        rights = rights_of(request.registry, d)
        if rights.types is None or entity in rights.types:
            out.add(d.from_user_id)
    return out


def deputies(request, user_id: int, entity: str) -> set[int]:
    """Users deciding for ``user_id`` now (active delegations from them covering
    ``entity``)."""
    from kyklos.security.delegation import rights_of
    from kyklos.security.models import Delegation

    now = utcnow()
    rows = request.dbsession.execute(
        select(Delegation).where(
            Delegation.from_user_id == user_id,
            Delegation.ended_at.is_(None),
            Delegation.starts_at <= now,
            Delegation.ends_at > now,
        )
    ).scalars()
    out = set()
    for d in rows:
        types = rights_of(request.registry, d).types
        if types is None or entity in types:
            out.add(d.to_user_id)
    return out


# --- opening -------------------------------------------------------------------------------


def open_request(
    request, et, record, wf, t, data: dict, comment: str, requester: User | None = None
) -> ApprovalRequest:
    """Open an approval for transition ``t`` on ``record``; create every level's steps
    now (the approvers as of now) and notify the first level. Raises Problem 400 when a
    level has no approver. ``requester`` defaults to the current user."""
    db = request.dbsession
    requester = requester or request.identity.user
    spec: ApprovalSpec = t.approval
    levels = []
    for i, level in enumerate(spec.levels, 1):
        ids: list[int] = []
        for a in level.approvers:
            ids += [u for u in resolve(db, a, requester) if u != requester.id]
        ids = list(dict.fromkeys(ids))
        if not ids:
            raise Problem(
                400,
                _("No approver"),
                _("Nobody can approve level ${n} of this step.", mapping={"n": i}),
            )
        levels.append(ids)
    doc = spec.to_dict()
    doc["target"] = t.target
    doc["title"] = t.label
    req = ApprovalRequest(
        entity=et.name,
        record_id=record.id,
        transition=t.name,
        requester_id=requester.id,
        state=PENDING,
        level=1,
        spec=doc,
        data=_jsonable(data),
        comment=comment or "",
        created_at=utcnow(),
    )
    db.add(req)
    db.flush()
    for i, ids in enumerate(levels, 1):
        for uid in ids:
            db.add(ApprovalStep(request_id=req.id, level=i, approver_id=uid, decision=PENDING))
    db.flush()
    db.refresh(req)
    _notify_level(request, req, et, record)
    return req


def _jsonable(data: dict) -> dict:
    try:
        json.dumps(data)
        return dict(data)
    except TypeError:
        return {k: str(v) for k, v in data.items()}


# --- deciding ------------------------------------------------------------------------------


def can_decide(request, req: ApprovalRequest, step: ApprovalStep, actor_id: int) -> bool:
    if req.state != PENDING or step.level != req.level or step.decision != PENDING:
        return False
    return step.approver_id == actor_id or step.approver_id in delegators(
        request, actor_id, req.entity
    )


def actionable_step(request, req: ApprovalRequest, actor_id: int) -> ApprovalStep | None:
    """The step of the current level the actor may decide (their own first)."""
    steps = [s for s in req.steps if can_decide(request, req, s, actor_id)]
    steps.sort(key=lambda s: s.approver_id != actor_id)
    return steps[0] if steps else None


def load_for_update(request, approval_id) -> ApprovalRequest | None:
    # Row lock on PostgreSQL: two approvers deciding at once are serialised; SQLite
    # serialises writers anyway.
    return request.dbsession.execute(
        select(ApprovalRequest).where(ApprovalRequest.id == approval_id).with_for_update()
    ).scalar_one_or_none()


def decide(
    request,
    req: ApprovalRequest,
    step: ApprovalStep,
    actor_id: int,
    approve: bool,
    comment: str = "",
) -> ApprovalRequest:
    """Record ``actor_id``'s decision on ``step``; advance, apply or end the request."""
    if not can_decide(request, req, step, actor_id):
        raise Problem(409, _("Conflict"), _("This approval is not waiting for you."))
    if not isinstance(comment, str) or len(comment) > 5000:
        raise Problem(400, _("Invalid data"), errors={"comment": _("At most 5000 characters.")})
    now = utcnow()
    step.decision = APPROVED if approve else REJECTED
    step.comment = comment
    step.decided_at = now
    step.decided_by_id = actor_id
    et = request.registry.kyklos_entities.get(req.entity)
    record = _record(request, et, req)
    if not approve:
        _close_level(req, now, later_too=True)
        req.state = REJECTED
        req.decided_at = now
        request.dbsession.flush()
        _notify_outcome(request, req, et, record)
        return req
    level_steps = [s for s in req.steps if s.level == req.level]
    mode = _level_mode(req, req.level)
    done = mode == "any" or all(s.decision == APPROVED for s in level_steps)
    if not done:
        request.dbsession.flush()
        return req
    _close_level(req, now)
    if req.level < _level_count(req):
        req.level += 1
        request.dbsession.flush()
        _notify_level(request, req, et, record)
        return req
    _finish(request, req, et, record, now)
    return req


def _level_mode(req, level) -> str:
    levels = (req.spec or {}).get("levels") or []
    return levels[level - 1].get("mode", "any") if level <= len(levels) else "any"


def _level_count(req) -> int:
    return len((req.spec or {}).get("levels") or [])


def _close_level(req, now, later_too=False):
    """Mark the still-pending steps of the current level (and of the levels after it,
    when the request ends) as not needed."""
    for s in req.steps:
        if (s.level == req.level or (later_too and s.level > req.level)) and s.decision == PENDING:
            s.decision = SKIPPED
            s.decided_at = now


def _record(request, et, req):
    if et is None:
        return None
    return request.dbsession.get(et.model, req.record_id)


def _finish(request, req, et, record, now):
    """Every level approved: apply the transition, if the record still allows it."""
    from kyklos.workflow import runtime

    _close_level(req, now, later_too=True)
    req.decided_at = now
    wf = runtime.get_workflow(request, req.entity) if et is not None else None
    t = wf.transition(req.transition) if wf else None
    deleted = record is None or getattr(record, "deleted_at", None) is not None
    if t is None or deleted or not t.allowed_from(runtime.current_state(wf, record)):
        req.state = OBSOLETE
        request.dbsession.flush()
        _notify_outcome(request, req, et, record)
        return
    req.state = APPROVED
    request.dbsession.flush()
    runtime.apply(
        request,
        et,
        record,
        wf,
        t,
        dict(req.data or {}),
        req.comment,
        source="ui" if request.environ.get("kyklos.job_id") is None else "job",
        system=True,
        approval_id=req.id,
        user_id=req.requester_id,
    )
    _notify_outcome(request, req, et, record)


def cancel(request, req: ApprovalRequest, actor_id: int) -> None:
    if req.state != PENDING:
        raise Problem(409, _("Conflict"), _("This approval is no longer pending."))
    if req.requester_id != actor_id and not request.has_permission("kyklos.admin"):
        raise Problem(403, _("Forbidden"), _("Only the requester may withdraw it."))
    now = utcnow()
    for s in req.steps:
        if s.decision == PENDING:
            s.decision = SKIPPED
            s.decided_at = now
    req.state = CANCELLED
    req.decided_at = now
    request.dbsession.flush()


# --- who may see ---------------------------------------------------------------------------


def visible_to(request, req: ApprovalRequest, user_id: int) -> bool:
    if request.has_permission("kyklos.admin") or req.requester_id == user_id:
        return True
    mine = {user_id} | delegators(request, user_id, req.entity)
    if any(s.approver_id in mine for s in req.steps):
        return True
    et = request.registry.kyklos_entities.get(req.entity)
    if et is None or not request.has_permission(et.permission("read")):
        return False
    from kyklos.entities import service

    stmt = service.visible_select(request, et).where(et.model.id == req.record_id)
    return request.dbsession.execute(stmt.with_only_columns(et.model.id)).first() is not None


def inbox(request, user_id: int) -> list[tuple[ApprovalRequest, ApprovalStep]]:
    """Pending approvals waiting for ``user_id`` (or for someone they deputise for)."""
    from kyklos.security.delegation import active_delegations

    db = request.dbsession
    behalf = {d.from_user_id for d in active_delegations(db, user_id)}
    rows = db.execute(
        select(ApprovalRequest, ApprovalStep)
        .join(ApprovalStep, ApprovalStep.request_id == ApprovalRequest.id)
        .where(
            ApprovalRequest.state == PENDING,
            ApprovalStep.level == ApprovalRequest.level,
            ApprovalStep.decision == PENDING,
            ApprovalStep.approver_id.in_({user_id} | behalf),
        )
        .order_by(ApprovalRequest.created_at, ApprovalRequest.id)
    ).all()
    out, seen = [], set()
    cache: dict[str, set[int]] = {}
    for req, step in rows:
        if req.id in seen:
            continue
        if step.approver_id != user_id:
            # A delegation counts only for the entity types it covers.
            if req.entity not in cache:
                cache[req.entity] = delegators(request, user_id, req.entity)
            if step.approver_id not in cache[req.entity]:
                continue
        out.append((req, step))
        seen.add(req.id)
    return out


def as_dict(request, req: ApprovalRequest, actor_id: int | None = None) -> dict:
    et = request.registry.kyklos_entities.get(req.entity)
    record = _record(request, et, req)
    step = actionable_step(request, req, actor_id) if actor_id else None
    return {
        "id": req.id,
        "entity": req.entity,
        "record_id": req.record_id,
        "record_title": et.record_title(record) if (et and record is not None) else None,
        "transition": req.transition,
        "title": (req.spec or {}).get("title") or req.transition,
        "target": (req.spec or {}).get("target"),
        "state": req.state,
        "level": req.level,
        "levels": _level_count(req),
        "requester_id": req.requester_id,
        "comment": req.comment,
        "data": req.data,
        "created_at": req.created_at.isoformat(),
        "decided_at": req.decided_at.isoformat() if req.decided_at else None,
        "can_decide": step is not None,
        "steps": [
            {
                "level": s.level,
                "approver_id": s.approver_id,
                "decision": s.decision,
                "comment": s.comment,
                "decided_at": s.decided_at.isoformat() if s.decided_at else None,
                "decided_by_id": s.decided_by_id,
            }
            for s in req.steps
        ],
    }


# --- signed links --------------------------------------------------------------------------


def _secret(request) -> bytes:
    secret = request.registry.settings.get("kyklos.secret") or ""
    return hashlib.sha256(LINK_SALT + secret.encode()).digest() if secret else b""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def link_token(request, step: ApprovalStep, actor_id: int, days: float | None = None) -> str:
    """A token letting ``actor_id`` decide ``step`` once, until it expires
    (``kyklos.approvals.link_days``, default 7)."""
    key = _secret(request)
    if not key:
        raise ValueError("kyklos.secret is not set: approval links cannot be signed")
    days = (
        days
        if days is not None
        else float(request.registry.settings.get("kyklos.approvals.link_days") or 7)
    )
    exp = int((utcnow() + dt.timedelta(days=days)).timestamp())
    payload = _b64(json.dumps({"s": step.id, "a": actor_id, "e": exp}).encode())
    sig = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{sig}"


def read_token(request, token: str) -> tuple[int, int] | None:
    """``(step id, actor id)`` of a valid, unexpired token; None otherwise. Single use
    follows from the step: once decided, no token for it works."""
    key = _secret(request)
    if not key or not isinstance(token, str) or len(token) > 500 or token.count(".") != 1:
        return None
    payload, sig = token.split(".")
    expected = _b64(hmac.new(key, payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(sig, expected):
        return None
    try:
        doc = json.loads(_unb64(payload))
        step_id, actor, exp = int(doc["s"]), int(doc["a"]), int(doc["e"])
    except (ValueError, KeyError, TypeError):
        return None
    if exp < utcnow().timestamp():
        return None
    return step_id, actor


# --- notifications -------------------------------------------------------------------------


def _titles(request, req, et, record):
    rtitle = et.record_title(record) if (et and record is not None) else f"#{req.record_id}"
    step = (req.spec or {}).get("title") or req.transition
    return rtitle, step


def _notify_level(request, req, et, record):
    """Tell the current level's approvers (and their deputies): in-app, and by e-mail
    with signed approve/reject links."""
    from kyklos.mail import MailError, send_mail
    from kyklos.notifications import notify

    rtitle, step = _titles(request, req, et, record)
    requester = request.dbsession.get(User, req.requester_id) if req.requester_id else None
    who = requester.title if requester else "?"
    title = _("Approval needed: ${step} for ${record}", mapping={"step": step, "record": rtitle})
    url = request.route_path("approval", id=req.id)
    for s in req.steps:
        if s.level != req.level or s.decision != PENDING:
            continue
        uids = {s.approver_id} | deputies(request, s.approver_id, req.entity)
        # One call: notify's delegation hand-over then knows the deputies have theirs.
        notify(
            request,
            sorted(uids),
            title,
            _("Requested by ${who}.", mapping={"who": who}),
            url,
            kind="approval",
            email=False,
        )
        for uid in uids:
            user = request.dbsession.get(User, uid)
            if user is None or not user.email:
                continue
            body = _email_body(request, req, s, uid, who, rtitle, step)
            try:
                send_mail(request, user.email, request.localizer.translate(title), body)
            except MailError:
                log.warning("approval e-mail to user %s not sent: bad address", uid)


def _email_body(request, req, step, uid, who, rtitle, step_title) -> str:
    base = public_base_url(request)
    t = request.localizer.translate
    lines = [
        t(
            _(
                "${who} asks for approval: ${step} for ${record}.",
                mapping={"who": who, "step": step_title, "record": rtitle},
            )
        ),
    ]
    if req.comment:
        lines += ["", req.comment]
    try:
        token = link_token(request, step, uid)
        lines += [
            "",
            t(_("Approve or reject:")),
            base + request.route_path("approval.link", token=token),
        ]
    except ValueError:
        pass
    lines += ["", t(_("Open in Kyklos:")), base + request.route_path("approval", id=req.id)]
    return "\n".join(lines) + "\n"


def beneficiaries(request, req, record) -> set[int]:
    db = request.dbsession
    requester = db.get(User, req.requester_id) if req.requester_id else None
    out = {req.requester_id} if req.requester_id else set()
    owner = getattr(record, "owner_id", None) if record is not None else None
    if owner:
        out.add(owner)
    for raw in (req.spec or {}).get("notify") or []:
        out.update(resolve(db, Approver.parse(raw), requester))
    return {u for u in out if u}


def _notify_outcome(request, req, et, record):
    from kyklos.notifications import notify

    rtitle, step = _titles(request, req, et, record)
    messages = {
        APPROVED: _("Approved: ${step} for ${record}", mapping={"step": step, "record": rtitle}),
        REJECTED: _("Rejected: ${step} for ${record}", mapping={"step": step, "record": rtitle}),
        OBSOLETE: _(
            "Approved, but no longer possible: ${step} for ${record}",
            mapping={"step": step, "record": rtitle},
        ),
    }
    comments = "\n".join(s.comment for s in req.steps if s.comment)
    notify(
        request,
        sorted(beneficiaries(request, req, record)),
        messages[req.state],
        comments,
        request.route_path("approval", id=req.id),
        kind="approval",
    )

"""Running workflows: which transitions a user may take, taking them, and the hooks
that keep the status field under the workflow's control."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy import select

from kyklos.db import utcnow
from kyklos.entities import RecordError
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.security import rules
from kyklos.workflow import writes
from kyklos.workflow.definitions import Transition, Workflow
from kyklos.workflow.models import PENDING, ApprovalRequest, WorkflowEvent, WorkflowOverride


def declared(registry) -> dict[str, Workflow]:
    return registry.kyklos_workflows


def get_workflow(request, entity: str) -> Workflow | None:
    """The workflow in force for ``entity``: an administrator's edit, else the declared
    one, else None. Memoised per request."""
    cache = request.__dict__.setdefault("_kyklos_workflows", {})
    if entity not in cache:
        row = request.dbsession.execute(
            select(WorkflowOverride).where(WorkflowOverride.entity == entity)
        ).scalar_one_or_none()
        if row is not None:
            cache[entity] = Workflow.from_dict(entity, row.definition, row.version, "database")
        else:
            cache[entity] = declared(request.registry).get(entity)
    return cache[entity]


def forget_workflow(request, entity: str) -> None:
    request.__dict__.setdefault("_kyklos_workflows", {}).pop(entity, None)


def current_state(wf: Workflow, record):
    return getattr(record, wf.field, None)


def user_roles(request) -> set[str]:
    ident = request.identity
    return {r.name for r in ident.user.roles} if ident is not None else set()


def refusal(request, et, record, t: Transition):
    """Why the current user may not take ``t`` on ``record`` (None: they may)."""
    ident = request.identity
    if ident is None:
        return _("Log in first.")
    if not (
        request.has_permission(et.permission("update"))
        and rules.can_access(request, et, record, "update")
    ):
        return _("You may not change this record.")
    if t.permission and not request.has_permission(t.permission):
        return _("You lack the permission this step needs.")
    if t.roles and not ident.is_admin and not (user_roles(request) & set(t.roles)):
        return _("Only ${roles} may do this.", mapping={"roles": ", ".join(t.roles)})
    return None


def pending_approval(request, et, record) -> ApprovalRequest | None:
    return request.dbsession.execute(
        select(ApprovalRequest).where(
            ApprovalRequest.entity == et.name,
            ApprovalRequest.record_id == record.id,
            ApprovalRequest.state == PENDING,
        )
    ).scalar_one_or_none()


@dataclass
class Available:
    transition: Transition
    refused: object = None  # a reason, or None when allowed


def available(request, et, record, include_refused=False) -> list[Available]:
    """The transitions from the record's state, with the reason each is refused."""
    wf = get_workflow(request, et.name)
    if wf is None:
        return []
    state = current_state(wf, record)
    out = []
    for t in wf.from_state(state):
        reason = refusal(request, et, record, t)
        if reason is None or include_refused:
            out.append(Available(t, reason))
    return out


@dataclass
class Outcome:
    status: str  # "done" | "pending_approval"
    state: str
    event: WorkflowEvent | None = None
    approval: ApprovalRequest | None = None


def transition(
    request,
    et,
    record,
    name: str,
    data: dict | None = None,
    comment: str = "",
    source: str = "api",
    expected_version: int | None = None,
) -> Outcome:
    """Take transition ``name`` on ``record`` as the current user.

    Checks the transition exists from the record's state (409), the guard (403, WF-05),
    the fields it requires (400, ``errors`` per field); then applies it, or opens an
    approval request when it needs one. Raises :class:`kyklos.problem.Problem`.
    """
    wf = get_workflow(request, et.name)
    if wf is None:
        raise Problem(404, _("Not found"), _("This record type has no workflow."))
    t = wf.transition(name)
    if t is None:
        raise Problem(404, _("Not found"), _("There is no such transition."))
    state = current_state(wf, record)
    if not t.allowed_from(state):
        raise Problem(
            409,
            _("Conflict"),
            _(
                "'${t}' is not possible from state '${s}'.",
                mapping={"t": t.label, "s": wf.state_label(state)},
            ),
        )
    reason = refusal(request, et, record, t)
    if reason is not None:
        raise Problem(403, _("Forbidden"), reason)
    data = dict(data or {})
    if wf.field in data:
        raise Problem(
            400,
            _("Invalid data"),
            errors={wf.field: _("The transition sets this field.")},
        )
    if not isinstance(comment, str) or len(comment) > 5000:
        raise Problem(400, _("Invalid data"), errors={"comment": _("At most 5000 characters.")})
    missing = missing_fields(et, record, t, data)
    if missing:
        raise Problem(400, _("Invalid data"), _("Fill in the fields this step needs."),
                      errors=missing)
    if t.approval is not None:
        from kyklos.workflow import approvals

        if pending_approval(request, et, record) is not None:
            raise Problem(409, _("Conflict"), _("An approval for this record is pending."))
        try:
            writes.validate_data(request, et, record, data, source, system=False)
        except RecordError as exc:
            raise Problem(400, _("Invalid data"), errors=exc.errors) from None
        req = approvals.open_request(request, et, record, wf, t, data, comment)
        return Outcome("pending_approval", state, approval=req)
    event = apply(
        request, et, record, wf, t, data, comment, source=source, system=False,
        expected_version=expected_version,
    )
    return Outcome("done", t.target, event=event)


def missing_fields(et, record, t: Transition, data: dict) -> dict:
    out = {}
    for name in t.required:
        value = data[name] if name in data else getattr(record, name, None)
        if value is None or (isinstance(value, str) and not value.strip()):
            out[name] = _("Required for this step.")
    return out


def apply(
    request,
    et,
    record,
    wf: Workflow,
    t: Transition,
    data: dict,
    comment: str = "",
    *,
    source: str,
    system: bool,
    approval_id: int | None = None,
    user_id: int | None = None,
    expected_version: int | None = None,
) -> WorkflowEvent:
    """Write the transition: fields and status in one update, the timeline event, then
    the ``kyklos_workflow_transition`` hook. ``system``: on the workflow's authority
    (approved, automated) rather than the user's rights."""
    before = current_state(wf, record)
    try:
        writes.write(
            request, et, record, data, {wf.field: t.target}, source=source, system=system,
            expected_version=expected_version,
        )
    except RecordError as exc:
        raise Problem(exc.status, _("Invalid data"),
                      errors=exc.errors) from None
    except HTTPForbidden:
        raise Problem(403, _("Forbidden"), _("You may not change this record.")) from None
    if user_id is None and request.identity is not None:
        user_id = request.identity.user.id
    event = WorkflowEvent(
        entity=et.name,
        record_id=record.id,
        transition=t.name,
        from_state=None if before is None else str(before),
        to_state=t.target,
        user_id=user_id,
        comment=comment or "",
        approval_id=approval_id,
        at=utcnow(),
    )
    request.dbsession.add(event)
    request.dbsession.flush()
    request.registry.kyklos_pm.hook.kyklos_workflow_transition(
        request=request, entity_type=et, record=record, transition=t, before=before,
        after=t.target,
    )
    return event


def system_transition(request, et, record, name: str, data=None, comment="") -> WorkflowEvent:
    """Take a transition on the workflow's authority (automation, parents following
    children): no user guard, no approval. Raises Problem when not possible."""
    wf = get_workflow(request, et.name)
    t = wf.transition(name) if wf else None
    if t is None:
        raise Problem(404, _("Not found"), _("There is no such transition."))
    if not t.allowed_from(current_state(wf, record)):
        raise Problem(409, _("Conflict"), _("Not possible from the record's state."))
    return apply(request, et, record, wf, t, data or {}, comment, source="job", system=True)


def transition_to(wf: Workflow, state, target: str) -> Transition | None:
    """A transition from ``state`` to ``target`` (the first declared), if any."""
    return next((t for t in wf.from_state(state) if t.target == target), None)


def events(request, et, record_id, limit=100) -> list[WorkflowEvent]:
    return (
        request.dbsession.execute(
            select(WorkflowEvent)
            .where(WorkflowEvent.entity == et.name, WorkflowEvent.record_id == record_id)
            .order_by(WorkflowEvent.at.desc(), WorkflowEvent.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )

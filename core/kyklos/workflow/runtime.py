"""Running workflows: which transitions a user may take, taking them, the checklist of
a state (WF-01), and the check that a workflow fits its entity type's other rules."""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy import delete, select

from kyklos.db import utcnow
from kyklos.entities import RecordError
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.security import rules
from kyklos.workflow import writes
from kyklos.workflow.configured import configured
from kyklos.workflow.definitions import Step, Transition, Workflow
from kyklos.workflow.models import (
    PENDING,
    ApprovalRequest,
    AutomationRule,
    WorkflowEvent,
    WorkflowOverride,
    WorkflowStepDone,
)

#: ``request.environ`` key: ``{(entity, record id): transition name}`` of plain status
#: writes that are one of the workflow's steps, logged once the record is saved
IMPLICIT = "kyklos.workflow.implicit"


def declared(registry) -> dict[str, Workflow]:
    return registry.kyklos_workflows


def get_workflow(request, entity: str) -> Workflow | None:
    """The workflow in force for ``entity``: an administrator's edit, else the declared
    one, else None. Memoised per request."""
    cache = request.__dict__.setdefault("_kyklos_workflows", {})
    if entity not in cache:
        known = configured(request)
        if known is not None and entity not in known.workflows:
            # no administrator's edit: no statement (the common case)
            cache[entity] = declared(request.registry).get(entity)
            return cache[entity]
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


def state_title(request, wf: Workflow | None, name) -> str:
    """A state's title in the user's language: the administrator's, else the catalog's."""
    st = wf.state(name) if wf is not None and name is not None else None
    if st is None:
        return str(name or "")
    own = st.title_in(getattr(request, "locale_name", None))
    if own:
        return own
    # a state that is one of the field's declared values reads as that value does
    # (translated in its plugin's catalog), unless the administrator retitled it
    choice = known_values(request, wf).get(st.name)
    if choice is not None and (not st.title or st.title == _default_text(choice)):
        return request.localizer.translate(choice)
    return label_title(request, wf.entity, st.label)


def _default_text(label) -> str:
    return str(getattr(label, "default", None) or label)


def known_values(request, wf: Workflow | None, et=None) -> dict:
    """``{code: label}`` of the values the workflow's field declares (its choices);
    without a workflow yet, those of ``et``'s ``status`` field."""
    if et is None and wf is not None:
        et = request.registry.kyklos_entities.get(wf.entity)
    f = et.fields.get(wf.field if wf is not None else "status") if et is not None else None
    return {str(c): label for c, label in (getattr(f, "choices", None) or ())}


def label_title(request, entity: str, label: str) -> str:
    """A declared state's or step's title in the user's language: the declaring plugin's
    catalog (``kyklos_<plugin>``), else the core's."""
    from pyramid.i18n import TranslationString

    et = request.registry.kyklos_entities.get(entity)
    if et is not None and et.plugin:
        out = request.localizer.translate(TranslationString(label, domain=f"kyklos_{et.plugin}"))
        if out != label:
            return out
    return request.localizer.translate(_(label))


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
    open_steps = pending_steps(request, et, record, wf)
    if open_steps:
        raise Problem(409, _("Conflict"), steps_reason(request, open_steps))
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
        raise Problem(
            400, _("Invalid data"), _("Fill in the fields this step needs."), errors=missing
        )
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
        request,
        et,
        record,
        wf,
        t,
        data,
        comment,
        source=source,
        system=False,
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
            request,
            et,
            record,
            data,
            {wf.field: t.target},
            source=source,
            system=system,
            expected_version=expected_version,
        )
    except RecordError as exc:
        raise Problem(exc.status, _("Invalid data"), errors=exc.errors) from None
    except HTTPForbidden:
        raise Problem(403, _("Forbidden"), _("You may not change this record.")) from None
    return record_event(request, et, record, t, before, comment, approval_id, user_id)


def record_event(
    request, et, record, t: Transition, before, comment="", approval_id=None, user_id=None
) -> WorkflowEvent:
    """After the status was written: the timeline event, a fresh checklist for the state
    reached, then the ``kyklos_workflow_transition`` hook."""
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
    request.dbsession.execute(
        delete(WorkflowStepDone).where(
            WorkflowStepDone.entity == et.name,
            WorkflowStepDone.record_id == record.id,
            WorkflowStepDone.state == t.target,
        )
    )
    request.dbsession.flush()
    request.registry.kyklos_pm.hook.kyklos_workflow_transition(
        request=request,
        entity_type=et,
        record=record,
        transition=t,
        before=before,
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


# --- plain status writes that are one of the workflow's steps ---------------------------


def implicit_step(request, et, record, wf: Workflow, value, data: dict):
    """The transition a plain write of the status field to ``value`` stands for, as
    ``(transition, None)``, or ``(None, reason)`` when it is not one the user may take
    that way (none leads there, it needs an approval, a guard or a field refuses).

    Plugin actions that write the status (activities' "Mark done") keep working under a
    workflow that has such a step, and the move is logged as that step."""
    state = current_state(wf, record)
    candidates = [t for t in wf.from_state(state) if t.target == value]
    if not candidates:
        return None, _("Change this with one of the workflow's steps.")
    reason = None
    for t in candidates:
        if t.approval is not None:
            reason = _("'${t}' needs an approval: use the step's button.", mapping={"t": t.label})
            continue
        reason = refusal(request, et, record, t)
        if reason is None and missing_fields(et, record, t, data):
            reason = _("'${t}' needs more fields: use the step's button.", mapping={"t": t.label})
        if reason is None:
            open_steps = pending_steps(request, et, record, wf)
            if open_steps:
                return None, steps_reason(request, open_steps)
            return t, None
    return None, reason


def remember_implicit(request, et, record, t: Transition) -> None:
    request.environ.setdefault(IMPLICIT, {})[(et.name, record.id)] = t.name


def log_implicit(request, et, record, changes) -> None:
    """After a save: log the step a plain status write stood for."""
    pending = request.environ.get(IMPLICIT)
    if not pending or (et.name, record.id) not in pending:
        return
    name = pending.pop((et.name, record.id))
    wf = get_workflow(request, et.name)
    t = wf.transition(name) if wf is not None else None
    if t is None or wf.field not in changes:
        return
    before, _after = changes[wf.field]
    record_event(request, et, record, t, before)


# --- the checklist of a state (WF-01) -------------------------------------------------------


def steps_done(request, et, record, state) -> dict[str, WorkflowStepDone]:
    rows = request.dbsession.execute(
        select(WorkflowStepDone).where(
            WorkflowStepDone.entity == et.name,
            WorkflowStepDone.record_id == record.id,
            WorkflowStepDone.state == str(state),
        )
    ).scalars()
    return {r.step: r for r in rows}


def checklist(request, et, record, wf: Workflow | None = None) -> list[tuple[Step, object]]:
    """The steps of the record's state with their tick (None: not done yet)."""
    wf = wf or get_workflow(request, et.name)
    st = wf.state(current_state(wf, record)) if wf is not None else None
    if st is None or not st.steps:
        return []
    done = steps_done(request, et, record, st.name)
    return [(p, done.get(p.name)) for p in st.steps]


def pending_steps(request, et, record, wf: Workflow | None = None) -> list[Step]:
    return [p for p, tick in checklist(request, et, record, wf) if tick is None]


def steps_reason(request, steps: list[Step]):
    return _(
        "Finish these steps first: ${steps}.",
        mapping={"steps": ", ".join(request.localizer.translate(_(p.label)) for p in steps)},
    )


def tick(request, et, record, step: str, done: bool) -> None:
    """Tick (or untick) ``step`` of the record's current state as the current user, who
    must be allowed to change the record. Raises Problem."""
    wf = get_workflow(request, et.name)
    st = wf.state(current_state(wf, record)) if wf is not None else None
    if st is None or step not in {p.name for p in st.steps}:
        raise Problem(404, _("Not found"), _("The record's state has no such step."))
    if not (
        request.has_permission(et.permission("update"))
        and rules.can_access(request, et, record, "update")
    ):
        raise Problem(403, _("Forbidden"), _("You may not change this record."))
    rows = steps_done(request, et, record, st.name)
    if done and step not in rows:
        request.dbsession.add(
            WorkflowStepDone(
                entity=et.name,
                record_id=record.id,
                state=st.name,
                step=step,
                done_by_id=request.identity.user.id,
                done_at=utcnow(),
            )
        )
    elif not done and step in rows:
        request.dbsession.delete(rows[step])
    request.dbsession.flush()


# --- does a workflow fit the entity type? ----------------------------------------------------


def check(request, et, wf: Workflow, roles=None, users=None) -> list[str]:
    """Every reason ``wf`` cannot be saved for ``et``, in the user's language: its own
    consistency, then the entity type's other rules (the status field's type and values,
    automation rules that write the field or take steps, and whatever plugins keep
    through ``kyklos_workflow_constraints``)."""
    from kyklos.workflow.definitions import validate

    tr = request.localizer.translate
    problems = validate(wf, et, roles=roles, users=users)
    if problems:
        return [tr(p) for p in problems]
    field = et.fields[wf.field]
    title = tr(field.title) if field.title else field.name
    if field.type not in ("string", "choice") or field.custom or field.virtual:
        problems.append(
            _(
                "The field “${f}” cannot hold a workflow's state: choose a text "
                "or choice field of the record type.",
                mapping={"f": title},
            )
        )
    elif field.choices:
        allowed = {str(v) for v, _t in field.choices}
        for st in wf.states:
            if st.name not in allowed:
                problems.append(
                    _(
                        "State “${s}” is not one of the values of “${f}”.",
                        mapping={"s": st.label, "f": title},
                    )
                )
    problems += _rule_problems(request, et, wf, title)
    for answer in request.registry.kyklos_pm.hook.kyklos_workflow_constraints(
        request=request, entity_type=et, workflow=wf
    ):
        problems += list(answer or ())
    return [tr(p) for p in problems]


def _rule_problems(request, et, wf: Workflow, title) -> list:
    out = []
    rules_ = request.dbsession.execute(
        select(AutomationRule).where(
            AutomationRule.entity == et.name, AutomationRule.enabled.is_(True)
        )
    ).scalars()
    for rule in rules_:
        for action in rule.actions or ():
            if not isinstance(action, dict):
                continue
            if action.get("type") == "set_field" and action.get("field") == wf.field:
                out.append(
                    _(
                        "The automation rule “${r}” sets “${f}” directly; with this "
                        "workflow it would fail. Change the rule to take a step.",
                        mapping={"r": rule.name, "f": title},
                    )
                )
            step = action.get("transition")
            if action.get("type") == "transition" and step and wf.transition(step) is None:
                out.append(
                    _(
                        "The automation rule “${r}” takes the step “${t}”, which this "
                        "workflow does not have.",
                        mapping={"r": rule.name, "t": step},
                    )
                )
        trig = rule.trigger or {}
        step = trig.get("transition")
        if trig.get("kind") == "transition" and step and wf.transition(step) is None:
            out.append(
                _(
                    "The automation rule “${r}” waits for the step “${t}”, which this "
                    "workflow does not have.",
                    mapping={"r": rule.name, "t": step},
                )
            )
        state = trig.get("state")
        if trig.get("kind") == "state" and state and wf.state(state) is None:
            out.append(
                _(
                    "The automation rule “${r}” waits for the state “${s}”, which this "
                    "workflow does not have.",
                    mapping={"r": rule.name, "s": state},
                )
            )
    return out

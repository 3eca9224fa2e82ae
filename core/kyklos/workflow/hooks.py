"""The workflow engine's hook implementations: keep the status under the workflow's
control, fire automation rules, and contribute to record pages (transition buttons,
timeline, approval and run-log panels) and the menu."""

from __future__ import annotations

from pyramid.renderers import render
from sqlalchemy import select

from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.security.models import User
from kyklos.web import Action, MenuItem, Panel, TimelineItem
from kyklos.workflow import automation, runtime, webhook_admin, writes
from kyklos.workflow.models import ApprovalRequest


def _user_titles(db, ids) -> dict:
    ids = {i for i in ids if i}
    if not ids:
        return {}
    return {u.id: u.title for u in db.execute(select(User).where(User.id.in_(ids))).scalars()}


class Hooks:
    # --- keep the status field under the workflow's control ---------------------------

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors, source):
        wf = runtime.get_workflow(request, entity_type.name)
        if wf is None or wf.field not in data or request.environ.get(writes.WRITING):
            return
        value = data[wf.field]
        if record is None:
            if value in (None, "", wf.initial):
                return
        elif value == getattr(record, wf.field, None):
            return
        if source == "import" and wf.state(value) is not None:
            return  # imported history keeps its states
        if record is None:
            errors[wf.field] = _(
                "A new record starts in state '${s}'.",
                mapping={"s": runtime.state_title(request, wf, wf.initial)},
            )
            return
        # A plain write that is one of the workflow's steps (another plugin's action,
        # such as activities' "Mark done") is taken as that step.
        t, reason = runtime.implicit_step(request, entity_type, record, wf, value, data)
        if t is None:
            errors[wf.field] = reason
        else:
            runtime.remember_implicit(request, entity_type, record, t)

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if not created:
            return
        wf = runtime.get_workflow(request, entity_type.name)
        if wf is None or getattr(record, wf.field, None) not in (None, ""):
            return
        setattr(record, wf.field, wf.initial)
        changes[wf.field] = (None, wf.initial)

    # --- automation ---------------------------------------------------------------------

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        if not created:
            runtime.log_implicit(request, entity_type, record, changes)
        automation.on_save(request, entity_type, record, changes, created)
        if created or changes:
            webhook_admin.on_event(
                request, entity_type, record, "created" if created else "updated", changes
            )

    @hookimpl
    def kyklos_records_saved(self, request, entity_type, records, changes, created):
        event = "created" if created else "updated"
        if webhook_admin.subscribed(request, entity_type.name, event):
            for record, diff in zip(records, changes, strict=True):
                webhook_admin.on_event(request, entity_type, record, event, diff)
        if not automation.rules_for(request, entity_type.name):
            return  # the usual case: nothing to evaluate for a whole import batch
        for record, diff in zip(records, changes, strict=True):
            automation.on_save(request, entity_type, record, diff, created)

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record, soft):
        webhook_admin.on_event(request, entity_type, record, "deleted")

    @hookimpl
    def kyklos_workflow_transition(self, request, entity_type, record, transition):
        automation.on_transition(request, entity_type, record, transition)

    # --- record pages -------------------------------------------------------------------

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        out = []
        for a in runtime.available(request, entity_type, record):
            t = a.transition
            out.append(
                Action(
                    title=runtime.label_title(request, entity_type.name, t.label)
                    + (" …" if t.approval or t.required else ""),
                    url=request.route_url(
                        "workflow.transition", slug=entity_type.slug, id=record.id, name=t.name
                    ),
                    method="get" if (t.approval or t.required) else "post",
                    style="outline-primary",
                )
            )
        return out

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        wf = runtime.get_workflow(request, entity_type.name)
        events = runtime.events(request, entity_type, record.id)
        approvals = (
            request.dbsession.execute(
                select(ApprovalRequest).where(
                    ApprovalRequest.entity == entity_type.name,
                    ApprovalRequest.record_id == record.id,
                )
            )
            .scalars()
            .all()
        )
        if not events and not approvals:
            return None
        names = _user_titles(
            request.dbsession,
            [e.user_id for e in events]
            + [a.requester_id for a in approvals]
            + [s.decided_by_id for a in approvals for s in a.steps],
        )

        def label(state):
            # in the user's language, like the state shown on the record
            return runtime.state_title(request, wf, state) if wf else str(state or "")

        items = []
        for e in events:
            items.append(
                TimelineItem(
                    when=e.at,
                    title=f"{label(e.from_state)} → {label(e.to_state)}",
                    detail=e.comment or "",
                    who=names.get(e.user_id, ""),
                    kind="workflow.transition",
                )
            )
        for a in approvals:
            url = request.route_url("approval", id=a.id)
            title = (a.spec or {}).get("title") or a.transition
            items.append(
                TimelineItem(
                    when=a.created_at,
                    title=_("Approval requested: ${t}", mapping={"t": title}),
                    detail=a.comment or "",
                    url=url,
                    who=names.get(a.requester_id, ""),
                    kind="workflow.approval",
                )
            )
            for s in a.steps:
                if s.decision in ("approved", "rejected") and s.decided_at:
                    items.append(
                        TimelineItem(
                            when=s.decided_at,
                            title=_("Approved") if s.decision == "approved" else _("Rejected"),
                            detail=s.comment or "",
                            url=url,
                            who=names.get(s.decided_by_id, ""),
                            kind="workflow.approval",
                        )
                    )
        return items

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        panels = []
        pending = runtime.pending_approval(request, entity_type, record)
        if pending is not None:
            from kyklos.workflow import approvals

            info = approvals.as_dict(request, pending, request.identity.user.id)
            html = render(
                "kyklos:web/templates/approval_panel.pt",
                {
                    "a": info,
                    "names": _user_titles(
                        request.dbsession,
                        [s["approver_id"] for s in info["steps"]] + [info["requester_id"]],
                    ),
                },
                request=request,
            )
            panels.append(Panel(title=_("Approval pending"), html=html, order=5))
        items = runtime.checklist(request, entity_type, record)
        if items:
            html = render(
                "kyklos:web/templates/workflow_steps.pt",
                {
                    "items": [
                        {
                            "name": p.name,
                            "title": request.localizer.translate(_(p.label)),
                            "done": tick is not None,
                        }
                        for p, tick in items
                    ],
                    "url": request.route_url("workflow.steps", slug=entity_type.slug, id=record.id),
                    "csrf": request.session.get_csrf_token(),
                },
                request=request,
            )
            panels.append(
                Panel(
                    title=_("Checklist"),
                    html=html,
                    order=4,
                    count=sum(1 for _p, t in items if t is None),
                )
            )
        if request.has_permission("kyklos.workflow.manage"):
            runs = automation.runs_for(request, entity_type, record.id, limit=20)
            if runs:
                html = render(
                    "kyklos:web/templates/automation_runlog.pt",
                    {
                        "runs": runs,
                        "state": lambda r: automation.run_state(request, r),
                        "reason": lambda r: automation.run_reason(request, r),
                    },
                    request=request,
                )
                panels.append(
                    Panel(title=_("Automation runs"), html=html, count=len(runs), order=900)
                )
        return panels

    @hookimpl
    def kyklos_menu_items(self, request):
        items = [
            MenuItem(
                title=_("Approvals"),
                url=request.route_url("approvals"),
                icon="check2-square",
                order=800,
            ),
        ]
        if request.has_permission("kyklos.workflow.manage"):
            items.append(
                MenuItem(
                    title=_("Automation"),
                    url=request.route_url("automation.rules"),
                    icon="lightning",
                    permission="kyklos.workflow.manage",
                    order=810,
                )
            )
            items.append(
                MenuItem(
                    title=_("Workflows"),
                    url=request.route_url("workflows"),
                    icon="diagram-3",
                    permission="kyklos.workflow.manage",
                    order=820,
                )
            )
        return items

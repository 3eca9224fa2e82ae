"""Closing a deal as won or lost from its page or the pipeline board.

Both work without JavaScript: "Won" is a small POST form, "Lost" a link to a form page
asking for the reason. With JavaScript, the board and the record page open that form in
a <dialog> instead (static/closing.js) and the board posts through the REST API, so a
refusal shows the API's own messages.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.renderers import render

from kyklos_sdk import (
    RecordError,
    StaleRecord,
    get_entity_type,
    get_record,
    safe_redirect_target,
    update_record,
)

from .. import _, pipeline
from .common import parse_int


def _back(request, record) -> str:
    default = request.route_url("entity.detail", slug="opportunities", id=record.id)
    return safe_redirect_target(request.params.get("came_from"), default)


def error_messages(request, et, errors: dict) -> list[str]:
    """Each refusal as a sentence, led by the field's title when it is about one."""
    tr = request.localizer.translate
    out = []
    for name, msg in errors.items():
        field = et.fields.get(name)
        text = tr(msg)
        out.append(f"{tr(field.title)}: {text}" if field is not None and field.title else text)
    return out


def _write(request, et, record, data) -> list[str] | None:
    """Update; ``None`` when done, else the messages saying why not."""
    version = parse_int(request.POST.get("version"), "version", {})
    try:
        update_record(request, et, record, data, expected_version=version, source="ui")
    except StaleRecord:
        return [
            request.localizer.translate(
                _("Someone else changed this opportunity meanwhile; look again.")
            )
        ]
    except RecordError as exc:
        return error_messages(request, et, exc.errors) or [
            request.localizer.translate(_("The change was refused."))
        ]
    return None


def won_view(request):
    et = get_entity_type(request, "opportunity")
    record = get_record(request, et, request.matchdict["id"], action="update")
    back = _back(request, record)
    stage = pipeline.closing_stage(request.dbsession, won=True)
    if stage is None:
        request.session.flash(_("No active stage wins a deal; ask an administrator."), "danger")
        return HTTPSeeOther(back)
    problems = _write(request, et, record, {"stage_id": stage.id})
    if problems:
        request.session.flash(" ".join(problems), "danger")
    else:
        request.session.flash(_("${name} is won.", mapping={"name": record.name}), "success")
    return HTTPSeeOther(back)


def lost_view(request):
    """GET: the small form page; POST: close the deal as lost with the reason."""
    et = get_entity_type(request, "opportunity")
    record = get_record(request, et, request.matchdict["id"], action="update")
    db = request.dbsession
    back = _back(request, record)
    stage = pipeline.closing_stage(db, won=False)
    errors: list[str] = []
    form = {
        "loss_reason_id": str(record.loss_reason_id or ""),
        "loss_details": record.loss_details or "",
    }
    if request.method == "POST":
        form = {k: (request.POST.get(k) or "").strip() for k in form}
        reason = parse_int(form["loss_reason_id"], "loss_reason_id", {})
        data = {"stage_id": stage.id if stage is not None else None}
        if reason is not None:
            data["loss_reason_id"] = reason
        if form["loss_details"]:
            data["loss_details"] = form["loss_details"][:2000]
        if stage is None:
            errors = [
                request.localizer.translate(
                    _("No active stage loses a deal; ask an administrator.")
                )
            ]
        else:
            errors = _write(request, et, record, data) or []
        if not errors:
            request.session.flash(_("${name} is lost.", mapping={"name": record.name}), "success")
            return HTTPSeeOther(back)
        request.response.status = 400
    return {
        "fields": lost_fields(request, form, "sfa-lost"),
        "title": _("Mark ${name} as lost", mapping={"name": record.name}),
        "record": record,
        "form": form,
        "errors": errors,
        "came_from": back,
        "detail_url": request.route_url("entity.detail", slug="opportunities", id=record.id),
    }


def close_actions(request, record) -> list:
    """The Won and Lost buttons of an open deal, for those who may close deals."""
    from kyklos_sdk import Action

    from ..models.registry import CLOSE

    if record.status != "open" or not request.has_permission(CLOSE):
        return []
    return [
        Action(
            _("Mark as won"),
            request.route_url("sfa.opportunity.won", id=record.id),
            method="post",
            style="success",
            permission="sfa.opportunity.update",
        ),
        Action(
            _("Mark as lost"),
            request.route_url("sfa.opportunity.lost", id=record.id),
            style="outline-danger",
            permission="sfa.opportunity.update",
        ),
    ]


def lost_fields(request, form: dict, prefix: str) -> str:
    """The reason drop-down (translated titles) and the details box, as HTML."""
    reasons = [
        (r.id, pipeline.loss_reason_title(request, r))
        for r in pipeline.loss_reasons(request.dbsession)
    ]
    return render(
        "kyklos_sfa:templates/lost_fields.pt",
        {"reasons": reasons, "form": form, "prefix": prefix},
        request=request,
    )


def lost_dialog(request, mode: str, came_from: str, record=None) -> str:
    """The <dialog> asking for the loss reason, with its script. ``mode`` "form" posts
    the form to the Lost page (the record page), "api" sends the change through the
    REST API and shows its refusals in the dialog (the board)."""
    lost = pipeline.closing_stage(request.dbsession, won=False)
    return render(
        "kyklos_sfa:templates/lost_dialog.pt",
        {
            "mode": mode,
            "lost_stage_id": lost.id if lost is not None else "",
            "network_error": request.localizer.translate(
                _("The server could not be reached; try again.")
            ),
            "action": (
                request.route_url("sfa.opportunity.lost", id=record.id)
                if record is not None
                else ""
            ),
            "name": record.name if record is not None else "",
            "csrf": request.session.get_csrf_token(),
            "came_from": came_from,
            "version": record.version if record is not None else "",
            "fields": lost_fields(request, {"loss_reason_id": "", "loss_details": ""}, "sfa-dlg"),
        },
        request=request,
    )

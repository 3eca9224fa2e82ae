"""Generated record pages: detail (the 360° view), create and edit forms, delete.

Forms are deform renderings of the service's ``record_schema``; validation happens on
the server (colander, then the service and the ``kyklos_record_validate`` hook) and each
message is shown next to its field. Edits carry the version they started from: saving
over someone else's newer change shows what they changed instead of overwriting it.
"""

from __future__ import annotations

from dataclasses import dataclass

import colander
import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.threadlocal import get_current_request
from sqlalchemy import func, select

from kyklos.entities import attachments, display, tags, values
from kyklos.entities.display import flash
from kyklos.entities.ui import get_type, readable_fields
from kyklos.hooks import collect
from kyklos.i18n import _

VERSION_NODE = "k_version"
#: a reference field offers a plain select when the target has at most this many
#: visible records; beyond, an id input that kyklos.js turns into a search box
SELECT_LIMIT = 200


def _translate(term):
    request = get_current_request()
    return request.localizer.translate(term) if request is not None else term


def form_renderer(registry):
    """One deform renderer per app (its template cache), translating per request."""
    renderer = getattr(registry, "kyklos_deform_renderer", None)
    if renderer is None:
        renderer = deform.ZPTRendererFactory(
            (deform.template.default_dir,),
            translator=_translate,
            auto_reload=False,
            debug=False,
        )
        registry.kyklos_deform_renderer = renderer
    return renderer


# --- detail -----------------------------------------------------------------------------


def detail_view(request):
    from kyklos.entities import history, service
    from kyklos.security import rules

    et = get_type(request)
    record = service.get_record(request, et, request.matchdict["id"])
    readable = readable_fields(request, et)
    # the lock version is plumbing; "deleted" only matters when it is set
    hidden = {"id", "version"} | (set() if getattr(record, "deleted_at", None) else {"deleted_at"})
    shown = [f for n, f in et.fields.items() if n in readable and n not in hidden and f.form]
    refs = display.reference_titles(request, et, [record], [f.name for f in shown])
    cells = [(f, display.cell(request, et, f, record, refs)) for f in shown]
    can_update = request.has_permission(et.permission("update")) and rules.can_access(
        request, et, record, "update"
    )
    can_delete = request.has_permission(et.permission("delete")) and rules.can_access(
        request, et, record, "delete"
    )
    pm = request.registry.kyklos_pm
    actions = [
        a
        for a in collect(
            pm, "kyklos_record_actions", request=request, entity_type=et, record=record
        )
        if not a.permission or request.has_permission(a.permission)
    ]
    panels = sorted(
        collect(pm, "kyklos_record_panels", request=request, entity_type=et, record=record),
        key=lambda p: p.order,
    )
    return {
        "title": et.record_title(record),
        "et": et,
        "record": record,
        "cells": cells,
        "related": related_lists(request, et, record),
        "timeline": history.timeline(request, et, record),
        "attachments": attachments.attachments_of(request.dbsession, et, record.id),
        "human_size": attachments.human_size,
        "max_upload": attachments.human_size(attachments.max_bytes(request.registry)),
        "tags": tags.tags_for(request.dbsession, et, [record.id])[record.id],
        "tag_suggestions": tags.all_tags(request.dbsession) if can_update else [],
        "actions": actions,
        "panels": panels,
        "can_update": can_update,
        "can_delete": can_delete,
    }


@dataclass
class Related:
    title: object
    et: object
    columns: list
    rows: list
    total: int
    more_url: str | None = None
    new_url: str | None = None


def related_lists(request, et, record) -> list[Related]:
    """The records of other types pointing here, as the user may see them (10 each)."""
    from kyklos.entities import service

    out = []
    for rl in et.related:
        other = request.registry.kyklos_entities.get(rl.entity)
        if other is None or not request.has_permission(other.permission("read")):
            continue
        col = getattr(other.model, rl.field, None)
        if col is None:
            continue
        readable = readable_fields(request, other)
        names = [c for c in (rl.columns or other.list_columns) if c in readable][:4]
        base = service.visible_select(request, other).where(col == record.id)
        rows = list(
            request.dbsession.execute(base.order_by(other.model.id.desc()).limit(11)).scalars()
        )
        total = None
        if len(rows) > 10:
            count = base.with_only_columns(func.count()).order_by(None)
            total = request.dbsession.execute(count).scalar_one()
        refs = display.reference_titles(request, other, rows[:10], names)
        items = []
        for r in rows[:10]:
            items.append(
                (
                    r,
                    request.route_url("entity.detail", slug=other.slug, id=r.id),
                    [display.cell(request, other, other.fields[n], r, refs) for n in names],
                )
            )
        more = None
        if rl.field in other.filterable:
            more = request.route_url(
                "entity.list", slug=other.slug, _query={f"{rl.field}__eq": record.id}
            )
        new = None
        if request.has_permission(other.permission("create")):
            new = request.route_url("entity.new", slug=other.slug, _query={rl.field: record.id})
        out.append(
            Related(
                title=rl.title or other.plural,
                et=other,
                columns=[other.fields[n].title for n in names],
                rows=items,
                total=total if total is not None else len(items),
                more_url=more,
                new_url=new,
            )
        )
    return out


# --- forms ------------------------------------------------------------------------------


def build_form(request, et, record=None):
    from kyklos.entities import service

    schema = service.record_schema(request, et, record, for_update=record is not None).clone()
    _reference_widgets(request, et, schema)
    schema.add(
        colander.SchemaNode(
            colander.String(),
            name="csrf_token",
            widget=deform.widget.HiddenWidget(),
            default=request.session.get_csrf_token(),
            missing="",
        )
    )
    if record is not None:
        schema.add(
            colander.SchemaNode(
                colander.Integer(),
                name=VERSION_NODE,
                widget=deform.widget.HiddenWidget(),
                default=record.version,
            )
        )
    buttons = (deform.Button("save", _("Save"), css_class="btn-primary"),)
    return deform.Form(
        schema,
        buttons=buttons,
        formid="k-record-form",
        renderer=form_renderer(request.registry),
        autocomplete="off",
    )


def _reference_widgets(request, et, schema) -> None:
    """A select of the visible target records, or a look-up input when there are many."""
    from kyklos.entities import service
    from kyklos.security.models import User

    for node in schema.children:
        f = et.fields.get(node.name)
        widget = getattr(node, "widget", None)
        if f is None or f.type != "reference":
            continue
        if widget is not None and type(widget) is not deform.widget.TextInputWidget:
            continue  # the schema chose its own widget
        if f.reference == "user":
            stmt = (
                select(User.id, User.name, User.email)
                .where(User.is_active.is_(True))
                .order_by(User.name, User.email)
                .limit(SELECT_LIMIT + 1)
            )
            options = [(str(i), n or e) for i, n, e in request.dbsession.execute(stmt)]
        else:
            target = request.registry.kyklos_entities.get(f.reference)
            if target is None or not request.has_permission(target.permission("read")):
                continue
            stmt = service.visible_select(request, target).limit(SELECT_LIMIT + 1)
            rows = request.dbsession.execute(stmt).scalars()
            options = sorted(
                ((str(r.id), target.record_title(r)) for r in rows), key=lambda o: o[1].casefold()
            )
        if len(options) <= SELECT_LIMIT:
            node.widget = deform.widget.SelectWidget(values=[("", "—")] + options)
        elif f.reference != "user":
            node.widget = deform.widget.TextInputWidget(
                attributes={
                    "inputmode": "numeric",
                    "data-k-lookup": request.route_url("entity.lookup", slug=target.slug),
                }
            )


def _initial(request, et, form, record) -> dict:
    out = {}
    for node in form.schema.children:
        f = et.fields.get(node.name)
        if f is not None and record is not None:
            value = values.read_value(et, f, record)
            out[node.name] = colander.null if value is None else value
    if record is None:
        # Prefill from the query (the "new" link of a related list passes its field).
        for node in form.schema.children:
            f = et.fields.get(node.name)
            raw = request.GET.get(node.name)
            if f is not None and raw and f.type in ("reference", "integer") and raw.isdigit():
                out[node.name] = int(raw)
    return out


def _form_page(request, et, record, form, html, conflict=None, errors=None):
    return {
        "title": (
            _("Edit ${title}", mapping={"title": et.record_title(record)})
            if record is not None
            else _("New ${type}", mapping={"type": request.localizer.translate(et.title)})
        ),
        "et": et,
        "record": record,
        "form": html,
        "conflict": conflict,
        "errors": errors or [],
    }


def _show_errors(form, errors: dict) -> list:
    """Put each service error on its field; return the ones no field can show."""
    exc = colander.Invalid(form.schema, "")
    general = []
    names = {c.name for c in form.schema.children}
    for key, msg in errors.items():
        if key in names:
            exc[key] = msg
        else:
            general.append(msg)
    form.widget.handle_error(form, exc)
    return general


def _save(request, et, record=None):
    from kyklos.entities import RecordError, service

    form = build_form(request, et, record)
    if request.method != "POST":
        html = form.render(_initial(request, et, form, record))
        return _form_page(request, et, record, form, html)
    try:
        appstruct = form.validate(request.POST.items())
    except deform.ValidationFailure as exc:
        request.response.status = 400
        return _form_page(request, et, record, form, exc.render())
    appstruct.pop("csrf_token", None)
    expected = appstruct.pop(VERSION_NODE, None)
    try:
        if record is None:
            record = service.create_record(request, et, appstruct, source="ui")
            msg = _("${type} created.", mapping={"type": request.localizer.translate(et.title)})
        else:
            service.update_record(
                request, et, record, appstruct, expected_version=expected, source="ui"
            )
            msg = _("Changes saved.")
    except RecordError as exc:
        request.response.status = 400
        general = _show_errors(form, exc.errors)
        return _form_page(request, et, record, form, form.render(), errors=general)
    except service.StaleRecord as exc:
        # Keep what the user typed; the new version lets an informed second save win.
        request.response.status = 409
        cstruct = dict(form.cstruct)
        cstruct[VERSION_NODE] = str(exc.current_version)
        form.cstruct = cstruct
        conflict = _conflict_lines(request, et, exc)
        return _form_page(request, et, record, form, form.render(), conflict=conflict)
    flash(request, msg, "success")
    return HTTPSeeOther(request.route_url("entity.detail", slug=et.slug, id=record.id))


def _conflict_lines(request, et, exc) -> list[str]:
    readable = readable_fields(request, et)
    lines = []
    for name, pair in (exc.changes or {}).items():
        f = et.fields.get(name)
        if f is None or name not in readable:
            continue
        old, new = (list(pair) + [None, None])[:2]
        lines.append(
            f"{request.localizer.translate(f.title)}: "
            f"{'—' if old in (None, '') else old} → {'—' if new in (None, '') else new}"
        )
    return lines


def new_view(request):
    et = get_type(request)
    if not request.has_permission(et.permission("create")):
        raise HTTPForbidden()
    return _save(request, et)


def edit_view(request):
    from kyklos.entities import service

    et = get_type(request)
    record = service.get_record(request, et, request.matchdict["id"], action="update")
    return _save(request, et, record)


def delete_view(request):
    from kyklos.entities import RecordError, service

    et = get_type(request)
    record = service.get_record(request, et, request.matchdict["id"], action="delete")
    if request.method == "POST":
        title = et.record_title(record)
        try:
            service.delete_record(request, et, record, source="ui")
        except RecordError as exc:
            msgs = [request.localizer.translate(m) for m in exc.errors.values()]
            flash(request, "; ".join(msgs) or request.localizer.translate(exc.title), "danger")
            return HTTPSeeOther(request.route_url("entity.detail", slug=et.slug, id=record.id))
        flash(request, _("Deleted ${title}.", mapping={"title": title}), "success")
        return HTTPSeeOther(request.route_url("entity.list", slug=et.slug))
    return {"title": _("Delete"), "et": et, "record": record}


def includeme(config):
    tpl = "kyklos:web/templates/"
    config.add_route("entity.new", "/{slug}/new", kyklos_slug=True)
    config.add_view(new_view, route_name="entity.new", renderer=tpl + "entity_form.pt")
    config.add_route("entity.detail", r"/{slug}/{id:\d+}", kyklos_slug=True)
    config.add_view(
        detail_view,
        route_name="entity.detail",
        request_method="GET",
        renderer=tpl + "entity_detail.pt",
    )
    config.add_route("entity.edit", r"/{slug}/{id:\d+}/edit", kyklos_slug=True)
    config.add_view(edit_view, route_name="entity.edit", renderer=tpl + "entity_form.pt")
    config.add_route("entity.delete", r"/{slug}/{id:\d+}/delete", kyklos_slug=True)
    config.add_view(delete_view, route_name="entity.delete", renderer=tpl + "entity_delete.pt")

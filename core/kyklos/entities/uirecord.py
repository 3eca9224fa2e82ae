"""Generated record pages: detail (the 360° view), create and edit forms, delete.

Forms are deform renderings of the service's ``record_schema``; validation happens on
the server (colander, then the service and the ``kyklos_record_validate`` hook) and each
message is shown next to its field. Edits carry the version they started from: saving
over someone else's newer change shows what they changed instead of overwriting it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import colander
import deform
from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from pyramid.threadlocal import get_current_request
from sqlalchemy import func, select

from kyklos.entities import attachments, display, tags, values, widgets
from kyklos.entities.display import flash
from kyklos.entities.ui import get_type, readable_fields
from kyklos.hooks import collect
from kyklos.i18n import _

log = logging.getLogger("kyklos.entities.uirecord")

VERSION_NODE = "k_version"
#: a reference picker lists every visible target record when there are at most this
#: many (it then works without JavaScript too); beyond, the chosen one and a search
SELECT_LIMIT = 200


def _translate(term):
    request = get_current_request()
    return request.localizer.translate(term) if request is not None else term


def form_renderer(registry):
    """One deform renderer per app (its template cache), translating per request."""
    renderer = getattr(registry, "kyklos_deform_renderer", None)
    if renderer is None:
        from importlib import resources

        # the core's widget templates (pickers, native dates, rows) before deform's own
        own = str(resources.files("kyklos") / "web" / "templates" / "deform")
        renderer = deform.ZPTRendererFactory(
            (own, deform.template.default_dir),
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
        (
            p
            for p in collect(
                pm, "kyklos_record_panels", request=request, entity_type=et, record=record
            )
            if not p.permission or request.has_permission(p.permission)
        ),
        key=lambda p: p.order,
    )
    return {
        "title": display.record_title(request, et, record),
        "et": et,
        "record": record,
        "cells": cells,
        "related": related_lists(request, et, record),
        "timeline": history.timeline(request, et, record),
        "attachments": attachments.attachments_of(request.dbsession, et, record.id),
        "human_size": attachments.human_size,
        "max_upload": attachments.human_size(attachments.max_bytes(request.registry)),
        "tags": tags.tags_for(request.dbsession, et, [record.id])[record.id],
        "tag_suggestions": tags.visible_tags(request) if can_update else [],
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
            # "new from here": the field, plus what the parent knows (kyklos_record_defaults)
            new = request.route_url(
                "entity.new",
                slug=other.slug,
                _query={rl.field: record.id, "from": f"{et.name}:{record.id}"},
            )
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


def build_form(request, et, record=None, prefill=None):
    """The record form: the service's schema with the core's inputs chosen by field
    type (pickers, native date and time inputs, rows for typed lists). ``prefill``:
    the values a new record starts with (see :func:`prefill_values`)."""
    from kyklos.entities import service

    schema = service.record_schema(request, et, record, for_update=record is not None).clone()
    _add_input_kinds(request, et, schema)
    _reference_widgets(request, et, schema, _current_refs(request, et, record, prefill))
    _date_widgets(schema, request.timezone)
    # every money field starts in the site's default currency, the ones in use first
    from kyklos.entities.money import apply_currency_defaults

    apply_currency_defaults(request, schema, et)
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


def _add_input_kinds(request, et, schema) -> None:
    """Typed JSON lists with a registered input kind (phones, e-mails) join the form
    as rows, in the fields' order; a JSON field without one stays out of forms."""
    from kyklos.entities import service

    _readable, writable = service.field_access(request, et)
    names = [c.name for c in schema.children]
    for f in et.writable_fields():
        if f.type != "json" or not f.form or f.name not in writable or f.name in names:
            continue
        node = widgets.input_node(request, f)
        if node is None:
            continue
        order = list(et.fields)
        before = [n for n in names if n in order and order.index(n) < order.index(f.name)]
        pos = names.index(before[-1]) + 1 if before else len(names)
        schema.insert(pos, node)
        names.insert(pos, f.name)


def _current_refs(request, et, record, prefill) -> dict[str, set[int]]:
    """The ids each reference field shows as chosen: the record's, the prefill's and,
    on a re-rendered POST, what was submitted (their options carry titles)."""
    out: dict[str, set[int]] = {}
    for f in et.fields.values():
        if f.type != "reference":
            continue
        ids = set()
        if record is not None:
            ids.add(values.read_value(et, f, record))
        if prefill:
            ids.add(prefill.get(f.name))
        if request.method == "POST":
            raw = request.POST.get(f.name, "")
            ids.add(int(raw) if raw.isdigit() and len(raw) < 19 else None)
        out[f.name] = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    return out


def _is_default_widget(node) -> bool:
    widget = getattr(node, "widget", None)
    return widget is None or type(widget) is deform.widget.TextInputWidget


def _reference_widgets(request, et, schema, current) -> None:
    """Every reference field a picker: lookup lists as plain drop-downs of their titles
    in the user's language, users and records as search-as-you-type pickers."""
    for node in schema.children:
        f = et.fields.get(node.name)
        if f is None or f.type != "reference" or not _is_default_widget(node):
            continue  # not a reference, or the schema chose its own widget
        chosen = current.get(f.name, set())
        if f.reference == "user":
            node.widget = _user_picker(request, chosen)
            continue
        target = request.registry.kyklos_entities.get(f.reference)
        if target is None:
            continue
        if target.lookup:
            node.widget = _lookup_select(request, target, chosen)
        else:
            node.widget = _record_picker(request, target, chosen)


def _user_picker(request, chosen) -> widgets.PickerWidget:
    from kyklos.security.models import User

    active = User.is_active.is_(True)
    base = select(User.id, User.name, User.email).order_by(User.name, User.email)
    rows = list(request.dbsession.execute(base.where(active).limit(SELECT_LIMIT + 1)))
    if len(rows) > SELECT_LIMIT:
        rows = []
    have = {r[0] for r in rows}
    missing = set(chosen) - have
    if missing:  # the current owner may be inactive now: still shown, by name
        rows += list(request.dbsession.execute(base.where(User.id.in_(missing))))
    options = [(str(i), n or e, e if n else "") for i, n, e in rows]
    return widgets.PickerWidget(
        values=[("", "—")] + options,
        lookup_url=request.route_url("user.lookup"),
    )


def _lookup_select(request, target, chosen) -> widgets.LookupSelectWidget:
    """All values of a lookup list (types, statuses, stages...), to anyone who may
    write the referring record: reading the list's admin pages is not needed."""
    model = target.model
    stmt = select(model)
    if target.soft_delete:
        stmt = stmt.where(model.deleted_at.is_(None))
    active = getattr(model, "active", None)
    if active is not None:
        # inactive values are no longer offered, except the one already chosen
        stmt = stmt.where(active.is_(True) | model.id.in_(sorted(chosen) or [0]))
    order = [c for c in (getattr(model, "position", None),) if c is not None]
    rows = list(request.dbsession.execute(stmt.order_by(*order, model.id).limit(500)).scalars())
    titles = display.record_titles(request, target, rows)
    options = [(str(r.id), titles[r.id]) for r in rows]
    if not order:
        options.sort(key=lambda o: o[1].casefold())
    return widgets.LookupSelectWidget(values=[("", "—")] + options)


def _record_picker(request, target, chosen) -> widgets.PickerWidget:
    """A picker over the records of ``target`` the user may see: every option when they
    are few (the page works without JavaScript), else the chosen one and a search."""
    from kyklos.entities import service
    from kyklos.entities.ui import picker_items

    readable = request.has_permission(target.permission("read"))
    rows = []
    if readable:
        stmt = service.visible_select(request, target).limit(SELECT_LIMIT + 1)
        rows = list(request.dbsession.execute(stmt).scalars())
        if len(rows) > SELECT_LIMIT:
            rows = []
        missing = chosen - {r.id for r in rows}
        if missing:
            stmt = service.visible_select(request, target).where(target.model.id.in_(missing))
            rows += list(request.dbsession.execute(stmt).scalars())
    items = picker_items(request, target, rows) if rows else []
    items.sort(key=lambda it: it["title"].casefold())
    options = [(str(it["id"]), it["title"], it["subtitle"]) for it in items]
    hidden = sorted(chosen - {it["id"] for it in items})
    # a chosen record the user may not see keeps its value, never shows its id
    options += [(str(i), request.localizer.translate(_("Restricted")), "") for i in hidden]
    create_url = create_field = ""
    if readable and creatable_from_picker(request, target):
        create_url = request.route_url("api.entity.collection", slug=target.slug)
        create_field = target.title_field
    return widgets.PickerWidget(
        values=[("", "—")] + options,
        lookup_url=request.route_url("entity.lookup", slug=target.slug) if readable else "",
        create_url=create_url,
        create_field=create_field,
    )


def creatable_from_picker(request, target) -> bool:
    """A record of ``target`` can be created from a picker's typed text when the user
    may create one and its title is the only required field they would have to fill
    (an account by its name; not a person, who needs more)."""
    from kyklos.entities import service

    if not request.has_permission(target.permission("create")):
        return False
    title = target.fields.get(target.title_field)
    _readable, writable = service.field_access(request, target)
    if title is None or title.readonly or title.name not in writable:
        return False
    if title.type not in ("string", "text"):
        return False
    required = [
        f.name
        for f in target.writable_fields()
        if f.required and f.default is None and f.name != "owner_id"
    ]
    return required in ([], [target.title_field])


def _date_widgets(node, tz) -> None:
    """Native date and time inputs for every date and date-time node, the plugins' own
    schemas included (deform's pickadate widgets need an inline script the CSP
    blocks, and read a time as UTC)."""
    for child in node.children:
        widget = getattr(child, "widget", None)
        typ = child.typ
        if isinstance(typ, colander.DateTime) and (
            widget is None or type(widget) is deform.widget.DateTimeInputWidget
        ):
            child.widget = widgets.DateTimeWidget(tz=tz)
        elif isinstance(typ, colander.Date) and (
            widget is None or type(widget) is deform.widget.DateInputWidget
        ):
            child.widget = widgets.DateWidget()
        elif child.children:
            _date_widgets(child, tz)


# --- new from here ----------------------------------------------------------------------


def prefill_values(request, et) -> dict:
    """What a new record starts with: ``?from=<entity>:<id>`` fills every reference to
    the parent's type, then the ``kyklos_record_defaults`` hooks add what the parent
    knows; ``?<field>=<id>`` (the "new" link of a related list) sets one field. A
    parent the user may not read is ignored."""
    out: dict = {}
    parent_type, parent = _parent(request)
    if parent is not None:
        for f in et.fields.values():
            if f.type == "reference" and f.reference == parent_type.name:
                out[f.name] = parent.id
        pm = request.registry.kyklos_pm
        results = pm.hook.kyklos_record_defaults(
            request=request, entity_type=et, parent_type=parent_type, parent=parent
        )
        for result in reversed(results):  # the first registered plugin wins
            for name, value in (result or {}).items():
                f = et.fields.get(name)
                if f is None:
                    continue
                if value is None:
                    out[name] = None
                    continue
                try:
                    out[name] = values.parse_value(f, value, values.column_of(et, f))
                except values.Invalid:
                    continue
    for f in et.fields.values():
        raw = request.GET.get(f.name)
        if raw and f.type in ("reference", "integer") and raw.isdigit() and len(raw) < 19:
            out[f.name] = int(raw)
    return out


def _parent(request):
    from pyramid.httpexceptions import HTTPException

    from kyklos.entities import service

    raw = request.GET.get("from", "")
    name, sep, rid = raw.partition(":")
    if not sep or not rid.isdigit() or len(rid) > 18:
        return None, None
    parent_type = request.registry.kyklos_entities.get(name)
    if parent_type is None or not request.has_permission(parent_type.permission("read")):
        return None, None
    try:
        return parent_type, service.get_record(request, parent_type, rid)
    except HTTPException:
        return None, None


def _initial(request, et, form, record, prefill=None) -> dict:
    out = {}
    for node in form.schema.children:
        f = et.fields.get(node.name)
        if f is not None and record is not None:
            value = values.read_value(et, f, record)
            out[node.name] = colander.null if value is None else value
    if record is None:
        for node in form.schema.children:
            if node.name in (prefill or {}):
                value = prefill[node.name]
                out[node.name] = colander.null if value is None else value
            elif (f := et.fields.get(node.name)) is not None and f.default is not None:
                # the declared default is what the form starts with: an unticked "Active"
                # box would otherwise save every new product as inactive
                out[node.name] = f.default
    return out


def form_panels(request, et, record) -> list:
    """The panels plugins add beside the form (``kyklos_record_form_panels``) that the
    user may see, in order. A failing contributor is logged and left out: a broken
    plugin must not keep anyone from saving a record."""
    from kyklos.web import Panel

    pm = request.registry.kyklos_pm
    kwargs = {
        "request": request,
        "entity_type": et,
        "record": record,
        "mode": "new" if record is None else "edit",
    }
    out = []
    for impl in pm.hook.kyklos_record_form_panels.get_hookimpls():
        try:
            result = impl.function(*[kwargs[a] for a in impl.argnames])
        except Exception:  # noqa: BLE001 - isolate one contributor's failure
            log.exception("form panels of %s failed", impl.plugin_name)
            continue
        out.extend(p for p in (result or ()) if isinstance(p, Panel))
    visible = [p for p in out if not p.permission or request.has_permission(p.permission)]
    return sorted(visible, key=lambda p: p.order)


def _form_page(request, et, record, form, html, conflict=None, errors=None):
    return {
        "panels": form_panels(request, et, record),
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

    prefill = prefill_values(request, et) if record is None else None
    form = build_form(request, et, record, prefill)
    if request.method != "POST":
        html = form.render(_initial(request, et, form, record, prefill))
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
    config.include(widgets)
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

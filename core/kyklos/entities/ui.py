"""Generated web pages for every entity type: the list (filters, columns, sort, keyset
pages, saved views, bulk actions) here; the record pages in :mod:`.uirecord`.

Pages are plain server-rendered HTML that work without JavaScript; ``kyklos.js`` only
adds conveniences (select all, reference look-up, confirmations). Every query goes
through the entity service and query modules, so the pages show exactly what the API
would return to the same user, and nothing per row is looked up one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from webob.multidict import MultiDict

from kyklos.entities import display, savedviews, tags
from kyklos.entities.display import flash
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.web import safe_redirect_target

#: list parameters the page itself handles (the rest go to the query parser)
UI_KEYS = ("cols", "view", "tag")
TAGS_COLUMN = "_tags"
#: operators offered in the filter form, by field type (the query module allow-lists
#: them again: this is presentation only)
OPERATORS = {
    "text": ("contains", "eq", "ne", "startswith"),
    "number": ("eq", "ne", "gt", "gte", "lt", "lte"),
    "exact": ("eq", "ne"),
}
OP_TITLES = {
    "contains": _("contains"),
    "startswith": _("starts with"),
    "eq": _("is"),
    "ne": _("is not"),
    "gt": _("greater than"),
    "gte": _("at least"),
    "lt": _("less than"),
    "lte": _("at most"),
}
TEXTUAL = {"string", "text", "email", "phone", "url"}
NUMERIC = {"integer", "decimal", "money", "date", "datetime"}


class EntitySlugPredicate:
    """Route predicate ``kyklos_slug=True``: the ``{slug}`` segment names a registered
    entity type. Generic routes such as ``/{slug}/{id}`` then never shadow a plugin's
    own routes registered after them."""

    def __init__(self, value, config):
        self.value = bool(value)

    def text(self):
        return f"kyklos_slug = {self.value}"

    phash = text

    def __call__(self, info, request):
        slug = info["match"].get("slug")
        return (slug in request.registry.kyklos_entity_slugs) == self.value


@dataclass
class FilterUI:
    field: object
    ops: tuple
    op: str = ""
    value: str = ""
    kind: str = "text"  # text, number, date, datetime, choice, boolean


@dataclass
class Column:
    name: str
    title: object
    sortable: bool = False
    optional: bool = True
    sort_url: str | None = None
    sorted: str = ""  # "asc", "desc" or ""
    align: str = ""


@dataclass
class ListPage:
    columns: list[Column] = field(default_factory=list)
    rows: list = field(default_factory=list)


def get_type(request, slug=None):
    from kyklos.entities import service

    et = service.get_entity_type(request, slug or request.matchdict["slug"])
    if not request.has_permission(et.permission("read")):
        raise HTTPForbidden()
    return et


def readable_fields(request, et) -> set[str]:
    from kyklos.entities import service

    return service.field_access(request, et)[0]


def list_url(request, et, params, **changes) -> str:
    """The list URL with ``params`` (pairs) changed: a value ``None`` drops a key."""
    out = [(k, v) for k, v in params if k not in changes]
    for k, v in changes.items():
        if v is None:
            continue
        if isinstance(v, list | tuple):
            out += [(k, x) for x in v]
        else:
            out.append((k, v))
    return request.route_url("entity.list", slug=et.slug, _query=out)


def filter_kind(f) -> str:
    if f.type == "boolean":
        return "boolean"
    if f.type in ("choice", "multichoice") and f.choices:
        return "choice"
    if f.type in ("date", "datetime"):
        return f.type
    if f.type in NUMERIC or f.type == "reference" or f.name == "id":
        return "number"
    return "text"


def filter_ops(f) -> tuple:
    """The operators the form offers for ``f``: those of the query module's allow-list
    that suit a single typed value."""
    from kyklos.entities import query

    kind = filter_kind(f)
    if kind == "text":
        wanted = OPERATORS["text"]
    elif kind in ("number", "date", "datetime") and f.type != "reference" and f.name != "id":
        wanted = OPERATORS["number"]
    else:
        wanted = OPERATORS["exact"]
    allowed = query.ops_for(f)
    return tuple(o for o in wanted if o in allowed)


def normalise_form(params: MultiDict) -> MultiDict | None:
    """Turn the filter form's ``fop.<field>``/``fv.<field>`` pairs into the canonical
    ``<field>__<op>=value`` parameters; ``None`` when there were none (already canonical)."""
    if not any(k.startswith(("fop.", "fv.")) for k in params):
        return None
    out = MultiDict()
    for k, v in params.items():
        if k.startswith("fop."):
            continue
        if k.startswith("fv."):
            name = k[3:]
            if v.strip():
                op = params.get(f"fop.{name}") or "eq"
                out.add(f"{name}__{op}", v.strip())
            continue
        if k == "cursor" or (k == "tag" and not v.strip()):
            continue
        out.add(k, v)
    return out


def chosen_columns(request, et, params) -> list[str]:
    readable = readable_fields(request, et)
    raw = []
    for v in params.getall("cols"):
        raw += [c.strip() for c in v.split(",") if c.strip()]
    allowed = [n for n in et.fields if n in readable] + [TAGS_COLUMN]
    cols = [c for c in dict.fromkeys(raw) if c in allowed]
    if not cols:
        cols = [c for c in et.list_columns if c in readable] or [et.title_field]
    return cols[:20]


def query_params(params: MultiDict) -> MultiDict:
    """What goes to the query parser: everything but the page's own keys; the page's
    ``tag`` choices become the parser's ``tags__all``."""
    out = MultiDict((k, v) for k, v in params.items() if k not in UI_KEYS)
    names = [n.replace(",", " ") for n in params.getall("tag") if tags.clean_name(n)]
    if names:
        out["tags__all"] = ",".join(names)
    return out


def run_query(request, et, params):
    """``(result, errors)``; bad parameters give errors for the page, not a 500."""
    from kyklos.entities import query

    try:
        lp = query.parse_list_params(request, et, query_params(params))
        return query.run_list(request, et, lp), {}
    except Problem as exc:
        errors = {k: request.localizer.translate(v) for k, v in (exc.errors or {}).items()}
        if not errors:
            errors[""] = request.localizer.translate(exc.detail or exc.title)
        return None, errors


def list_view(request):
    et = get_type(request)
    params = request.GET.copy()
    canonical = normalise_form(params)
    if canonical is not None:
        return HTTPSeeOther(
            request.route_url("entity.list", slug=et.slug, _query=canonical.items())
        )
    result, errors = run_query(request, et, params)
    cols = chosen_columns(request, et, params)
    pairs = [(k, v) for k, v in params.items() if k not in ("cursor", "view", "cols")]
    if "cols" in params:
        pairs.append(("cols", ",".join(cols)))
    sort = params.get("sort", "")
    page = ListPage()
    for name in cols:
        if name == TAGS_COLUMN:
            page.columns.append(Column(name, _("Tags")))
            continue
        f = et.fields[name]
        col = Column(name, f.title, sortable=name in et.sortable)
        if col.sortable:
            col.sorted = "asc" if sort == name else "desc" if sort == f"-{name}" else ""
            col.sort_url = list_url(request, et, pairs, sort=f"-{name}" if sort == name else name)
        if f.type in NUMERIC - {"date", "datetime"}:
            col.align = "text-end"
        page.columns.append(col)
    # the title column is never hidden on a phone
    key = et.title_field if et.title_field in cols else cols[0]
    for c in page.columns:
        c.optional = c.name != key
    items = list(result.items) if result is not None else []
    refs = display.reference_titles(request, et, items, cols)
    tag_map = (
        tags.tags_for(request.dbsession, et, [r.id for r in items]) if TAGS_COLUMN in cols else {}
    )
    for r in items:
        cells = []
        for c in page.columns:
            if c.name == TAGS_COLUMN:
                cells.append(tag_map.get(r.id, []))
                continue
            cl = display.cell(request, et, et.fields[c.name], r, refs)
            if c.name == key:
                cl.url = request.route_url("entity.detail", slug=et.slug, id=r.id)
                if not cl.text:
                    cl.text = et.record_title(r)
            cells.append(cl)
        page.rows.append((r, cells))
    return {
        "title": et.plural,
        "et": et,
        "page": page,
        "errors": errors,
        "result": result,
        "count_text": count_text(request, result),
        "next_url": list_url(request, et, pairs, cursor=result.next_cursor)
        if result is not None and result.next_cursor
        else None,
        "first_url": list_url(request, et, pairs) if params.get("cursor") else None,
        "params": pairs,
        "filters": filter_rows(request, et, params),
        "tag_filter": [n for n in params.getall("tag") if n.strip()],
        "all_tags": tags.all_tags(request.dbsession, et),
        "column_choices": column_choices(request, et, cols),
        "views": savedviews.views_for(request, et),
        "current_view": params.get("view", ""),
        "view_url": lambda v: savedviews.view_url(request, et, v),
        "q": params.get("q", ""),
        "op_titles": OP_TITLES,
        "can_create": request.has_permission(et.permission("create")),
        "can_update": request.has_permission(et.permission("update")),
        "can_delete": request.has_permission(et.permission("delete")),
        "settable": settable_fields(request, et),
        "clear_url": request.route_url("entity.list", slug=et.slug),
        "back": request.path_qs,
    }


def count_text(request, result) -> str:
    """ "1 record", "25 records", "10,000+ records" (capped counts end in "+")."""
    if result is None or result.count is None:
        return ""
    n = request.format_number(result.count) + ("+" if result.count_capped else "")
    return request.localizer.pluralize(
        "${n} record", "${n} records", result.count, domain="kyklos", mapping={"n": n}
    )


def filter_rows(request, et, params) -> list[FilterUI]:
    readable = readable_fields(request, et)
    current = {}
    for k, v in params.items():
        name, sep, op = k.rpartition("__")
        if not sep:
            name, op = k, "eq"
        if name in et.fields:
            current.setdefault(name, (op, v))
    out = []
    for name in et.filterable:
        f = et.fields[name]
        ops = filter_ops(f)
        if name not in readable or not ops:
            continue
        op, value = current.get(name, ("", ""))
        out.append(FilterUI(f, ops, op, value, filter_kind(f)))
    return out


def column_choices(request, et, cols) -> list[tuple[str, object, bool]]:
    readable = readable_fields(request, et)
    out = [(n, f.title, n in cols) for n, f in et.fields.items() if n in readable]
    out.append((TAGS_COLUMN, _("Tags"), TAGS_COLUMN in cols))
    return out


def settable_fields(request, et) -> list:
    """Fields a bulk "set" may write: writable, with a plain-text form; the owner only
    for users who may assign records."""
    from kyklos.entities import service

    _r, writable = service.field_access(request, et)
    return [
        f
        for f in et.writable_fields()
        if f.name in writable
        and f.type not in ("json", "text")
        and not f.custom
        and (f.name != "owner_id" or service.may_assign(request, et))
    ]


# --- bulk actions -----------------------------------------------------------------------


def _ids(request) -> list[int]:
    out = []
    for v in request.POST.getall("ids")[:1000]:
        if v.isdigit() and len(v) < 19:
            out.append(int(v))
    return list(dict.fromkeys(out))


def bulk_view(request):
    from kyklos.entities import RecordError, service

    et = get_type(request)
    back = safe_redirect_target(
        request.POST.get("back"), request.route_url("entity.list", slug=et.slug)
    )
    ids = _ids(request)
    action = request.POST.get("action", "")
    if not ids:
        flash(request, _("Select at least one record."), "warning")
        return HTTPSeeOther(back)
    try:
        if action == "delete":
            if request.POST.get("confirm") != "1":
                return _confirm_bulk_delete(request, et, ids, back)
            n = service.bulk_delete(request, et, ids, source="bulk")
            flash(request, _("${n} records deleted.", mapping={"n": n}), "success")
        elif action == "set":
            n = _bulk_set(request, et, ids)
            flash(request, _("${n} records changed.", mapping={"n": n}), "success")
        elif action == "tag":
            n = _bulk_tag(request, et, ids)
            flash(request, _("${n} records tagged.", mapping={"n": n}), "success")
        else:
            flash(request, _("Choose an action."), "warning")
    except RecordError as exc:
        msgs = [request.localizer.translate(m) for m in exc.errors.values()] or [
            request.localizer.translate(exc.title)
        ]
        flash(request, "; ".join(msgs), "danger")
    return HTTPSeeOther(back)


def _bulk_set(request, et, ids) -> int:
    from kyklos.entities import RecordError, service

    name = request.POST.get("field", "")
    fields = {f.name: f for f in settable_fields(request, et)}
    if name not in fields:
        raise RecordError({"field": _("Choose a field.")})
    try:
        value = display.parse_form_value(fields[name], request.POST.get("value", ""))
    except ValueError:
        raise RecordError({name: _("Not a valid value.")}) from None
    return service.bulk_update(request, et, ids, {name: value}, source="bulk")


def _bulk_tag(request, et, ids) -> int:
    from kyklos.entities import RecordError, service
    from kyklos.security import rules

    name = request.POST.get("tag", "")
    if not tags.clean_name(name):
        raise RecordError({"tag": _("A tag needs a name.")})
    if not request.has_permission(et.permission("update")):
        raise HTTPForbidden()
    stmt = service.visible_select(request, et, "update").where(et.model.id.in_(ids))
    records = list(request.dbsession.execute(stmt).scalars())
    if len(records) != len(ids) or not all(
        rules.can_access(request, et, r, "update") for r in records
    ):
        raise HTTPForbidden()
    for r in records:
        tags.add_tag(request, et, r, name)
    return len(records)


def _confirm_bulk_delete(request, et, ids, back):
    from pyramid.renderers import render_to_response

    from kyklos.entities import service

    stmt = service.visible_select(request, et).where(et.model.id.in_(ids)).limit(50)
    records = list(request.dbsession.execute(stmt).scalars())
    return render_to_response(
        "kyklos:web/templates/entity_bulk_delete.pt",
        {
            "title": _("Delete records"),
            "et": et,
            "ids": ids,
            "records": records,
            "back": back,
        },
        request=request,
    )


# --- reference look-up (progressive enhancement of reference inputs) --------------------


def lookup_view(request):
    """``[{"id", "title"}]`` of visible records whose title contains ``q``."""
    from sqlalchemy import String

    from kyklos.entities import service

    et = get_type(request)
    q = request.params.get("q", "").strip()[:100]
    stmt = service.visible_select(request, et)
    col = getattr(et.model, et.title_field, None)
    if q and col is not None and isinstance(getattr(col, "type", None), String):
        pat = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(col.ilike(pat, escape="\\"))
        stmt = stmt.order_by(col, et.model.id)
    else:
        stmt = stmt.order_by(et.model.id.desc())
    rows = request.dbsession.execute(stmt.limit(20)).scalars()
    return [{"id": r.id, "title": et.record_title(r)} for r in rows]


def includeme(config):
    config.add_route_predicate("kyklos_slug", EntitySlugPredicate)
    config.add_route("entity.list", "/{slug}/", kyklos_slug=True)
    config.add_route("entity.list_noslash", "/{slug}", kyklos_slug=True)
    config.add_view(
        lambda request: HTTPSeeOther(
            request.route_url("entity.list", slug=request.matchdict["slug"], _query=request.GET)
        ),
        route_name="entity.list_noslash",
    )
    config.add_view(
        list_view,
        route_name="entity.list",
        request_method="GET",
        renderer="kyklos:web/templates/entity_list.pt",
    )
    config.add_route("entity.bulk", "/{slug}/_bulk", request_method="POST", kyklos_slug=True)
    config.add_view(bulk_view, route_name="entity.bulk")
    config.add_route("entity.lookup", "/{slug}/_lookup", request_method="GET", kyklos_slug=True)
    config.add_view(lookup_view, route_name="entity.lookup", renderer="json")
    config.include(".uirecord")

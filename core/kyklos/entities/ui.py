"""Generated web pages for every entity type: the list (filters, columns, sort, keyset
pages, saved views, bulk actions) here; the record pages in :mod:`.uirecord`.

Pages are plain server-rendered HTML that work without JavaScript; ``kyklos.js`` only
adds conveniences (select all, reference look-up, confirmations). Every query goes
through the entity service and query modules, so the pages show exactly what the API
would return to the same user, and nothing per row is looked up one by one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from webob.multidict import MultiDict

from kyklos.entities import annual_ui, display, savedviews, tags
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
TEXTUAL = {"string", "text", "richtext", "email", "phone", "url"}
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
    """One filter of the list form, or the value input of a bulk "set".

    ``kind`` says how it is entered: ``text``, ``number``, ``date`` and ``datetime``
    (a from-to range), ``choice``, ``boolean``, ``select`` (a drop-down of a value list
    or of users: ``options``) or ``picker`` (a searchable reference: ``picker_url``,
    with the chosen record's title in ``options``).
    """

    field: object
    ops: tuple
    op: str = ""
    value: str = ""
    kind: str = "text"
    options: list = field(default_factory=list)
    picker_url: str | None = None
    primary: bool = False
    #: a date range: the first and last day (ISO dates), either may be empty
    start: str = ""
    end: str = ""
    multiple: bool = False
    #: a date whose year may be unknown also filters by days of the year (birthdays):
    #: ``annual`` holds the chosen (from day, from month, until day, until month), the
    #: drop-downs' values; ``months`` the month names in the user's language
    annual: tuple | None = None
    months: list = field(default_factory=list)

    @property
    def in_use(self) -> bool:
        return bool(self.value or self.start or self.end or any(self.annual or ()))


@dataclass
class Column:
    name: str
    title: object
    sortable: bool = False
    optional: bool = True
    sort_url: str | None = None
    sorted: str = ""  # "asc", "desc" or ""
    align: str = ""
    #: long text: clamped to a few lines in a cell (the whole text on its page)
    clamp: bool = False
    #: the record's title: the card's heading on a phone
    key: bool = False


@dataclass
class ListPage:
    columns: list[Column] = field(default_factory=list)
    rows: list = field(default_factory=list)


@dataclass
class CardRow:
    """A row of the list, and what its card on a phone shows: the record's title (its
    whole title when the title column holds a part of it, such as a first name) and
    the first two filled values that are not already in the title (``roles``: one of
    "title", "value" or "" per cell)."""

    record: object
    cells: list
    roles: list
    card_title: str = ""

    def __iter__(self):  # (record, cells), as templates written before cards unpack it
        return iter((self.record, self.cells))


def card_row(et, record, columns, cells, key) -> CardRow:
    title = et.record_title(record)
    # a title made of several columns (a first and a last name): those are in the
    # card's heading already
    partial = key != et.title_field
    words = set(title.casefold().split()) if partial else set()
    roles, values = [], 0
    for c, cl in zip(columns, cells, strict=True):
        if c.name == key:
            roles.append("title")
            continue
        text = "" if c.name == TAGS_COLUMN else str(cl.text or "")
        in_title = bool(text) and set(text.casefold().split()) <= words
        if values < 2 and text and not in_title:
            roles.append("value")
            values += 1
        else:
            roles.append("")
    key_text = next(
        (str(cl.text) for c, cl in zip(columns, cells, strict=True) if c.name == key), ""
    )
    if et.lookup and key == et.title_field:
        title = key_text or title  # the cell holds the title in the user's language
    return CardRow(record, cells, roles, title if partial and title != key_text else "")


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


def filter_kind(f, registry=None) -> str:
    """How a filter (or a bulk value) of ``f`` is entered; see :class:`FilterUI`."""
    if f.type == "boolean":
        return "boolean"
    if f.type in ("choice", "multichoice") and f.choices:
        return "choice"
    if f.type in ("date", "datetime"):
        return f.type
    if f.type == "reference":
        if f.reference == "user":
            return "select"
        target = registry.kyklos_entities.get(f.reference) if registry is not None else None
        return "select" if target is not None and target.lookup else "picker"
    if f.type in NUMERIC or f.name == "id":
        return "number"
    return "text"


def filter_ops(f, registry=None) -> tuple:
    """The operators the form offers for ``f``: those of the query module's allow-list
    that suit a single picked or typed value (dates are a from-to range instead)."""
    from kyklos.entities import query

    kind = filter_kind(f, registry)
    allowed = query.ops_for(f)
    if kind in ("date", "datetime"):
        return tuple(o for o in ("gte", "lte", "lt") if o in allowed)
    if f.type == "multichoice":
        wanted = ("contains",)
    elif kind in ("select", "picker", "boolean", "choice"):
        wanted = ("eq",)
    elif kind == "text":
        wanted = OPERATORS["text"]
    elif kind == "number":
        wanted = OPERATORS["number"]
    else:
        wanted = OPERATORS["exact"]
    return tuple(o for o in wanted if o in allowed)


def _day_start(request, day: dt.date) -> str:
    """Midnight of ``day`` in the user's time zone, as the query parser reads it."""
    return dt.datetime.combine(day, dt.time.min, request.timezone).isoformat()


def _range_params(request, name: str, kind: str, start: str, end: str) -> list[tuple]:
    """A from-to range of days as query parameters: a date field takes both days; a
    date-time field runs from the first day's midnight to the midnight after the last
    day, in the user's time zone (a day typed is the user's day)."""
    out = []
    for which, text in (("start", start), ("end", end)):
        text = text.strip()
        if not text:
            continue
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            # left as typed: the query parser explains what is wrong
            out.append((f"{name}__{'gte' if which == 'start' else 'lte'}", text))
            continue
        if kind == "date":
            out.append((f"{name}__{'gte' if which == 'start' else 'lte'}", day.isoformat()))
        elif which == "start":
            out.append((f"{name}__gte", _day_start(request, day)))
        else:
            out.append((f"{name}__lt", _day_start(request, day + dt.timedelta(days=1))))
    return out


def _range_days(request, kind: str, ops: dict) -> tuple[str, str]:
    """The first and last day a list's range parameters stand for (the inverse of
    :func:`_range_params`), as ISO dates for the form's date inputs."""

    def day(text, shift=0):
        if not text:
            return ""
        try:
            if len(text) == 10:
                d = dt.date.fromisoformat(text)
            else:
                d = dt.datetime.fromisoformat(text)
                if d.tzinfo is not None:
                    d = d.astimezone(request.timezone)
                d = d.date()
        except ValueError:
            return text
        return (d + dt.timedelta(days=shift)).isoformat()

    start = day(ops.get("gte", ""))
    if "lt" in ops and kind == "datetime":
        end = day(ops["lt"], -1)
    else:
        end = day(ops.get("lte", ""))
    return start, end


def normalise_form(params: MultiDict, request=None) -> MultiDict | None:
    """Turn the filter form's ``fop.<field>``/``fv.<field>`` pairs (and the date ranges'
    ``ff.<field>``/``ft.<field>``) into the canonical ``<field>__<op>=value``
    parameters; ``None`` when there were none (already canonical)."""
    if not any(k.startswith(("fop.", "fv.", "ff.", "ft.", *annual_ui.KEYS)) for k in params):
        return None
    out = MultiDict()
    ranges: dict[str, dict[str, str]] = {}
    for k, v in params.items():
        if k.startswith("fop."):
            continue
        if k.startswith("fv."):
            name = k[3:]
            if v.strip():
                op = params.get(f"fop.{name}") or "eq"
                out.add(f"{name}__{op}", v.strip())
            continue
        if k.startswith(("ff.", "ft.")):
            ranges.setdefault(k[3:], {})["start" if k[:3] == "ff." else "end"] = v
            continue
        if k.startswith(annual_ui.KEYS):
            continue  # the day-of-year drop-downs, read below
        if k == "cursor" or (k == "tag" and not v.strip()):
            continue
        out.add(k, v)
    et = None
    if request is not None and request.matchdict:
        et = request.registry.kyklos_entity_slugs.get(request.matchdict.get("slug"))
    for key, value in annual_ui.params(params):
        out.add(key, value)
    for name, days in ranges.items():
        f = et.fields.get(name) if et is not None else None
        kind = "datetime" if f is not None and f.type == "datetime" else "date"
        for key, value in _range_params(
            request, name, kind, days.get("start", ""), days.get("end", "")
        ):
            out.add(key, value)
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
    canonical = normalise_form(params, request)
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
        elif f.type in ("text", "richtext"):
            col.clamp = True
        elif f.type in ("phone", "date", "datetime") or f.display == "phones":
            col.align = "k-nowrap"  # a number or a date reads as one piece
        page.columns.append(col)
    # On a phone the list is a pile of cards (see CardRow); on a narrow table the
    # title column is never hidden.
    key = et.title_field if et.title_field in cols else cols[0]
    for c in page.columns:
        c.optional = c.name != key
        c.key = c.name == key
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
        page.rows.append(card_row(et, r, page.columns, cells, key))
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
        "all_tags": tags.visible_tags(request, et),
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
        "inputs": input_macros(),
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


def primary_filter_names(et, usable) -> list[str]:
    """The filters a list shows first: the type's declaration, or else (an undeclared
    type) its title and the list's leading columns that can be filtered."""
    if et.primary_filters:
        return [n for n in et.primary_filters if n in usable]
    guess = [et.title_field, *et.list_columns]
    return [n for n in dict.fromkeys(guess) if n in usable][:4]


def filter_rows(request, et, params) -> list[FilterUI]:
    """The filters of the list form: the primary ones first (in their declared order),
    then the others ("more filters"). The record id is never offered: nobody filters
    by a number they cannot see."""
    readable = readable_fields(request, et)
    current: dict[str, dict[str, str]] = {}
    for k, v in params.items():
        name, sep, op = k.rpartition("__")
        if not sep:
            name, op = k, "eq"
        if name in et.fields:
            current.setdefault(name, {}).setdefault(op, v)
    rows = {}
    for name in et.filterable:
        f = et.fields[name]
        ops = filter_ops(f, request.registry)
        if name == "id" or name not in readable or not ops:
            continue
        if not f.form and name not in current:
            # an API convenience (e.g. an activity's "about" type and id) is no input
            # for a person; a link that filters by it still shows what it filters
            continue
        row = FilterUI(f, ops, kind=filter_kind(f, request.registry))
        given = current.get(name, {})
        if row.kind in ("date", "datetime"):
            row.start, row.end = _range_days(request, row.kind, given)
            if annual_ui.applies(f):
                row.annual, row.months = annual_ui.chosen(given), annual_ui.months(request)
        else:
            row.op, row.value = next(((op, v) for op, v in given.items() if op in ops), ("", ""))
            fill_options(request, et, row)
        rows[name] = row
    primary = primary_filter_names(et, rows)
    for name in primary:
        rows[name].primary = True
    return [rows[n] for n in primary] + [r for n, r in rows.items() if n not in primary]


#: a drop-down of a value list or of users offers at most this many entries
OPTION_LIMIT = 300


def _titles(request, et, f, ids) -> dict[int, str]:
    """Titles of the records ``ids`` that reference field ``f`` points to, in the user's
    language, as list cells show them (the display module's one lookup)."""
    return {i: t for i, (t, _url) in display.titles_by_id(request, f.reference, ids).items()}


def fill_options(request, et, row: FilterUI, writing: bool = False) -> None:
    """The options of a drop-down or picker: every value of a value list (activity
    types, stages...) in the user's language, or every active user, by title; a picker
    (a reference to many records, or more users than a drop-down holds) lists only the
    chosen one, whose title the server writes so that nobody ever reads an id.
    ``writing`` (a bulk "set") leaves out inactive values."""
    from sqlalchemy import select

    from kyklos.security.models import User

    f = row.field
    if row.kind == "choice":
        row.options = [(str(v), t) for v, t in f.choices or ()]
        return
    if row.kind not in ("select", "picker"):
        return
    chosen = int(row.value) if row.value.isdigit() and len(row.value) < 19 else None
    if f.reference == "user":
        stmt = (
            select(User.id, User.name, User.email)
            .where(User.is_active.is_(True) | (User.id == (chosen or 0)))
            .order_by(User.name, User.email)
            .limit(OPTION_LIMIT + 1)
        )
        rows = request.dbsession.execute(stmt).all()
        if len(rows) <= OPTION_LIMIT:
            row.options = [(str(i), n or e) for i, n, e in rows]
            return
        row.kind, row.picker_url = "picker", request.route_url("user.lookup")
        row.options = [(str(i), n or e) for i, n, e in rows if i == chosen]
        return
    target = request.registry.kyklos_entities.get(f.reference)
    if target is None:
        row.kind, row.options = "number", []
        return
    if row.kind == "select":
        # A value list: its values are no secret to whoever may filter or write records
        # that use them (the record rules of the list itself are for its editors).
        model = target.model
        stmt = select(model)
        if target.soft_delete:
            stmt = stmt.where(model.deleted_at.is_(None))
        if writing and hasattr(model, "active"):
            stmt = stmt.where(model.active.is_(True))
        # a value list keeps its own order (stages by position), else by title
        key = target.default_sort.lstrip("-")
        col = getattr(model, key, None) if key != "id" else None
        if col is not None and target.default_sort.startswith("-"):
            col = col.desc()
        col = col if col is not None else getattr(model, "position", None)
        if col is not None:
            stmt = stmt.order_by(col)
        records = list(request.dbsession.execute(stmt.limit(OPTION_LIMIT)).scalars())
        titles = display.record_titles(request, target, records)
        row.options = [(str(r.id), titles[r.id]) for r in records]
        if col is None:
            row.options.sort(key=lambda o: o[1].casefold())
        return
    row.picker_url = request.route_url("entity.lookup", slug=target.slug)
    if chosen is not None:
        title = _titles(request, et, f, [chosen]).get(chosen)
        row.options = [(str(chosen), title or request.localizer.translate(_("(not visible)")))]


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
        and f.type not in ("json", "text", "richtext")
        and f.form
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
            if "value" not in request.POST and "value.amount" not in request.POST:
                return _ask_bulk_value(request, et, ids, back)
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
        value = display.parse_form_value(fields[name], _posted_value(request, fields[name]))
    except ValueError:
        raise RecordError({name: _("Not a valid value.")}) from None
    return service.bulk_update(request, et, ids, {name: value}, source="bulk")


def _posted_value(request, f) -> str:
    """The bulk form's value as the text :func:`display.parse_form_value` reads: several
    picked choices joined, a money amount with its currency."""
    post = request.POST
    if f.type == "multichoice":
        return ",".join(v for v in post.getall("value") if v.strip())
    if f.type == "money":
        amount = post.get("value.amount", post.get("value", "")).strip()
        currency = post.get("value.currency", "").strip()
        return f"{amount} {currency}" if amount else ""
    # a date-time without an offset is read in the user's zone by parse_form_value
    return post.get("value", "")


def input_macros():
    """The value inputs shared by the list's filters and the bulk "set" form."""
    from pyramid.renderers import get_renderer

    return get_renderer("kyklos:web/templates/entity_list_inputs.pt").implementation()


def bulk_value_input(request, et, f) -> FilterUI:
    """The input of a bulk "set" of ``f``: the same drop-downs and pickers as the list's
    filters, a date or number input otherwise."""
    row = FilterUI(f, ("eq",), kind=filter_kind(f, request.registry))
    row.multiple = f.type == "multichoice"
    fill_options(request, et, row, writing=True)
    return row


def _ask_bulk_value(request, et, ids, back):
    """Step two of a bulk "set": the chosen field's own input (a picker, a drop-down, a
    date...) for the selected records."""
    from pyramid.renderers import render_to_response

    from kyklos.entities import RecordError, service

    fields = {f.name: f for f in settable_fields(request, et)}
    name = request.POST.get("field", "")
    if name not in fields:
        raise RecordError({"field": _("Choose a field.")})
    stmt = service.visible_select(request, et).where(et.model.id.in_(ids)).limit(50)
    records = list(request.dbsession.execute(stmt).scalars())
    return render_to_response(
        "kyklos:web/templates/entity_bulk_set.pt",
        {
            "title": _("Change records"),
            "et": et,
            "ids": ids,
            "records": records,
            "back": back,
            "input": bulk_value_input(request, et, fields[name]),
            "currency": request.registry.settings.get("kyklos.currency") or "EUR",
            "inputs": input_macros(),
        },
        request=request,
    )


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


# --- reference look-up (the pickers of kyklos.js) ---------------------------------------

#: most records a picker's search returns
LOOKUP_LIMIT = 20


def lookup_view(request):
    """``[{"id", "title", "subtitle"}]`` for a picker (owned by H1, see widgets.py).

    ``?q=`` searches exactly as the list's quick search (the same fields and matching,
    so a name typed in Latin letters finds it written in Greek wherever the list does),
    through the user's visibility; a type without search fields matches its title.
    ``?id=1&id=2`` resolves the titles of chosen records."""
    from sqlalchemy import String

    from kyklos.entities import query, service

    et = get_type(request)
    ids = [int(i) for i in request.GET.getall("id") if i.isdigit() and len(i) < 19][:100]
    if ids:
        stmt = service.visible_select(request, et).where(et.model.id.in_(ids))
        return picker_items(request, et, list(request.dbsession.execute(stmt).scalars()))
    q = " ".join(request.GET.get("q", "").split())[:100]
    readable = readable_fields(request, et)
    if q and any(n in readable for n in et.searchable):
        params = MultiDict(q=q, limit=str(LOOKUP_LIMIT), count="none")
        try:
            lp = query.parse_list_params(request, et, params)
            rows = list(query.run_list(request, et, lp).items)
        except Problem:
            rows = []
        return picker_items(request, et, rows)
    stmt = service.visible_select(request, et)
    col = getattr(et.model, et.title_field, None)
    if q and col is not None and isinstance(getattr(col, "type", None), String):
        from kyklos.db import ci_contains

        for word in q.split()[:5]:
            stmt = stmt.where(ci_contains(col, word))
        stmt = stmt.order_by(col, et.model.id)
    else:
        stmt = stmt.order_by(et.model.id.desc())
    rows = list(request.dbsession.execute(stmt.limit(LOOKUP_LIMIT)).scalars())
    return picker_items(request, et, rows)


def picker_items(request, et, records) -> list[dict]:
    """``[{"id", "title", "subtitle"}]`` of ``records``: titles in the user's language,
    the subtitle from ``et.subtitle_field`` (a reference's title, else the value as
    people read it) when the user may read that field. A few queries for the list."""
    records = [r for r in records if r is not None]
    titles = display.record_titles(request, et, records)
    subs: dict[int, str] = {}
    name = et.subtitle_field
    if name and name in readable_fields(request, et) and records:
        f = et.fields[name]
        from kyklos.entities import values

        vals = {r.id: values.read_value(et, f, r) for r in records}
        if f.type == "reference":
            found = display.titles_by_id(request, f.reference, set(vals.values()))
            subs = {rid: found[v][0] for rid, v in vals.items() if v in found}
        else:
            subs = {
                rid: display.display_text(request, et, f, v)
                for rid, v in vals.items()
                if v not in (None, "", [])
            }
    return [{"id": r.id, "title": titles[r.id], "subtitle": subs.get(r.id, "")} for r in records]


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

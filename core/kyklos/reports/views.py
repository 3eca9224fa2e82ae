"""Report API (``/api/v1/_reports``) and pages (``/reports``): the builder works
without JavaScript (choosing the records' type or a field and pressing "Show" redraws
the form); ``reports.js`` only redraws it as soon as a drop-down changes."""

from __future__ import annotations

import io
from dataclasses import replace

from pyramid.httpexceptions import HTTPForbidden, HTTPFound
from pyramid.response import Response
from webob.multidict import MultiDict

from kyklos import exports
from kyklos.dashboard import CHART_SCRIPTS, ChartData, Series, Widget, render_chart
from kyklos.entities import RecordError, service
from kyklos.entities import ui as entity_ui
from kyklos.entities.api import read_json
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.reports import (
    Report,
    engine,
    get_report,
    is_pinned,
    may_edit,
    pin,
    pinned_reports,
    report_name,
    save_report,
    schedules,
    visible_reports,
)

T = "kyklos:web/templates/"
CHART_WORDS = {
    "bar": _("Bars"),
    "stacked": _("Stacked bars"),
    "line": _("Line"),
    "pie": _("Pie"),
    "funnel": _("Funnel"),
}
MEASURE_WORDS = {
    "count": _("Number of records"),
    "sum": _("Sum"),
    "avg": _("Average"),
    "min": _("Smallest"),
    "max": _("Largest"),
}
BUCKET_CHOICES = {
    "day": _("Day"),
    "week": _("Week"),
    "month": _("Month"),
    "quarter": _("Quarter"),
    "year": _("Year"),
}
FORMATS = ("csv", "xlsx", "pdf")
MEDIA = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _t(request, text) -> str:
    return request.localizer.translate(text) if text is not None else ""


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status, exc.title, errors=exc.errors)


# --- results as JSON, tables and charts ----------------------------------------------------


def _format_of(m: engine.Measure) -> str:
    if m.op == "count":
        return "count"
    return "money" if m.money else "number"


def _json_number(v):
    if v is None:
        return None
    return v if isinstance(v, int) else str(v)


def _json_key(k):
    if k is None or isinstance(k, bool | int | str):
        return k
    return k.isoformat() if hasattr(k, "isoformat") else str(k)


def result_json(request, res: engine.Result) -> dict:
    spec = res.spec
    cols = [
        {"key": f"d{i}", "title": engine.dim_title(request, spec, d), "kind": "group"}
        for i, d in enumerate(spec.dims)
    ]
    cols += [
        {
            "key": f"m{i}",
            "title": engine.measure_title(request, m),
            "kind": "measure",
            "format": _format_of(m),
        }
        for i, m in enumerate(spec.measures)
    ]
    rows = []
    for keys, vals in res.rows:
        row = {}
        for i, k in enumerate(keys):
            row[f"d{i}"] = _json_key(k)
            row[f"d{i}_text"] = res.labels[(i, k)]
        for j, v in enumerate(vals):
            row[f"m{j}"] = _json_number(v)
            row[f"m{j}_text"] = engine.format_measure(request, spec.measures[j], v, spec.currency)
        row["records_url"] = engine.drill_url(request, spec, keys)
        rows.append(row)
    return {
        "spec": spec.raw,
        "columns": cols,
        "rows": rows,
        "truncated": res.truncated,
        "unconverted": res.unconverted,
        "currency": spec.currency,
    }


def chart_of(request, res: engine.Result, data_url=None) -> ChartData | None:
    """The report as a chart of the core component: one dimension gives a series per
    measure (at most two kinds of value: counts and amounts on their own axes); two
    give a series per value of the second, for the first measure."""
    spec = res.spec
    if not res.rows or not spec.measures:
        return None
    kind = {"stacked": "bar"}.get(spec.chart, spec.chart)
    formats = [_format_of(m) for m in spec.measures]
    value_format = formats[0]
    if len(spec.dims) == 2:
        firsts = list(dict.fromkeys(k[0] for k, _v in res.rows))
        seconds = list(dict.fromkeys(k[1] for k, _v in res.rows))
        table = {k: v[0] for k, v in res.rows}
        labels = [res.labels[(0, a)] for a in firsts]
        series = [
            Series(res.labels[(1, b)], [table.get((a, b)) for a in firsts], format=formats[0])
            for b in seconds
        ]
        if kind in ("pie", "funnel"):
            kind = "bar"
    else:
        if spec.dims:
            labels = [res.labels[(0, k[0])] for k, _v in res.rows]
        else:
            labels = [_t(request, _("All records"))]
        allowed = list(dict.fromkeys(formats))[:2]
        series = [
            Series(
                engine.measure_title(request, m), [v[j] for _k, v in res.rows], format=formats[j]
            )
            for j, m in enumerate(spec.measures)
            if formats[j] in allowed
        ]
        if kind in ("pie", "funnel"):
            series = series[:1]
    return ChartData(
        kind=kind,
        labels=labels,
        series=series,
        stacked=spec.chart == "stacked",
        value_format=value_format,
        currency=spec.currency,
        data_url=data_url,
        label_title=engine.dim_title(request, spec, spec.dims[0]) if spec.dims else None,
    )


def pivot_of(request, res: engine.Result):
    """Rows: the first group; columns: the second; cells: the first measure (words)."""
    spec = res.spec
    if len(spec.dims) != 2 or not spec.measures:
        return None
    firsts = list(dict.fromkeys(k[0] for k, _v in res.rows))
    seconds = list(dict.fromkeys(k[1] for k, _v in res.rows))
    table = {k: v[0] for k, v in res.rows}
    m = spec.measures[0]
    rows = []
    for a in firsts:
        cells = []
        for b in seconds:
            v = table.get((a, b))
            url = engine.drill_url(request, spec, (a, b)) if v is not None else None
            cells.append((engine.format_measure(request, m, v, spec.currency), url))
        rows.append((res.labels[(0, a)], cells))
    return {
        "corner": f"{engine.dim_title(request, spec, spec.dims[0])} / "
        f"{engine.dim_title(request, spec, spec.dims[1])}",
        "columns": [res.labels[(1, b)] for b in seconds],
        "rows": rows,
        "measure": engine.measure_title(request, m),
    }


def table_of(request, res: engine.Result) -> dict:
    spec = res.spec
    heads = [engine.dim_title(request, spec, d) for d in spec.dims]
    heads += [engine.measure_title(request, m) for m in spec.measures]
    rows = []
    for keys, vals in res.rows:
        url = engine.drill_url(request, spec, keys)
        rows.append(
            {
                "groups": [res.labels[(i, k)] for i, k in enumerate(keys)],
                "values": [
                    engine.format_measure(request, spec.measures[j], v, spec.currency)
                    for j, v in enumerate(vals)
                ],
                "url": url,
            }
        )
    return {"heads": heads, "ngroups": len(spec.dims), "rows": rows}


def export_rows(request, res: engine.Result):
    spec = res.spec
    yield [engine.dim_title(request, spec, d) for d in spec.dims] + [
        engine.measure_title(request, m) for m in spec.measures
    ]
    for keys, vals in res.rows:
        yield [res.labels[(i, k)] for i, k in enumerate(keys)] + [
            "" if v is None else str(v) for v in vals
        ]


def export_response(request, res: engine.Result, fmt: str, name: str) -> Response:
    """The report's rows as CSV or XLSX, written by the core export's writers (cells
    neutralised against spreadsheet formulas), or the report as a PDF document with its
    chart (:mod:`kyklos.reports.pdf`)."""
    et = res.spec.et
    if fmt not in FORMATS:
        raise Problem(400, _("Unknown format"), errors={"format": _("Use csv, xlsx or pdf.")})
    if not request.has_permission(et.permission("export")):
        raise HTTPForbidden()
    if fmt == "pdf":
        from kyklos.reports import pdf

        body = pdf.render(request, name, res)
        n = len(res.rows)
    else:
        out = io.BytesIO()
        writer = exports.write_csv if fmt == "csv" else exports.write_xlsx
        n = writer(export_rows(request, res), out)
        body = out.getvalue()
    exports._log(request, et, fmt, res.spec.lp, ["report"], n, report=True)
    safe = "".join(c for c in name if c.isalnum() or c in "-_ ")[:60].strip() or "report"
    resp = Response(body=body, content_type=MEDIA[fmt])
    resp.content_disposition = _attachment(safe, fmt)
    return resp


def _attachment(safe: str, fmt: str) -> str:
    """A header holds only latin-1: a name in Greek (or any non-ASCII name) travels as
    RFC 6266's ``filename*`` in UTF-8, with an ASCII ``filename`` for old readers."""
    if safe.isascii():
        return f'attachment; filename="{safe}.{fmt}"'
    from urllib.parse import quote

    plain = "".join(c for c in safe if c.isascii()).strip() or "report"
    return f"attachment; filename=\"{plain}.{fmt}\"; filename*=UTF-8''{quote(safe)}.{fmt}"


# --- API ---------------------------------------------------------------------------------------


def report_json(request, rep: Report) -> dict:
    return {
        "id": rep.id,
        "name": report_name(request, rep),
        "entity": rep.entity,
        "shipped_key": rep.shipped_key,
        "spec": rep.spec,
        "shared_roles": rep.shared_roles or [],
        "shared_users": rep.shared_users or [],
        "created_by_id": rep.created_by_id,
        "pinned": is_pinned(request, rep),
        "can_edit": may_edit(request, rep),
    }


def api_list(request):
    return {"items": [report_json(request, r) for r in visible_reports(request)]}


def api_create(request):
    try:
        rep = save_report(request, read_json(request))
    except RecordError as exc:
        raise _problem(exc) from None
    request.response.status = 201
    return report_json(request, rep)


def api_get(request):
    return report_json(request, get_report(request, request.matchdict["id"]))


def api_patch(request):
    rep = get_report(request, request.matchdict["id"])
    if not may_edit(request, rep):
        raise HTTPForbidden()
    try:
        save_report(request, read_json(request), rep)
    except RecordError as exc:
        raise _problem(exc) from None
    return report_json(request, rep)


def api_delete(request):
    rep = get_report(request, request.matchdict["id"])
    if not may_edit(request, rep):
        raise HTTPForbidden()
    request.dbsession.delete(rep)
    request.response.status = 204
    return request.response


def api_run(request):
    """``POST /api/v1/_reports/run`` ``{spec}``: an unsaved report's result."""
    body = read_json(request)
    spec = engine.parse_spec(request, body.get("spec") if isinstance(body, dict) else None)
    return result_json(request, engine.run(request, spec))


def _saved_spec(request, rep: Report) -> engine.Spec:
    # The viewer's rights, not the author's: a field they cannot read is refused.
    return engine.parse_spec(request, rep.spec)


def api_run_saved(request):
    rep = get_report(request, request.matchdict["id"])
    return result_json(request, engine.run(request, _saved_spec(request, rep)))


def api_export(request):
    rep = get_report(request, request.matchdict["id"])
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise Problem(400, _("Unknown format"), errors={"format": _("Use csv, xlsx or pdf.")})
    res = engine.run(request, _saved_spec(request, rep))
    return export_response(request, res, fmt, rep.name)


def api_pin(request):
    rep = get_report(request, request.matchdict["id"])
    pin(request, rep, request.method == "PUT")
    return report_json(request, rep)


def schedule_json(request, sched) -> dict:
    return {
        "id": sched.id,
        "user_id": sched.user_id,
        "frequency": sched.frequency,
        "attach_pdf": bool(sched.attach_pdf),
        "last_sent_on": sched.last_sent_on.isoformat() if sched.last_sent_on else None,
        "last_error": sched.last_error or None,
    }


def api_schedules(request):
    rep = get_report(request, request.matchdict["id"])
    if not may_edit(request, rep):
        raise HTTPForbidden()
    if request.method == "POST":
        try:
            sched = schedules.add_schedule(request, rep, read_json(request))
        except RecordError as exc:
            raise _problem(exc) from None
        request.response.status = 201
        return schedule_json(request, sched)
    return {"items": [schedule_json(request, s) for s in schedules.schedules_of(request, rep)]}


def api_schedule_delete(request):
    rep = get_report(request, request.matchdict["id"])
    if not may_edit(request, rep):
        raise HTTPForbidden()
    sched = request.dbsession.get(schedules.ReportSchedule, int(request.matchdict["sid"]))
    if sched is None or sched.report_id != rep.id:
        from pyramid.httpexceptions import HTTPNotFound

        raise HTTPNotFound()
    request.dbsession.delete(sched)
    request.response.status = 204
    return request.response


def api_options(request):
    """What a report of ``?entity=`` may group by and sum, for this user, in words."""
    et = request.registry.kyklos_entities.get(request.GET.get("entity", ""))
    if et is None or not request.has_permission(et.permission("read")):
        raise Problem(400, _("Invalid report"), errors={"entity": _("Unknown entity type.")})
    from kyklos.entities.customfields import refresh

    refresh(request.registry, request.dbsession)
    return {
        "entity": et.name,
        "title": _t(request, et.plural),
        "group_by": [
            {
                "field": p,
                "title": engine.dim_title(request, et, engine.Dim(p, fp)),
                "periods": fp.field.type in engine.DATE_TYPES,
            }
            for p, fp in dim_choices(request, et)
        ],
        "measures": [
            {"field": p, "title": _t(request, fp.field.title), "money": fp.field.type == "money"}
            for p, fp in measure_choices(request, et)
        ],
        "rates": ["today", *engine.date_fields(request, et)],
    }


# --- the builder page ------------------------------------------------------------------------


def dim_choices(request, et):
    paths = engine.dimension_paths(request, et)
    items = [(p, fp) for p, fp in paths.items()]
    return sorted(
        items,
        key=lambda x: (
            x[1].target is not None,
            engine.dim_title(request, et, engine.Dim(*x)).casefold(),
        ),
    )


def measure_choices(request, et):
    items = list(engine.measure_paths(request, et).items())
    return sorted(items, key=lambda x: _t(request, x[1].field.title).casefold())


def _related_filter_rows(request, et, params) -> list:
    """Filter inputs for the declared related filters (``account.city``), titled
    "Account › City", entered like the list's own filters."""
    from kyklos.entities import query

    readable = service.field_access(request, et)[0]
    paths = query.filter_paths(
        request.registry, et, readable, lambda t: service.field_access(request, t)[0]
    )
    rows = []
    for path, fp in paths.items():
        if fp.target is None:
            continue
        ops = entity_ui.filter_ops(fp.field, request.registry)
        if not ops:
            continue
        via = et.fields.get(fp.via)
        title = (
            f"{_t(request, via.title if via else fp.target.title)} › {_t(request, fp.field.title)}"
        )
        f = replace(fp.field, name=path, title=title)
        row = entity_ui.FilterUI(f, ops, kind=entity_ui.filter_kind(fp.field, request.registry))
        given = {
            k.rpartition("__")[2] if "__" in k else "eq": v
            for k, v in params.items()
            if (k.rpartition("__")[0] or k) == path
        }
        if row.kind in ("date", "datetime"):
            row.start, row.end = entity_ui._range_days(request, row.kind, given)
        else:
            row.op, row.value = next(((o, v) for o, v in given.items() if o in ops), ("", ""))
            entity_ui.fill_options(request, fp.target, row)
        rows.append(row)
    return rows


def kept_filters(request, et, filters: dict) -> list[tuple[str, str, str]]:
    """The filters of a specification the form's inputs cannot show (several values
    with ``__in``, ``__isnull``...; a shipped report's "type code is incident or
    complaint"): ``(key, value, words)``. The form carries them as hidden ``fx.``
    inputs, so showing the report again keeps them, and says them in words."""
    paths = engine.all_paths(request, et)
    out = []
    for key, value in (filters or {}).items():
        name, _sep, op = key.rpartition("__")
        if not name or op not in query_ops():
            name, op = key, "eq"
        fp = paths.get(name)
        if fp is not None:
            kind = entity_ui.filter_kind(fp.field, request.registry)
            shown = ("gte", "lte", "lt") if kind in ("date", "datetime") else None
            if op in (shown or entity_ui.filter_ops(fp.field, request.registry)):
                continue
            via = et.fields.get(fp.via) if fp.via else None
            title = _t(request, fp.field.title)
            if via is not None:
                title = f"{_t(request, via.title)} › {title}"
        else:
            title, via = name, None
        text = str(value)
        values = ", ".join(text.split(","))
        # a related record picked by a plain column of its own (a shipped report's
        # type.code__in=incident,complaint): "Type: one of Complaint, Incident"
        named = _related_titles(request, fp, op, text) if via is not None else None
        if named:
            title, values = _t(request, via.title), named
        if op == "in":
            words = _("${field}: one of ${values}", mapping={"field": title, "values": values})
        elif op == "isnull":
            empty = text.lower() in ("true", "1")
            words = (
                _("${field}: empty", mapping={"field": title})
                if empty
                else _("${field}: not empty", mapping={"field": title})
            )
        else:
            words = _("${field}: ${value}", mapping={"field": title, "value": named or text})
        out.append((key, text, _t(request, words)))
    return out


def _related_titles(request, fp, op: str, text: str) -> str | None:
    """The titles (in the reader's language) of the related records a kept filter
    picks, when it picks them by a plain column of theirs (a shipped report's
    ``type.code__in=incident,complaint``): codes are for programs, titles for people.
    ``None`` when the filter is not of that form or a value matches no visible record."""
    if fp.target is None or op not in ("in", "eq") or fp.field.custom or fp.field.virtual:
        return None
    from kyklos.entities import display, service

    values = [v for v in text.split(",") if v] if op == "in" else [text]
    column = getattr(fp.target.model, fp.field.name, None)
    if not values or column is None or len(values) > 20:
        return None
    stmt = service.visible_select(request, fp.target).where(column.in_(values))
    rows = list(request.dbsession.execute(stmt).scalars())
    if {str(getattr(r, fp.field.name)) for r in rows} != set(values):
        return None
    titles = display.record_titles(request, fp.target, rows)
    return ", ".join(sorted(titles.values(), key=str.casefold))


def query_ops() -> tuple:
    from kyklos.entities import query

    return query.OPS


def _filters_from_form(request, et, post) -> dict:
    """The form's ``fop.``/``fv.``/``ff.``/``ft.`` inputs as list filter parameters,
    and the ``fx.`` filters kept from the saved specification (:func:`kept_filters`)."""
    out: dict[str, str] = {}
    ranges: dict[str, dict[str, str]] = {}
    for k, v in post.items():
        if k.startswith("fx.") and v.strip():
            out[k[3:]] = v.strip()
        elif k.startswith("fv.") and v.strip():
            name = k[3:]
            op = post.get(f"fop.{name}") or "eq"
            out[f"{name}__{op}" if op != "eq" else name] = v.strip()
        elif k.startswith(("ff.", "ft.")) and v.strip():
            ranges.setdefault(k[3:], {})["start" if k[:3] == "ff." else "end"] = v
    paths = engine.all_paths(request, et)
    for name, days in ranges.items():
        fp = paths.get(name)
        kind = "datetime" if fp is not None and fp.field.type == "datetime" else "date"
        for key, value in entity_ui._range_params(
            request, name, kind, days.get("start", ""), days.get("end", "")
        ):
            out[key] = value
    return out


def spec_from_form(request, post) -> dict:
    entity = post.get("entity", "")
    et = request.registry.kyklos_entities.get(entity)
    body: dict = {"entity": entity}
    if et is None:
        return body
    body["filters"] = _filters_from_form(request, et, post)
    seg = post.get("segment", "")
    body["segment"] = int(seg) if seg.isdigit() and len(seg) < 10 else None
    group_by = []
    for i in range(engine.MAX_DIMS):
        path = post.get(f"group.{i}", "")
        if path:
            g = {"field": path}
            fp = engine.all_paths(request, et).get(path)
            if fp is not None and fp.field.type in engine.DATE_TYPES:
                g["bucket"] = post.get(f"bucket.{i}") or "month"
            group_by.append(g)
    body["group_by"] = group_by
    measures = []
    for i in range(engine.MAX_MEASURES):
        op = post.get(f"measure.{i}.op", "")
        if not op:
            continue
        m = {"op": op}
        if op != "count":
            m["field"] = post.get(f"measure.{i}.field", "")
        measures.append(m)
    body["measures"] = measures or [{"op": "count"}]
    for key in ("currency", "rates", "sort", "chart"):
        if post.get(key):
            body[key] = post.get(key)
    limit = post.get("limit", "")
    body["limit"] = int(limit) if limit.isdigit() and len(limit) < 6 else limit or 100
    return body


def _sort_choices(request, et, body) -> list[tuple[str, str]]:
    paths = engine.all_paths(request, et)
    out = []
    for i, g in enumerate(body.get("group_by") or []):
        fp = paths.get(g.get("field"))
        if fp is None:
            continue
        title = engine.dim_title(request, et, engine.Dim(g["field"], fp, g.get("bucket")))
        out.append((f"d{i}", f"{title} ↑"))
        out.append((f"-d{i}", f"{title} ↓"))
    for i, m in enumerate(body.get("measures") or []):
        fp = paths.get(m.get("field") or "")
        if m.get("op") != "count" and fp is None:
            continue
        title = engine.measure_title(request, engine.Measure(m["op"], m.get("field"), fp))
        out.append((f"-m{i}", _t(request, _("${what}: largest first", mapping={"what": title}))))
        out.append((f"m{i}", _t(request, _("${what}: smallest first", mapping={"what": title}))))
    return out


def _roles(request):
    from sqlalchemy import select

    from kyklos.security.models import Role
    from kyklos.security.role_editor import role_title

    rows = request.dbsession.execute(select(Role).order_by(Role.name)).scalars()
    out = [(r.name, role_title(request, r)) for r in rows]
    return sorted(out, key=lambda x: x[1].casefold())


def _users(request):
    from sqlalchemy import select

    from kyklos.security.models import User

    rows = request.dbsession.execute(
        select(User.id, User.name, User.email)
        .where(User.is_active.is_(True))
        .order_by(User.name, User.email)
        .limit(entity_ui.OPTION_LIMIT)
    )
    return [(i, n or e) for i, n, e in rows]


def _page(request, body, rep=None, res=None, errors=None, name=""):
    from kyklos.entities.money import currency_options
    from kyklos.segments import visible_segments

    errors = errors or {}
    types = engine.reportable_types(request)
    et = request.registry.kyklos_entities.get(body.get("entity") or "")
    names = dict(_users(request))
    values = {
        "schedules": [
            (sc, names.get(sc.user_id, ""), _t(request, schedules.FREQUENCY_WORDS[sc.frequency]))
            for sc in (schedules.schedules_of(request, rep) if rep is not None else [])
        ],
        "frequency_words": schedules.FREQUENCY_WORDS,
        "title": report_name(request, rep) if rep else _("New report"),
        "rep": rep,
        "name": name or (rep.name if rep else ""),
        "types": [(t.name, _t(request, t.plural)) for t in types],
        "et": et,
        "body": body,
        "errors": errors,
        "general_errors": [],
        "res": res,
        "chart_scripts": [request.static_url(s) for s in CHART_SCRIPTS],
        "inputs": entity_ui.input_macros(),
        "op_titles": entity_ui.OP_TITLES,
        "chart_words": CHART_WORDS,
        "measure_words": MEASURE_WORDS,
        "bucket_words": BUCKET_CHOICES,
        "can_edit": rep is None or may_edit(request, rep),
        "pinned": is_pinned(request, rep) if rep is not None else False,
        "roles": _roles(request),
        "users": _users(request),
        "limit_max": engine.MAX_LIMIT,
    }
    if et is None:
        return values
    params = MultiDict((body.get("filters") or {}).items())
    values.update(
        {
            "filters": entity_ui.filter_rows(request, et, params),
            "related_filters": _related_filter_rows(request, et, params),
            "kept_filters": kept_filters(request, et, body.get("filters") or {}),
            "segments": [(s.id, s.name) for s in visible_segments(request, et.name)],
            "dims": [
                (p, engine.dim_title(request, et, engine.Dim(p, fp)))
                for p, fp in dim_choices(request, et)
            ],
            "date_dims": {
                p for p, fp in dim_choices(request, et) if fp.field.type in engine.DATE_TYPES
            },
            "measure_fields": [
                (p, _t(request, fp.field.title)) for p, fp in measure_choices(request, et)
            ],
            "currencies": currency_options(request),
            "rate_days": [
                (n, _t(request, f.title)) for n, f in engine.date_fields(request, et).items()
            ],
            "sorts": _sort_choices(request, et, body),
            "can_export": request.has_permission(et.permission("export")),
        }
    )
    known = {"name", "entity", "segment", "currency", "rates", "sort", "limit", "chart"}
    for k, v in errors.items():
        head = k.split(".")[0]
        if head in known or k.startswith(("group_by", "measures", "shared", "schedule")):
            continue
        values["general_errors"].append(v)
    if res is not None:
        values["table"] = table_of(request, res)
        values["pivot"] = pivot_of(request, res)
        chart = chart_of(request, res)
        values["chart_html"] = (
            render_chart(request, chart, "k-report-chart", values["title"]) if chart else None
        )
    return values


def _errors_text(request, exc) -> dict:
    errs = exc.errors if isinstance(exc, RecordError) else (exc.errors or {})
    return {k: _t(request, v) for k, v in errs.items()}


def list_page(request):
    reps = visible_reports(request)
    return {
        "title": _("Reports"),
        "reports": [
            (
                r,
                _t(request, request.registry.kyklos_entities[r.entity].plural),
                report_name(request, r),
            )
            for r in reps
        ],
        "types": [(t.name, _t(request, t.plural)) for t in engine.reportable_types(request)],
    }


def builder_page(request):
    """``/reports/new`` and ``/reports/{id}``: the builder, the result, saving."""
    rep = None
    if "id" in request.matchdict:
        rep = get_report(request, request.matchdict["id"])
        body = dict(rep.spec)
    else:
        body = {"entity": request.params.get("entity", "")}
    name = rep.name if rep else ""
    errors: dict = {}
    res = None
    action = "run" if rep is not None else ""
    if request.method == "POST":
        post = request.POST
        body = spec_from_form(request, post)
        name = post.get("name", name)
        action = post.get("action", "refresh")
        if post.get("entity") != post.get("was_entity"):
            action = "refresh"  # another type: its fields are others
            body = {"entity": body.get("entity", "")}
    et = request.registry.kyklos_entities.get(body.get("entity") or "")
    if et is not None and action.split(".")[0] in (
        "run",
        "save",
        "csv",
        "xlsx",
        "pdf",
        "pin",
        "unpin",
        "share",
        "schedule",
        "unschedule",
    ):
        try:
            spec = engine.parse_spec(request, body)
        except Problem as exc:
            errors = _errors_text(request, exc)
            request.response.status = 400
            spec = None
        if spec is not None:
            if action in FORMATS:
                return export_response(request, engine.run(request, spec), action, name or "report")
            if action in ("save", "share"):
                if rep is not None and not may_edit(request, rep):
                    raise HTTPForbidden()
                data = {"name": name, "spec": spec.raw}
                if action == "share" or rep is not None:
                    data["shared_roles"] = request.POST.getall("shared_roles")
                    users = request.POST.getall("shared_users")
                    data["shared_users"] = [int(u) for u in users if u.isdigit() and len(u) < 10]
                try:
                    saved = save_report(request, data, rep)
                except RecordError as exc:
                    errors = _errors_text(request, exc)
                    request.response.status = 400
                else:
                    return HTTPFound(request.route_url("report", id=saved.id))
            elif action.split(".")[0] in ("schedule", "unschedule") and rep is not None:
                if not may_edit(request, rep):
                    raise HTTPForbidden()
                post = request.POST
                if action == "schedule":
                    uid = post.get("schedule_user", "")
                    try:
                        schedules.add_schedule(
                            request,
                            rep,
                            {
                                "user_id": int(uid) if uid.isdigit() and len(uid) < 10 else None,
                                "frequency": post.get("schedule_frequency"),
                                "attach_pdf": post.get("schedule_pdf") == "1",
                            },
                        )
                    except RecordError as exc:
                        errors = {f"schedule.{k}": v for k, v in _errors_text(request, exc).items()}
                        request.response.status = 400
                        return _page(request, body, rep, None, errors, name)
                else:
                    sid = action.partition(".")[2]
                    sched = (
                        request.dbsession.get(schedules.ReportSchedule, int(sid))
                        if sid.isdigit() and len(sid) < 10
                        else None
                    )
                    if sched is not None and sched.report_id == rep.id:
                        request.dbsession.delete(sched)
                return HTTPFound(request.route_url("report", id=rep.id))
            elif action in ("pin", "unpin") and rep is not None:
                pin(request, rep, action == "pin")
                return HTTPFound(request.route_url("report", id=rep.id))
            else:
                res = engine.run(request, spec)
    return _page(request, body, rep, res, errors, name)


def delete_page(request):
    rep = get_report(request, request.matchdict["id"])
    if not may_edit(request, rep):
        raise HTTPForbidden()
    request.dbsession.delete(rep)
    return HTTPFound(request.route_url("reports"))


def export_page(request):
    rep = get_report(request, request.matchdict["id"])
    fmt = request.GET.get("format", "csv")
    try:
        res = engine.run(request, _saved_spec(request, rep))
    except Problem:
        return HTTPFound(request.route_url("report", id=rep.id))
    return export_response(request, res, fmt, rep.name)


# --- the home page ---------------------------------------------------------------------------


def pinned_widgets(request) -> list[Widget]:
    """A tile per pinned report, computed with the viewer's own rights."""
    out = []
    for i, rep in enumerate(pinned_reports(request)):
        try:
            spec = _saved_spec(request, rep)
        except Problem:
            continue  # a field the viewer may no longer read: the report page says why
        res = engine.run(request, spec)
        chart = chart_of(request, res)
        url = request.route_url("report", id=rep.id)
        html = None
        if chart is None:
            html = '<p class="text-muted small mb-0">{}</p>'.format(
                _t(request, _("No records to show."))
            )
        out.append(
            Widget(
                id=f"report-{rep.id}",
                title=report_name(request, rep),
                chart=chart,
                html=html,
                size="md",
                order=500 + i,
                url=url,
            )
        )
    return out


# --- routes ------------------------------------------------------------------------------------


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    entities = sorted(request.registry.kyklos_entities) or ["-"]
    spec = o.obj(
        {
            "entity": {"type": "string", "enum": entities},
            "filters": {"type": "object", "description": "the list's filter parameters"},
            "segment": {"type": ["integer", "null"]},
            "group_by": o.array(
                o.obj(
                    {
                        "field": {"type": "string"},
                        "bucket": {"type": "string", "enum": list(engine.BUCKETS)},
                    },
                    ["field"],
                ),
                maxItems=engine.MAX_DIMS,
            ),
            "measures": o.array(
                o.obj(
                    {
                        "op": {"type": "string", "enum": list(engine.OPS)},
                        "field": {"type": "string"},
                    },
                    ["op"],
                ),
                maxItems=engine.MAX_MEASURES,
            ),
            "currency": {"type": "string"},
            "rates": {"type": "string"},
            "sort": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": engine.MAX_LIMIT},
            "chart": {"type": "string", "enum": list(engine.CHARTS)},
        },
        ["entity"],
        strict=False,
    )
    report = o.obj(
        {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "entity": {"type": "string"},
            "spec": {"type": "object"},
            "shared_roles": o.array({"type": "string"}),
            "shared_users": o.array({"type": "integer"}),
            "created_by_id": {"type": ["integer", "null"]},
            "pinned": {"type": "boolean"},
            "can_edit": {"type": "boolean"},
        },
        ["id", "name", "entity", "spec"],
        strict=False,
    )
    result = o.obj(
        {
            "columns": o.array({"type": "object"}),
            "rows": o.array({"type": "object"}),
            "truncated": {"type": "boolean"},
            "unconverted": {"type": "integer"},
            "currency": {"type": "string"},
            "spec": {"type": "object"},
        },
        ["columns", "rows", "truncated"],
        strict=False,
    )
    body = o.obj(
        {
            "name": o.text(200),
            "spec": spec,
            "shared_roles": o.array({"type": "string"}, maxItems=200),
            "shared_users": o.array(o.INT_ID, maxItems=200),
        },
        strict=False,
    )
    schedule = o.obj(
        {
            "id": {"type": "integer"},
            "user_id": {"type": "integer"},
            "frequency": {"type": "string", "enum": list(schedules.FREQUENCIES)},
            "attach_pdf": {"type": "boolean"},
            "last_sent_on": {"type": ["string", "null"]},
            "last_error": {"type": ["string", "null"]},
        },
        ["id", "user_id", "frequency"],
    )
    tag = "Reports"
    semantic = {"x-kyklos-semantic-checks": True}
    one = [o.path_id()]
    return {
        "/api/v1/_reports": {
            "get": o.operation(
                tag,
                "list_reports",
                {"200": o.json_ok(o.page_of(report, cursor=False)), **o.problems("401")},
            ),
            "post": o.operation(
                tag,
                "create_report",
                {
                    "201": o.json_ok(report, "created"),
                    **o.problems("400", "401", "403", "413", "415"),
                },
                body=o.json_body({**body, "required": ["name", "spec"]}),
                **semantic,
            ),
        },
        "/api/v1/_reports/options": {
            "get": o.operation(
                tag,
                "report_options",
                {"200": o.json_ok({"type": "object"}), **o.problems("400", "401")},
                summary="What a report of a type may group by and sum, for this user",
                parameters=[o.param("entity", {"type": "string", "enum": entities}, required=True)],
            )
        },
        "/api/v1/_reports/run": {
            "post": o.operation(
                tag,
                "run_report",
                {"200": o.json_ok(result), **o.problems("400", "401", "413", "415")},
                summary="The result of an unsaved report",
                body=o.json_body(o.obj({"spec": spec}, ["spec"], strict=False)),
                **semantic,
            )
        },
        "/api/v1/_reports/{id}": {
            "get": o.operation(
                tag,
                "get_report",
                {"200": o.json_ok(report), **o.problems("401", "404")},
                parameters=one,
            ),
            "patch": o.operation(
                tag,
                "update_report",
                {
                    "200": o.json_ok(report),
                    **o.problems("400", "401", "403", "404", "413", "415"),
                },
                parameters=one,
                body=o.json_body(body),
                **semantic,
            ),
            "delete": o.operation(
                tag,
                "delete_report",
                {"204": o.no_content("deleted"), **o.problems("401", "403", "404")},
                parameters=one,
            ),
        },
        "/api/v1/_reports/{id}/run": {
            "get": o.operation(
                tag,
                "run_saved_report",
                {"200": o.json_ok(result), **o.problems("400", "401", "404")},
                parameters=one,
            )
        },
        "/api/v1/_reports/{id}/export": {
            "get": o.operation(
                tag,
                "export_report",
                {
                    "200": {"description": "CSV, XLSX or PDF"},
                    **o.problems("400", "401", "403", "404"),
                },
                parameters=[*one, o.param("format", {"type": "string", "enum": list(FORMATS)})],
            )
        },
        "/api/v1/_reports/{id}/schedules": {
            "get": o.operation(
                tag,
                "list_report_schedules",
                {
                    "200": o.json_ok(o.page_of(schedule, cursor=False)),
                    **o.problems("401", "403", "404"),
                },
                parameters=one,
            ),
            "post": o.operation(
                tag,
                "schedule_report",
                {
                    "201": o.json_ok(schedule, "created"),
                    **o.problems("400", "401", "403", "404", "413", "415"),
                },
                summary="Send the report by e-mail to someone it is shared with",
                parameters=one,
                body=o.json_body(
                    o.obj(
                        {
                            "user_id": o.INT_ID,
                            "frequency": {"type": "string", "enum": list(schedules.FREQUENCIES)},
                            "attach_pdf": {"type": "boolean"},
                        },
                        ["user_id", "frequency"],
                        strict=False,
                    )
                ),
                **semantic,
            ),
        },
        "/api/v1/_reports/{id}/schedules/{sid}": {
            "delete": o.operation(
                tag,
                "unschedule_report",
                {"204": o.no_content("stopped"), **o.problems("401", "403", "404")},
                parameters=[*one, o.path_id("sid")],
            )
        },
        "/api/v1/_reports/{id}/pin": {
            "put": o.operation(
                tag,
                "pin_report",
                {"200": o.json_ok(report), **o.problems("401", "404")},
                summary="Pin the report to the user's home page",
                parameters=one,
            ),
            "delete": o.operation(
                tag,
                "unpin_report",
                {"200": o.json_ok(report), **o.problems("401", "404")},
                parameters=one,
            ),
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    rid = "{id:[0-9]{1,9}}"
    api = [
        ("api.reports", "/api/v1/_reports", "GET", api_list),
        ("api.reports", "/api/v1/_reports", "POST", api_create),
        ("api.reports.options", "/api/v1/_reports/options", "GET", api_options),
        ("api.reports.run", "/api/v1/_reports/run", "POST", api_run),
        ("api.report", f"/api/v1/_reports/{rid}", "GET", api_get),
        ("api.report", f"/api/v1/_reports/{rid}", "PATCH", api_patch),
        ("api.report", f"/api/v1/_reports/{rid}", "DELETE", api_delete),
        ("api.report.run", f"/api/v1/_reports/{rid}/run", "GET", api_run_saved),
        ("api.report.pin", f"/api/v1/_reports/{rid}/pin", "PUT", api_pin),
        ("api.report.pin", f"/api/v1/_reports/{rid}/pin", "DELETE", api_pin),
        ("api.report.schedules", f"/api/v1/_reports/{rid}/schedules", "GET", api_schedules),
        ("api.report.schedules", f"/api/v1/_reports/{rid}/schedules", "POST", api_schedules),
        (
            "api.report.schedule",
            f"/api/v1/_reports/{rid}/schedules/{{sid:[0-9]{{1,9}}}}",
            "DELETE",
            api_schedule_delete,
        ),
    ]
    seen = set()
    for name, pattern, method, view in api:
        if name not in seen:
            config.add_route(name, pattern)
            seen.add(name)
        config.add_view(
            view,
            route_name=name,
            request_method=method,
            renderer="json",
            permission="authenticated",
        )
    config.add_route("api.report.export", f"/api/v1/_reports/{rid}/export")
    config.add_view(
        api_export, route_name="api.report.export", request_method="GET", permission="authenticated"
    )
    pages = [
        ("reports", "/reports", list_page, "report_list.pt", ("GET",)),
        ("report.new", "/reports/new", builder_page, "report_builder.pt", ("GET", "POST")),
        ("report", f"/reports/{rid}", builder_page, "report_builder.pt", ("GET", "POST")),
    ]
    for name, pattern, view, tpl, methods in pages:
        config.add_route(name, pattern)
        config.add_view(
            view,
            route_name=name,
            renderer=T + tpl,
            request_method=methods,
            permission="authenticated",
        )
    config.add_route("report.delete", f"/reports/{rid}/delete")
    config.add_view(
        delete_page, route_name="report.delete", request_method="POST", permission="authenticated"
    )
    config.add_route("report.export", f"/reports/{rid}/export")
    config.add_view(export_page, route_name="report.export", permission="authenticated")

"""Service history (HD-12, RPT-05): everything that happened to one installed product
(by its serial number) or to every unit of a catalog product: its cases, the visits
and other activities about those cases, the time spent on them and the warranty
state; and the parts and labour used on them (kyklos_helpdesk.parts) with their costs and totals:
everything, billable (out of warranty) and under warranty, per currency, in the
user's number format. The "failures per product and serial" report is a saved report
of the core's report builder (kyklos_helpdesk.reports); its API stays here.

Everything is read through the user's record rules: an installed product, case,
activity, time entry or part the user may not see is not counted; the costs are shown
only to those who may read a part's total (the catalog's cost rule, ``parts.py``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import func, select

from kyklos_sdk import (
    Panel,
    Problem,
    display_text,
    format_date,
    format_datetime,
    format_money,
    format_number,
    get_entity_type,
    get_record,
    hookimpl,
    record_title,
    reference_titles,
    visible_select,
)

from . import PERMISSIONS, _
from .models import Case, CaseType, TimeEntry

#: the catalog's product field on the installed product (kyklos_catalog.installed)
PRODUCT_FIELD = "catalog_product"
#: the case types that count as failures
FAILURE_TYPES = ("incident", "complaint")
ID = r"{id:\d{1,18}}"


def user_zone(request) -> ZoneInfo:
    ident = getattr(request, "identity", None)
    name = getattr(getattr(ident, "user", None), "timezone", None) or "UTC"
    try:
        return ZoneInfo(name)
    except (KeyError, ValueError):
        return ZoneInfo("UTC")


def today(request) -> dt.date:
    return dt.datetime.now(user_zone(request)).date()


def warranty_words(request, until: dt.date | None) -> tuple[str, str]:
    """(state, words): "under warranty until 3 March 2027" / "out of warranty"."""
    loc = request.localizer
    if until is None:
        return "unknown", loc.translate(_("no warranty date on file"))
    if until >= today(request):
        return "under", loc.translate(
            _(
                "under warranty until ${date}",
                mapping={"date": format_date(request, until, "long")},
            )
        )
    return "out", loc.translate(
        _("out of warranty since ${date}", mapping={"date": format_date(request, until, "long")})
    )


def _installed_type(request):
    et = get_entity_type(request, "installedproduct")
    if not request.has_permission(et.permission("read")):
        raise HTTPNotFound()
    return et


def visible_installed(request, installed_id) -> object:
    """The installed product, or 404 when it does not exist or the user may not see it."""
    return get_record(request, _installed_type(request), installed_id, "read")


def _cases(request, *conds) -> list[Case]:
    et = get_entity_type(request, "case")
    if not request.has_permission(et.permission("read")):
        return []
    stmt = visible_select(request, et).where(Case.merged_into_id.is_(None), *conds)
    return list(request.dbsession.execute(stmt.order_by(Case.created_at.desc())).scalars())


def cases_of_installed(request, installed) -> list[Case]:
    serial = (installed.serial_number or "").strip()
    if serial:
        return _cases(request, func.lower(Case.serial_number) == serial.lower())
    product = (installed.custom or {}).get(PRODUCT_FIELD)
    if not product or not installed.account_id:
        return []
    return _cases(request, Case.product_id == int(product), Case.account_id == installed.account_id)


def _activities(request, case_ids: list[int]) -> list:
    if not case_ids:
        return []
    et = request.registry.kyklos_entities.get("activity")
    if et is None or not request.has_permission(et.permission("read")):
        return []
    model = et.model
    stmt = visible_select(request, et).where(
        model.about_type == "case", model.about_id.in_(case_ids)
    )
    return list(request.dbsession.execute(stmt.order_by(model.id.desc()).limit(200)).scalars())


def _time(request, case_ids: list[int]) -> Decimal:
    if not case_ids or not request.has_permission(PERMISSIONS["timeentry"]["read"]):
        return Decimal(0)
    et = get_entity_type(request, "timeentry")
    sub = visible_select(request, et).where(TimeEntry.case_id.in_(case_ids)).subquery()
    total = request.dbsession.execute(select(func.coalesce(func.sum(sub.c.quantity), 0))).scalar()
    return Decimal(total or 0)


def _case_rows(request, cases: list[Case]) -> list[dict]:
    et = get_entity_type(request, "case")
    titles = reference_titles(request, et, cases, ("type_id", "account_id")) if cases else {}
    out = []
    for c in cases:
        type_ = titles.get("type_id", {}).get(c.type_id)
        account = titles.get("account_id", {}).get(c.account_id)
        out.append(
            {
                "id": c.id,
                "number": c.number,
                "subject": c.subject,
                "type": type_[0] if type_ else "",
                "status": c.status,
                "status_text": display_text(request, "case", "status", c.status),
                "account": account[0] if account else "",
                "serial_number": c.serial_number or "",
                "opened": format_datetime(request, c.created_at, "short"),
                "created_at": c.created_at.isoformat() if c.created_at else None,
                "url": request.route_path("entity.detail", slug="cases", id=c.id),
            }
        )
    return out


def _activity_rows(request, acts) -> list[dict]:
    if not acts:
        return []
    et = request.registry.kyklos_entities["activity"]
    titles = reference_titles(request, et, acts, ("type_id",))
    out = []
    for a in acts:
        kind = titles["type_id"].get(a.type_id)
        when = a.starts_at or a.due_at or a.completed_at or a.created_at
        out.append(
            {
                "id": a.id,
                "subject": a.subject,
                "type": kind[0] if kind else "",
                "when": format_datetime(request, when, "short") if when else "",
                "case_id": a.about_id,
                "url": request.route_path("entity.detail", slug=et.slug, id=a.id),
            }
        )
    return out


def _parts(request, case_ids: list[int], serials: list[str]) -> list:
    """The parts used on ``case_ids`` or on the units with ``serials`` that the user
    may see, newest first."""
    from sqlalchemy import or_

    from .parts import PartUsage

    et = request.registry.kyklos_entities.get("partusage")
    if et is None or not request.has_permission(et.permission("read")):
        return []
    conds = []
    if case_ids:
        conds.append(PartUsage.case_id.in_(case_ids))
    serials = [s.lower() for s in serials if s]
    if serials:
        conds.append(func.lower(PartUsage.serial_number).in_(serials))
    if not conds:
        return []
    stmt = visible_select(request, et).where(or_(*conds))
    return list(
        request.dbsession.execute(
            stmt.order_by(PartUsage.used_on.desc(), PartUsage.id.desc())
        ).scalars()
    )


def _part_rows(request, parts) -> dict:
    """The parts as rows in words, and the totals per currency (all, billable and
    under warranty); the amounts only for whom may read them (``costs``)."""
    from kyklos_sdk import field_access

    from .parts import WARRANTY

    et = get_entity_type(request, "partusage")
    readable = field_access(request, et)[0]
    costs = "total" in readable
    titles = (
        reference_titles(request, et, parts, ("product_id", "case_id", "visit_id")) if parts else {}
    )
    rows, totals = [], {}
    loc = request.localizer
    for p in parts:
        product = titles.get("product_id", {}).get(p.product_id)
        case = titles.get("case_id", {}).get(p.case_id) if p.case_id else None
        visit = titles.get("visit_id", {}).get(p.visit_id) if p.visit_id else None
        row = {
            "id": p.id,
            "used_on": p.used_on.isoformat(),
            "used_on_text": format_date(request, p.used_on),
            "product_id": p.product_id,
            "product": product[0] if product else "",
            "quantity": str(p.quantity),
            "quantity_text": format_number(request, p.quantity),
            "serial_number": p.serial_number or "",
            "case_id": p.case_id,
            "visit_id": p.visit_id,
            "on": (case or visit or ("",))[0],
            "on_url": (
                request.route_path("entity.detail", slug="cases", id=p.case_id)
                if p.case_id
                else request.route_path("entity.detail", slug="activities", id=p.visit_id)
            ),
            "labour_hours": str(p.labour_hours),
            "labour_hours_text": format_number(request, p.labour_hours),
            "warranty": p.warranty,
            "warranty_text": loc.translate(WARRANTY.get(p.warranty, WARRANTY["unknown"])),
            "billable": p.billable,
            "billable_text": loc.translate(_("Billable") if p.billable else _("Not billable")),
            "url": request.route_path("entity.detail", slug=et.slug, id=p.id),
        }
        if costs:
            row["unit_cost"] = str(p.unit_cost) if p.unit_cost is not None else None
            row["unit_cost_text"] = format_money(request, p.unit_cost, p.unit_cost_currency)
            row["total"] = str(p.total) if p.total is not None else None
            row["currency"] = p.total_currency
            row["total_text"] = format_money(request, p.total, p.total_currency)
            t = totals.setdefault(
                p.total_currency,
                {"all": Decimal("0.00"), "billable": Decimal("0.00"), "warranty": Decimal("0.00")},
            )
            amount = Decimal(p.total or 0)
            t["all"] += amount
            t["billable" if p.billable else "warranty"] += amount
        rows.append(row)
    out_totals = [
        {
            "currency": cur,
            **{k: str(v) for k, v in t.items()},
            **{f"{k}_text": format_money(request, v, cur) for k, v in t.items()},
        }
        for cur, t in sorted(totals.items())
    ]
    return {"parts": rows, "costs_visible": costs, "cost_totals": out_totals}


def _visit_rows(request, parts) -> list[dict]:
    """The maintenance visits the parts were used on (activities the user may see)."""
    ids = sorted({p.visit_id for p in parts if p.visit_id})
    et = request.registry.kyklos_entities.get("activity")
    if not ids or et is None or not request.has_permission(et.permission("read")):
        return []
    acts = request.dbsession.execute(
        visible_select(request, et).where(et.model.id.in_(ids)).order_by(et.model.id.desc())
    ).scalars()
    return _activity_rows(request, list(acts))


def installed_history(request, installed) -> dict:
    cases = cases_of_installed(request, installed)
    ids = [c.id for c in cases]
    state, words = warranty_words(request, installed.warranty_until)
    et = get_entity_type(request, "installedproduct")
    owners = reference_titles(request, et, [installed], ("account_id", "person_id"))
    owner = owners["account_id"].get(installed.account_id) or owners["person_id"].get(
        installed.person_id
    )
    product_id = (installed.custom or {}).get(PRODUCT_FIELD)
    hours = _time(request, ids)
    parts = _parts(request, ids, [installed.serial_number or ""])
    return {
        **_part_rows(request, parts),
        "visits": _visit_rows(request, parts),
        "kind": "installed",
        "id": installed.id,
        "title": installed.product,
        "serial_number": installed.serial_number or "",
        "customer": owner[0] if owner else "",
        "product_id": int(product_id) if product_id else None,
        "purchased_on": installed.purchased_on.isoformat() if installed.purchased_on else None,
        "warranty_until": (
            installed.warranty_until.isoformat() if installed.warranty_until else None
        ),
        "warranty": state,
        "warranty_text": words,
        "cases": _case_rows(request, cases),
        "open_cases": sum(1 for c in cases if c.status not in ("resolved", "closed")),
        "activities": _activity_rows(request, _activities(request, ids)),
        "time_spent": str(hours),
        "time_spent_text": format_number(request, hours),
    }


def product_history(request, product) -> dict:
    cases = _cases(request, Case.product_id == product.id)
    ids = [c.id for c in cases]
    units = []
    et = request.registry.kyklos_entities.get("installedproduct")
    if et is not None and request.has_permission(et.permission("read")):
        model = et.model
        rows = request.dbsession.execute(
            visible_select(request, et)
            .where(model.custom[PRODUCT_FIELD].as_integer() == product.id)
            .order_by(model.id)
        ).scalars()
        rows = list(rows)
        owners = reference_titles(request, et, rows, ("account_id", "person_id")) if rows else {}
        for r in rows:
            ref = owners["account_id"].get(r.account_id) or owners["person_id"].get(r.person_id)
            state, words = warranty_words(request, r.warranty_until)
            units.append(
                {
                    "id": r.id,
                    "serial_number": r.serial_number or "",
                    "customer": ref[0] if ref else "",
                    "warranty": state,
                    "warranty_text": words,
                    "url": request.route_path("helpdesk.history.installed", id=r.id),
                }
            )
    hours = _time(request, ids)
    parts = _parts(request, ids, [u["serial_number"] for u in units])
    pet = get_entity_type(request, "product")
    return {
        **_part_rows(request, parts),
        "visits": _visit_rows(request, parts),
        "kind": "product",
        "id": product.id,
        "title": record_title(request, pet, product),
        "installed": units,
        "cases": _case_rows(request, cases),
        "open_cases": sum(1 for c in cases if c.status not in ("resolved", "closed")),
        "activities": _activity_rows(request, _activities(request, ids)),
        "time_spent": str(hours),
        "time_spent_text": format_number(request, hours),
    }


def _product(request):
    et = get_entity_type(request, "product")
    if not request.has_permission(et.permission("read")):
        raise HTTPNotFound()
    return get_record(request, et, request.matchdict["id"], "read")


def api_installed(request):
    """``GET /api/v1/helpdesk/history/installed-products/{id}``"""
    return installed_history(request, visible_installed(request, request.matchdict["id"]))


def api_product(request):
    """``GET /api/v1/helpdesk/history/products/{id}``"""
    return product_history(request, _product(request))


def installed_page(request):
    installed = visible_installed(request, request.matchdict["id"])
    data = installed_history(request, installed)
    return {
        "title": _("Service history"),
        "data": data,
        "record_url": request.route_path(
            "entity.detail", slug=_installed_type(request).slug, id=installed.id
        ),
        "product_url": (
            request.route_path("helpdesk.history.product", id=data["product_id"])
            if data["product_id"]
            else None
        ),
        "new_case_url": new_case_url(request, installed),
    }


def product_page(request):
    product = _product(request)
    return {
        "title": _("Service history"),
        "data": product_history(request, product),
        "record_url": request.route_path("entity.detail", slug="products", id=product.id),
        "new_case_url": None,
    }


def new_case_url(request, installed, channel: str | None = None) -> str | None:
    if not request.has_permission(PERMISSIONS["case"]["create"]):
        return None
    query = {"from": f"installedproduct:{installed.id}"}
    if channel:
        query["channel"] = channel
    return request.route_path("entity.new", slug="cases", _query=query)


# --- failures per product and serial ----------------------------------------------------


def _parse_day(raw: str | None):
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return False


def failure_range(request) -> tuple[dt.date, dt.date]:
    """The report's days (``start``, ``end`` as YYYY-MM-DD, in the user's zone);
    default: the last 365 days. Bad dates raise a problem naming the field."""
    errors = {}
    start, end = _parse_day(request.GET.get("start")), _parse_day(request.GET.get("end"))
    if start is False:
        errors["start"] = _("Give a date as YYYY-MM-DD.")
    if end is False:
        errors["end"] = _("Give a date as YYYY-MM-DD.")
    if not errors and start and end and end < start:
        errors["end"] = _("The end comes before the start.")
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    end = end or today(request)
    start = start or end - dt.timedelta(days=364)
    return start, end


def failures(request, start: dt.date, end: dt.date) -> list[dict]:
    """Incidents and complaints opened between ``start`` and ``end`` (whole days in
    the user's zone), counted per product and serial number, most first."""
    et = get_entity_type(request, "case")
    if not request.has_permission(et.permission("read")):
        return []
    zone = user_zone(request)
    lo = dt.datetime.combine(start, dt.time(), zone).astimezone(dt.UTC)
    hi = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), zone).astimezone(dt.UTC)
    types = select(CaseType.id).where(CaseType.code.in_(FAILURE_TYPES))
    sub = (
        visible_select(request, et)
        .where(
            Case.type_id.in_(types),
            Case.merged_into_id.is_(None),
            Case.created_at >= lo,
            Case.created_at < hi,
        )
        .subquery()
    )
    rows = request.dbsession.execute(
        select(sub.c.product_id, sub.c.serial_number, func.count())
        .group_by(sub.c.product_id, sub.c.serial_number)
        .order_by(func.count().desc(), sub.c.product_id, sub.c.serial_number)
    ).all()
    pet = get_entity_type(request, "product")
    names = {}
    ids = {r[0] for r in rows if r[0]}
    if ids:
        from kyklos_sdk import record_titles

        products = request.dbsession.execute(
            select(pet.model).where(pet.model.id.in_(ids))
        ).scalars()
        names = record_titles(request, pet, list(products))
    none = request.localizer.translate(_("(no product)"))
    out = []
    for product_id, serial, count in rows:
        out.append(
            {
                "product_id": product_id,
                "product": (names.get(product_id) or none) if product_id else none,
                "serial_number": serial or "",
                "count": int(count),
                "url": (
                    request.route_path("helpdesk.history.product", id=product_id)
                    if product_id
                    else None
                ),
            }
        )
    return out


def api_failures(request):
    """``GET /api/v1/helpdesk/failures?start=&end=``"""
    start, end = failure_range(request)
    return {
        "start": start.isoformat(),
        "end": end.isoformat(),
        "rows": failures(request, start, end),
    }


# --- links from the record pages ----------------------------------------------------------


class Hooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        from kyklos_sdk import MenuItem

        read = PERMISSIONS["case"]["read"]
        return [
            MenuItem(
                _("Scan a serial number"),
                request.route_path("helpdesk.intake"),
                read,
                "upc-scan",
                order=44,
            ),
            MenuItem(
                _("Failures per product"),
                request.route_path("helpdesk.failures"),
                read,
                "bar-chart",
                order=45,
            ),
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        name = entity_type.name
        if name == "installedproduct":
            url = request.route_path("helpdesk.history.installed", id=record.id)
            state, words = warranty_words(request, record.warranty_until)
            n = len(cases_of_installed(request, record))
            detail = request.localizer.pluralize(
                "${n} case", "${n} cases", n, domain="kyklos_helpdesk", mapping={"n": n}
            )
            return [
                Panel(
                    _("Service history"),
                    items=[(words, url, detail)],
                    order=8,
                )
            ]
        if name == "product" and request.has_permission(PERMISSIONS["case"]["read"]):
            url = request.route_path("helpdesk.history.product", id=record.id)
            return [
                Panel(
                    _("Service history"),
                    items=[(request.localizer.translate(_("Service history")), url, "")],
                    order=9,
                )
            ]
        if name == "case":
            items = []
            if record.serial_number:
                et = request.registry.kyklos_entities.get("installedproduct")
                if et is not None and request.has_permission(et.permission("read")):
                    found = request.dbsession.execute(
                        visible_select(request, et)
                        .where(
                            func.lower(et.model.serial_number)
                            == record.serial_number.strip().lower()
                        )
                        .limit(1)
                    ).scalar()
                    if found is not None:
                        items.append(
                            (
                                request.localizer.translate(
                                    _(
                                        "Service history of ${serial}",
                                        mapping={"serial": record.serial_number},
                                    )
                                ),
                                request.route_path("helpdesk.history.installed", id=found.id),
                                warranty_words(request, found.warranty_until)[1],
                            )
                        )
            if record.product_id:
                items.append(
                    (
                        request.localizer.translate(_("Service history of the product")),
                        request.route_path("helpdesk.history.product", id=record.product_id),
                        "",
                    )
                )
            return [Panel(_("Service history"), items=items, order=9)] if items else None
        return None

    @hookimpl
    def kyklos_record_defaults(self, request, entity_type, parent_type, parent):
        """A case opened from an installed product (its page, or the barcode intake)
        starts with its customer, product and serial number."""
        if entity_type.name != "case":
            return None
        out = {}
        if parent_type.name == "installedproduct":
            out = {
                "account_id": parent.account_id,
                "person_id": parent.person_id,
                "serial_number": parent.serial_number,
            }
            product = (parent.custom or {}).get(PRODUCT_FIELD)
            if product:
                out["product_id"] = int(product)
            out = {k: v for k, v in out.items() if v}
        elif parent_type.name != "product":
            return None
        if request.GET.get("channel") == "scanner":
            out["channel"] = "scanner"
        return out


def openapi_paths(request):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    record = {"application/json": {"schema": {"type": "object"}}}
    one = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}
    ]
    day = {"type": "string", "format": "date"}
    return {
        "/api/v1/helpdesk/history/installed-products/{id}": {
            "get": {
                "operationId": "helpdesk_history_installed",
                "tags": ["Helpdesk"],
                "summary": "Service history of an installed product (serial number)",
                "parameters": one,
                "responses": {
                    "200": {"description": "cases, activities, time, warranty", "content": record},
                    "404": {"description": "no such installed product", "content": problem},
                },
            }
        },
        "/api/v1/helpdesk/history/products/{id}": {
            "get": {
                "operationId": "helpdesk_history_product",
                "tags": ["Helpdesk"],
                "summary": "Service history of a product: its units, cases, activities, time",
                "parameters": one,
                "responses": {
                    "200": {"description": "units, cases, activities, time", "content": record},
                    "404": {"description": "no such product", "content": problem},
                },
            }
        },
        "/api/v1/helpdesk/failures": {
            "get": {
                "operationId": "helpdesk_failures",
                "tags": ["Helpdesk"],
                "summary": "Incidents and complaints per product and serial number",
                "parameters": [
                    {"name": "start", "in": "query", "required": False, "schema": day},
                    {"name": "end", "in": "query", "required": False, "schema": day},
                ],
                "responses": {
                    "200": {"description": "{start, end, rows: [...]}", "content": record},
                    "400": {"description": "bad dates", "content": problem},
                },
            }
        },
    }


def includeme(config):
    read = PERMISSIONS["case"]["read"]
    config.add_openapi_paths(openapi_paths)
    routes = (
        ("helpdesk.api.history.installed", f"/api/v1/helpdesk/history/installed-products/{ID}"),
        ("helpdesk.api.history.product", f"/api/v1/helpdesk/history/products/{ID}"),
        ("helpdesk.api.failures", "/api/v1/helpdesk/failures"),
    )
    for (name, pattern), view in zip(
        routes, (api_installed, api_product, api_failures), strict=True
    ):
        config.add_route(name, pattern, request_method="GET")
        config.add_view(view, route_name=name, permission=read, renderer="json")
    pages = (
        (
            "helpdesk.history.installed",
            f"/helpdesk/history/installed-products/{ID}",
            installed_page,
        ),
        ("helpdesk.history.product", f"/helpdesk/history/products/{ID}", product_page),
    )
    for name, pattern, view in pages:
        config.add_route(name, pattern, request_method="GET")
        config.add_view(
            view,
            route_name=name,
            permission=read,
            renderer="kyklos_helpdesk:templates/history.pt",
        )
    # support people look serial numbers up in the installed base (intake, history)
    for role in ("agent", "helpdeskmanager"):
        config.extend_role(role, ["contacts.installedproduct.read"])
        config.add_record_rule("installedproduct", role, "read", "all")
    config.add_hooks(Hooks(), name="kyklos_helpdesk.history")

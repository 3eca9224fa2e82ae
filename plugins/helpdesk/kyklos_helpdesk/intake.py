"""Barcode intake (HD-13): one field a keyboard-wedge scanner types into (the code and
Enter) or a phone's camera fills (the browser's BarcodeDetector, where it exists). The
code is looked up as an installed product's serial number, else as a catalog product's
barcode (EAN) or code; the page shows what it found with its open cases and "Open a
case" prefilled with the customer, contact, product, serial number and the channel
"scanner". Lookups run through the user's record rules: a serial number at a customer
the user may not see is "not found", exactly like one that does not exist."""

from __future__ import annotations

from sqlalchemy import func, or_

from kyklos_sdk import Problem, get_entity_type, visible_select

from . import PERMISSIONS, _
from .history import (
    PRODUCT_FIELD,
    _case_rows,
    _cases,
    new_case_url,
    warranty_words,
)
from .models import Case

MAX_CODE = 100
OPEN = ("resolved", "closed")


def clean_code(raw) -> str | None:
    """The scanned text without spaces around it (scanners add a CR or a tab)."""
    if not isinstance(raw, str):
        return None
    code = raw.strip()
    return code if 0 < len(code) <= MAX_CODE else None


def _installed(request, code: str) -> list:
    et = request.registry.kyklos_entities.get("installedproduct")
    if et is None or not request.has_permission(et.permission("read")):
        return []
    model = et.model
    stmt = visible_select(request, et).where(func.lower(model.serial_number) == code.lower())
    return list(request.dbsession.execute(stmt.order_by(model.id).limit(20)).scalars())


def _product(request, code: str):
    et = get_entity_type(request, "product")
    if not request.has_permission(et.permission("read")):
        return None
    model = et.model
    stmt = visible_select(request, et).where(
        or_(model.barcode == code, func.lower(model.sku) == code.lower())
    )
    return request.dbsession.execute(stmt.order_by(model.id).limit(1)).scalar()


def lookup(request, code: str) -> dict:
    """``{"code", "found": "installed" | "product" | None, "installed": [...],
    "product": {...} | None}`` with each unit's open cases and its "new case" link."""
    from kyklos_sdk import reference_titles

    out = {"code": code, "found": None, "installed": [], "product": None}
    units = _installed(request, code)
    if units:
        et = get_entity_type(request, "installedproduct")
        owners = reference_titles(request, et, units, ("account_id", "person_id"))
        for u in units:
            ref = owners["account_id"].get(u.account_id) or owners["person_id"].get(u.person_id)
            cases = [
                c
                for c in _cases(request, func.lower(Case.serial_number) == code.lower())
                if c.status not in OPEN
            ]
            state, words = warranty_words(request, u.warranty_until)
            product = (u.custom or {}).get(PRODUCT_FIELD)
            out["installed"].append(
                {
                    "id": u.id,
                    "product": u.product,
                    "product_id": int(product) if product else None,
                    "serial_number": u.serial_number,
                    "customer": ref[0] if ref else "",
                    "account_id": u.account_id,
                    "person_id": u.person_id,
                    "warranty": state,
                    "warranty_text": words,
                    "open_cases": _case_rows(request, cases),
                    "new_case_url": new_case_url(request, u, channel="scanner"),
                    "history_url": request.route_path("helpdesk.history.installed", id=u.id),
                    "url": request.route_path("entity.detail", slug=et.slug, id=u.id),
                }
            )
        out["found"] = "installed"
        return out
    product = _product(request, code)
    if product is not None:
        from kyklos_sdk import record_title

        cases = [c for c in _cases(request, Case.product_id == product.id) if c.status not in OPEN]
        can_create = request.has_permission(PERMISSIONS["case"]["create"])
        out["product"] = {
            "id": product.id,
            "title": record_title(request, get_entity_type(request, "product"), product),
            "open_cases": _case_rows(request, cases[:20]),
            "new_case_url": (
                request.route_path(
                    "entity.new",
                    slug="cases",
                    _query={"from": f"product:{product.id}", "channel": "scanner"},
                )
                if can_create
                else None
            ),
            "history_url": request.route_path("helpdesk.history.product", id=product.id),
            "url": request.route_path("entity.detail", slug="products", id=product.id),
        }
        out["found"] = "product"
    return out


def api_intake(request):
    """``GET /api/v1/helpdesk/intake?code=``: what a scanned code names; 404 (problem)
    when nothing the user may see has that serial number or barcode."""
    code = clean_code(request.GET.get("code"))
    if code is None:
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"code": _("Scan or type a serial number or barcode.")},
        )
    result = lookup(request, code)
    if result["found"] is None:
        raise Problem(
            404,
            _("Not found"),
            errors={"code": _("No installed product or product has this code.")},
        )
    return result


def intake_page(request):
    raw = request.GET.get("code")
    code = clean_code(raw) if raw is not None else None
    error = None
    result = None
    if raw is not None and code is None:
        error = _("Scan or type a serial number or barcode.")
        request.response.status = 400
    elif code is not None:
        result = lookup(request, code)
        if result["found"] is None:
            request.response.status = 404
    search_url = None
    if code and result and result["found"] is None:
        search_url = request.route_path(
            "entity.list", slug="installed-products", _query={"q": code}
        )
    return {
        "title": _("Scan a serial number"),
        "code": (raw or "").strip()[:MAX_CODE],
        "error": error,
        "result": result,
        "search_url": search_url,
        "script": request.static_path("kyklos_helpdesk:static/intake.js"),
    }


def openapi_paths(request):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    record = {"application/json": {"schema": {"type": "object"}}}
    return {
        "/api/v1/helpdesk/intake": {
            "get": {
                "operationId": "helpdesk_intake",
                "tags": ["Helpdesk"],
                "summary": "Look a scanned serial number or barcode up",
                "parameters": [
                    {
                        "name": "code",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "maxLength": MAX_CODE},
                    }
                ],
                "responses": {
                    "200": {"description": "the installed products or product", "content": record},
                    "400": {"description": "no code", "content": problem},
                    "404": {"description": "nothing has this code", "content": problem},
                },
            }
        }
    }


def includeme(config):
    read = PERMISSIONS["case"]["read"]
    config.add_openapi_paths(openapi_paths)
    config.add_route("helpdesk.api.intake", "/api/v1/helpdesk/intake", request_method="GET")
    config.add_view(api_intake, route_name="helpdesk.api.intake", permission=read, renderer="json")
    config.add_route("helpdesk.intake", "/helpdesk/intake", request_method="GET")
    config.add_view(
        intake_page,
        route_name="helpdesk.intake",
        permission=read,
        renderer="kyklos_helpdesk:templates/intake.pt",
    )

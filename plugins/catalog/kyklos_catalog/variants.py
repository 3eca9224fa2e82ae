"""Variants by attribute: a product (the template) gets one variant per combination of
the attribute values chosen (size × colour, licence tier), each a product of its own with
its code, barcode and price extra, so price lists, the quote picker and the installed
base treat it like any product."""

from __future__ import annotations

import itertools
import re
from decimal import Decimal

from pyramid.httpexceptions import HTTPFound
from sqlalchemy import func, select

from kyklos_sdk import (
    LANGUAGES,
    Action,
    Problem,
    RecordError,
    create_record,
    get_entity_type,
    get_record,
    hookimpl,
    read_json,
    record_titles,
    serialize,
)

from . import PERMISSIONS, _
from .models import Attribute, AttributeValue, Product, VariantValue

ID = r"{id:\d{1,18}}"
#: one request makes at most this many variants (4 sizes × 10 colours × 5 tiers = 200)
MAX_VARIANTS = 200
CREATE = PERMISSIONS["product"]["create"]


def _code_part(value: AttributeValue) -> str:
    raw = value.code or value.name
    return re.sub(r"[^0-9A-Za-z]+", "", raw).upper()[:20] or str(value.id)


def generate_variants(request, template: Product, value_ids, source: str = "api"):
    """Create the variants of ``template`` for every combination of the values chosen
    (grouped by attribute) that it lacks. Returns the new products; raises
    :class:`RecordError` naming ``value_ids`` when the choice is wrong."""
    db = request.dbsession
    if template.template_id is not None:
        raise RecordError({"value_ids": _("A variant cannot have variants of its own.")})
    ids = {int(v) for v in value_ids if str(v).isdigit()}
    if not ids or len(ids) != len(list(value_ids)):
        raise RecordError({"value_ids": _("Choose at least one value of an attribute.")})
    values = db.execute(
        select(AttributeValue, Attribute)
        .join(Attribute, Attribute.id == AttributeValue.attribute_id)
        .where(AttributeValue.id.in_(ids))
        .order_by(Attribute.position, Attribute.id, AttributeValue.position, AttributeValue.id)
    ).all()
    if len(values) != len(ids):
        raise RecordError({"value_ids": _("One of the values does not exist.")})
    groups: dict[int, list[AttributeValue]] = {}
    for value, attribute in values:
        groups.setdefault(attribute.id, []).append(value)
    combos = list(itertools.product(*groups.values()))
    if len(combos) > MAX_VARIANTS:
        raise RecordError(
            {"value_ids": _("At most ${n} variants at once.", mapping={"n": MAX_VARIANTS})}
        )
    # the combinations the template has already
    rows = db.execute(
        select(VariantValue.product_id, VariantValue.value_id)
        .join(Product, Product.id == VariantValue.product_id)
        .where(Product.template_id == template.id, Product.deleted_at.is_(None))
    ).all()
    by_variant: dict[int, set[int]] = {}
    for pid, vid in rows:
        by_variant.setdefault(pid, set()).add(vid)
    have = {frozenset(v) for v in by_variant.values()}
    et = get_entity_type(request, "product")
    made = []
    for combo in combos:
        key = frozenset(v.id for v in combo)
        if key in have:
            continue
        sku = "-".join([template.sku, *(_code_part(v) for v in combo)])[:64]
        taken = db.execute(
            select(func.count()).select_from(Product).where(func.upper(Product.sku) == sku)
        ).scalar()
        if taken:
            continue  # a product has that code already: never a duplicate code
        names = ", ".join(v.name for v in combo)
        data = {
            "sku": sku,
            "name": f"{template.name} ({names})"[:200],
            "name_translations": variant_names(template, combo) or None,
            "template_id": template.id,
            "category_id": template.category_id,
            "kind": template.kind,
            "unit": template.unit,
            "tax_rate": str(template.tax_rate),
            "description": template.description,
        }
        if template.list_price is not None and template.list_price_currency:
            data["list_price"] = {
                "amount": str(template.list_price),
                "currency": template.list_price_currency,
            }
        variant = create_record(request, et, data, source=source)
        db.add_all([VariantValue(product_id=variant.id, value_id=v.id) for v in combo])
        made.append(variant)
    db.flush()
    return made


def variant_names(template: Product, combo) -> dict[str, str]:
    """A variant's name in each language the template or one of its values has a name
    in: "Μπλουζάκι (L, Κόκκινο)" for a Greek quote; the others keep the stored name."""
    out = {}
    for lang in LANGUAGES:
        value_names = [(v.title_translations or {}).get(lang) for v in combo]
        own = (template.name_translations or {}).get(lang)
        if own is None and not any(value_names):
            continue
        parts = ", ".join(n or v.name for n, v in zip(value_names, combo, strict=True))
        out[lang] = f"{own or template.name} ({parts})"[:200]
    return out


def variant_price(request, record, changes) -> None:
    """A variant's list price is its template's plus the price extra (``changes`` hold
    the values being written: the record gets them after the before-save hooks)."""
    template_id = changes.get("template_id", (None, record.template_id))[1]
    if template_id is None:
        return
    template = request.dbsession.get(Product, template_id)
    if template is None or template.list_price is None:
        return
    extra = changes.get("price_extra", (None, record.price_extra))[1] or Decimal(0)
    record.list_price = template.list_price + extra
    record.list_price_currency = template.list_price_currency


def api_variants(request):
    """``POST /api/v1/products/{id}/variants`` ``{"value_ids": [..]}``: 201 with the
    variants created (combinations the product has already are left alone)."""
    et = get_entity_type(request, "product")
    template = get_record(request, et, request.matchdict["id"], action="update")
    body = read_json(request)
    value_ids = body.get("value_ids")
    if not isinstance(value_ids, list) or any(
        isinstance(v, bool) or not isinstance(v, int) for v in value_ids
    ):
        raise Problem(400, _("Invalid parameters"), errors={"value_ids": _("Give value ids.")})
    try:
        made = generate_variants(request, template, value_ids)
    except RecordError as exc:
        raise Problem(exc.status or 400, exc.title, errors=exc.errors) from None
    request.response.status = 201
    return {"created": [serialize(request, et, p) for p in made]}


def variants_page(request):
    """The values to make variants of, grouped by attribute, as check boxes."""
    et = get_entity_type(request, "product")
    template = get_record(request, et, request.matchdict["id"], action="update")
    db = request.dbsession
    errors = {}
    chosen: set[int] = set()
    if request.method == "POST":
        chosen = {int(v) for v in request.POST.getall("value_ids") if v.isdigit()}
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["value_ids"] = _("The form expired; send it again.")
        else:
            try:
                made = generate_variants(request, template, sorted(chosen), source="ui")
            except RecordError as exc:
                errors = exc.errors
            else:
                request.session.flash(
                    request.localizer.translate(
                        request.localizer.pluralize(
                            "${n} variant created.",
                            "${n} variants created.",
                            len(made),
                            domain="kyklos_catalog",
                            mapping={"n": len(made)},
                        )
                    ),
                    "success",
                )
                return HTTPFound(
                    request.route_url("entity.detail", slug="products", id=template.id)
                )
        request.response.status = 400
    attributes = db.execute(select(Attribute).order_by(Attribute.position, Attribute.id)).scalars()
    groups = []
    for attribute in attributes:
        values = (
            db.execute(
                select(AttributeValue)
                .where(AttributeValue.attribute_id == attribute.id)
                .order_by(AttributeValue.position, AttributeValue.id)
            )
            .scalars()
            .all()
        )
        if values:
            groups.append((attribute, values))
    # attribute and value names in the user's language (both are lookups)
    attr_titles = record_titles(request, "productattribute", [g[0] for g in groups])
    value_titles = record_titles(request, "attributevalue", [v for g in groups for v in g[1]])
    return {
        "attr_titles": attr_titles,
        "value_titles": value_titles,
        "title": _("Variants of ${name}", mapping={"name": template.name}),
        "product": template,
        "groups": groups,
        "chosen": chosen,
        "errors": errors,
        "detail_url": request.route_url("entity.detail", slug="products", id=template.id),
        "attributes_url": request.route_url("entity.list", slug="product-attributes"),
    }


class Hooks:
    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created, source):
        if entity_type.name == "product" and ("price_extra" in changes or "template_id" in changes):
            variant_price(request, record, changes)

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name != "product" or record.template_id is not None:
            return None
        return [
            Action(
                _("Create variants"),
                request.route_url("catalog.product.variants", id=record.id),
                permission=CREATE,
            )
        ]


def openapi_paths(request) -> dict:
    from kyklos_sdk import openapi as o

    return {
        "/api/v1/products/{id}/variants": {
            "post": o.operation(
                "Catalog",
                "catalog_product_variants",
                {
                    "201": o.json_ok(
                        {
                            "type": "object",
                            "properties": {
                                "created": {"type": "array", "items": {"type": "object"}}
                            },
                        }
                    ),
                    **o.problems("400", "401", "403", "404", "415"),
                },
                "Create a product's variants from attribute values (one per combination)",
                parameters=[o.path_id()],
                requestBody={
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "value_ids": {
                                        "type": "array",
                                        "items": {"type": "integer", "minimum": 1},
                                    }
                                },
                                "required": ["value_ids"],
                            }
                        }
                    },
                },
            )
        }
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route(
        "catalog.api.variants", f"/api/v1/products/{ID}/variants", request_method="POST"
    )
    config.add_view(
        api_variants, route_name="catalog.api.variants", permission=CREATE, renderer="json"
    )
    config.add_route("catalog.product.variants", f"/catalog/products/{ID}/variants")
    config.add_view(
        variants_page,
        route_name="catalog.product.variants",
        permission=CREATE,
        renderer="kyklos_catalog:templates/variants.pt",
    )
    config.add_hooks(Hooks(), name="kyklos_catalog.variants")

"""The installed base points at products: contacts' "installed product" gets a product
picker (CON-13 with SFA-14). Contacts knows nothing of the catalog, so the field is added
from this side with ``config.add_entity_field``; the old free text stays as the
record's description and is filled from the product's name when left empty."""

from __future__ import annotations

from sqlalchemy import func, select

from kyklos_sdk import Panel, hookimpl, reference_titles, visible_select

from . import _
from .models import Product, product_name

#: the field's name on the installed-product entity (its value: a product's id)
FIELD = "catalog_product"


def match_product(db, text: str) -> int | None:
    """The product a free text names: by code, else by name, when exactly one fits."""
    text = (text or "").strip()
    if not text:
        return None
    for column in (Product.sku, Product.name):
        ids = (
            db.execute(
                select(Product.id)
                .where(func.lower(column) == text.lower(), Product.deleted_at.is_(None))
                .limit(2)
            )
            .scalars()
            .all()
        )
        if len(ids) == 1:
            return ids[0]
        if ids:
            return None  # ambiguous: keep the text, link nothing
    return None


class Hooks:
    @hookimpl
    def kyklos_record_prepare(self, request, entity_type, record, data, source):
        if entity_type.name != "installedproduct" or not isinstance(data, dict):
            return
        chosen = data.get(FIELD)
        text = data.get("product", getattr(record, "product", None))
        if chosen in (None, "") or (isinstance(text, str) and text.strip()):
            return
        try:
            product = request.dbsession.get(Product, int(chosen))
        except (TypeError, ValueError):
            return  # the type check names the bad value
        if product is not None:
            data["product"] = product_name(product, getattr(request, "locale_name", None))

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors, source):
        if entity_type.name != "installedproduct":
            return
        text = data.get("product", getattr(record, "product", None))
        if not (isinstance(text, str) and text.strip()):
            errors.setdefault("product", _("Choose a product from the catalog or describe it."))

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "product":
            return None
        return installed_panel(request, record)


def installed_panel(request, record):
    """Where the product is installed: the installed-base records that point at it."""
    et = request.registry.kyklos_entities.get("installedproduct")
    if et is None or not request.has_permission(et.permission("read")):
        return None
    model = et.model
    stmt = visible_select(request, et).where(model.custom[FIELD].as_integer() == record.id)
    rows = request.dbsession.execute(stmt.order_by(model.id.desc()).limit(20)).scalars().all()
    if not rows:
        return None
    # the customer first (account or person, by title, one query each), then what the
    # record says: its description and serial number
    owners = reference_titles(request, et, rows, ("account_id", "person_id"))
    items = []
    for r in rows:
        ref = owners["account_id"].get(r.account_id) or owners["person_id"].get(r.person_id)
        title = ref[0] if ref else r.product
        detail = " · ".join(x for x in (r.product, r.serial_number) if x)
        items.append((title, request.route_path("entity.detail", slug=et.slug, id=r.id), detail))
    return [Panel(_("Installed at customers"), items=items, count=len(items), order=20)]


def includeme(config):
    config.add_entity_field(
        "installedproduct",
        FIELD,
        type="reference",
        reference="product",
        title=_("Product from the catalog"),
        description=_("Choosing one fills the description with the product's name."),
        list_column=True,
        optional=("product",),
        after="person_id",
    )
    config.add_hooks(Hooks(), name="kyklos_catalog.installed")

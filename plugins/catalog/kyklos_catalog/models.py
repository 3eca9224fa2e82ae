"""The catalog's entity types: product categories, products and services (SFA-14), price
lists and their rules (INV-02)."""

from __future__ import annotations

import datetime as dt
import decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Base,
    EntityMixin,
    JSONType,
    RelatedList,
    SoftDeleteMixin,
    text_in_language,
)

from . import _


class Category(EntityMixin, Base):
    """A node of the product category tree ("Olive oil › Extra virgin"). A lookup type:
    its name is shown in the user's language (per-language titles, like stages)."""

    __tablename__ = "catalog_category"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_category.id", ondelete="RESTRICT"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)


class Product(EntityMixin, SoftDeleteMixin, Base):
    """A product or service that quote lines, price lists and the installed base refer to.
    ``list_price`` is a money field (with ``list_price_currency``); ``cost`` too."""

    __tablename__ = "catalog_product"
    __table_args__ = (CheckConstraint("tax_rate BETWEEN 0 AND 100", name="tax_range"),)

    sku: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    #: ``{"el": "Ελαιόλαδο 1 l", ...}``: the name a quote written in that language shows
    name_translations: Mapped[dict | None] = mapped_column(JSONType)
    description: Mapped[str | None] = mapped_column(Text)
    #: ``{"el": "Εξαιρετικό παρθένο...", ...}``: the description a quote written in that
    #: language and a customer reading the portal in it see
    description_translations: Mapped[dict | None] = mapped_column(JSONType)
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_category.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), nullable=False, default="stock")
    unit: Mapped[str] = mapped_column(String(10), nullable=False, default="piece")
    tax_rate: Mapped[decimal.Decimal] = mapped_column(Numeric(5, 2), nullable=False, default=0)
    list_price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    list_price_currency: Mapped[str | None] = mapped_column(String(3))
    cost: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    cost_currency: Mapped[str | None] = mapped_column(String(3))
    barcode: Mapped[str | None] = mapped_column(String(14), index=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True, index=True)
    #: a variant's template ("T-shirt" for "T-shirt (Red, L)"); empty for the others
    template_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="SET NULL"), index=True
    )
    #: what a variant costs more than its template (its list price is the sum)
    price_extra: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))

    @property
    def category_path(self) -> str | None:
        """The category with its parents, "Hardware / Printers" (files and the API)."""
        from .paths import product_path

        return product_path(self)

    @category_path.setter
    def category_path(self, value) -> None:
        # the before-save hook resolves it (creating what is missing): it needs the request
        self._pending_category_path = value


class PriceList(EntityMixin, Base):
    """Prices in one currency for a period, for one account or for everyone. The most
    specific list that has a rule for a product wins: an account's own list before a
    general one, then the lower ``priority`` number."""

    __tablename__ = "catalog_pricelist"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    valid_from: Mapped[dt.date | None] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), index=True
    )
    #: a group of accounts instead of one: those carrying a tag, the members of a saved
    #: segment of accounts, or the accounts in a territory (at most one of the four)
    tag_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_tag.id", ondelete="SET NULL"), index=True
    )
    segment_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_segment.id", ondelete="SET NULL"), index=True
    )
    territory_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_territory.id", ondelete="SET NULL"), index=True
    )
    #: whom the list is for, kept on every save from the four fields above: a group
    #: deleted later (a segment, a tag) empties its field, and the list must then apply
    #: to nobody rather than silently to everyone
    audience: Mapped[str] = mapped_column(String(10), nullable=False, default="everyone")
    priority: Mapped[int] = mapped_column(Integer, nullable=False, default=10)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    notes: Mapped[str | None] = mapped_column(Text)

    def audience_now(self) -> str:
        for name, value in (
            ("account", self.account_id),
            ("tag", self.tag_id),
            ("segment", self.segment_id),
            ("territory", self.territory_id),
        ):
            if value is not None:
                return name
        return "everyone"


class PriceRule(EntityMixin, Base):
    """One rule of a price list, for a product or a whole category, from a quantity on:
    a fixed price, or a discount off the product's list price; then rounded."""

    __tablename__ = "catalog_pricerule"
    __table_args__ = (
        CheckConstraint("discount_percent BETWEEN 0 AND 100", name="discount_range"),
        CheckConstraint("min_quantity >= 0", name="min_quantity_range"),
    )

    pricelist_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_pricelist.id", ondelete="CASCADE"), nullable=False, index=True
    )
    product_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="CASCADE"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_category.id", ondelete="CASCADE"), index=True
    )
    min_quantity: Mapped[decimal.Decimal] = mapped_column(Numeric(14, 3), nullable=False, default=0)
    method: Mapped[str] = mapped_column(String(10), nullable=False, default="fixed")
    price: Mapped[decimal.Decimal | None] = mapped_column(Numeric(18, 2))
    discount_percent: Mapped[decimal.Decimal] = mapped_column(
        Numeric(5, 2), nullable=False, default=0
    )
    #: a discount off this list's price for the product instead of off the list price
    base_pricelist_id: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_pricelist.id", ondelete="SET NULL"), index=True
    )
    #: round the result to a multiple of this (0.05, 1, 10); empty: to the cent
    round_to: Mapped[decimal.Decimal | None] = mapped_column(Numeric(10, 2))

    @property
    def product_code(self) -> str | None:
        """The product's code: price files name products by code, not by name."""
        from .paths import rule_product_code

        return rule_product_code(self)

    @product_code.setter
    def product_code(self, value) -> None:
        pass  # the prepare hook turned it into ``product_id``

    @property
    def category_path(self) -> str | None:
        from sqlalchemy.orm import object_session

        from .paths import path_of

        db = object_session(self)
        return path_of(db, self.category_id) if db is not None else None

    @category_path.setter
    def category_path(self, value) -> None:
        pass  # the prepare hook turned it into ``category_id``


class Attribute(EntityMixin, Base):
    """What variants differ by: size, colour, licence tier."""

    __tablename__ = "catalog_attribute"

    name: Mapped[str] = mapped_column(String(80), nullable=False)
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class AttributeValue(EntityMixin, Base):
    """One value of an attribute ("Red", "XL", "Enterprise") and the part of a variant's
    code it gives ("RED", "XL", "ENT")."""

    __tablename__ = "catalog_attribute_value"

    attribute_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_attribute.id", ondelete="CASCADE"), nullable=False, index=True
    )
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    code: Mapped[str | None] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class VariantValue(Base):
    """Which attribute values make a variant (one per attribute)."""

    __tablename__ = "catalog_variant_value"

    product_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_product.id", ondelete="CASCADE"), primary_key=True
    )
    value_id: Mapped[int] = mapped_column(
        ForeignKey("catalog_attribute_value.id", ondelete="CASCADE"), primary_key=True, index=True
    )


KINDS = [("stock", _("Stock item")), ("service", _("Service")), ("hours", _("Hours"))]
UNITS = [
    ("piece", _("Piece")),
    ("hour", _("Hour")),
    ("day", _("Day")),
    ("month", _("Month")),
    ("year", _("Year")),
    ("kg", _("Kilogram")),
    ("litre", _("Litre")),
    ("metre", _("Metre")),
    ("box", _("Box")),
    ("licence", _("Licence")),
]
AUDIENCES = [
    ("everyone", _("Every customer")),
    ("account", _("One account")),
    ("tag", _("Accounts with a tag")),
    ("segment", _("Accounts of a segment")),
    ("territory", _("Accounts of a territory")),
]
METHODS = [
    ("fixed", _("Fixed price")),
    ("discount", _("Discount off the list price or another price list")),
]


def _pricelist_schema(request, et, record=None):
    """The declared fields, with the account groups as drop-downs of what exists (tags
    on accounts, saved segments of accounts, territories) instead of numbers."""
    import colander
    import deform

    from kyklos_sdk import all_tags, default_record_schema, territory_choices, visible_segments

    schema = default_record_schema(request, et, record)
    tags = [(t.id, t.name) for t in all_tags(request.dbsession)]
    segs = [(s.id, s.name) for s in visible_segments(request, "account")]
    choices = {
        "tag_id": tags,
        "segment_id": segs,
        "territory_id": territory_choices(request),
    }
    names = [c.name for c in schema.children]
    at = names.index("account_id") + 1 if "account_id" in names else len(names)
    for name in ("tag_id", "segment_id", "territory_id"):
        if name not in names:
            continue  # not writable for this user
        del schema[name]
        f = et.fields[name]
        values = [("", "")] + [(str(i), t) for i, t in choices[name]]
        schema.insert(
            at,
            colander.SchemaNode(
                colander.Integer(),
                name=name,
                title=f.title,
                description=f.description,
                missing=None,
                widget=deform.widget.SelectWidget(values=values),
            ),
        )
        at += 1
    return schema


def includeme(config):
    config.add_entity_type(
        Category,
        "productcategory",
        lookup=True,
        primary_filters=("name", "active"),
        title=_("Product category"),
        plural=_("Product categories"),
        slug="product-categories",
        title_field="name",
        subtitle_field="parent_id",
        list_columns=("position", "name", "parent_id", "active"),
        filters=("name", "parent_id", "active"),
        sort=("position", "name"),
        search=("name",),
        fields={
            "name": {"title": _("Name")},
            "parent_id": {"title": _("Parent category")},
            "position": {"title": _("Position")},
            "active": {"title": _("Active"), "default": True},
        },
        related=(
            RelatedList("productcategory", "parent_id", _("Subcategories")),
            RelatedList("product", "category_id", _("Products")),
        ),
        default_sort="position",
        menu_group=None,
        icon="diagram-3",
    )
    config.add_entity_type(
        Product,
        "product",
        primary_filters=("name", "sku", "category_id", "kind", "active"),
        title=_("Product"),
        plural=_("Products"),
        slug="products",
        title_field="name",
        subtitle_field="sku",
        # a Greek reader sees the Greek name in pickers and on the records naming it
        title_translations="name_translations",
        list_columns=("sku", "name", "category_id", "kind", "unit", "list_price", "active"),
        filters=(
            "sku",
            "name",
            "template_id",
            "category_id",
            "kind",
            "unit",
            "list_price",
            "barcode",
            "active",
            "owner_id",
            "created_at",
        ),
        sort=("sku", "name", "list_price", "created_at"),
        # the names and descriptions in other languages too: a Greek rep, and a customer
        # on the portal, search in their own language
        search=(
            "sku",
            "name",
            "name_translations",
            "description",
            "description_translations",
            "barcode",
        ),
        fields={
            "sku": {"title": _("Code (SKU)")},
            "name": {"title": _("Name")},
            "name_translations": {
                "title": _("Name in other languages"),
                "display": "title_translations",
                "description": _("Quotes written in that language show this name."),
            },
            "description": {"title": _("Description")},
            "description_translations": {
                "title": _("Description in other languages"),
                "display": "text_translations",
                "description": _("Quotes written in that language show this description."),
            },
            "category_id": {"title": _("Category")},
            "kind": {"title": _("Type"), "type": "choice", "choices": KINDS},
            "unit": {"title": _("Unit"), "type": "choice", "choices": UNITS},
            "tax_rate": {"title": _("VAT rate (%)")},
            "list_price": {"title": _("List price")},
            "cost": {"title": _("Cost")},
            "barcode": {"title": _("Barcode (EAN/UPC)")},
            "active": {"title": _("Active"), "default": True},
            "category_path": {
                "type": "string",
                "title": _("Category path"),
                "description": _('The category with its parents: "Hardware / Printers".'),
                "form": False,
            },
            "template_id": {
                "title": _("Variant of"),
                "description": _("The product this one is a variant of."),
            },
            "price_extra": {
                "title": _("Price extra"),
                "description": _("A variant's list price is its template's plus this."),
            },
        },
        related=(
            RelatedList("product", "template_id", _("Variants"), ("sku", "name", "list_price")),
            RelatedList("pricerule", "product_id", _("Price rules")),
        ),
        default_sort="name",
        menu_order=35,
        icon="box-seam",
    )
    config.add_entity_type(
        Attribute,
        "productattribute",
        lookup=True,
        primary_filters=("name",),
        title=_("Product attribute"),
        plural=_("Product attributes"),
        slug="product-attributes",
        title_field="name",
        list_columns=("position", "name"),
        filters=("name",),
        sort=("position", "name"),
        search=("name",),
        fields={"name": {"title": _("Name")}, "position": {"title": _("Position")}},
        related=(RelatedList("attributevalue", "attribute_id", _("Values")),),
        default_sort="position",
        menu_order=37,
        icon="sliders",
    )
    config.add_entity_type(
        AttributeValue,
        "attributevalue",
        # a lookup: its name per language ("Κόκκινο" for "Red") names Greek variants
        lookup=True,
        primary_filters=("attribute_id", "name"),
        title=_("Attribute value"),
        plural=_("Attribute values"),
        slug="attribute-values",
        title_field="name",
        subtitle_field="attribute_id",
        list_columns=("attribute_id", "position", "name", "code"),
        filters=("attribute_id", "name", "code"),
        sort=("position", "name"),
        search=("name", "code"),
        fields={
            "attribute_id": {"title": _("Attribute")},
            "name": {"title": _("Name")},
            "code": {
                "title": _("Code"),
                "description": _("Joins the variant's code, e.g. RED or XL."),
            },
            "position": {"title": _("Position")},
        },
        default_sort="position",
        menu_group=None,
        icon="tag",
    )
    config.add_entity_type(
        PriceList,
        "pricelist",
        primary_filters=("name", "currency", "account_id", "active"),
        title=_("Price list"),
        plural=_("Price lists"),
        slug="price-lists",
        title_field="name",
        subtitle_field="currency",
        list_columns=(
            "name",
            "currency",
            "valid_from",
            "valid_to",
            "audience",
            "priority",
            "active",
        ),
        filters=(
            "name",
            "currency",
            "account_id",
            "tag_id",
            "segment_id",
            "territory_id",
            "valid_from",
            "valid_to",
            "active",
        ),
        sort=("name", "priority", "valid_from"),
        search=("name",),
        fields={
            "name": {"title": _("Name")},
            "currency": {"title": _("Currency"), "max_length": 3, "display": "currency"},
            "valid_from": {"title": _("Valid from")},
            "valid_to": {"title": _("Valid until")},
            "account_id": {
                "title": _("Only for account"),
                "description": _("Empty: for every customer (or the group below)."),
            },
            "tag_id": {
                "title": _("For accounts tagged"),
                "type": "integer",
                "display": "catalog_tag",
                "description": _("Every account carrying this tag."),
            },
            "segment_id": {
                "title": _("For the accounts of segment"),
                "type": "integer",
                "display": "catalog_segment",
                "description": _("Every account in this saved segment of accounts."),
            },
            "territory_id": {
                "title": _("For the accounts in territory"),
                "type": "integer",
                "display": "catalog_territory",
                "description": _("Every account the territory holds, as for record rules."),
            },
            "audience": {
                "title": _("For"),
                "type": "choice",
                "choices": AUDIENCES,
                "description": _("Set from the fields above when the list is saved."),
            },
            "priority": {
                "title": _("Priority"),
                "description": _("Of two lists for the same customers, the lower number wins."),
            },
            "active": {"title": _("Active"), "default": True},
            "notes": {"title": _("Notes")},
        },
        related=(RelatedList("pricerule", "pricelist_id", _("Rules")),),
        schema=_pricelist_schema,
        readonly=("audience",),
        default_sort="priority",
        menu_order=36,
        icon="tags",
    )
    config.add_entity_type(
        PriceRule,
        "pricerule",
        primary_filters=("pricelist_id", "product_id", "category_id"),
        title=_("Price rule"),
        plural=_("Price rules"),
        slug="price-rules",
        title_field="method",
        subtitle_field="pricelist_id",
        list_columns=(
            "pricelist_id",
            "product_id",
            "category_id",
            "min_quantity",
            "method",
            "price",
            "discount_percent",
            "base_pricelist_id",
            "round_to",
        ),
        filters=("pricelist_id", "product_id", "category_id", "method", "base_pricelist_id"),
        sort=("min_quantity",),
        fields={
            "pricelist_id": {"title": _("Price list")},
            "product_id": {"title": _("Product")},
            "category_id": {
                "title": _("Category"),
                "description": _(
                    "For every product of the category and its "
                    "subcategories; a product's own rule wins."
                ),
            },
            "min_quantity": {"title": _("From quantity")},
            "method": {"title": _("Price by"), "type": "choice", "choices": METHODS},
            "price": {"title": _("Price")},
            "discount_percent": {"title": _("Discount (%)")},
            "base_pricelist_id": {
                "title": _("Discount off price list"),
                "description": _(
                    "A discount off this list's price for the product; empty: off the list price."
                ),
            },
            "round_to": {
                "title": _("Round to"),
                "description": _("For example 0.05 or 1; empty: to the cent."),
            },
            "product_code": {
                "type": "string",
                "title": _("Product code"),
                "description": _("The product by its code (SKU), instead of the product."),
                "form": False,
            },
            "category_path": {
                "type": "string",
                "title": _("Category path"),
                "description": _('The category with its parents: "Hardware / Printers".'),
                "form": False,
            },
        },
        default_sort="min_quantity",
        menu_group=None,
        icon="percent",
    )


def product_name(product, language: str | None) -> str:
    """The product's name in ``language`` when it has one, else its name."""
    names = product.name_translations or {}
    return (language and names.get(language)) or product.name


def product_description(product, language: str | None) -> str | None:
    """The product's description in ``language`` when it has one, else its description."""
    return text_in_language(product.description_translations, language, product.description)

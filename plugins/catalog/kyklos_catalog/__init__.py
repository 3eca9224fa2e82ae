"""Catalog: products and services with categories, price lists and their rules, and the
one price look-up that quotes, the API and later orders use (SFA-14, INV-02)."""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin, entity_permissions

_ = TranslationStringFactory("kyklos_catalog")


def _demo(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="catalog",
    title=_("Catalog"),
    description=_("Products and services, categories, price lists and price rules"),
    requires_core=">=0.1,<1",
    depends=("contacts",),
    demo_data=_demo,
)

TYPES = (
    "productcategory",
    "product",
    "pricelist",
    "pricerule",
    "productattribute",
    "attributevalue",
    "literature",
)
#: verb -> permission, per entity type ("catalog.product.read", ...)
PERMISSIONS = {t: entity_permissions("catalog", t) for t in TYPES}


def _perms(verbs):
    return [PERMISSIONS[t][v] for t in TYPES for v in verbs]


def includeme(config):
    """Wiring only: no I/O here."""
    # the competition plugin fills a product's "Competing products" through this hook
    config.include(".competing")
    config.include(".models")
    config.include(".views")
    config.include(".hooks")
    config.include(".installed")
    config.include(".variants")
    config.include(".literature_includes")
    config.include(".portal")
    full = ("read", "create", "update", "delete", "export", "import", "assign")
    config.add_role("catalogmanager", _("Catalog manager"), _perms(full))
    # everyone who sells reads the catalog and its prices; managers keep it
    config.extend_role("sales", _perms(("read", "export")))
    config.extend_role("manager", _perms(full))
    for et in TYPES:
        for role in ("sales", "manager", "catalogmanager"):
            config.add_record_rule(et, role, "read", "all")
        for role in ("manager", "catalogmanager"):
            config.add_record_rule(et, role, "write", "all")
            config.add_record_rule(et, role, "delete", "all")
    # INV-07: what a product costs the company is for those who set prices
    config.add_field_permission("product", "sales", "cost", "none")
    # a re-imported price file updates products by their code instead of duplicating
    config.add_import_key("product", "sku")

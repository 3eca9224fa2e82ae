"""Demo catalog: what a Greek food exporter that also sells software and support might
sell, with a general price list per currency, volume tiers and one customer's own list."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import click
from kyklos_contacts.demo import records_written
from sqlalchemy import func, select

from kyklos_sdk import find_user

from . import _
from .models import Category, PriceList, PriceRule, Product

#: (name, parent name or None); the names are msgids of this plugin's catalog, so the
#: category tree reads in the user's language
CATEGORIES = [
    (_("Food and drink"), None),
    (_("Olive oil"), "Food and drink"),
    (_("Honey and preserves"), "Food and drink"),
    (_("Software"), None),
    (_("Services"), None),
]

#: sku, name, category, kind, unit, VAT %, list price, currency, cost, barcode
PRODUCTS = [
    (
        "OIL-EV-1L",
        "Extra virgin olive oil, 1 l tin",
        "Olive oil",
        "stock",
        "piece",
        "13",
        "9.80",
        "EUR",
        "6.10",
        "5201234567894",
    ),
    (
        "OIL-EV-5L",
        "Extra virgin olive oil, 5 l tin",
        "Olive oil",
        "stock",
        "piece",
        "13",
        "42.00",
        "EUR",
        "27.50",
        "5201234567887",
    ),
    (
        "OIL-BIO-500",
        "Organic olive oil, 500 ml bottle",
        "Olive oil",
        "stock",
        "piece",
        "13",
        "7.40",
        "EUR",
        "4.20",
        None,
    ),
    (
        "HON-THY-450",
        "Thyme honey, 450 g jar",
        "Honey and preserves",
        "stock",
        "piece",
        "13",
        "8.90",
        "EUR",
        "5.00",
        None,
    ),
    (
        "SW-CRM-USER",
        "CRM user licence, one year",
        "Software",
        "service",
        "licence",
        "24",
        "180.00",
        "EUR",
        "20.00",
        None,
    ),
    (
        "SRV-SETUP",
        "Set-up and data migration",
        "Services",
        "hours",
        "hour",
        "24",
        "55.00",
        "EUR",
        "30.00",
        None,
    ),
    (
        "SRV-TRAIN",
        "Training day on site",
        "Services",
        "service",
        "day",
        "24",
        "420.00",
        "EUR",
        "200.00",
        None,
    ),
]

#: sku: (description, {language: description}): a few products described per language,
#: so quotes and the portal read them in Greek, Romanian and Polish
DESCRIPTIONS = {
    "OIL-EV-1L": (
        "Cold-pressed Koroneiki olives from Messinia, harvested in November.\nAcidity below 0.3 %.",
        {
            "el": "Ψυχρή έκθλιψη από ελιές Κορωνέικης της Μεσσηνίας, συγκομιδή Νοεμβρίου.\n"
            "Οξύτητα κάτω από 0,3 %.",
            "ro": "Presat la rece din măsline Koroneiki din Messinia, recoltate în noiembrie.\n"
            "Aciditate sub 0,3 %.",
            "pl": "Tłoczona na zimno z oliwek Koroneiki z Mesenii, zbieranych w listopadzie.\n"
            "Kwasowość poniżej 0,3 %.",
        },
    ),
    "HON-THY-450": (
        "Raw thyme honey from Crete, neither heated nor filtered.",
        {
            "el": "Ωμό θυμαρίσιο μέλι από την Κρήτη, χωρίς θέρμανση και φιλτράρισμα.",
            "ro": "Miere crudă de cimbru din Creta, neîncălzită și nefiltrată.",
            "pl": "Surowy miód tymiankowy z Krety, niepodgrzewany i niefiltrowany.",
        },
    ),
    "SRV-TRAIN": (
        "A day of training at your offices for up to ten people, with the course notes.",
        {
            "el": "Μία ημέρα εκπαίδευσης στα γραφεία σας για έως δέκα άτομα, με τις σημειώσεις.",
            "ro": "O zi de instruire la sediul dumneavoastră pentru cel mult zece persoane, "
            "cu suportul de curs.",
            "pl": "Dzień szkolenia w Państwa biurze dla maksymalnie dziesięciu osób, "
            "z materiałami szkoleniowymi.",
        },
    ),
}


def demo_data(env, size: int) -> None:
    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count(Product.id))).scalar_one():
            click.echo("catalog: the database already has products; demo data skipped")
            return
        admin = find_user(db, "admin@example.com")
        owner = admin.id if admin else None
        cats: dict[str, Category] = {}
        for pos, (name, parent) in enumerate(CATEGORIES):
            cat = Category(
                name=str(name),
                parent_id=cats[parent].id if parent else None,
                position=pos,
                active=True,
                owner_id=owner,
                custom={},
            )
            db.add(cat)
            db.flush()
            cats[str(name)] = cat
        products = {}
        for sku, name, cat, kind, unit, vat, price, cur, cost, ean in PRODUCTS:
            p = Product(
                sku=sku,
                name=name,
                category_id=cats[cat].id,
                kind=kind,
                unit=unit,
                tax_rate=Decimal(vat),
                list_price=Decimal(price),
                list_price_currency=cur,
                cost=Decimal(cost),
                cost_currency=cur,
                barcode=ean,
                active=True,
                owner_id=owner,
                custom={},
            )
            if sku in DESCRIPTIONS:
                p.description, p.description_translations = DESCRIPTIONS[sku]
            db.add(p)
            products[sku] = p
        db.flush()
        year = dt.date.today().year
        general = PriceList(
            name=f"Wholesale {year}",
            currency="EUR",
            valid_from=dt.date(year, 1, 1),
            valid_to=dt.date(year + 1, 12, 31),
            priority=10,
            active=True,
            owner_id=owner,
            custom={},
        )
        ron = PriceList(
            name=f"Romania {year}",
            currency="RON",
            valid_from=dt.date(year, 1, 1),
            priority=10,
            active=True,
            owner_id=owner,
            custom={},
        )
        pln = PriceList(
            name=f"Polska {year}",
            currency="PLN",
            valid_from=dt.date(year, 1, 1),
            priority=10,
            active=True,
            owner_id=owner,
            custom={},
        )
        db.add_all([general, ron, pln])
        db.flush()
        rules = [
            # volume tiers on olive oil for every customer
            PriceRule(
                pricelist_id=general.id,
                category_id=cats["Olive oil"].id,
                min_quantity=Decimal(100),
                method="discount",
                discount_percent=Decimal(5),
                owner_id=owner,
                custom={},
            ),
            PriceRule(
                pricelist_id=general.id,
                category_id=cats["Olive oil"].id,
                min_quantity=Decimal(500),
                method="discount",
                discount_percent=Decimal(10),
                owner_id=owner,
                custom={},
            ),
            PriceRule(
                pricelist_id=general.id,
                product_id=products["SW-CRM-USER"].id,
                min_quantity=Decimal(10),
                method="fixed",
                price=Decimal("160.00"),
                owner_id=owner,
                custom={},
            ),
            PriceRule(
                pricelist_id=ron.id,
                product_id=products["OIL-EV-1L"].id,
                min_quantity=Decimal(0),
                method="fixed",
                price=Decimal("49.90"),
                owner_id=owner,
                custom={},
            ),
            PriceRule(
                pricelist_id=pln.id,
                product_id=products["OIL-EV-1L"].id,
                min_quantity=Decimal(0),
                method="fixed",
                price=Decimal("42.90"),
                owner_id=owner,
                custom={},
            ),
        ]
        db.add_all(rules)
        db.flush()
        from .literature import Literature
        from .literature_demo import demo_literature

        documents = demo_literature(request, products, owner)
        written = [
            (Literature, documents),
            (Category, [c.id for c in cats.values()]),
            (Product, [p.id for p in products.values()]),
            (PriceList, [general.id, ron.id, pln.id]),
            (PriceRule, [r.id for r in rules]),
        ]
    for model, ids in written:
        records_written(env, model, ids=ids)
    click.echo(f"catalog: {len(products)} products in {len(cats)} categories, 3 price lists")
    click.echo(f"catalog: {len(documents)} sales documents")

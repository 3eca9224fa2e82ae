"""The catalog at 100 000 products (issue #20): a 50-line quote's price look-up, the
product picker's search and the catalog list page, each beside a raw SQL baseline on
the same data.

Loads N products in 100 categories (bulk Core inserts, as the importer writes), a
general price list with a rule per category and a fixed price for every 50th product,
then times, median of 20:

- ``prices_for`` for 50 lines (the function quotes and the API use: the lists, the
  products, the rules, the categories) against one raw SELECT of the same products and
  their rules;
- the picker's ``GET /products/_lookup?q=`` (the whole request: security, the visible
  query, titles, JSON) against the raw ``lower(name) LIKE`` / code prefix query;
- the catalog's list ``GET /api/v1/products?sort=name&limit=50`` (the whole request)
  against the raw first page by name and its count.

It prints the ratios; nothing here asserts a time (docs/performance.md).

    python bench/catalog_prices.py [--rows 100000] [--url postgresql+psycopg:///x]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path


def _median_ms(fn, n=20) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--url")
    args = ap.parse_args()
    import webtest
    from kyklos_catalog.models import Category, PriceList, PriceRule, Product
    from kyklos_catalog.pricing import prices_for
    from sqlalchemy import insert, text

    from kyklos.jobs import job_request
    from kyklos.security.models import Role, User, UserRole
    from kyklos.security.tokens import create_token
    from kyklos_sdk.testing import build_app, empty_database

    tmp = Path(tempfile.mkdtemp(prefix="kyklos-bench-"))
    url = args.url or f"sqlite:///{tmp}/bench.sqlite"
    app = build_app(url, ["contacts", "catalog"], files_dir=tmp)
    reg = app.registry
    empty_database(reg)
    with job_request(reg) as request:
        db = request.dbsession
        user = User(email="bench@example.com", name="bench")
        db.add(user)
        db.flush()
        db.add(UserRole(user_id=user.id, role_id=db.query(Role).filter_by(name="admin").one().id))
        uid = user.id
        token, _row = create_token(db, user, name="bench")
    engine = reg["dbengine"]
    n_cat = 100
    with engine.begin() as conn:
        conn.execute(
            insert(Category.__table__),
            [{"id": i + 1, "name": f"Category {i:03d}", "position": i} for i in range(n_cat)],
        )
        batch = 10_000
        for start in range(0, args.rows, batch):
            conn.execute(
                insert(Product.__table__),
                [
                    {
                        "id": k + 1,
                        "sku": f"P{k:07d}",
                        "name": f"Product {k * 7919 % args.rows:07d} widget",
                        "category_id": k % n_cat + 1,
                        "list_price": Decimal(10 + k % 90),
                        "list_price_currency": "EUR",
                    }
                    for k in range(start, min(start + batch, args.rows))
                ],
            )
        conn.execute(
            insert(PriceList.__table__),
            [
                {
                    "id": 1,
                    "name": "General",
                    "currency": "EUR",
                    "priority": 10,
                    "valid_from": dt.date(2020, 1, 1),
                }
            ],
        )
        rules = [
            {
                "pricelist_id": 1,
                "product_id": None,
                "category_id": c + 1,
                "method": "discount",
                "price": None,
                "discount_percent": Decimal(5),
                "min_quantity": Decimal(0),
            }
            for c in range(n_cat)
        ]
        rules += [
            {
                "pricelist_id": 1,
                "product_id": k + 1,
                "category_id": None,
                "method": "fixed",
                "price": Decimal(9),
                "discount_percent": Decimal(0),
                "min_quantity": Decimal(0),
            }
            for k in range(0, args.rows, 50)
        ]
        conn.execute(insert(PriceRule.__table__), rules)
    # the bulk inserts pass by the search index: rebuild it as the importer's upkeep
    # does, or the picker would time an empty search
    from kyklos.entities import upkeep

    with job_request(reg, uid) as request:
        upkeep.rebuild(request, reg.kyklos_entities["product"])
    with engine.begin() as conn:
        conn.execute(text("ANALYZE"))

    lines = [(k * (args.rows // 50) + 1, Decimal(k % 7 + 1)) for k in range(50)]
    ids = [pid for pid, _q in lines]

    def kyklos_prices():
        out = prices_for(state["request"], lines, currency="EUR")
        assert len(out) == 50 and all(p.amount is not None for p in out)

    def raw_prices():
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT p.id, p.list_price, p.category_id, r.method, r.price,"
                    " r.discount_percent FROM catalog_product p LEFT JOIN catalog_pricerule r"
                    " ON r.pricelist_id = 1 AND (r.product_id = p.id OR r.category_id ="
                    " p.category_id) WHERE p.id IN (" + ",".join(map(str, ids)) + ")"
                )
            ).all()

    client = webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"})
    client.authorization = ("Bearer", token)

    # ten products: "Product 0042000 widget" .. "Product 0042009 widget"
    pick = "004200"

    def kyklos_picker():
        res = client.get(f"/products/_lookup?q={pick}")
        assert res.status_int == 200 and res.json, res

    def raw_picker():
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT id, name, sku FROM catalog_product WHERE deleted_at IS NULL AND"
                    " (lower(name) LIKE :q OR lower(sku) LIKE :q) ORDER BY name LIMIT 20"
                ),
                {"q": f"%{pick}%"},
            ).all()

    def kyklos_list():
        # the catalog's list (the generic list: the visible query, one page by name, the
        # count, each row serialised); the HTML page runs the same query
        res = client.get("/api/v1/products?sort=name&limit=50")
        assert res.status_int == 200 and res.json["items"][0]["name"] == "Product 0000000 widget"

    def raw_list():
        with engine.connect() as conn:
            conn.execute(
                text(
                    "SELECT id, sku, name, kind, list_price, active FROM catalog_product"
                    " WHERE deleted_at IS NULL ORDER BY name, id LIMIT 50"
                )
            ).all()
            conn.execute(text("SELECT count(*) FROM catalog_product WHERE deleted_at IS NULL"))

    print(f"{engine.dialect.name}: {args.rows} products, {len(rules)} price rules")
    state = {}
    # one request for the look-ups (as a quote page's): its set-up is not the look-up's
    with job_request(reg, uid) as request:
        state["request"] = request
        rows = [("price look-up, 50 lines", _median_ms(kyklos_prices), _median_ms(raw_prices))]
    rows.append(("picker search (HTTP)", _median_ms(kyklos_picker), _median_ms(raw_picker)))
    rows.append(("catalog list (HTTP)", _median_ms(kyklos_list), _median_ms(raw_list)))
    if __import__("os").environ.get("BENCH_PROFILE"):
        import cProfile

        with job_request(reg, uid) as request:
            state["request"] = request
            cProfile.runctx(
                "for _ in range(20): kyklos_prices()", globals(), locals(), sort="cumtime"
            )
    for label, a, b in rows:
        print(f"  {label:26s} kyklos {a:8.2f} ms   raw SQL {b:8.2f} ms   ratio {a / b:5.1f}")


if __name__ == "__main__":
    main()

"""Quotes (SFA-10, SFA-11): lines and Decimal totals, revisions, variants and copies,
race-free numbers, branded PDF output."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

LINES = [
    # description, quantity, unit price, discount %, tax %
    ("Σύστημα ραφιών — Regał magazynowy ąę", "3", "199.99", "10", "24"),
    ("Montaj și instalare", "1.5", "80.00", "0", "19"),
    ("Transport", "1", "45.50", "0", "0"),
]


def _quote(client, **fields):
    body = {"title": "Warehouse fit-out", "currency": "EUR", **fields}
    return client.post_json("/api/v1/quotes", body).json


def _add_lines(client, quote_id):
    for desc, qty, price, disc, tax in LINES:
        client.post_json("/api/v1/quote-lines", {
            "quote_id": quote_id, "description": desc, "quantity": qty,
            "unit_price": price, "discount_percent": disc, "tax_rate": tax,
        })


def test_totals_are_exact(api):
    rep = api("sales")
    q = _quote(rep)
    _add_lines(rep, q["id"])
    q = rep.get(f"/api/v1/quotes/{q['id']}").json
    # 3 x 199.99 = 599.97, less 10 % = 539.973 -> 539.97; tax 24 % = 129.5928 -> 129.59
    # 1.5 x 80 = 120.00; tax 19 % = 22.80.  45.50, no tax.
    assert Decimal(q["net_total"]) == Decimal("705.47")
    assert Decimal(q["tax_total"]) == Decimal("152.39")
    assert Decimal(q["total"]) == Decimal("857.86")
    lines = rep.get(f"/api/v1/quote-lines?quote_id={q['id']}&sort=position").json["items"]
    assert [Decimal(x["line_total"]) for x in lines] == [Decimal("539.97"), Decimal("120.00"),
                                                          Decimal("45.50")]
    assert [x["position"] for x in lines] == [1, 2, 3]
    # Changing and deleting a line recomputes the quote.
    first = lines[0]
    rep.patch_json(f"/api/v1/quote-lines/{first['id']}", {"quantity": "1"})
    rep.delete(f"/api/v1/quote-lines/{lines[2]['id']}")
    q = rep.get(f"/api/v1/quotes/{q['id']}").json
    assert Decimal(q["net_total"]) == Decimal("179.99") + Decimal("120.00")
    page = rep.get(f"/quotes/{q['id']}")
    assert q["number"] in page.text
    # The page's lines panel: every column, in position order, money in its currency.
    rows = [[td.get_text(strip=True) for td in tr.select("td")]
            for tr in page.html.select("#sfa-quote-lines tr.sfa-quote-line")]
    assert [r[1] for r in rows] == [lines[0]["description"], lines[1]["description"]]
    assert rows[0][2:] == ["1", "", "€199.99", "10 %", "24 %", "€179.99"]
    assert rows[1][2:] == ["1.5", "", "€80.00", "0 %", "19 %", "€120.00"]
    assert page.html.select_one(".sfa-net").get_text(strip=True) == "€299.99"


def test_revisions_variants_and_copies(api, client):
    rep = api("sales")
    q = _quote(rep, valid_until="2031-01-31")
    _add_lines(rep, q["id"])
    year = dt.date.today().year
    assert q["number"] == f"Q-{year}-0001" and q["revision"] == 1
    rev = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"mode": "revision"},
                        status=201).json
    assert (rev["number"], rev["revision"], rev["based_on_id"]) == (q["number"], 2, q["id"])
    assert rev["total"] == rep.get(f"/api/v1/quotes/{q['id']}").json["total"]
    assert len(rep.get(f"/api/v1/quote-lines?quote_id={rev['id']}").json["items"]) == 3
    var = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"mode": "variant", "variant": "B"},
                        status=201).json
    assert (var["number"], var["variant"], var["revision"]) == (q["number"], "B", 1)
    copy = rep.post_json(f"/api/v1/quotes/{rev['id']}/clone", {"mode": "copy"}, status=201).json
    assert copy["number"] == f"Q-{year}-0002" and copy["revision"] == 1
    assert copy["based_on_id"] == rev["id"] and copy["status"] == "draft"
    rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"mode": "bogus"}, status=400)
    # Clients cannot choose numbers.
    rep.post_json("/api/v1/quotes", {"title": "x", "number": "Q-1"}, status=400)
    # Another rep cannot clone what they cannot see.
    api("sales").post_json(f"/api/v1/quotes/{q['id']}/clone", {}, status=404)
    # The history of the offer shows on its page.
    page = rep.get(f"/quotes/{q['id']}")
    assert "Later versions and copies" in page.text


def test_numbers_are_unique_under_concurrency(registry, api):
    """Eight transactions draw numbers at once (each holding its transaction open a
    moment after drawing, to widen the race): every number is drawn exactly once."""
    import time

    import transaction
    from kyklos_sfa.quoting import next_number

    factory = registry["dbsession_factory"]
    numbers, errors = [], []

    def worker():
        from kyklos.db import get_tm_session

        try:
            for _i in range(4):
                tm = transaction.TransactionManager(explicit=True)
                with tm:
                    db = get_tm_session(factory, tm)
                    n = next_number(db, 2040)
                    time.sleep(0.01)
                numbers.append(n)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(numbers) == list(range(1, 33))
    # Through the API, the quotes take the numbers that follow, one per quote.
    rep = api("sales")
    year = dt.date.today().year
    got = [rep.post_json("/api/v1/quotes", {"title": f"Q{i}"}).json["number"] for i in range(3)]
    assert got == [f"Q-{year}-{i:04d}" for i in (1, 2, 3)]

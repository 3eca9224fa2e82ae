"""A variant of a quote in another currency (SFA-11): every price converted through the
core's dated exchange rates, the rate and its day shown, a warning when the rate is
older than the site's limit; the API and the quote page."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

PROBLEM = "application/problem+json"


def _quote_with_lines(client):
    q = client.post_json("/api/v1/quotes", {"title": "Racks", "currency": "EUR"}).json
    for desc, qty, price in (("Rack", "3", "199.99"), ("Transport", "1", "45.50")):
        client.post_json(
            "/api/v1/quote-lines",
            {
                "quote_id": q["id"],
                "description": desc,
                "quantity": qty,
                "unit_price": price,
                "tax_rate": "24",
            },
            status=201,
        )
    return q


def _lines(client, quote_id):
    url = f"/api/v1/quote-lines?quote_id={quote_id}&sort=position"
    return client.get(url).json["items"]


def test_a_variant_in_another_currency_converts_at_the_dated_rate(api, admin):
    today = dt.date.today()
    admin.post_json(
        "/api/v1/_exchange-rates",
        {
            "rates": [
                {"currency": "PLN", "rate_date": "2020-01-01", "rate": "4.50"},
                {
                    "currency": "PLN",
                    "rate_date": (today - dt.timedelta(days=1)).isoformat(),
                    "rate": "4.25",
                },
            ]
        },
    )
    rep = api("sales")
    q = _quote_with_lines(rep)
    res = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"currency": "PLN"}, status=201)
    v = res.json
    # a currency variant is a variant of the same offer
    assert (v["number"], v["variant"], v["currency"]) == (q["number"], "B", "PLN")
    assert v["rate_from"] == "EUR" and Decimal(v["exchange_rate"]) == Decimal("4.25")
    assert v["rate_date"] == (today - dt.timedelta(days=1)).isoformat()
    lines = _lines(rep, v["id"])
    # 199.99 x 4.25 = 849.9575 -> 849.96; 45.50 x 4.25 = 193.375 -> 193.38
    assert [Decimal(x["unit_price"]) for x in lines] == [Decimal("849.96"), Decimal("193.38")]
    assert "199.99" in lines[0]["price_note"]
    assert Decimal(v["net_total"]) == 3 * Decimal("849.96") + Decimal("193.38")
    # the source keeps its numbers
    src = rep.get(f"/api/v1/quotes/{q['id']}").json
    assert Decimal(src["net_total"]) == 3 * Decimal("199.99") + Decimal("45.50")
    # the page says which rate, of which day; a fresh rate gives no warning
    page = rep.get(f"/quotes/{v['id']}")
    note = page.html.select_one(".sfa-conversion")
    assert "EUR" in note.text and "4.25" in note.text
    assert page.html.select(".sfa-rate-stale") == []


def test_an_old_rate_is_named_with_a_warning_and_a_missing_one_refused(api, admin):
    admin.post_json(
        "/api/v1/_exchange-rates",
        {"rates": [{"currency": "RON", "rate_date": "2020-01-01", "rate": "5.00"}]},
    )
    rep = api("sales")
    q = _quote_with_lines(rep)
    v = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"currency": "RON"}, status=201).json
    assert v["rate_date"] == "2020-01-01"
    page = rep.get(f"/quotes/{v['id']}")
    assert page.html.select_one(".sfa-conversion.alert-warning") is not None
    assert page.html.select_one(".sfa-rate-stale") is not None
    # no rate for CHF at all: refused naming the currency, nothing created
    before = rep.get("/api/v1/quotes").json["count"]
    res = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"currency": "CHF"}, status=400)
    assert res.content_type == PROBLEM
    assert {e["field"] for e in res.json["errors"]} == {"currency"}
    res = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"currency": "XX1"}, status=400)
    assert {e["field"] for e in res.json["errors"]} == {"currency"}
    assert rep.get("/api/v1/quotes").json["count"] == before


def test_the_page_makes_a_currency_variant(api, admin, kyklos_app, login):
    import webtest

    admin.post_json(
        "/api/v1/_exchange-rates",
        {"rates": [{"currency": "PLN", "rate_date": dt.date.today().isoformat(), "rate": "4.00"}]},
    )
    admin.patch_json("/api/v1/_settings", {"currency.in_use": ["EUR", "PLN"]})
    rep_api = api("sales")
    q = _quote_with_lines(rep_api)
    web = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(web, rep_api.email)
    page = web.get(f"/quotes/{q['id']}")
    form = next(
        f
        for f in page.forms.values()
        if f.action.endswith(f"/sfa/quotes/{q['id']}/clone") and "currency" in f.fields
    )
    form["currency"] = "PLN"
    page = form.submit().follow()
    assert "PLN" in page.html.select_one(".sfa-conversion").text
    rows = page.html.select("#sfa-quote-lines tr.sfa-quote-line")
    assert "799.96" in rows[0].text  # 199.99 x 4


def test_one_offer_document_presents_the_variants_side_by_side(api, admin):
    """``GET .../pdf?variants=all`` (and the quote page's "PDF of all variants"): one
    document with a column per variant - each line's amount in that variant's currency,
    a line a variant lacks as a dash, each variant's totals and the rate a converted
    variant used. The plain PDF stays one quote's."""
    import io

    from pypdf import PdfReader

    def text_of(body):
        return [
            " ".join(line.split())
            for p in PdfReader(io.BytesIO(body)).pages
            for line in p.extract_text().splitlines()
        ]

    def rows_of(body):
        """The text pieces of the first page by row (their height on the page), each
        row's pieces from left to right: what stands side by side."""
        pieces = []

        def visit(text, cm, tm, _font, _size):
            if text.strip():
                pieces.append((round(tm[5] + cm[5]), tm[4] + cm[4], text.strip()))

        PdfReader(io.BytesIO(body)).pages[0].extract_text(visitor_text=visit)
        rows: dict = {}
        for y, x, text in pieces:
            rows.setdefault(y, []).append((x, text))
        return [[t for _x, t in sorted(r)] for _y, r in sorted(rows.items(), reverse=True)]

    admin.post_json(
        "/api/v1/_exchange-rates",
        {"rates": [{"currency": "PLN", "rate_date": "2020-01-01", "rate": "4.00"}]},
    )
    rep = api("sales")
    q = _quote_with_lines(rep)
    pln = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"currency": "PLN"}, status=201).json
    # a third variant without transport, with an extra line
    c = rep.post_json(f"/api/v1/quotes/{q['id']}/clone", {"mode": "variant"}, status=201).json
    transport = [ln for ln in _lines(rep, c["id"]) if ln["description"] == "Transport"][0]
    rep.delete(f"/api/v1/quote-lines/{transport['id']}", status=204)
    rep.post_json(
        "/api/v1/quote-lines",
        {"quote_id": c["id"], "description": "Assembly", "unit_price": "80", "tax_rate": "24"},
        status=201,
    )
    res = rep.get(f"/api/v1/quotes/{q['id']}/pdf?variants=all")
    assert res.content_type == "application/pdf"
    assert "-variants.pdf" in res.headers["Content-Disposition"]
    rows = rows_of(res.body)
    joined = "\n".join(" | ".join(r) for r in rows)
    heads = next(r for r in rows if r[0] == "Description")
    assert heads == ["Description", "Original", "Variant B", "Variant C"], joined
    # the rack's row: the EUR amount, the PLN amount and variant C's, side by side
    assert next(r for r in rows if r[0] == "Rack") == [
        "Rack",
        "€599.97",
        "PLN2,399.88",
        "€599.97",
    ], joined
    # transport: in the original and B, a dash in C; assembly only in C
    assert next(r for r in rows if r[0] == "Transport") == [
        "Transport",
        "€45.50",
        "PLN182.00",
        "—",
    ]
    assert next(r for r in rows if r[0] == "Assembly") == ["Assembly", "—", "—", "€80.00"]
    src = rep.get(f"/api/v1/quotes/{q['id']}").json
    c = rep.get(f"/api/v1/quotes/{c['id']}").json
    assert next(r for r in rows if r[0] == "Total") == [
        "Total",
        f"€{Decimal(src['total']):,.2f}",
        f"PLN{Decimal(pln['total']):,.2f}",
        f"€{Decimal(c['total']):,.2f}",
    ]
    joined = "\n".join(text_of(res.body))
    # the rate the PLN variant used
    assert "Variant B: converted from EUR at 1 EUR = 4 PLN" in joined
    # the same from any variant of the offer; the plain PDF is one quote's
    again = text_of(rep.get(f"/api/v1/quotes/{pln['id']}/pdf?variants=all").body)
    assert any("Assembly" in ln for ln in again)
    plain = "\n".join(text_of(rep.get(f"/api/v1/quotes/{q['id']}/pdf").body))
    assert "Assembly" not in plain and "Variant B" not in plain
    bad = rep.get(f"/api/v1/quotes/{q['id']}/pdf?variants=some", status=400)
    assert bad.content_type == PROBLEM
    assert [e["field"] for e in bad.json["errors"]] == ["variants"]
    # the quote page links to it
    page = rep.get(f"/quotes/{q['id']}")
    link = page.html.find("a", string=lambda s: s and "PDF of all variants" in s)
    assert link is not None and link["href"].endswith(f"/sfa/quotes/{q['id']}/pdf?variants=all")
    assert rep.get(link["href"]).content_type == "application/pdf"

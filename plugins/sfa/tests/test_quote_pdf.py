"""Quote PDFs carry the active theme's brand (default and the white-label example)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

LINES = [
    ("Σύστημα ραφιών — Regał magazynowy ąę", "3", "199.99", "10", "24"),
    ("Montaj și instalare", "1.5", "80.00", "0", "19"),
]


@pytest.fixture(params=[("default", "Kyklos"), ("aurora", "Aurora CRM")],
                ids=["default", "aurora"])
def theme_case(request):
    return request.param


@pytest.fixture
def kyklos_theme(theme_case):
    return theme_case[0]


def test_pdf_carries_the_brand_and_the_lines(theme_case, api, client):
    brand = theme_case[1]
    rep = api("sales")
    acc = rep.post_json("/api/v1/accounts", {"name": "Ωμέγα Ανώνυμη Εταιρεία"}).json
    q = rep.post_json("/api/v1/quotes", {"title": "Offer", "account_id": acc["id"],
                                         "currency": "RON", "notes": "Plată în 30 de zile"}
                      ).json
    for desc, qty, price, disc, tax in LINES:
        rep.post_json("/api/v1/quote-lines", {
            "quote_id": q["id"], "description": desc, "quantity": qty,
            "unit_price": price, "discount_percent": disc, "tax_rate": tax})
    res = rep.get(f"/api/v1/quotes/{q['id']}/pdf")
    assert res.content_type == "application/pdf"
    assert res.body.startswith(b"%PDF")
    # (a long description wraps: compare with the lines joined)
    text = " ".join("\n".join(
        p.extract_text() for p in PdfReader(io.BytesIO(res.body)).pages).split())
    assert brand in text
    assert q["number"] in text
    assert "Ωμέγα Ανώνυμη Εταιρεία" in text
    assert "Σύστημα ραφιών" in text and "Regał magazynowy ąę" in text
    assert "Montaj și instalare" in text
    assert "Plată în 30 de zile" in text
    # Another rep may not read it; the browser route serves the same document.
    api("sales").get(f"/api/v1/quotes/{q['id']}/pdf", status=404)
    assert rep.get(f"/sfa/quotes/{q['id']}/pdf").body.startswith(b"%PDF")

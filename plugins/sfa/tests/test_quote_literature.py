"""Sales literature on a quote (SFA-16): the quote offers the current documents of its
lines' products in the quote's language, valid today (an expired one is not offered);
the chosen ones are attached to the quote as copies, byte for byte; only offered
documents can be attached, and only by someone who may change the quote. The quote's
"Send documents" mails them to its contact, logged on the quote's timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from fpdf import FPDF


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


@pytest.fixture
def quote(admin, api):
    rack = admin.post_json(
        "/api/v1/products",
        {
            "sku": "RACK",
            "name": "Steel rack",
            "list_price": {"amount": "200.00", "currency": "EUR"},
        },
        status=201,
    ).json
    other = admin.post_json("/api/v1/products", {"sku": "DESK", "name": "Desk"}, status=201).json
    acc = admin.post_json("/api/v1/accounts", {"name": "Knossos Travel"}, status=201).json
    person = admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Νίκος",
            "last_name": "Ιωάννου",
            "email": "nikos@example.gr",
            "language": "el",
            "account_id": acc["id"],
        },
        status=201,
    ).json
    yesterday = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    docs, files = {}, {}
    for key, title, lang, product, extra in (
        ("el", "Ράφια — φυλλάδιο", "el", rack, {}),
        ("en", "Racks brochure", "en", rack, {}),
        ("old", "Ράφια — παλιός τιμοκατάλογος", "el", rack, {"valid_until": yesterday}),
        ("desk", "Γραφεία", "el", other, {}),
    ):
        docs[key] = admin.post_json(
            "/api/v1/sales-literature",
            {"title": title, "language": lang, "product_id": product["id"], **extra},
            status=201,
        ).json
        files[key] = pdf_bytes(key)
        admin.post(
            f"/api/v1/sales-literature/{docs[key]['id']}/attachments",
            upload_files=[("file", f"{key}.pdf", files[key])],
            status=201,
        )
    q = admin.post_json(
        "/api/v1/quotes",
        {
            "title": "Storage",
            "currency": "EUR",
            "account_id": acc["id"],
            "person_id": person["id"],
            "language": "el",
        },
        status=201,
    ).json
    admin.post_json(
        "/api/v1/quote-lines",
        {"quote_id": q["id"], "product_id": rack["id"], "quantity": "2"},
        status=201,
    )
    return {"quote": q, "docs": docs, "files": files, "person": person}


def test_offered_in_the_quote_language_and_attached_whole(admin, quote):
    q, docs = quote["quote"], quote["docs"]
    got = admin.get(f"/api/v1/quotes/{q['id']}/literature").json
    assert got["language"] == "el"
    # the Greek brochure of the quoted rack: not the English one, not the expired one,
    # not the desk's (not on the quote)
    assert [d["title"] for d in got["items"]] == ["Ράφια — φυλλάδιο"]
    page = admin.get(f"/quotes/{q['id']}")
    assert "Ράφια — φυλλάδιο" in page.text and "παλιός" not in page.text
    form = page.forms["quote-literature-form"]
    form.get("literature_ids", index=0).checked = True
    form.submit(status=303)
    atts = admin.get(f"/api/v1/quotes/{q['id']}/attachments").json["items"]
    assert [a["filename"] for a in atts] == ["el.pdf"]
    assert admin.get(atts[0]["url"]).body == quote["files"]["el"]
    # the expired one cannot be attached through the API either
    res = admin.post_json(
        f"/api/v1/quotes/{q['id']}/literature",
        {"literature_ids": [docs["old"]["id"]]},
        status=400,
    )
    assert {e["field"] for e in res.json["errors"]} == {"literature_ids"}
    res = admin.post_json(
        f"/api/v1/quotes/{q['id']}/literature",
        {"literature_ids": [docs["el"]["id"]]},
        status=201,
    )
    assert res.json == {"attached": ["el.pdf"]}


def test_only_who_may_change_the_quote_attaches(api, quote):
    q, docs = quote["quote"], quote["docs"]
    api("user").post_json(
        f"/api/v1/quotes/{q['id']}/literature",
        {"literature_ids": [docs["el"]["id"]]},
        status=403,
    )


def test_send_from_the_quote_to_its_contact(admin, quote, smtp_server):
    q = quote["quote"]
    page = admin.get(f"/catalog/literature/send?entity=quote&id={q['id']}")
    assert "nikos@example.gr" in page.text
    form = page.forms["literature-send-form"]
    for i, box in enumerate(form.fields["literature_ids"]):
        if box._value == str(quote["docs"]["el"]["id"]):
            form.get("literature_ids", index=i).checked = True
    form["message"] = "Όπως συζητήσαμε."
    form.submit(status=303)
    msg = smtp_server.wait(1)[0]
    assert msg.envelope_to == ["nikos@example.gr"]
    parts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert parts == {"el.pdf": quote["files"]["el"]}
    page = admin.get(f"/quotes/{q['id']}")
    assert "Documents sent to nikos@example.gr" in page.text

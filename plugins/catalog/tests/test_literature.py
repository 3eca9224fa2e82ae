"""Sales literature (SFA-16): documents per product or category and language, whose
versions are their attachments (a new upload keeps the old ones, the latest is current),
valid for a period (an expired one is marked and not offered); sent by e-mail from a
record to one of its people through a real SMTP server, whole, and logged on the
timeline; a rep who cannot see an account cannot send to its people."""

from __future__ import annotations

import datetime as dt

import pytest
from fpdf import FPDF

PROBLEM = "application/problem+json"


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def pdf_bytes(text: str) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=14)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def upload(client, doc_id, name, data, status=201):
    return client.post(
        f"/api/v1/sales-literature/{doc_id}/attachments",
        upload_files=[("file", name, data)],
        status=status,
    )


@pytest.fixture
def library(admin):
    cat = admin.post_json("/api/v1/product-categories", {"name": "Oils"}, status=201).json
    oil = admin.post_json(
        "/api/v1/products",
        {"sku": "OIL-1", "name": "Olive oil 1 l", "category_id": cat["id"]},
        status=201,
    ).json
    today = dt.date.today()

    def doc(title, **fields):
        return admin.post_json(
            "/api/v1/sales-literature", {"title": title, **fields}, status=201
        ).json

    docs = {
        "el": doc("Φυλλάδιο ελαιολάδου", kind="brochure", language="el", product_id=oil["id"]),
        "en": doc("Olive oil brochure", kind="brochure", language="en", product_id=oil["id"]),
        "sheet": doc("Oils datasheet", kind="datasheet", category_id=cat["id"]),
        "old": doc(
            "Old price sheet",
            kind="pricesheet",
            product_id=oil["id"],
            valid_until=(today - dt.timedelta(days=1)).isoformat(),
        ),
    }
    files = {
        "el": pdf_bytes("Elaiolado brochure v1"),
        "en": pdf_bytes("Olive oil brochure"),
        "sheet": pdf_bytes("Datasheet"),
        "old": pdf_bytes("Old prices"),
    }
    for key, d in docs.items():
        upload(admin, d["id"], f"{key}.pdf", files[key])
    return {"product": oil, "category": cat, "docs": docs, "files": files}


def test_versions_validity_and_offered(admin, library):
    docs, oil = library["docs"], library["product"]
    # a new version of the Greek brochure: the old one stays, the new one is current
    v2 = pdf_bytes("Elaiolado brochure v2")
    upload(admin, docs["el"]["id"], "el-v2.pdf", v2)
    files = admin.get(f"/api/v1/sales-literature/{docs['el']['id']}/attachments").json["items"]
    assert [f["filename"] for f in files] == ["el-v2.pdf", "el.pdf"]
    got = admin.get(f"/api/v1/catalog/literature/offered?product_id={oil['id']}&language=el").json[
        "items"
    ]
    by_title = {d["title"]: d for d in got}
    # the Greek brochure and the language-less category datasheet; not the English one,
    # not the expired price sheet
    assert set(by_title) == {"Φυλλάδιο ελαιολάδου", "Oils datasheet"}
    assert by_title["Φυλλάδιο ελαιολάδου"]["file"]["filename"] == "el-v2.pdf"
    assert by_title["Φυλλάδιο ελαιολάδου"]["file"]["versions"] == 2
    assert admin.get(by_title["Φυλλάδιο ελαιολάδου"]["file"]["url"]).body == v2
    # asked for, the expired one comes too, marked
    got = admin.get(
        f"/api/v1/catalog/literature/offered?product_id={oil['id']}&include_expired=1"
    ).json["items"]
    expired = {d["title"]: d["expired"] for d in got}
    assert expired["Old price sheet"] is True and expired["Olive oil brochure"] is False
    # a file that is not what its name says is refused by content, like any attachment
    res = upload(admin, docs["en"]["id"], "fake.pdf", b"MZ\x90\x00 not a pdf", status=400)
    assert res.content_type == PROBLEM


def test_bad_input_names_the_field(admin, library):
    res = admin.post_json(
        "/api/v1/sales-literature",
        {"title": "X", "kind": "poster", "valid_from": "2026-05-01", "valid_until": "2026-04-01"},
        status=400,
    )
    fields = {e["field"] for e in res.json["errors"]}
    assert {"kind", "valid_until"} <= fields
    res = admin.get("/api/v1/catalog/literature/offered?language=xx&product_id=a", status=400)
    assert {e["field"] for e in res.json["errors"]} == {"language", "product_id"}
    # the OpenAPI document describes the two endpoints and the type's own
    paths = admin.get("/api/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/catalog/literature/send"]
    assert "get" in paths["/api/v1/catalog/literature/offered"]
    assert "/api/v1/sales-literature" in paths


def test_library_and_product_pages(admin, library):
    oil = library["product"]
    page = admin.get("/catalog/literature")
    assert "Olive oil brochure" in page.text and "Oils datasheet" in page.text
    assert "Old price sheet" not in page.text  # valid now by default
    page = admin.get("/catalog/literature?valid=expired")
    assert "Old price sheet" in page.text and "Olive oil brochure" not in page.text
    assert "Expired" in page.text
    page = admin.get("/catalog/literature?valid=all&language=el&kind=brochure")
    assert "Φυλλάδιο ελαιολάδου" in page.text and "Olive oil brochure" not in page.text
    page = admin.get(f"/catalog/literature?product_id={oil['id']}&valid=all")
    assert "Olive oil brochure" in page.text and "Oils datasheet" not in page.text
    cat = library["category"]
    page = admin.get(f"/catalog/literature?category_id={cat['id']}")
    assert "Oils datasheet" in page.text and "Olive oil brochure" not in page.text
    # the product page's panel: its documents and its category's, the expired one marked
    page = admin.get(f"/products/{oil['id']}")
    assert "Literature" in page.text
    assert "Oils datasheet" in page.text and "expired" in page.text
    # in Greek, the words are Greek
    page = admin.get("/catalog/literature?valid=expired", headers={"Accept-Language": "el"})
    assert "Τιμοκατάλογος" in page.text or "Ληγμένο" in page.text


def _account_with_people(client):
    acc = client.post_json("/api/v1/accounts", {"name": "Ελαιώνες ΑΕ"}, status=201).json
    maria = client.post_json(
        "/api/v1/persons",
        {
            "first_name": "Μαρία",
            "last_name": "Παπαδοπούλου",
            "email": "maria@example.gr",
            "language": "el",
            "account_id": acc["id"],
        },
        status=201,
    ).json
    return acc, maria


def test_send_by_email_received_whole_and_logged(admin, library, smtp_server):
    acc, maria = _account_with_people(admin)
    docs, files = library["docs"], library["files"]
    res = admin.post_json(
        "/api/v1/catalog/literature/send",
        {
            "entity": "account",
            "record_id": acc["id"],
            "person_id": maria["id"],
            "literature_ids": [docs["el"]["id"], docs["sheet"]["id"]],
            "message": "Καλησπέρα, σας στέλνω τα έγγραφα.",
        },
        status=201,
    ).json
    assert res["documents"] == ["el.pdf", "sheet.pdf"]
    msg = smtp_server.wait(1)[0]
    assert msg.envelope_to == ["maria@example.gr"]
    assert "Φυλλάδιο ελαιολάδου" in msg["Subject"]
    assert "Καλησπέρα" in msg.get_body(("plain",)).get_content()
    parts = {p.get_filename(): p.get_content() for p in msg.iter_attachments()}
    assert parts == {"el.pdf": files["el"], "sheet.pdf": files["sheet"]}
    # on the account's timeline and on Maria's, with the documents' names
    for url in (f"/accounts/{acc['id']}", f"/persons/{maria['id']}"):
        page = admin.get(url)
        assert "Documents sent to maria@example.gr" in page.text
        assert "el.pdf, sheet.pdf" in page.text


def test_send_form_page(admin, library, smtp_server):
    acc, maria = _account_with_people(admin)
    docs = library["docs"]
    page = admin.get(f"/catalog/literature/send?entity=account&id={acc['id']}")
    assert "maria@example.gr" in page.text
    assert "Φυλλάδιο ελαιολάδου" in page.text
    assert "Old price sheet" not in page.text  # expired: not offered by default
    form = page.forms["literature-send-form"]
    res = form.submit(status=400)  # nothing chosen: the form says so, nothing sent
    assert "Choose at least one document." in res.text
    assert smtp_server.messages == []
    form = res.forms["literature-send-form"]
    form.get("literature_ids", index=0).checked = True
    res = form.submit(status=303)
    msg = smtp_server.wait(1)[0]
    assert len(list(msg.iter_attachments())) == 1
    page = admin.get(f"/catalog/literature/send?entity=account&id={acc['id']}&expired=1")
    assert "Old price sheet" in page.text
    assert docs["old"]["id"]


def test_access_rules(api, admin, library, smtp_server, dbsession):
    # the rule under test is the core's: a test-made role that sees only its own customers
    from kyklos.security.models import RecordRule, Role

    with dbsession() as db:
        role = Role(
            name="ownrep",
            title="Own customers",
            permissions=[
                "contacts.account.read",
                "contacts.account.create",
                "contacts.person.read",
                "contacts.person.create",
                "catalog.literature.read",
            ],
        )
        db.add(role)
        db.flush()
        for entity in ("account", "person"):
            for action in ("read", "write"):
                db.add(RecordRule(role_id=role.id, entity=entity, action=action, scope="own"))
        db.add(RecordRule(role_id=role.id, entity="literature", action="read", scope="all"))
    acc, maria = _account_with_people(admin)
    rep = api("ownrep")
    body = {
        "entity": "account",
        "record_id": acc["id"],
        "person_id": maria["id"],
        "literature_ids": [library["docs"]["en"]["id"]],
    }
    # the rep cannot see the admin's account: it does not exist for them
    rep.post_json("/api/v1/catalog/literature/send", body, status=404)
    rep.get(f"/catalog/literature/send?entity=account&id={acc['id']}", status=404)
    # nor can they reach its person from an account of their own
    own = rep.post_json("/api/v1/accounts", {"name": "Rep's customer"}, status=201).json
    res = rep.post_json(
        "/api/v1/catalog/literature/send", {**body, "record_id": own["id"]}, status=400
    )
    assert {e["field"] for e in res.json["errors"]} == {"person_id"}
    assert "maria" not in rep.get(f"/catalog/literature/send?entity=account&id={own['id']}").text
    assert smtp_server.messages == []
    # someone without the catalog cannot send at all
    api("user").post_json("/api/v1/catalog/literature/send", body, status=403)

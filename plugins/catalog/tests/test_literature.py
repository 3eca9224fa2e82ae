"""Sales literature (SFA-16): documents per product or category and language, whose
versions are their attachments (a new upload keeps the old ones, the latest is current),
valid for a period (an expired one is marked and not offered); sent by e-mail from a
record to one of its people through a real SMTP server, whole, and logged on the
timeline; a rep who cannot see an account cannot send to its people."""

from __future__ import annotations

import datetime as dt
import re

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
        status=202,
    ).json
    # accepted into the outbox; the queue delivers it once the request has committed
    assert res["documents"] == ["el.pdf", "sheet.pdf"] and res["state"] == "queued"
    msg = smtp_server.wait(1)[0]
    sent = admin.get(res["url"]).json
    assert sent["state"] == "sent" and sent["attempts"] == 1 and sent["delivered_at"]
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
    assert "on their way to maria@example.gr" in res.follow().text
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
    # a send from the admin's account is out of the rep's reach, as the account is
    sent = admin.post_json("/api/v1/catalog/literature/send", body, status=202).json
    assert admin.get(sent["url"]).json["state"] == "sent"
    rep.get(sent["url"], status=404)
    rep.post(f"{sent['url']}/retry", status=404)
    rep.get(f"/catalog/literature/sent/{sent['id']}", status=404)
    api("user").get(sent["url"], status=403)


def test_a_failing_smtp_server_loses_nothing_and_the_send_can_be_retried(
    admin, library, smtp_server
):
    """The send goes through the outbox: a server that refuses the message gives the
    user no error page; the send is kept as failed with the server's reason, shown on
    the timeline and its page, and sent again when asked."""
    acc, maria = _account_with_people(admin)
    docs = library["docs"]
    smtp_server.refuse = "554 5.7.1 Message rejected by policy"
    page = admin.get(f"/catalog/literature/send?entity=account&id={acc['id']}")
    form = page.forms["literature-send-form"]
    form.get("literature_ids", index=0).checked = True
    form.submit(status=303).follow()  # no error page for the user
    res = admin.post_json(
        "/api/v1/catalog/literature/send",
        {
            "entity": "account",
            "record_id": acc["id"],
            "person_id": maria["id"],
            "literature_ids": [docs["en"]["id"]],
        },
        status=202,
    ).json
    assert smtp_server.messages == []
    failed = admin.get(res["url"]).json
    assert failed["state"] == "failed" and failed["attempts"] == 1
    assert "554" in failed["error"] and "rejected by policy" in failed["error"]
    # the record's timeline says so, with the reason, linking to the send
    timeline = admin.get(f"/accounts/{acc['id']}").text
    assert "Sending documents to maria@example.gr failed" in timeline
    assert "rejected by policy" in timeline
    send_page = admin.get(f"/catalog/literature/sent/{res['id']}")
    assert f"/catalog/literature/sent/{res['id']}" in timeline
    assert "Failed" in send_page.text and "rejected by policy" in send_page.text
    # the server is back: sent again from the page, the same documents arrive
    smtp_server.refuse = None
    res_page = send_page.forms["literature-retry-form"].submit(status=303).follow()
    assert "Sent" in res_page.text and "literature-retry-form" not in res_page.text
    msg = smtp_server.wait(1)[0]
    assert [p.get_filename() for p in msg.iter_attachments()] == ["en.pdf"]
    again = admin.get(res["url"]).json
    assert again["state"] == "sent" and again["attempts"] == 2 and again["error"] is None
    # only a failed send can be sent again: a sent one is a conflict
    res2 = admin.post(f"{res['url']}/retry", status=409)
    assert res2.content_type == PROBLEM
    assert {e["field"] for e in res2.json["errors"]} == {"state"}
    # the first one (from the page, found through its timeline link) is retried over the API
    ids = {int(i) for i in re.findall(r"/catalog/literature/sent/(\d+)", timeline)}
    [other] = ids - {res["id"]}
    first = admin.get(f"/api/v1/catalog/literature/sends/{other}").json
    assert first["state"] == "failed"
    assert admin.post(f"{first['url']}/retry", status=202).json["state"] == "queued"
    assert len(smtp_server.wait(2)) == 2
    assert admin.get(first["url"]).json["state"] == "sent"
    assert "Documents sent to maria@example.gr" in admin.get(f"/accounts/{acc['id']}").text


def test_library_pages_through_many_documents(admin):
    """More documents than one page: the page and the API give the same pages in title
    order, with the total and links to the next and previous pages."""
    for n in range(7):
        admin.post_json(
            "/api/v1/sales-literature", {"title": f"Doc {n:02d}", "kind": "datasheet"}, status=201
        )
    first = admin.get("/api/v1/catalog/literature?limit=3&kind=datasheet").json
    assert first["count"] == 7 and first["pages"] == 3 and first["page"] == 1
    assert [d["title"] for d in first["items"]] == ["Doc 00", "Doc 01", "Doc 02"]
    assert first["previous"] is None and first["items"][0]["file"] is None
    second = admin.get(first["next"]).json
    assert [d["title"] for d in second["items"]] == ["Doc 03", "Doc 04", "Doc 05"]
    last = admin.get(second["next"]).json
    assert [d["title"] for d in last["items"]] == ["Doc 06"] and last["next"] is None
    assert admin.get(last["previous"]).json == second
    # bad paging is a 400 naming each parameter
    res = admin.get("/api/v1/catalog/literature?page=0&limit=500&kind=poster", status=400)
    assert res.content_type == PROBLEM
    assert {e["field"] for e in res.json["errors"]} == {"page", "limit", "kind"}
    # the page: the filters are kept from page to page
    page = admin.get("/catalog/literature?limit=3&kind=datasheet")
    assert "Doc 02" in page.text and "Doc 03" not in page.text
    assert "Documents 1–3 of 7" in page.text and "Previous page" not in page.text
    page = page.click("Next page")
    assert "Doc 03" in page.text and "Doc 02" not in page.text
    assert "Documents 4–6 of 7" in page.text
    page = page.click("Next page")
    assert "Doc 06" in page.text and "Next page" not in page.text
    page = page.click("Previous page")
    assert "Documents 4–6 of 7" in page.text
    # the default page size is the core's list page size (50)
    assert admin.get("/api/v1/catalog/literature").json["limit"] == 50


def _send(admin, acc, maria, doc_id):
    return admin.post_json(
        "/api/v1/catalog/literature/send",
        {
            "entity": "account",
            "record_id": acc["id"],
            "person_id": maria["id"],
            "literature_ids": [doc_id],
        },
        status=202,
    ).json


def _run_due(registry, seconds):
    """Run the queue's delayed jobs due within ``seconds`` from now (the test's clock)."""
    from kyklos.jobs import run_scheduled

    from kyklos_sdk import utcnow

    return run_scheduled(registry, until=utcnow() + dt.timedelta(seconds=seconds))


def test_a_temporary_failure_is_retried_with_backoff_under_the_same_message_id(
    admin, library, smtp_server, registry
):
    """An SMTP 4xx is tried again by the job queue after 1, then 5 minutes; the state
    says so in words, with the next attempt's time and the attempt count, on the API, the
    send's page and the timeline; once the server takes it, one message arrives with the
    Message-ID every attempt carried."""
    from kyklos_sdk import utcnow

    acc, maria = _account_with_people(admin)
    smtp_server.refuse = "451 4.3.0 Mailbox busy, try again later"
    start = utcnow()
    res = _send(admin, acc, maria, library["docs"]["en"]["id"])
    wait = admin.get(res["url"]).json
    assert wait["state"] == "retrying" and wait["attempts"] == 1
    assert wait["state_title"] == "Waiting to try again"
    assert "451" in wait["error"] and "try again later" in wait["error"]
    due = dt.datetime.fromisoformat(wait["next_attempt_at"])
    assert dt.timedelta(seconds=55) < due - start < dt.timedelta(seconds=70)
    assert wait["next_attempt"]  # the time in words (the user's zone)
    page = admin.get(f"/catalog/literature/sent/{res['id']}")
    assert "Waiting to try again" in page.text and "Next attempt" in page.text
    assert wait["next_attempt"] in page.text
    assert "literature-retry-form" not in page.text  # it is not the user's to retry yet
    timeline = admin.get(f"/accounts/{acc['id']}").text
    assert "Sending documents to maria@example.gr will be tried again" in timeline
    assert f"Attempt 1; next attempt {wait['next_attempt']}" in timeline
    # not before its time
    assert _run_due(registry, 30) == 0
    assert admin.get(res["url"]).json["attempts"] == 1
    # after a minute: still busy, the next wait is five minutes
    assert _run_due(registry, 65) == 1
    second = admin.get(res["url"]).json
    assert second["state"] == "retrying" and second["attempts"] == 2
    due = dt.datetime.fromisoformat(second["next_attempt_at"])
    assert dt.timedelta(seconds=290) < due - utcnow() < dt.timedelta(seconds=310)
    assert smtp_server.messages == []
    # the server takes it now: sent on the third attempt, once
    smtp_server.refuse = None
    assert _run_due(registry, 65 + 310) == 1
    done = admin.get(res["url"]).json
    assert done["state"] == "sent" and done["attempts"] == 3 and done["error"] is None
    assert done["next_attempt_at"] is None and done["state_title"] == "Sent"
    [msg] = smtp_server.wait(1)
    assert msg["Message-ID"] == f"<literature-send-{res['id']}@example.com>"
    assert _run_due(registry, 4000) == 0  # nothing else waits: nothing is sent twice
    assert len(smtp_server.messages) == 1


def test_temporary_failures_stop_after_the_last_retry_and_a_5xx_at_once(
    admin, library, smtp_server, registry, monkeypatch
):
    """Four attempts in all (three retries) for a server that stays busy, then failed
    with its reason and sent again only by hand; a server that refuses connections is
    temporary too; a permanent 5xx refusal fails at the first attempt."""
    acc, maria = _account_with_people(admin)
    smtp_server.refuse = "421 4.7.0 Too many connections"
    res = _send(admin, acc, maria, library["docs"]["en"]["id"])
    for n, wait in ((2, 65), (3, 65 + 310), (4, 65 + 310 + 1810)):
        assert _run_due(registry, wait) == 1
        assert admin.get(res["url"]).json["attempts"] == n
    failed = admin.get(res["url"]).json
    assert failed["state"] == "failed" and failed["next_attempt_at"] is None
    assert "421" in failed["error"] and failed["state_title"] == "Failed"
    assert _run_due(registry, 10000) == 0
    assert smtp_server.messages == []
    # sent again by hand, it gets its retries again
    assert admin.post(f"{res['url']}/retry", status=202).json["attempts"] == 4
    again = admin.get(res["url"]).json
    assert again["state"] == "retrying" and again["attempts"] == 5
    smtp_server.refuse = None
    assert _run_due(registry, 65) == 1
    assert admin.get(res["url"]).json["state"] == "sent"
    assert len(smtp_server.wait(1)) == 1

    # connection refused: nothing listens on the port
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    monkeypatch.setitem(registry.settings, "kyklos.mail.port", str(closed))
    down = _send(admin, acc, maria, library["docs"]["en"]["id"])
    down = admin.get(down["url"]).json
    assert down["state"] == "retrying" and down["attempts"] == 1 and down["error"]
    monkeypatch.setitem(registry.settings, "kyklos.mail.port", str(smtp_server.port))
    assert _run_due(registry, 65) == 1
    assert admin.get(down["url"]).json["state"] == "sent"
    assert len(smtp_server.wait(2)) == 2

    # a permanent refusal is not tried again
    smtp_server.refuse = "550 5.1.1 No such user"
    hard = _send(admin, acc, maria, library["docs"]["en"]["id"])
    hard = admin.get(hard["url"]).json
    assert hard["state"] == "failed" and hard["attempts"] == 1
    assert hard["next_attempt_at"] is None and "550" in hard["error"]
    assert _run_due(registry, 10000) == 0
    assert len(smtp_server.messages) == 2


def test_offered_documents_page_through_without_loss_or_repeat(admin, library, smtp_server):
    """The documents offered for a product are paged like the library: the API gives
    ``count``, ``pages`` and next/previous links; walking them gives every document once.
    The send form pages through them too, keeping the documents chosen on other pages."""
    oil = library["product"]
    made = []
    for n in range(6):
        d = admin.post_json(
            "/api/v1/sales-literature",
            {"title": f"Sheet {n:02d}", "kind": "datasheet", "product_id": oil["id"]},
            status=201,
        ).json
        upload(admin, d["id"], f"sheet-{n}.pdf", pdf_bytes(f"Sheet {n}"))
        made.append(d["id"])
    # a document without a file is not offered, nor counted
    admin.post_json(
        "/api/v1/sales-literature",
        {"title": "Sheet no file", "kind": "datasheet", "product_id": oil["id"]},
        status=201,
    )
    url = f"/api/v1/catalog/literature/offered?product_id={oil['id']}&limit=4"
    first = admin.get(url).json
    # 6 sheets, the English and Greek brochures and the category's datasheet
    assert first["count"] == 9 and first["pages"] == 3 and first["page"] == 1
    assert len(first["items"]) == 4 and first["previous"] is None
    second = admin.get(first["next"]).json
    assert second["page"] == 2 and len(second["items"]) == 4
    last = admin.get(second["next"]).json
    assert last["page"] == 3 and len(last["items"]) == 1 and last["next"] is None
    assert admin.get(last["previous"]).json == second
    seen = [d["id"] for p in (first, second, last) for d in p["items"]]
    assert len(seen) == len(set(seen)) == 9  # nothing repeated, nothing lost
    assert set(made) <= set(seen)
    everything = admin.get(f"/api/v1/catalog/literature/offered?product_id={oil['id']}").json
    assert [d["id"] for d in everything["items"]] == seen and everything["limit"] == 50
    # the filters travel with the links
    el = admin.get(f"{url}&language=el&limit=2").json
    assert "language=el" in el["next"] and f"product_id={oil['id']}" in el["next"]
    res = admin.get(f"{url}&page=0&limit=0", status=400)
    assert res.content_type == PROBLEM
    assert {e["field"] for e in res.json["errors"]} == {"page", "limit"}

    # the send form: 4 documents a page; a choice on page 1 is kept on page 2 and sent
    acc, maria = _account_with_people(admin)
    page = admin.get(f"/catalog/literature/send?entity=account&id={acc['id']}&limit=4")
    assert "Documents 1–4 of 9" in page.text and "Previous page" not in page.text
    form = page.forms["literature-send-form"]
    first_box = form.get("literature_ids", index=0)
    first_box.checked = True
    chosen_first = int(first_box._value)
    form["message"] = "Καλημέρα"
    page2 = form.submit("page", value="2", status=200)
    assert "Documents 5–8 of 9" in page2.text and smtp_server.messages == []
    assert "Also chosen on other pages: 1" in page2.text
    form = page2.forms["literature-send-form"]
    assert form["message"].value == "Καλημέρα"
    box = form.get("literature_ids", index=0)  # the page's boxes come before the hidden
    box.checked = True
    chosen_second = int(box._value)
    page3 = form.submit("page", value="3", status=200)
    assert "Documents 9–9 of 9" in page3.text and "Next page" not in page3.text
    page3.forms["literature-send-form"].submit(status=303)
    msg = smtp_server.wait(1)[0]
    assert len(list(msg.iter_attachments())) == 2
    sent = admin.get(f"/accounts/{acc['id']}").text
    assert "Documents sent to maria@example.gr" in sent
    assert chosen_first != chosen_second


def test_specification_and_warranty_documents_attach_to_a_product(admin, library):
    """A product's specification and warranty are documents of the library of those
    kinds: its page lists them (kind in words, current file to download) and the API
    offers them with the product's other documents."""
    oil = library["product"]
    made = {}
    for kind, title in (("specification", "Technical specification"), ("warranty", "Warranty")):
        d = admin.post_json(
            "/api/v1/sales-literature",
            {"title": title, "kind": kind, "product_id": oil["id"]},
            status=201,
        ).json
        upload(admin, d["id"], f"{kind}.pdf", pdf_bytes(title))
        made[kind] = d
    page = admin.get(f"/products/{oil['id']}")
    assert "Technical specification — specification.pdf" in page.text
    assert "Warranty — warranty.pdf" in page.text
    assert "Specification" in page.text
    got = admin.get(f"/api/v1/catalog/literature/offered?product_id={oil['id']}").json
    kinds = {d["kind"] for d in got["items"]}
    assert {"specification", "warranty"} <= kinds
    assert admin.get("/api/v1/catalog/literature?kind=warranty").json["count"] == 1
    res = admin.post_json(
        "/api/v1/sales-literature", {"title": "x", "kind": "guarantee"}, status=400
    )
    assert res.content_type == PROBLEM

"""Service history (HD-12), barcode intake (HD-13) and releases (HD-15) through the
API and the pages: what a serial number's history holds, the failures report, a
scanned code opening a prefilled case, publishing a release mailing each customer
contact once in their language, and nothing of a customer the user may not see."""

from __future__ import annotations

import datetime as dt
import re

import pytest

PROBLEM = "application/problem+json"
TODAY = dt.date.today()


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def _base(admin, name="Hotel Knossos", serial="SN-1001", warranty=None, **extra):
    product = (
        extra.pop("product", None)
        or admin.post_json(
            "/api/v1/products",
            {"sku": "BOIL-24", "name": "Boiler 24kW", "barcode": "5201234567894"},
            status=201,
        ).json
    )
    acc = admin.post_json("/api/v1/accounts", {"name": name, **extra}, status=201).json
    unit = admin.post_json(
        "/api/v1/installed-products",
        {
            "account_id": acc["id"],
            "catalog_product": product["id"],
            "serial_number": serial,
            "warranty_until": (warranty or TODAY + dt.timedelta(days=400)).isoformat(),
        },
        status=201,
    ).json
    return product, acc, unit


def test_service_history_of_a_serial_and_of_its_product(admin, types):
    product, acc, unit = _base(admin)
    c1 = admin.post_json(
        "/api/v1/cases",
        {
            "subject": "Leaks",
            "account_id": acc["id"],
            "product_id": product["id"],
            "serial_number": "sn-1001",
            "type_id": types["incident"],
        },
        status=201,
    ).json
    admin.post_json(
        "/api/v1/cases",
        {"subject": "Other unit", "product_id": product["id"], "serial_number": "SN-9"},
        status=201,
    )
    admin.post_json(
        "/api/v1/case-time",
        {"case_id": c1["id"], "spent_on": TODAY.isoformat(), "quantity": "1.5"},
        status=201,
    )
    got = admin.get(f"/api/v1/helpdesk/history/installed-products/{unit['id']}").json
    assert [c["subject"] for c in got["cases"]] == ["Leaks"]  # by serial, any case
    assert got["warranty"] == "under" and got["warranty_text"].startswith("under warranty until")
    assert got["time_spent"] in ("1.5", "1.50") and got["open_cases"] == 1
    assert got["customer"] == "Hotel Knossos"
    whole = admin.get(f"/api/v1/helpdesk/history/products/{product['id']}").json
    assert {c["subject"] for c in whole["cases"]} == {"Leaks", "Other unit"}
    assert [u["serial_number"] for u in whole["installed"]] == ["SN-1001"]
    # the pages, and the links to them from the installed product, product and case
    text = admin.get(f"/helpdesk/history/installed-products/{unit['id']}").text
    assert "Service history" in text and "Leaks" in text and "under warranty until" in text
    assert "Other unit" in admin.get(f"/helpdesk/history/products/{product['id']}").text
    history = f"/helpdesk/history/installed-products/{unit['id']}"
    assert history in admin.get(f"/installed-products/{unit['id']}").text
    assert history in admin.get(f"/cases/{c1['id']}").text
    assert (
        f"/helpdesk/history/products/{product['id']}"
        in admin.get(f"/products/{product['id']}").text
    )
    admin.get("/api/v1/helpdesk/history/installed-products/999999", status=404)


def test_out_of_warranty_in_words(admin):
    _p, _a, unit = _base(admin, warranty=TODAY - dt.timedelta(days=3))
    got = admin.get(f"/api/v1/helpdesk/history/installed-products/{unit['id']}").json
    assert got["warranty"] == "out" and "out of warranty" in got["warranty_text"]


def test_failures_per_product_and_serial(admin, types):
    product, acc, _unit = _base(admin)
    for serial, kind in (("SN-1", "incident"), ("SN-1", "complaint"), ("SN-2", "incident")):
        admin.post_json(
            "/api/v1/cases",
            {
                "subject": "Fault",
                "product_id": product["id"],
                "serial_number": serial,
                "type_id": types[kind],
            },
            status=201,
        )
    # a question is no failure
    admin.post_json(
        "/api/v1/cases",
        {"subject": "How?", "product_id": product["id"], "type_id": types["question"]},
        status=201,
    )
    rows = admin.get("/api/v1/helpdesk/failures").json["rows"]
    assert [(r["product"], r["serial_number"], r["count"]) for r in rows] == [
        ("Boiler 24kW", "SN-1", 2),
        ("Boiler 24kW", "SN-2", 1),
    ]
    old = (TODAY - dt.timedelta(days=30)).isoformat()
    assert admin.get(f"/api/v1/helpdesk/failures?start={old}&end={old}").json["rows"] == []
    res = admin.get("/api/v1/helpdesk/failures?start=tomorrow&end=2020-01-01", status=400)
    assert "start" in errors_of(res)
    res = admin.get("/api/v1/helpdesk/failures?start=2021-01-01&end=2020-01-01", status=400)
    assert "end" in errors_of(res)
    # the page is the saved report of the core's builder now (test_parts_reports_notices)
    res = admin.get("/helpdesk/reports/failures", status=303)
    assert "/reports/" in res.location


def test_a_scanned_serial_finds_the_unit_and_opens_a_prefilled_case(admin, types):
    product, acc, unit = _base(admin)
    open_case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Noisy", "account_id": acc["id"], "serial_number": "SN-1001"},
        status=201,
    ).json
    got = admin.get("/api/v1/helpdesk/intake", {"code": " sn-1001\r\n"}).json
    assert got["found"] == "installed"
    (u,) = got["installed"]
    assert u["id"] == unit["id"] and u["customer"] == "Hotel Knossos"
    assert [c["id"] for c in u["open_cases"]] == [open_case["id"]]
    form = admin.get(u["new_case_url"]).text
    # the form starts with the customer, product, serial number and channel "scanner"
    assert 'value="SN-1001"' in form
    assert "Hotel Knossos" in form and "Boiler 24kW" in form
    channel = re.search(r'<select[^>]*name="channel".*?</select>', form, re.S).group(0)
    assert re.search(r'<option selected="selected" value="scanner"', channel), channel
    # by barcode (EAN): the product
    got = admin.get("/api/v1/helpdesk/intake", {"code": "5201234567894"}).json
    assert got["found"] == "product" and got["product"]["id"] == product["id"]
    # unknown and empty codes
    res = admin.get("/api/v1/helpdesk/intake", {"code": "NOPE"}, status=404)
    assert "code" in errors_of(res)
    res = admin.get("/api/v1/helpdesk/intake", {"code": "  "}, status=400)
    assert "code" in errors_of(res)
    assert 'id="hd-code"' in admin.get("/helpdesk/intake").text  # the empty form
    page = admin.get("/helpdesk/intake", {"code": "5201234567894"}).text
    assert "Boiler 24kW" in page and "Open a case" in page
    page = admin.get("/helpdesk/intake", {"code": "NOPE"}, status=404).text
    assert "Search the installed base" in page and "NOPE" in page
    page = admin.get("/helpdesk/intake", {"code": "SN-1001"}).text
    assert "Open a case" in page and "Noisy" in page


def _restricted_user(make_user, dbsession, own_email):
    """A role that reads cases and installed products of its own records only."""
    from kyklos.security.models import RecordRule, Role

    with dbsession() as db:
        role = Role(
            name="fieldtech",
            title="Field technician",
            permissions=[
                "helpdesk.case.read",
                "helpdesk.case.create",
                "contacts.installedproduct.read",
                "contacts.account.read",
                "catalog.product.read",
            ],
        )
        db.add(role)
        db.flush()
        for entity in ("case", "installedproduct", "account"):
            db.add(RecordRule(role_id=role.id, entity=entity, action="read", scope="own"))
        db.add(RecordRule(role_id=role.id, entity="product", action="read", scope="all"))
    return make_user(email=own_email, roles=("fieldtech",))


def test_nothing_of_a_customer_the_user_may_not_see(admin, api, make_user, dbsession, types):
    """Intake, history and the failures report answer a user only with what they may
    see: account B's serial number is "not found", its history a 404."""
    import webtest
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    uid = _restricted_user(make_user, dbsession, "tech@example.com")
    product, acc_a, unit_a = _base(admin, name="A", serial="SN-A", owner_id=uid)
    _p, acc_b, unit_b = _base(admin, name="B", serial="SN-B", product=product)
    # A's unit is the technician's own
    admin.patch_json(
        f"/api/v1/installed-products/{unit_a['id']}",
        {"owner_id": uid, "version": unit_a["version"]},
    )
    admin.post_json(
        "/api/v1/cases",
        {
            "subject": "B's fault",
            "serial_number": "SN-B",
            "type_id": types["incident"],
            "product_id": product["id"],
            "account_id": acc_b["id"],
        },
        status=201,
    )
    with dbsession() as db:
        token, _row = create_token(db, db.get(User, uid), name="t")
    tech = webtest.TestApp(admin.app, extra_environ={"HTTP_HOST": "localhost"})
    tech.authorization = ("Bearer", token)
    assert tech.get("/api/v1/helpdesk/intake", {"code": "SN-A"}).json["found"] == "installed"
    tech.get("/api/v1/helpdesk/intake", {"code": "SN-B"}, status=404)
    assert "B&#39;s fault" not in tech.get("/helpdesk/intake", {"code": "SN-B"}, status=404).text
    tech.get(f"/api/v1/helpdesk/history/installed-products/{unit_b['id']}", status=404)
    tech.get(f"/helpdesk/history/installed-products/{unit_b['id']}", status=404)
    assert (
        tech.get(f"/api/v1/helpdesk/history/installed-products/{unit_a['id']}").json["cases"] == []
    )
    whole = tech.get(f"/api/v1/helpdesk/history/products/{product['id']}").json
    assert [u["serial_number"] for u in whole["installed"]] == ["SN-A"] and whole["cases"] == []
    assert tech.get("/api/v1/helpdesk/failures").json["rows"] == []


def _release_setup(admin):
    product, acc, unit = _base(admin)
    _p2, acc2, _u2 = _base(admin, name="Hotel Minos", serial="SN-2002", product=product)
    admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Maria",
            "last_name": "K",
            "email": "maria@example.com",
            "account_id": acc["id"],
            "language": "el",
        },
        status=201,
    )
    admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "John",
            "last_name": "M",
            "email": "john@example.com",
            "account_id": acc2["id"],
            "language": "en",
        },
        status=201,
    )
    # a contact of a customer without the product hears nothing
    other = admin.post_json("/api/v1/accounts", {"name": "Unrelated"}, status=201).json
    admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "No",
            "last_name": "One",
            "email": "no@example.com",
            "account_id": other["id"],
        },
        status=201,
    )
    return product, acc, unit


def test_publishing_a_release_mails_each_customer_contact_once(admin, smtp_server):
    product, acc, unit = _release_setup(admin)
    rel = admin.post_json(
        "/api/v1/releases",
        {
            "product_id": product["id"],
            "name": "2.4.1",
            "released_on": TODAY.isoformat(),
            "notes": "Fixes the E42 error.",
        },
        status=201,
    ).json
    assert rel["published"] is False and rel["notified"] == 0
    assert smtp_server.messages == []
    # which customers run which version
    admin.patch_json(
        f"/api/v1/installed-products/{unit['id']}",
        {"helpdesk_release": rel["id"], "version": unit["version"]},
    )
    text = admin.get(f"/releases/{rel['id']}").text
    assert "Customers running this version" in text and "SN-1001" in text
    got = admin.post_json(f"/api/v1/releases/{rel['id']}/publish", {}, status=202).json
    assert got["published"] is True and got["job_url"].endswith(got["job_id"])
    job = admin.get(got["job_url"]).json
    assert job["name"] == "helpdesk.release_notices" and job["state"] == "done", job
    assert job["result"] == {"sent": 2, "skipped": 0, "failed": 0}
    assert admin.get(f"/api/v1/releases/{rel['id']}").json["notified"] == 2
    msgs = smtp_server.wait(2)
    by_to = {m["To"]: m for m in msgs}
    assert set(by_to) == {"maria@example.com", "john@example.com"}
    assert "2.4.1" in by_to["john@example.com"]["Subject"]
    assert by_to["john@example.com"]["Subject"] == "New version 2.4.1 of Boiler 24kW"
    assert by_to["maria@example.com"]["Subject"].startswith("Νέα έκδοση 2.4.1")
    # publishing again (or a retried request) mails nobody twice
    again = admin.post_json(f"/api/v1/releases/{rel['id']}/publish", {}, status=202).json
    assert admin.get(again["job_url"]).json["result"] == {"sent": 0, "skipped": 2, "failed": 0}
    assert admin.get(f"/api/v1/releases/{rel['id']}").json["notified"] == 2
    assert len(smtp_server.messages) == 2
    # logged on the release's timeline and the contact's
    text = admin.get(f"/releases/{rel['id']}").text
    assert "maria@example.com" in text


def test_ticking_published_notifies_and_bad_releases_name_the_field(admin, smtp_server):
    product, acc, unit = _release_setup(admin)
    res = admin.post_json("/api/v1/releases", {"name": ""}, status=400)
    assert {"product_id", "name"} <= set(errors_of(res))
    rel = admin.post_json(
        "/api/v1/releases", {"product_id": product["id"], "name": "3.0"}, status=201
    ).json
    admin.patch_json(
        f"/api/v1/releases/{rel['id']}", {"published": True, "version": rel["version"]}
    )
    assert len(smtp_server.wait(2)) == 2
    # a version of another product is refused on the installed product
    other = admin.post_json("/api/v1/products", {"sku": "X", "name": "X"}, status=201).json
    rel2 = admin.post_json(
        "/api/v1/releases", {"product_id": other["id"], "name": "1.0"}, status=201
    ).json
    res = admin.patch_json(
        f"/api/v1/installed-products/{unit['id']}",
        {"helpdesk_release": rel2["id"], "version": unit["version"]},
        status=400,
    )
    assert "helpdesk_release" in errors_of(res)


def test_an_agent_may_read_but_not_publish(admin, api, smtp_server):
    product, _acc, _unit = _release_setup(admin)
    rel = admin.post_json(
        "/api/v1/releases", {"product_id": product["id"], "name": "3.1"}, status=201
    ).json
    agent = api("agent")
    assert agent.get(f"/api/v1/releases/{rel['id']}").json["name"] == "3.1"
    agent.post_json(f"/api/v1/releases/{rel['id']}/publish", {}, status=403)
    assert smtp_server.messages == []


def test_a_contact_without_a_language_is_told_in_the_sites_first_language(
    admin, smtp_server, make_record
):
    """The notices' shared loop (kyklos_helpdesk.mailing): no language on file, the
    site's first language (Greek here), not the publisher's English."""
    product, acc, unit = _base(admin, name="Hotel Phaistos", serial="SN-3003")
    # written straight to the database: the contacts plugin would guess a language
    make_record(
        "person",
        first_name="Kostas",
        last_name="P",
        email="kostas@example.com",
        account_id=acc["id"],
        language=None,
    )
    admin.patch_json("/api/v1/_settings", {"languages": ["el", "en"]})
    rel = admin.post_json(
        "/api/v1/releases", {"product_id": product["id"], "name": "3.0"}, status=201
    ).json
    got = admin.post_json(f"/api/v1/releases/{rel['id']}/publish", {}, status=202).json
    assert admin.get(got["job_url"]).json["result"]["sent"] == 1
    (msg,) = smtp_server.wait(1)
    assert msg["To"] == "kostas@example.com"
    assert msg["Subject"].startswith("Νέα έκδοση 3.0")

"""Parts and costs in the service history (HD-12), the failures report shipped to the
core's report builder, and release notices sent by a background job that two senders
at once cannot double (through the API and the pages, on SQLite and PostgreSQL, with
the real SMTP test server)."""

from __future__ import annotations

import datetime as dt
import threading
from urllib.parse import urlsplit

import pytest

PROBLEM = "application/problem+json"
TODAY = dt.date.today()


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def _unit(admin, product, name, serial, warranty):
    acc = admin.post_json("/api/v1/accounts", {"name": name}, status=201).json
    admin.post_json(
        "/api/v1/installed-products",
        {
            "account_id": acc["id"],
            "catalog_product": product["id"],
            "serial_number": serial,
            "warranty_until": warranty.isoformat(),
        },
        status=201,
    )
    return acc


def _setup_parts(admin, types):
    boiler = admin.post_json(
        "/api/v1/products", {"sku": "BOIL-24", "name": "Boiler 24kW"}, status=201
    ).json
    pump = admin.post_json(
        "/api/v1/products",
        {
            "sku": "PUMP-1",
            "name": "Circulation pump",
            "cost": {"amount": "40.00", "currency": "EUR"},
        },
        status=201,
    ).json
    acc = _unit(admin, boiler, "Hotel Knossos", "SN-W", TODAY + dt.timedelta(days=100))
    acc_out = _unit(admin, boiler, "Hotel Minos", "SN-O", TODAY - dt.timedelta(days=10))
    case_w = admin.post_json(
        "/api/v1/cases",
        {
            "subject": "Noisy pump",
            "account_id": acc["id"],
            "product_id": boiler["id"],
            "serial_number": "SN-W",
            "type_id": types["incident"],
        },
        status=201,
    ).json
    case_o = admin.post_json(
        "/api/v1/cases",
        {
            "subject": "Leak",
            "account_id": acc_out["id"],
            "product_id": boiler["id"],
            "serial_number": "SN-O",
            "type_id": types["incident"],
        },
        status=201,
    ).json
    return boiler, pump, case_w, case_o


def test_parts_cost_warranty_and_the_history_totals(admin, api, types):
    boiler, pump, case_w, case_o = _setup_parts(admin, types)
    # under warranty: the unit cost is the product's, nothing billable
    under = admin.post_json(
        "/api/v1/parts-used",
        {"case_id": case_w["id"], "product_id": pump["id"], "quantity": "2"},
        status=201,
    ).json
    assert under["unit_cost"] == {"amount": "40.00", "currency": "EUR"}
    assert under["serial_number"] == "SN-W" and under["warranty"] == "under"
    assert under["billable"] is False and under["total"]["amount"] == "80.00"
    assert under["account_id"] == case_w["account_id"]
    # out of warranty: billable, with labour
    out = admin.post_json(
        "/api/v1/parts-used",
        {
            "case_id": case_o["id"],
            "product_id": pump["id"],
            "quantity": "1",
            "unit_cost": {"amount": "35.50", "currency": "EUR"},
            "labour_hours": "1.5",
            "labour_rate": {"amount": "30.00", "currency": "EUR"},
        },
        status=201,
    ).json
    assert out["warranty"] == "out" and out["billable"] is True
    assert out["total"] == {"amount": "80.50", "currency": "EUR"}
    # changing the quantity recomputes the total
    upd = admin.patch_json(
        f"/api/v1/parts-used/{out['id']}", {"quantity": "2", "version": out["version"]}
    ).json
    assert upd["total"]["amount"] == "116.00"
    # bad input names each field, writes nothing
    res = admin.post_json(
        "/api/v1/parts-used",
        {
            "product_id": pump["id"],
            "quantity": "0",
            "labour_hours": "2",
            "labour_rate": {"amount": "10", "currency": "USD"},
        },
        status=400,
    )
    assert {"case_id", "quantity", "labour_rate"} <= set(errors_of(res))
    res = admin.post_json(
        "/api/v1/parts-used",
        {"case_id": case_w["id"], "product_id": pump["id"], "labour_hours": "1"},
        status=400,
    )
    assert "labour_rate" in errors_of(res)
    assert len(admin.get("/api/v1/parts-used").json["items"]) == 2

    # the history by serial: its part, its totals in words
    units = {
        u["serial_number"]: u
        for u in admin.get(f"/api/v1/helpdesk/history/products/{boiler['id']}").json["installed"]
    }
    hist = admin.get(f"/api/v1/helpdesk/history/installed-products/{units['SN-O']['id']}").json
    assert [p["id"] for p in hist["parts"]] == [out["id"]]
    assert hist["costs_visible"] is True
    assert hist["cost_totals"] == [
        {
            "currency": "EUR",
            "all": "116.00",
            "billable": "116.00",
            "warranty": "0.00",
            "all_text": "€116.00",
            "billable_text": "€116.00",
            "warranty_text": "€0.00",
        }
    ]
    # the history by product: both parts, billable and under warranty apart
    prod = admin.get(f"/api/v1/helpdesk/history/products/{boiler['id']}").json
    assert len(prod["parts"]) == 2
    (tot,) = prod["cost_totals"]
    assert (tot["all"], tot["billable"], tot["warranty"]) == ("196.00", "116.00", "80.00")
    # the page, money in the user's format
    page = admin.get(f"/helpdesk/history/products/{boiler['id']}")
    rows = page.html.select("#hd-history-parts tbody tr")
    assert len(rows) == 2 and "Circulation pump" in rows[0].text
    assert "€196.00" in page.html.select_one(".hd-total-all").text
    assert "€80.00" in page.html.select_one(".hd-total-warranty").text

    # a sales person reads the parts of their customers' territory, never their costs
    sales = api("sales")
    seen = sales.get("/api/v1/parts-used").json["items"]
    assert all("total" not in p and "unit_cost" not in p for p in seen)


def test_costs_hidden_from_who_may_not_see_cost(admin, api, make_user, dbsession, types):
    """A role the parts' cost fields are hidden from (as the catalog hides a product's
    cost from sales people) reads the parts, never an amount: not in the API, the
    history's JSON or its page."""
    from kyklos.security.models import FieldPermission, RecordRule, Role

    boiler, pump, case_w, _case_o = _setup_parts(admin, types)
    part = admin.post_json(
        "/api/v1/parts-used",
        {"case_id": case_w["id"], "product_id": pump["id"], "quantity": "1"},
        status=201,
    ).json
    with dbsession() as db:
        role = Role(
            name="counter",
            title="Front desk",
            permissions=[
                "helpdesk.case.read",
                "helpdesk.partusage.read",
                "contacts.installedproduct.read",
                "contacts.account.read",
                "catalog.product.read",
            ],
        )
        db.add(role)
        db.flush()
        for entity in ("case", "partusage", "installedproduct", "account", "product"):
            db.add(RecordRule(role_id=role.id, entity=entity, action="read", scope="all"))
        for field in ("unit_cost", "labour_rate", "total"):
            db.add(FieldPermission(role_id=role.id, entity="partusage", field=field, access="none"))
    desk = api("counter")
    got = desk.get(f"/api/v1/parts-used/{part['id']}").json
    assert got["quantity"] and "total" not in got and "unit_cost" not in got
    hist = desk.get(f"/api/v1/helpdesk/history/products/{boiler['id']}").json
    assert hist["costs_visible"] is False and hist["cost_totals"] == []
    assert len(hist["parts"]) == 1 and "total" not in hist["parts"][0]
    page = desk.get(f"/helpdesk/history/products/{boiler['id']}")
    assert page.html.select("#hd-history-parts tbody tr")
    assert "€40.00" not in page.text and page.html.select_one(".hd-total-all") is None
    # the declared default: sales people do not see the parts' costs
    with dbsession() as db:
        sales = db.query(Role).filter_by(name="sales").one()
        hidden = {
            f.field
            for f in db.query(FieldPermission).filter_by(role_id=sales.id, entity="partusage")
            if f.access == "none"
        }
    assert hidden == {"unit_cost", "labour_rate", "total"}


def test_the_failures_report_is_a_saved_report_drillable_with_the_viewers_rights(
    admin, api, make_user, dbsession, types
):
    boiler = admin.post_json(
        "/api/v1/products", {"sku": "BOIL-24", "name": "Boiler 24kW"}, status=201
    ).json
    for serial, kind in (("SN-1", "incident"), ("SN-1", "complaint"), ("SN-2", "incident")):
        admin.post_json(
            "/api/v1/cases",
            {
                "subject": "Fault",
                "product_id": boiler["id"],
                "serial_number": serial,
                "type_id": types[kind],
            },
            status=201,
        )
    admin.post_json(
        "/api/v1/cases",
        {"subject": "How?", "product_id": boiler["id"], "type_id": types["question"]},
        status=201,
    )
    items = admin.get("/api/v1/_reports").json["items"]
    (rep,) = [r for r in items if r["shipped_key"] == "helpdesk.failures"]
    assert rep["name"] == "Failures per product and serial number" and rep["entity"] == "case"
    # listed once, however often the list is opened
    again = admin.get("/api/v1/_reports").json["items"]
    assert [r["id"] for r in again if r["shipped_key"]] == [rep["id"]]
    res = admin.get(f"/api/v1/_reports/{rep['id']}/run").json
    got = [(r["d0_text"], r["d1_text"], r["m0"]) for r in res["rows"]]
    assert got == [("Boiler 24kW", "SN-1", 2), ("Boiler 24kW", "SN-2", 1)]
    # drill down: the number opens the list of exactly those cases
    url = urlsplit(res["rows"][0]["records_url"])
    api_url = "/api/v1/cases?" + url.query
    listed = admin.get(api_url).json["items"]
    assert sorted(c["serial_number"] for c in listed) == ["SN-1", "SN-1"]
    assert admin.get(url.path + "?" + url.query).status_int == 200
    # the page at /reports lists it, its page draws the chart
    assert "Failures per product and serial number" in admin.get("/reports").text
    page = admin.get(f"/reports/{rep['id']}")
    assert page.html.select_one("#report-result") is not None and "SN-2" in page.text
    assert "chart" in page.text
    # the filters the form has no input for (type code one of two, not merged) are
    # kept in words and as hidden inputs: showing the report again counts the same
    kept = page.html.select_one("#report-kept-filters")
    # the cases' type in words (its title), not the codes the specification holds
    assert kept is not None and "Type: one of Complaint, Incident" in kept.text
    assert "incident" not in kept.text and "Code" not in kept.text
    res = page.forms["report-form"].submit("action", value="run")
    rows = res.html.select("#report-table tbody tr")
    assert [r.select("td")[-1].text.strip() for r in rows] == ["2", "1"]
    # the former page leads to it
    assert admin.get("/helpdesk/reports/failures", status=303).location.endswith(
        f"/reports/{rep['id']}"
    )
    # the viewer's rights: an agent of no team sees none of these cases
    agent = api("agent")
    mine = [r for r in agent.get("/api/v1/_reports").json["items"] if r["id"] == rep["id"]]
    assert mine, "shared with agents"
    assert agent.get(f"/api/v1/_reports/{rep['id']}/run").json["rows"] == []
    # a user who may not read cases does not see it at all
    nobody = api("user")
    assert rep["id"] not in [r["id"] for r in nobody.get("/api/v1/_reports").json["items"]]
    nobody.get(f"/api/v1/_reports/{rep['id']}/run", status=404)


def _release_with_customers(admin, n: int):
    product = admin.post_json(
        "/api/v1/products", {"sku": "BOIL-24", "name": "Boiler 24kW"}, status=201
    ).json
    acc = _unit(admin, product, "Hotel Knossos", "SN-1", TODAY + dt.timedelta(days=10))
    for i in range(n):
        admin.post_json(
            "/api/v1/persons",
            {
                "first_name": f"P{i}",
                "last_name": "K",
                "email": f"p{i}@example.com",
                "account_id": acc["id"],
                "language": "en",
            },
            status=201,
        )
    return admin.post_json(
        "/api/v1/releases", {"product_id": product["id"], "name": "2.0"}, status=201
    ).json


def test_two_senders_at_once_never_mail_anyone_twice(admin, registry, smtp_server, make_user):
    """Two workers run the notices of one release at the same moment (a double click
    on "Publish"): every contact gets exactly one mail, counted at the SMTP server."""
    from kyklos_helpdesk.releases import notices_job

    n = 12
    rel = _release_with_customers(admin, n)
    user = make_user(email="pub@example.com", roles=("admin",))
    start = threading.Barrier(2)
    results, errors = [], []

    class Ctx:
        def __init__(self, job_id):
            self.registry = registry
            self.user_id = user.id if hasattr(user, "id") else user
            self.job_id = job_id

        def progress(self, pct, message=""):
            pass

    def worker(job_id):
        try:
            start.wait(5)
            results.append(notices_job(Ctx(job_id), rel["id"]))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(f"00000000-0000-0000-0000-00000000000{i}",))
        for i in (1, 2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert sum(r["sent"] for r in results) == n
    assert sum(r["skipped"] for r in results) == n
    msgs = smtp_server.wait(n)
    import time

    time.sleep(0.5)  # a duplicate would arrive now
    to = [m["To"] for m in smtp_server.messages]
    assert sorted(to) == sorted(f"p{i}@example.com" for i in range(n)), to
    assert len(msgs) == n
    assert admin.get(f"/api/v1/releases/{rel['id']}").json["notified"] == n
    # a third run later tells nobody
    third = admin.post_json(f"/api/v1/releases/{rel['id']}/publish", {}, status=202).json
    assert admin.get(third["job_url"]).json["result"] == {"sent": 0, "skipped": n, "failed": 0}
    assert len(smtp_server.messages) == n


def test_the_publish_button_follows_the_job_on_the_notices_page(admin, smtp_server):
    rel = _release_with_customers(admin, 2)
    page = admin.get(f"/releases/{rel['id']}")
    form = [f for f in page.forms.values() if "/publish" in (f.action or "")][0]
    res = form.submit(status=303)
    assert f"/helpdesk/releases/{rel['id']}/notices?job=" in res.location
    page = res.follow()
    box = page.html.select_one("#hd-notice-job")
    assert box is not None and "/api/v1/_jobs/" in box["data-job-url"]
    assert "notice_job.js" in page.text
    job_id = box["data-job-url"].rsplit("/", 1)[1]
    job = admin.get(f"/api/v1/_jobs/{job_id}").json
    assert job["state"] == "done" and job["result"]["sent"] == 2
    assert len(smtp_server.wait(2)) == 2
    page = admin.get(f"/helpdesk/releases/{rel['id']}/notices")
    states = [tr["data-state"] for tr in page.html.select("#hd-release-notices tbody tr")]
    assert states == ["sent", "sent"]

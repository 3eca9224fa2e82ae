"""Support contracts and the bank of hours (HD-07..10) through the API and pages: a
case takes its customer's running contract and that contract's SLA policy; time spent
consumes the bank; beyond it the overage rule bills or refuses; the balance and
burn-down show on the contract and the account."""

from __future__ import annotations

import datetime as dt

PROBLEM = "application/problem+json"
TODAY = dt.date.today()


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def _contract(admin, account, **extra):
    body = {
        "name": "Maintenance 2026",
        "account_id": account["id"],
        "starts_on": (TODAY - dt.timedelta(days=30)).isoformat(),
        "ends_on": (TODAY + dt.timedelta(days=335)).isoformat(),
        "quantity": "10",
        **extra,
    }
    return admin.post_json("/api/v1/support-contracts", body, status=201).json


def _log(admin, case, hours, status=201, **extra):
    body = {"case_id": case["id"], "spent_on": TODAY.isoformat(), "quantity": hours, **extra}
    return admin.post_json("/api/v1/case-time", body, status=status)


def test_time_spent_consumes_the_bank_and_overage_is_billed(admin):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "Other"}, status=201).json
    # an expired contract of the same customer is not the running one
    _contract(
        admin,
        acc,
        name="Old",
        starts_on="2020-01-01",
        ends_on="2020-12-31",
    )
    contract = _contract(admin, acc)
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Boiler", "account_id": acc["id"]}, status=201
    ).json
    assert case["contract_id"] == contract["id"]
    assert (
        admin.post_json("/api/v1/cases", {"subject": "x", "account_id": other["id"]}).json[
            "contract_id"
        ]
        is None
    )
    e1 = _log(admin, case, "6.5").json
    assert e1["contract_id"] == contract["id"] and e1["overage"] is False
    got = admin.get(f"/api/v1/support-contracts/{contract['id']}").json
    assert float(got["used"]) == 6.5
    e2 = _log(admin, case, "4").json
    assert e2["overage"] is True  # 10.5 of 10: billed by the overage rule
    assert float(admin.get(f"/api/v1/support-contracts/{contract['id']}").json["used"]) == 10.5
    # a deleted entry gives its hours back
    admin.delete(f"/api/v1/case-time/{e2['id']}")
    assert float(admin.get(f"/api/v1/support-contracts/{contract['id']}").json["used"]) == 6.5
    # the contract's page: balance in words and the burn-down's numbers
    text = admin.get(f"/support-contracts/{contract['id']}").text
    assert "Bank of hours" in text and "3.5 of 10 hours left" in text
    assert "Burn-down" in text
    # the account's page lists its contracts with their balance
    text = admin.get(f"/accounts/{acc['id']}").text
    assert "Support contracts" in text and "3.5 of 10 hours left" in text
    # used is the system's
    got = admin.get(f"/api/v1/support-contracts/{contract['id']}").json
    res = admin.patch_json(
        f"/api/v1/support-contracts/{contract['id']}",
        {"used": "0", "version": got["version"]},
        status=400,
    )
    assert "used" in errors_of(res)


def test_a_refusing_contract_stops_time_beyond_the_bank(admin):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Minos"}, status=201).json
    contract = _contract(admin, acc, quantity="2", overage="refuse", unit="calls")
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Call", "account_id": acc["id"]}, status=201
    ).json
    _log(admin, case, "1")
    res = _log(admin, case, "1.5", status=400)
    assert "1" in errors_of(res)["quantity"]
    assert float(admin.get(f"/api/v1/support-contracts/{contract['id']}").json["used"]) == 1
    text = admin.get(f"/support-contracts/{contract['id']}").text
    assert "1 of 2 calls left" in text


def test_bad_contracts_and_entries_name_the_field(admin):
    acc = admin.post_json("/api/v1/accounts", {"name": "A"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "B"}, status=201).json
    res = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "x",
            "account_id": acc["id"],
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
            "quantity": "-1",
            "unit": "years",
            "overage": "maybe",
        },
        status=400,
    )
    assert {"ends_on", "quantity", "unit", "overage"} <= set(errors_of(res))
    contract = _contract(admin, other)
    res = admin.post_json(
        "/api/v1/cases",
        {"subject": "x", "account_id": acc["id"], "contract_id": contract["id"]},
        status=400,
    )
    assert "contract_id" in errors_of(res)
    case = admin.post_json("/api/v1/cases", {"subject": "y"}, status=201).json
    res = _log(admin, case, "0", status=400)
    assert "quantity" in errors_of(res)
    assert admin.get("/api/v1/case-time").json["items"] == []


def test_the_contracts_sla_policy_is_the_cases(admin):
    gold = admin.post_json(
        "/api/v1/sla-policies",
        {"name": "Gold", "position": 9, "resolution_hours": "2"},
        status=201,
    ).json
    admin.post_json(
        "/api/v1/sla-policies",
        {"name": "Standard", "position": 1, "resolution_hours": "40"},
        status=201,
    )
    acc = admin.post_json("/api/v1/accounts", {"name": "Gold customer"}, status=201).json
    _contract(admin, acc, sla_policy_id=gold["id"])
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Help", "account_id": acc["id"]}, status=201
    ).json
    assert case["sla_policy_id"] == gold["id"]
    plain = admin.post_json("/api/v1/cases", {"subject": "Help"}, status=201).json
    assert plain["sla_policy_id"] != gold["id"]


def test_renewal_reminders_are_tasks_once_per_end_date(admin, registry, dbsession, make_user):
    """HD-08: the daily job gives the contract's owner a task a month before it ends;
    running again (a restart, a replay) adds nothing; a new end date is a new reminder."""
    from kyklos import jobs
    from kyklos_activities.models import Activity
    from sqlalchemy import select

    from kyklos_helpdesk.contracts import RENEWAL_JOB

    owner = make_user(email="owner@example.com", roles=("helpdeskmanager",), locale="el")
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    ends = TODAY + dt.timedelta(days=20)
    contract = _contract(admin, acc, ends_on=ends.isoformat(), owner_id=owner)
    _contract(admin, acc, name="No renewal", renewal="none", ends_on=ends.isoformat())
    _contract(admin, acc, name="Later", ends_on=(TODAY + dt.timedelta(days=90)).isoformat())

    def run(day):
        with jobs.job_request(registry) as request:
            jobs.enqueue(request, RENEWAL_JOB, args={"now": day.isoformat()})

    def tasks():
        with dbsession() as db:
            q = select(Activity.subject, Activity.owner_id, Activity.about_id).where(
                Activity.about_type == "supportcontract"
            )
            return db.execute(q.order_by(Activity.id)).all()

    run(TODAY - dt.timedelta(days=20))  # 40 days ahead: not yet
    assert tasks() == []
    run(TODAY)
    run(TODAY)  # the job runs again: nothing doubles
    (task,) = tasks()
    assert task.owner_id == owner and task.about_id == contract["id"]
    # in the owner's language
    assert task.subject.startswith("Ανανέωση της σύμβασης υποστήριξης «Maintenance 2026»")
    got = admin.get(f"/api/v1/support-contracts/{contract['id']}").json
    admin.patch_json(
        f"/api/v1/support-contracts/{contract['id']}",
        {"ends_on": (ends + dt.timedelta(days=5)).isoformat(), "version": got["version"]},
    )
    run(TODAY + dt.timedelta(days=1))
    assert len(tasks()) == 2


def test_a_cases_contract_is_picked_by_its_name(admin, registry):
    """The case type is declared before the contract type; its contract is still a
    reference (a picker of contract names), not a number to type. Every foreign key to
    a registered type is one, whichever plugin declared which first."""
    from sqlalchemy import inspect

    tables = {et.model.__table__.name for et in registry.kyklos_entities.values()}
    bare = []
    for et in registry.kyklos_entities.values():
        columns = {c.key: c for c in inspect(et.model).columns}
        for name, f in et.fields.items():
            col = columns.get(name)
            if col is None or f.custom or not col.foreign_keys:
                continue
            target = next(iter(col.foreign_keys)).column.table.name
            if target in tables and f.type != "reference":
                bare.append(f"{et.name}.{name}")
    assert bare == []
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Minos"}, status=201).json
    _contract(admin, acc, name="Care plan Minos")
    page = admin.get("/cases/new")
    picker = page.html.select_one("select[name='contract_id']")
    assert picker is not None, "the contract is a text box"
    assert "Care plan Minos" in picker.text

"""The monthly billing statement (HD-09/10) through the API, the page and its files:
the figures are the time logged in the month, the bank used before it, and the overage
beyond the bank billed by the contract's rule; CSV and PDF say the same; access rules
apply."""

from __future__ import annotations

import csv
import io
import zipfile

PROBLEM = "application/problem+json"


def _setup(admin):
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "Cafe Zorba"}, status=201).json
    billed = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Maintenance 2026",
            "account_id": acc["id"],
            "starts_on": "2026-10-01",
            "ends_on": "2027-09-30",
            "quantity": "10",
            "overage": "bill",
        },
        status=201,
    ).json
    refused = admin.post_json(
        "/api/v1/support-contracts",
        {
            "name": "Calls 2026",
            "account_id": other["id"],
            "starts_on": "2026-01-01",
            "ends_on": "2026-12-31",
            "quantity": "5",
            "unit": "calls",
            "overage": "refuse",
        },
        status=201,
    ).json
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Boiler", "account_id": acc["id"], "contract_id": billed["id"]},
        status=201,
    ).json
    case2 = admin.post_json(
        "/api/v1/cases",
        {"subject": "Till", "account_id": other["id"], "contract_id": refused["id"]},
        status=201,
    ).json
    for day, hours, c in (
        ("2026-10-15", "6", case),  # before November: uses the bank first
        ("2026-11-05", "3", case),
        ("2026-11-20", "2.5", case),  # 11.5 of 10: 1.5 beyond the bank
        ("2026-12-01", "4", case),  # after November: not in its statement
        ("2026-11-10", "2", case2),
    ):
        admin.post_json(
            "/api/v1/case-time",
            {"case_id": c["id"], "spent_on": day, "quantity": hours, "note": f"work {day}"},
            status=201,
        )
    return acc, other, billed, refused


def test_statement_figures_follow_the_logged_time_and_the_overage_rule(admin):
    acc, other, billed, refused = _setup(admin)
    got = admin.get("/api/v1/helpdesk/statements", {"month": "2026-11"}).json
    assert got["month"] == "2026-11"
    # by customer name: Cafe Zorba, then Hotel Knossos
    assert [s["account"] for s in got["statements"]] == ["Cafe Zorba", "Hotel Knossos"]
    zorba, knossos = got["statements"]
    (line,) = knossos["contracts"]
    assert line["contract_id"] == billed["id"]
    assert float(line["included"]) == 10
    assert float(line["used_before"]) == 6
    assert float(line["used_in_month"]) == 5.5
    assert float(line["left"]) == -1.5
    assert float(line["overage"]) == 1.5 and float(line["billable"]) == 1.5
    assert [
        (e["spent_on"], float(e["quantity"]), float(e["overage"])) for e in line["entries"]
    ] == [
        ("2026-11-05", 3, 0),
        ("2026-11-20", 2.5, 1.5),
    ]
    assert float(knossos["billable_total"]) == 1.5
    (zline,) = zorba["contracts"]
    assert float(zline["used_in_month"]) == 2 and float(zline["billable"]) == 0
    # one customer only
    one = admin.get(
        "/api/v1/helpdesk/statements", {"month": "2026-11", "account_id": acc["id"]}
    ).json
    assert [s["account_id"] for s in one["statements"]] == [acc["id"]]
    # October: the 6 hours, inside the bank
    october = admin.get(
        "/api/v1/helpdesk/statements", {"month": "2026-10", "account_id": acc["id"]}
    ).json
    (oline,) = october["statements"][0]["contracts"]
    assert float(oline["used_in_month"]) == 6 and float(oline["overage"]) == 0
    # December: already beyond the bank, every hour is overage
    december = admin.get(
        "/api/v1/helpdesk/statements", {"month": "2026-12", "account_id": acc["id"]}
    ).json
    (dline,) = december["statements"][0]["contracts"]
    assert float(dline["used_before"]) == 11.5 and float(dline["overage"]) == 4


def test_statement_page_csv_pdf_and_zip(admin):
    acc, other, billed, refused = _setup(admin)
    page = admin.get("/helpdesk/statements", {"month": "2026-11"}).text
    assert "November 2026" in page and "Hotel Knossos" in page and "Cafe Zorba" in page
    assert "Maintenance 2026" in page and "work 2026-11-20" in page
    assert 'data-k-picker="' in page and 'type="month"' in page
    # Greek: month name and decimal comma
    el = admin.get(
        "/helpdesk/statements",
        {"month": "2026-11", "account_id": acc["id"]},
        headers={"Accept-Language": "el"},
    ).text
    assert "Νοέμβριος 2026" in el and "5,5" in el and "Cafe Zorba" not in el

    res = admin.get("/helpdesk/statements.csv", {"month": "2026-11"})
    assert res.content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(res.body.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Month", "Customer", "Contract"]
    by_customer = {r[1]: r for r in rows[1:]}
    assert set(by_customer) == {"Hotel Knossos", "Cafe Zorba"}
    k = by_customer["Hotel Knossos"]
    assert k[0] == "November 2026" and k[2] == "Maintenance 2026"
    assert k[3] == "Hours" and k[4:] == [
        "10",
        "6",
        "5.5",
        "-1.5",
        "1.5",
        "Bill the extra time",
        "1.5",
    ]

    pdf = admin.get("/helpdesk/statements.pdf", {"month": "2026-11", "account_id": acc["id"]})
    assert pdf.content_type == "application/pdf" and pdf.body.startswith(b"%PDF")
    text = _pdf_text(pdf.body)
    assert "Hotel Knossos" in text and "Maintenance 2026" in text
    assert "5.5" in text and "1.5" in text and "Cafe Zorba" not in text

    z = admin.get("/helpdesk/statements.zip", {"month": "2026-11"})
    names = zipfile.ZipFile(io.BytesIO(z.body)).namelist()
    assert sorted(names) == sorted(
        [
            "statement-2026-11.csv",
            f"statement-2026-11-{acc['id']}.pdf",
            f"statement-2026-11-{other['id']}.pdf",
        ]
    )


def _pdf_text(body: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(body)).pages)


def test_bad_parameters_and_access(admin, api):
    acc, *_rest = _setup(admin)
    res = admin.get("/api/v1/helpdesk/statements", {"month": "Nov", "account_id": "x"}, status=400)
    assert res.content_type == PROBLEM
    fields = {e["field"] for e in res.json["errors"]}
    assert fields == {"month", "account_id"}
    res = admin.get("/helpdesk/statements.pdf", {"month": "2026-11"}, status=400)
    assert {e["field"] for e in res.json["errors"]} == {"account_id"}
    page = admin.get("/helpdesk/statements", {"month": "13-2026"}, status=400)
    assert "Give a month as YYYY-MM." in page.text
    # an agent reads contracts but exports nothing; a sales rep sees no contracts
    agent = api("agent")
    agent.get("/helpdesk/statements", {"month": "2026-11"}, status=200)
    # the agent's record rules hide these cases (not their team's): the time still
    # counts, but the statement names no case they may not open
    mine = agent.get("/api/v1/helpdesk/statements", {"month": "2026-11"}).json
    entries = [e for s in mine["statements"] for c in s["contracts"] for e in c["entries"]]
    assert entries and {e["case"] for e in entries} == {""}
    assert "Boiler" not in agent.get("/helpdesk/statements", {"month": "2026-11"}).text
    everything = admin.get("/api/v1/helpdesk/statements", {"month": "2026-11"}).json
    named = [e for s in everything["statements"] for c in s["contracts"] for e in c["entries"]]
    assert all(e["case"] for e in named)
    agent.get("/helpdesk/statements.csv", {"month": "2026-11"}, status=403)
    sales = api("sales")
    sales.get("/api/v1/helpdesk/statements", {"month": "2026-11"}, status=403)
    sales.get("/helpdesk/statements.zip", {"month": "2026-11"}, status=403)

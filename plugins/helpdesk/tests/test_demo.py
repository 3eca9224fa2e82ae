"""The helpdesk's demo data, through the CLI and the API: its complaints and incidents
name the product and the serial or batch number they are about, and parts were used on
two of them, so that the service history and the failures report show something."""

from __future__ import annotations

from kyklos_sdk.testing import run_cli, write_ini


def test_demo_cases_name_their_products_and_parts_were_used(db_url, tmp_path, admin):
    ini = write_ini(tmp_path, plugins="contacts activities catalog helpdesk", url=db_url)
    proc = run_cli("demo-data", ini, "--size", 40, "--seed", 3, check=True)
    assert "2 parts used" in proc.stdout, proc.stdout
    cases = {c["subject"]: c for c in admin.get("/api/v1/cases?limit=100").json["items"]}
    oil = cases["Λάδι με θολή όψη στην παρτίδα 2417"]
    assert oil["product_id"] and oil["serial_number"] == "2417"
    crm = cases["Brak synchronizacji kalendarza"]
    assert crm["product_id"] and crm["serial_number"] == "CRM-PL-0007"
    parts = admin.get(f"/api/v1/parts-used?case_id={oil['id']}").json["items"]
    assert [p["product_id"] for p in parts] == [oil["product_id"]]
    # the failures report counts them per product and serial, not under "no product"
    rows = admin.get("/api/v1/helpdesk/failures").json["rows"]
    assert any(r.get("serial_number") == "2417" for r in rows), rows

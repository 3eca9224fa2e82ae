"""Exports: CSV and XLSX from the list (web and API) and the CLI, with filters, columns,
record rules, field rules and formula-injection neutralisation."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest
from entities_support import grant, roles_synced, thing_rules  # noqa: F401 - fixtures
from sqlalchemy import select

from kyklos.exports import neutralise
from kyklos.security.audit import SecurityEvent
from kyklos.security.models import FieldPermission, Role
from kyklos_sdk.testing import run_cli, write_ini

pytestmark = pytest.mark.usefixtures("thing_rules")
SAMPLES = Path(__file__).resolve().parents[1] / "sample_plugins"

#: SECURITY.md class 5 payloads, with the bypass variants
PAYLOADS = [
    "=1+1",
    "+1+1",
    "-1+1",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://evil.example","x")',
    "=cmd|' /C calc'!A0",
    " =1+1",
    "  @x",
    '"=1+1',
    "'=1+1",
    "\uff1d1+1",
    "\uff0b1",
    "\uff20x",
    "a;=1+1",
]


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def parse_csv(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def dangerous(cell: str) -> bool:
    s = cell.lstrip(" \"'\u3000")
    return bool(cell) and not cell.startswith("'") and (
        (s and s[0] in "=+-@\t\r\uff1d\uff0b\uff20") or cell[0] in "=+-@\t\r")


def test_neutralise_unit():
    for p in PAYLOADS[:-1]:
        assert neutralise(p).startswith("'"), p
    assert neutralise("a;=1+1") == "a;=1+1"  # not at the start: inert in a quoted cell
    assert neutralise("Smith") == "Smith" and neutralise("") == ""


def test_csv_and_xlsx_neutralise_every_payload(api):
    ed = api("thingseditor")
    for p in PAYLOADS:
        ed.post_json("/api/v1/things", {"name": p, "colour": p[:20]}, status=201)
    res = ed.get("/api/v1/things/_export", {"format": "csv", "columns": "name,colour"})
    assert res.content_type == "text/csv"
    rows = parse_csv(res.body)
    assert rows[0] == ["Name", "Colour"]
    names = [r[0] for r in rows[1:]]
    assert len(names) == len(PAYLOADS)
    assert not [n for n in names if dangerous(n)]
    assert {n[1:] if n.startswith("'") else n for n in names} == set(PAYLOADS)
    res = ed.get("/api/v1/things/_export", {"format": "xlsx", "columns": "name"})
    wb = openpyxl.load_workbook(io.BytesIO(res.body))
    ws = wb.active
    cells = [row[0] for row in ws.iter_rows(min_row=2, values_only=False)]
    assert len(cells) == len(PAYLOADS)
    for c in cells:
        assert c.data_type == "s" and not dangerous(c.value), c.value


def test_filters_columns_record_and_field_rules(api, client, dbsession, registry):
    ed = api("thingseditor")
    admin = api("admin")
    admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_grade",
                    "type": "integer", "label": "Grade", "filterable": True}, status=201)
    from entities_support import insert_things

    # three keyset batches
    insert_things(registry, dbsession, [{"name": f"bulk{i:04}", "size": i % 7}
                                        for i in range(2503)])
    ed.post_json("/api/v1/things", {"name": "graded", "size": 99, "cf_grade": 5}, status=201)
    res = ed.get("/api/v1/things/_export", {"format": "csv", "size__gte": "6"})
    rows = parse_csv(res.body)
    header = rows[0]
    assert "Grade" in header and "Name" in header
    body = rows[1:]
    assert len(body) == len([i for i in range(2503) if i % 7 >= 6]) + 1
    assert any(r[header.index("Grade")] == "5" for r in body)
    res = ed.get("/api/v1/things/_export", {"format": "csv", "cf_grade": "5",
                                            "columns": "name,cf_grade"})
    assert parse_csv(res.body)[1:] == [["graded", "5"]]
    # a field the role may not read is never exported
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one()
        db.add(FieldPermission(role_id=role.id, entity="thing", field="size", access="none"))
        db.add(FieldPermission(role_id=role.id, entity="thing", field="cf_grade",
                               access="none"))
    grant(dbsession, {"thingsreader": {"export": "all"}})
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "thingsreader")).scalar_one()
        role.permissions = sorted(set(role.permissions) | {"samplea.thing.export"})
    reader = client("thingsreader")
    res = reader.get("/things/_export", {"format": "csv", "name__startswith": "grad"})
    rows = parse_csv(res.body)
    assert "Size" not in rows[0] and "Grade" not in rows[0] and rows[1][rows[0].index("Name")] \
        == "graded"
    # the list page offers the export with its own filters
    page = reader.get("/things/", {"name__startswith": "grad"})
    link = page.html.find(id="k-export-csv")["href"]
    assert "name__startswith=grad" in link and "format=csv" in link
    with dbsession() as db:
        kinds = db.execute(select(SecurityEvent.kind)).scalars().all()
    assert kinds.count("export") >= 3


def test_export_permission_and_bad_parameters(api, client):
    reader = api("thingsreader")  # no export permission
    reader.get("/api/v1/things/_export", {"format": "csv"}, status=403)
    ed = api("thingseditor")
    ed.get("/api/v1/things/_export", {"format": "pdf"}, status=400)
    ed.get("/api/v1/things/_export", {"format": "csv", "sort": "name desc;--"}, status=400)
    ed.get("/api/v1/things/_export", {"format": "csv", "columns": "name,password"}, status=400)
    api().get("/api/v1/things/_export", status=403)


def test_cli_export(api, db_url, tmp_path):
    ed = api("thingseditor")
    api("admin", email="boss@example.com")
    for name in ("alpha", "=evil()", "beta"):
        ed.post_json("/api/v1/things", {"name": name, "size": len(name)}, status=201)
    ini = write_ini(tmp_path, plugins="samplea", url=db_url)
    out = tmp_path / "things.csv"
    proc = run_cli("export", ini, "thing", out, "--filter", "size__gte=5", "--sort", "id",
                   "--columns", "name,size", pythonpath=[SAMPLES])
    assert proc.returncode == 0, proc.stderr
    rows = parse_csv(out.read_bytes())
    assert rows == [["Name", "Size"], ["alpha", "5"], ["'=evil()", "7"]]
    xl = tmp_path / "things.xlsx"
    proc = run_cli("export", ini, "thing", xl, "--as", ed.email, pythonpath=[SAMPLES])
    assert proc.returncode == 0, proc.stderr
    ws = openpyxl.load_workbook(xl).active
    assert ws.max_row == 4
    proc = run_cli("export", ini, "thing", tmp_path / "x.csv", "--filter", "nope=1",
                   pythonpath=[SAMPLES])
    assert proc.returncode != 0 and "nope" in proc.stderr
    assert not (tmp_path / "x.csv").exists()
    proc = run_cli("export", ini, "thing", tmp_path / "y.csv", "--as", "nobody@example.com",
                   pythonpath=[SAMPLES])
    assert proc.returncode != 0 and "nobody" in proc.stderr

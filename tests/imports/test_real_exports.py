"""Real address-book files written by another program come through whole: Thunderbird's
own CSV test resources (tests/imports/corpus/thunderbird, MPL-2.0, see the corpus
README), imported with the shipped Thunderbird profile through the common pipeline and
the CLI. Counts in = counts out: every row a person, every name and e-mail on it,
nothing rejected, nothing silently dropped."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kyklos.imports import pipeline
from kyklos.jobs import job_request
from kyklos_sdk.testing import run_cli, write_ini

CORPUS = Path(__file__).parent / "corpus" / "thunderbird"
FILES = {"basic_csv_addressbook.csv": ",", "csv_semicolon.csv": ";"}


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def rows_of(name) -> tuple[list[str], list[dict[str, str]]]:
    """The header and the rows; Thunderbird writes one empty cell more than it has
    columns on each row (csv's ``None`` key), which holds nothing to lose."""
    with (CORPUS / name).open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=FILES[name])
        rows = list(reader)
    for row in rows:
        assert not any(row.pop(None, None) or [])
    return list(reader.fieldnames), rows


def import_file(registry, user_id, name):
    from kyklos.imports.views import initial_mapping

    path = CORPUS / name
    with job_request(registry, user_id) as request:
        et = registry.kyklos_entities["person"]
        headers = pipeline.headers_of(registry, path, name, {})
        mapping = initial_mapping(request, et, headers, "shipped:thunderbird")
        run = pipeline.start_run(request, et, path, name, {"mapping": mapping}, False)
    summary = pipeline.execute(registry, run.id)
    log = {int(r["row"]): r for r in pipeline.read_log(registry, run.id)}
    return headers, mapping, summary, log


@pytest.mark.parametrize("name", sorted(FILES))
def test_thunderbird_csv_counts_in_equal_counts_out(api, registry, name):
    mgr = api("manager")
    header, rows = rows_of(name)
    headers, mapping, summary, log = import_file(registry, mgr.user_id, name)
    assert headers == header  # the delimiter was found: every column read
    assert (summary["created"], summary["rejected"]) == (len(rows), 0), log
    people = [
        mgr.get(f"/api/v1/persons/{log[n]['record_id']}").json for n in range(2, 2 + len(rows))
    ]
    # every value of the file is on its person, or its column is one the import names
    for row, p in zip(rows, people, strict=True):
        assert (p["first_name"], p["last_name"], p["email"]) == (
            row["First Name"],
            row["Last Name"],
            row["Primary Email"],
        )
        for header, value in row.items():
            if value and mapping.get(header) in (None, ""):
                # not imported, and said so: only the display name, which repeats the
                # first and last name
                assert header == "Display Name" and value == f"{p['first_name']} {p['last_name']}"
    emails_in = sum(1 for r in rows for h in ("Primary Email", "Secondary Email") if r.get(h))
    emails_out = sum(
        len({e["email"] for e in p["emails"]} | {p["email"]} - {None, ""}) for p in people
    )
    assert emails_in == emails_out == len(rows)
    phones_in = sum(1 for r in rows for h in r if ("Phone" in h or h.endswith("Number")) and r[h])
    assert phones_in == sum(len(p["phones"]) for p in people)
    assert sum(1 for p in people if p["birth_date"]) == sum(
        1 for r in rows if r.get("Birth Month") and r.get("Birth Day")
    )
    assert sum(1 for p in people if p.get("notes")) == sum(1 for r in rows if r.get("Notes"))


def test_thunderbird_csv_through_the_cli_twice(api, dbsession, db_url, tmp_path):
    from kyklos_contacts.models import Person

    api("admin", email="boss@example.com")
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    path = CORPUS / "basic_csv_addressbook.csv"
    proc = run_cli("import", ini, "person", path, "--mapping", "thunderbird")
    assert proc.returncode == 0, proc.stderr
    assert "2 created" in proc.stdout, proc.stdout
    # the same file again: the duplicate rules (e-mail) keep it from doubling
    proc = run_cli("import", ini, "person", path, "--mapping", "thunderbird")
    assert proc.returncode == 0, proc.stderr
    with dbsession() as db:
        assert db.execute(select(func.count()).select_from(Person)).scalar() == 2

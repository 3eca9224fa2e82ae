"""People from address-book CSV exports come through whole (issue #18): Google's numbered
typed columns (``Phone 1 - Label`` / ``Phone 1 - Value``, both layouts), Outlook's
address columns, websites without a scheme, several e-mails in one cell, and rows with
nothing but an e-mail. For each file of the corpus, every non-empty value either lands
on the person or its column is reported as not imported."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from kyklos.imports import pipeline
from kyklos.imports.readers import Options, open_reader, typed_groups
from kyklos.jobs import job_request
from kyklos_sdk.testing import run_cli, write_ini

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def import_file(registry, user_id, name, profile):
    from kyklos.imports.views import initial_mapping

    path = CORPUS / name
    with job_request(registry, user_id) as request:
        et = registry.kyklos_entities["person"]
        headers = pipeline.headers_of(registry, path, name, {})
        mapping = initial_mapping(request, et, headers, f"shipped:{profile}")
        run_id = pipeline.start_run(request, et, path, name, {"mapping": mapping}, False).id
    summary = pipeline.execute(registry, run_id)
    log = {int(r["row"]): r for r in pipeline.read_log(registry, run_id)}
    return headers, mapping, summary, log


def values_in(name) -> list[tuple[int, str, str]]:
    """``(row, header, value)`` for every non-empty value cell of the file as written:
    Google's type/label cells say what a value is, they are not values themselves."""
    path = CORPUS / name
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    label = {i for i, h in enumerate(rows[0]) if h.endswith((" - Label", " - Type"))}
    formatted = {i for i, h in enumerate(rows[0]) if h.endswith(" - Formatted")}
    out = []
    for n, row in enumerate(rows[1:], start=2):
        for i, cell in enumerate(row):
            if cell.strip() and i not in label and i not in formatted:
                for part in cell.split(" ::: "):
                    out.append((n, rows[0][i], part.strip()))
    return out


def accounted_for(name, mapping) -> tuple[list, list]:
    """Every value of the file, found in a column of what the reader gives: ``(placed,
    reported)`` - in a mapped column, or in one the import reports as not imported."""
    reader = open_reader(None, CORPUS / name, name, Options())
    rows = {n: r for n, r in reader}
    headers = rows.pop(1)
    placed, reported, lost = [], [], []
    for n, header, value in values_in(name):
        cols = [headers[i] for i, c in enumerate(rows[n]) if value in c]
        if not cols:
            lost.append((n, header, value))
        elif any(c in mapping for c in cols):
            placed.append((n, header, value))
        else:
            reported.append((n, header, value))
    assert not lost, lost
    return placed, reported


def person(app, log, row):
    return app.get(f"/api/v1/persons/{log[row]['record_id']}").json


def test_google_csv_numbered_typed_columns(api, registry):
    assert typed_groups(["Phone 1 - Label", "Phone 1 - Value", "Name"]) == {
        ("phone", 1): {"label": 0, "value": 1}
    }
    mgr = api("manager")
    headers, mapping, summary, log = import_file(
        registry, mgr.user_id, "google-contacts.csv", "gmail"
    )
    assert "Phone 1 - Value" not in headers and "Mobile Phone" in headers
    assert (summary["created"], summary["rejected"]) == (4, 0), log
    placed, reported = accounted_for("google-contacts.csv", mapping)
    # the only values not imported: Google's group labels (reported, not lost)
    assert {h for _n, h, _v in reported} == {"Labels"}, reported
    # 33 values in the file: 33 on people (checked below), 5 group labels reported
    assert (len(placed), len(reported)) == (33, 5)
    assert len(values_in("google-contacts.csv")) == 38

    eleni = person(mgr, log, 2)
    assert (eleni["first_name"], eleni["last_name"], eleni["job_title"]) == (
        "Eleni",
        "Georgiou",
        "Chartering manager",
    )
    assert eleni["email"] == "eleni@thalassa.example"
    assert sorted(e["email"] for e in eleni["emails"]) == [
        "e.georgiou@thalassa.example",
        "eleni.g@mail.example",
        "eleni@thalassa.example",
    ]
    assert sorted((p["type"], p["number"]) for p in eleni["phones"]) == [
        ("mobile", "+306941112233"),
        ("work", "+302104112233"),
        ("work", "+302104112234"),
    ]
    assert eleni["website"] == "https://www.thalassa.example"  # no scheme in the file
    assert [
        (a["kind"], a["street"], a["postcode"], a["city"], a["country"]) for a in eleni["addresses"]
    ] == [("office", "Akti Miaouli 12", "185 35", "Piraeus", "GR")]
    assert (eleni["city"], eleni["country"]) == ("Piraeus", "GR")
    account = mgr.get(f"/api/v1/accounts/{eleni['account_id']}").json
    assert account["name"] == "Thalassa Shipping"

    jan = person(mgr, log, 3)
    assert sorted((p["type"], p["number"]) for p in jan["phones"]) == [
        ("fax", "+48225550109"),
        ("home", "+48225550102"),
    ]
    assert [
        (a["kind"], a["street"], a["region"], a["postcode"], a["country"]) for a in jan["addresses"]
    ] == [("home", "m. 4, ul. Marszałkowska 10", "Mazowieckie", "00-590", "PL")]
    assert jan["notes"] == "Met at the Poznań fair,\nasked for a quote"

    only_email = person(mgr, log, 4)  # a row with nothing but an e-mail
    assert (only_email["first_name"], only_email["last_name"], only_email["email"]) == (
        "",
        "info",
        "info@ferreteria.example",
    )

    ioana = person(mgr, log, 5)
    assert ioana["phone"] == "+40213004001"  # Google's "Main"
    assert sorted((p["type"], p["number"]) for p in ioana["phones"]) == [
        ("mobile", "+40213004001"),
        ("other", "+40722300400"),
        ("pager", "+40213004000"),
    ]


def test_google_csv_older_layout_and_emails_in_one_cell(api, registry):
    mgr = api("manager")
    _h, mapping, summary, log = import_file(
        registry, mgr.user_id, "google-contacts-older.csv", "gmail"
    )
    assert (summary["created"], summary["rejected"]) == (2, 0), log
    _placed, reported = accounted_for("google-contacts-older.csv", mapping)
    # "Name" repeats Given and Family Name: reported as not imported, like the groups
    assert {h for _n, h, _v in reported} == {"Name", "Group Membership"}, reported
    markus = person(mgr, log, 2)
    assert (markus["first_name"], markus["last_name"]) == ("Markus", "Weber")
    assert [e["email"] for e in markus["emails"]] == [
        "markus@weber.example",
        "m.weber@firma.example",
    ]
    assert sorted(p["type"] for p in markus["phones"]) == ["home", "mobile"]
    assert [(a["kind"], a["city"], a["country"]) for a in markus["addresses"]] == [
        ("home", "Wildberg", "DE")
    ]
    shop = person(mgr, log, 3)  # "a@x; b@y" and no name
    assert shop["last_name"] == "kontakt" and shop["email"] == "kontakt@werkstatt.example"
    assert [e["email"] for e in shop["emails"]] == [
        "kontakt@werkstatt.example",
        "buero@werkstatt.example",
    ]


def test_outlook_csv_address_columns(api, registry):
    mgr = api("manager")
    _h, mapping, summary, log = import_file(
        registry, mgr.user_id, "outlook-contacts.csv", "outlook"
    )
    assert (summary["created"], summary["rejected"]) == (3, 0), log
    placed, reported = accounted_for("outlook-contacts.csv", mapping)
    # Outlook's fillers ("0/0/00" dates are no date, "Unspecified" no gender) are read
    # as nothing; what is reported are its own bookkeeping columns
    assert {h for _n, h, _v in reported} <= {
        "E-mail Type",
        "E-mail Display Name",
        "Priority",
        "Private",
        "Sensitivity",
        "Initials",
    }, reported
    andreea = person(mgr, log, 2)
    assert sorted(
        (a["kind"], a["street"], a["city"], a["region"], a["postcode"], a["country"])
        for a in andreea["addresses"]
    ) == [
        ("home", None, "Brașov", None, None, "RO"),
        ("office", "Str. Lipscani 21", "București", "Sector 3", "030031", "RO"),
    ]
    assert (andreea["city"], andreea["country"]) == ("București", "RO")
    assert andreea["website"] == "https://carpati.example"
    assert sorted(p["type"] for p in andreea["phones"]) == ["mobile", "work"]
    tomasz = person(mgr, log, 3)
    assert [e["email"] for e in tomasz["emails"]] == [
        "tomasz@zielinski.example",
        "tz@praca.example",
    ]
    assert [(a["kind"], a["street"], a["postcode"]) for a in tomasz["addresses"]] == [
        ("home", "ul. Długa 5", "80-827")
    ]
    assert person(mgr, log, 4)["last_name"] == "orders"
    assert len(placed) >= 25


def test_cli_reports_what_it_does_not_import(api, db_url, tmp_path):
    api("manager", email="cli@example.com")
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    proc = run_cli(
        "import",
        ini,
        "person",
        CORPUS / "google-contacts.csv",
        "--as",
        "cli@example.com",
        "--mapping",
        "gmail",
    )
    assert proc.returncode == 0, proc.stderr
    assert "4 row(s): 4 created" in proc.stdout
    assert "google-contacts.csv:1:Labels: not imported (no field)" in proc.stderr
    assert "Mobile Phone: not imported" not in proc.stderr


def test_several_values_in_a_cell_are_an_import_reading_only(api):
    """contacts' ``kyklos_record_prepare`` splits a cell's values for imports; an API
    client sending "a; b" as one e-mail is told it is not one."""
    mgr = api("manager")
    res = mgr.post_json(
        "/api/v1/persons", {"last_name": "Two", "email": "a@x.example; b@y.example"}, status=400
    )
    assert any(e["field"] == "email" for e in res.json["errors"])


BAD_ADDRESS = (
    "First Name,Last Name,E-mail Address,Business Street,Business City,"
    "Business Country/Region,Home Country/Region\n"
    "Ada,Good,ada@good.example,Odos 1,Athina,Greece,\n"
    "Bad,Office,bad@office.example,Odos 2,Patra,Atlantis,\n"
    "Bad,Home,bad@home.example,,,,Narnia\n"
)


def test_a_bad_address_column_is_named_by_its_column(api, registry, db_url, tmp_path):
    """A value refused in an address built from address columns (and in the country the
    person takes from it) is reported once, under the file's column - not as the
    derived ``country`` / ``addresses.0.country`` fields, nor as "an empty address"."""
    mgr = api("manager", email="cli@example.com")
    path = tmp_path / "outlook.csv"
    path.write_text(BAD_ADDRESS, encoding="utf-8-sig")
    with job_request(registry, mgr.user_id) as request:
        et = registry.kyklos_entities["person"]
        from kyklos.imports.views import initial_mapping

        headers = pipeline.headers_of(registry, path, path.name, {})
        mapping = initial_mapping(request, et, headers, "shipped:outlook")
        run_id = pipeline.start_run(request, et, path, path.name, {"mapping": mapping}, False).id
    summary = pipeline.execute(registry, run_id)
    log = {int(r["row"]): r for r in pipeline.read_log(registry, run_id)}
    assert (summary["created"], summary["rejected"]) == (1, 2), log
    for row, column in ((3, "Business Country/Region"), (4, "Home Country/Region")):
        errors = log[row]["errors"]
        assert errors.startswith(f"{column}: Not a country") and "; " not in errors, errors

    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    proc = run_cli(
        "import",
        ini,
        "person",
        path,
        "--as",
        "cli@example.com",
        "--mapping",
        "outlook",
        "--dry-run",
    )
    assert proc.returncode == 1, proc.stderr
    assert "outlook.csv:3:Business Country/Region: Not a country" in proc.stderr
    assert "outlook.csv:4:Home Country/Region: Not a country" in proc.stderr
    assert "addresses" not in proc.stderr and "empty" not in proc.stderr

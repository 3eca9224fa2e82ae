"""Reference columns given by name (kyklos.imports.references): Outlook's *Company*,
Salesforce's *Account Name*, an *Owner* column - found among the records the importing
user can see, created on request, refused with the row named otherwise."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from kyklos.imports import pipeline
from kyklos.jobs import job_request
from kyklos_sdk.testing import run_cli, write_ini


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def run_import(registry, user_id, path, options, dry_run=False):
    with job_request(registry, user_id) as request:
        et = registry.kyklos_entities["person"]
        run_id = pipeline.start_run(request, et, path, path.name, options, dry_run).id
    summary = pipeline.execute(registry, run_id)
    return summary, {int(r["row"]): r for r in pipeline.read_log(registry, run_id)}


def accounts(dbsession):
    from kyklos_contacts.models import Account

    with dbsession() as db:
        return sorted(db.execute(select(Account.name)).scalars())


def people(dbsession):
    from kyklos_contacts.models import Person

    with dbsession() as db:
        return {p.last_name: (p.account_id, p.owner_id)
                for p in db.execute(select(Person)).scalars()}


CSV = (
    "First Name,Last Name,E-mail Address,Company\n"
    "Anna,Alpha,anna@example.com,ΆΛΦΑ Α.Ε.\n"  # 2 the existing account, written otherwise
    "Boris,Beta,boris@example.com,  Beta   Systems \n"  # 3 new; spaces tidied
    "Chris,Gamma,chris@example.com,beta systems\n"  # 4 the same new account
    "Dora,Delta,dora@example.com,Twin\n"  # 5 two visible accounts have this name
    "Eve,Epsilon,eve@example.com,\n"  # 6 no company
)


def test_outlook_company_column(api, registry, dbsession, tmp_path):
    mgr = api("manager")
    alfa = mgr.post_json("/api/v1/accounts", {"name": "Άλφα Α.Ε.", "country": "GR"},
                         status=201).json
    for _ in range(2):  # two companies of one name, as happens
        mgr.post_json("/api/v1/accounts?duplicates=allow", {"name": "Twin"}, status=201)
    assert accounts(dbsession).count("Twin") == 2
    path = tmp_path / "outlook.csv"
    path.write_text(CSV, encoding="utf-8")
    with job_request(registry, mgr.user_id) as request:
        from kyklos.imports.views import initial_mapping

        et = registry.kyklos_entities["person"]
        headers = pipeline.headers_of(registry, path, path.name, {})
        mapping = initial_mapping(request, et, headers, "shipped:outlook")
    assert mapping["Company"] == "account_id"  # the shipped Outlook profile
    options = {"mapping": mapping, "key": "email", "create_references": False}

    # create_references turned off: names that match nothing reject their rows
    summary, log = run_import(registry, mgr.user_id, path, options, dry_run=True)
    assert log[2]["status"] == "created" and log[6]["status"] == "created"
    assert "No record named" in log[3]["errors"] and "Beta   Systems" not in log[3]["errors"]
    assert "Company" in log[3]["errors"]  # the column, as in the file
    assert "2 records are named" in log[5]["errors"]
    # ... also in the real run: the others are imported
    summary, log = run_import(registry, mgr.user_id, path, options)
    assert (summary["created"], summary["rejected"]) == (2, 3), log
    got = people(dbsession)
    assert got["Alpha"][0] == alfa["id"] and got["Epsilon"][0] is None

    # create_references (the default): one account per new name, shared by the rows
    # naming it; a dry run creates nothing and lets those rows pass
    del options["create_references"]
    before = accounts(dbsession)
    summary, log = run_import(registry, mgr.user_id, path, options, dry_run=True)
    assert log[3]["status"] == "created" and log[4]["status"] == "created"
    assert accounts(dbsession) == before
    summary, log = run_import(registry, mgr.user_id, path, options)
    assert (summary["created"], summary["skipped"], summary["rejected"]) == (2, 2, 1), log
    assert accounts(dbsession) == sorted([*before, "Beta Systems"])
    got = people(dbsession)
    assert got["Beta"][0] == got["Gamma"][0] is not None
    beta = mgr.get(f"/api/v1/accounts/{got['Beta'][0]}").json
    assert beta["name"] == "Beta Systems" and beta["owner_id"] == mgr.user_id
    # the created account is an ordinary record: history, search
    hist = mgr.get(f"/api/v1/accounts/{beta['id']}/history").json
    assert [e["action"] for e in hist["items"]] == ["create"]
    found = mgr.get("/api/v1/_search", {"q": "Beta Systems"}).json["groups"]
    assert any(i["id"] == beta["id"] for g in found for i in g["items"])


def test_a_rejected_row_creates_no_linked_record(api, registry, dbsession, tmp_path):
    """The account a row names is created only once the row is valid: a row refused for
    its own values (an e-mail address that is none) leaves no stray account; a good row
    naming the same new company later in the file creates it once. (An unreadable phone
    number is no longer a refusal: an import keeps it as given, flagged.)"""
    mgr = api("manager")
    path = tmp_path / "p.csv"
    path.write_text("Last Name,E-mail,Company\nBad,not-an-address,Stray SA\nGood,,Kept SA\n"
                    "Later,,Stray SA\n", encoding="utf-8")
    summary, log = run_import(registry, mgr.user_id, path, {
        "mapping": {"Last Name": "last_name", "E-mail": "email", "Company": "account_id"}})
    assert [log[i]["status"] for i in (2, 3, 4)] == ["rejected", "created", "created"]
    assert accounts(dbsession) == ["Kept SA", "Stray SA"]
    got = people(dbsession)
    assert set(got) == {"Good", "Later"}
    # an update that the record refuses creates nothing either
    path.write_text("Last Name,E-mail,Phone,Company\nGood2,good@example.com,,\n"
                    f"{'G' * 300},good@example.com,,Never SA\n", encoding="utf-8")
    summary, log = run_import(registry, mgr.user_id, path, {
        "mapping": {"Last Name": "last_name", "E-mail": "email", "Phone": "phone",
                    "Company": "account_id"}, "key": "email", "on_duplicate": "update"})
    assert [log[i]["status"] for i in (2, 3)] == ["created", "rejected"]
    assert "Never SA" not in accounts(dbsession)


def test_names_only_find_live_records_and_owners_by_email(api, registry, dbsession,
                                                          tmp_path):
    """A name of a record the user cannot see (here: one in the trash) is "not found";
    an owner column finds users by e-mail address or name, and never creates one."""
    mgr = api("manager")
    rep = api("sales")
    gone = mgr.post_json("/api/v1/accounts", {"name": "Gone Ltd"}, status=201).json
    mgr.delete(f"/api/v1/accounts/{gone['id']}", headers={"If-Match": '"1"'})
    mgr.get(f"/api/v1/accounts/{gone['id']}", status=404)
    mine = mgr.post_json("/api/v1/accounts", {"name": "Mine SRL"}, status=201).json
    path = tmp_path / "p.csv"
    path.write_text("Last Name,Company\nOne,Gone Ltd\nTwo,mine srl\n", encoding="utf-8")
    summary, log = run_import(registry, mgr.user_id, path, {
        "mapping": {"Last Name": "last_name", "Company": "account_id"},
        "create_references": False})
    assert log[2]["status"] == "rejected" and "No record named" in log[2]["errors"]
    assert log[3]["status"] == "created"
    assert people(dbsession)["Two"][0] == mine["id"]
    path.write_text(f"Last Name,Owner\nThree,{rep.email.upper()}\nFour,nobody@example.com\n",
                    encoding="utf-8")
    summary, log = run_import(registry, mgr.user_id, path, {
        "mapping": {"Last Name": "last_name", "Owner": "owner_id"}})
    assert log[2]["status"] == "created" and people(dbsession)["Three"][1] == rep.user_id
    assert log[3]["status"] == "rejected" and "No record named" in log[3]["errors"]


def test_web_api_and_cli_option(client, api, registry, dbsession, db_url, tmp_path):
    mgr = api("manager", email="mgr@example.com")
    data = "Last Name,Company\nWeb,Web Account\n"
    # web wizard: the checkbox
    app = client("manager")
    page = app.get("/persons/_import")
    form = [f for f in page.forms.values() if "file" in f.fields][0]
    form["file"] = ("web.csv", data.encode())
    res = form.submit().follow()
    form = [f for f in res.forms.values() if "map.0" in f.fields][0]
    assert form["map.1"].value == "account_id"  # suggested from the header
    assert form["create_references"].checked  # on by default
    form["create_references"] = False
    res = form.submit("action", value="run").follow()
    assert "Import finished" in res.text and "No record named" in res.text
    assert "Web Account" not in accounts(dbsession)
    page = app.get("/persons/_import")
    form = [f for f in page.forms.values() if "file" in f.fields][0]
    form["file"] = ("web.csv", data.encode())
    res = form.submit().follow()
    form = [f for f in res.forms.values() if "map.0" in f.fields][0]
    res = form.submit("action", value="run").follow()
    assert "Web Account" in accounts(dbsession)
    # API: the option is checked
    opts = {"mapping": {"Last Name": "last_name", "Company": "account_id"},
            "create_references": "yes"}
    res = mgr.post("/api/v1/persons/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "a.csv", b"Last Name,Company\nApi,Api Account\n")],
                   status=400)
    assert res.content_type == "application/problem+json"
    assert "create_references" in json.dumps(res.json["errors"])
    del opts["create_references"]
    res = mgr.post("/api/v1/persons/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "a.csv", b"Last Name,Company\nApi,Api Account\n")],
                   status=202)
    assert mgr.get(res.headers["Location"]).json["created"] == 1
    assert "Api Account" in accounts(dbsession)
    # CLI: --create-references
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    f = tmp_path / "cli.csv"
    f.write_text("Last Name,Company\nCli,Cli Account\n", encoding="utf-8")
    proc = run_cli("import", ini, "person", f, "--as", "mgr@example.com",
                   "--no-create-references")
    assert proc.returncode == 1 and "cli.csv:2:Company: " in proc.stderr
    proc = run_cli("import", ini, "person", f, "--as", "mgr@example.com")
    assert proc.returncode == 0, proc.stderr
    assert "Cli Account" in accounts(dbsession)
    with dbsession() as db:
        from kyklos_contacts.models import Person

        assert db.execute(select(func.count()).select_from(Person).where(
            Person.last_name == "Cli")).scalar() == 1


def test_greek_names_as_keys_and_owners(api, registry, dbsession, tmp_path, make_user):
    """A Greek surname as the business key is found again, in any case (final sigma
    included), and an owner named in capitals is found by name, on both databases."""
    mgr = api("manager")
    nikos = make_user(email="nikos@example.gr", name="Νίκος Ιωάννου", roles=("sales",))
    mgr.post_json("/api/v1/persons", {"first_name": "Ελένη", "last_name": "Παπαδοπούλου"},
                  status=201)
    mgr.post_json("/api/v1/persons", {"first_name": "Κώστας", "last_name": "Οικονόμος"},
                  status=201)
    path = tmp_path / "gr.csv"
    path.write_text("Last Name,Owner\nΠαπαδοπούλου,\nΝέα,ΝΊΚΟΣ ΙΩΆΝΝΟΥ\nΟΙΚΟΝΌΜΟΣ,\n",
                    encoding="utf-8")
    summary, log = run_import(registry, mgr.user_id, path, {
        "mapping": {"Last Name": "last_name", "Owner": "owner_id"}, "key": "last_name"})
    assert [log[i]["status"] for i in (2, 3, 4)] == ["skipped", "created", "skipped"], log
    assert people(dbsession)["Νέα"][1] == nikos

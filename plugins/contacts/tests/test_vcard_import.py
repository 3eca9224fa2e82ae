"""vCards through the common importer (``kyklos_import_formats``): the CLI, the API and
the web wizard read the real exports in tests/domain/data/vcards (Gmail, Outlook,
Thunderbird, iPhone, RFC 6350; see the README there) with the same parsing as the vCard
endpoints; every e-mail, phone and address arrives, and a re-import with the e-mail as
key creates nobody."""

import json
from pathlib import Path

from kyklos_sdk.testing import run_cli, write_ini

SAMPLES = Path(__file__).parent / "domain" / "data" / "vcards"
FILES = sorted(p.name for p in SAMPLES.glob("*.vcf"))
#: cards per sample file; the iPhone card is the Gmail card's John Doe (same e-mail)
CARDS = {"John_Doe_EVOLUTION.vcf": 1, "gmail-single2.vcf": 1, "John_Doe_GMAIL.vcf": 1,
         "John_Doe_IPHONE.vcf": 1, "gmail-list.vcf": 3,
         "outlook-2007.vcf": 1, "rfc6350-example.vcf": 1,
         "thunderbird-MoreFunctionsForAddressBook-extension.vcf": 1}


def people(api):
    return api.get("/api/v1/persons", {"limit": 100, "sort": "id"}).json["items"]


def check_simon(api):
    simon = next(p for p in people(api) if p["last_name"] == "Perreault")
    assert simon["first_name"] == "Simon" and simon["email"] == "simon.perreault@viagenie.ca"
    assert simon["phones"] == [{"type": "work", "number": "+14186569254 ext. 102", "primary": True},
                               {"type": "mobile", "number": "+14182626501", "primary": False}]
    assert simon["phone"] == "+14186569254 ext. 102"
    assert simon["birth_date"] == "--02-03" and simon["country"] == "CA"
    assert [(a["kind"], a["city"], a["postcode"], a["country"]) for a in simon["addresses"]] \
        == [("office", "Quebec", "G1V 2M2", "CA")]
    rows = api.get("/api/v1/addresses", {"person_id": simon["id"]}).json["items"]
    assert [r["city"] for r in rows] == ["Quebec"]  # address records of their own
    return simon


def test_cli_imports_every_sample_and_reimport_creates_nobody(api, db_url, tmp_path):
    admin = api("admin", email="boss@example.com")
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    created = {}
    for name in FILES:
        proc = run_cli("import", ini, "person", SAMPLES / name, "--key", "email")
        assert proc.returncode == 0, proc.stderr
        created[name] = proc.stdout
    assert "0 created" in created["John_Doe_IPHONE.vcf"]  # John Doe again: skipped
    assert "3 created" in created["gmail-list.vcf"]
    got = people(admin)
    assert len(got) == 8
    check_simon(admin)
    john = next(p for p in got if p["email"] == "john.doe@ibm.com")
    assert (john["first_name"], john["last_name"], john["name_prefix"]) == ("John", "Doe",
                                                                            "Mr.")
    mike = next(p for p in got if p["last_name"] == "Angstadt")
    assert mike["job_title"] == "TheJobTitle" and mike["addresses"][0]["city"] == "New York"
    # the same files again: every card is found by its e-mail
    for name in FILES:
        proc = run_cli("import", ini, "person", SAMPLES / name, "--key", "email")
        assert proc.returncode == 0, proc.stderr
        assert "0 created" in proc.stdout, proc.stdout
    assert len(people(admin)) == 8
    # categories became tags and the photo arrived on this path too (issue #18)
    got = people(admin)
    evo = next(p for p in got if p["email"] == "john.doe@ibm.com")
    tags = admin.get(f"/api/v1/persons/{evo['id']}/tags").json
    assert [t["name"] for t in (tags["items"] if isinstance(tags, dict) else tags)] == ["VIP"]
    assert evo["nickname"] == "Johny" and evo["messengers"][0]["service"] == "aim"
    tb = next(p for p in got if p["email"] == "doe.john@hotmail.com")
    photo = admin.get(f"/contacts/persons/{tb['id']}/photo")
    assert photo.content_type.startswith("image/")
    # a file that is not a vCard: a clear message, nothing written
    bad = tmp_path / "bad.vcf"
    bad.write_text("hello\n", encoding="utf-8")
    proc = run_cli("import", ini, "person", bad)
    assert proc.returncode != 0 and "bad.vcf" in proc.stderr and "line" in proc.stderr
    assert len(people(admin)) == 8


def _api_import(api, name, **opts):
    res = api.post("/api/v1/persons/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", name, (SAMPLES / name).read_bytes())], status=202)
    return api.get(res.headers["Location"]).json


def test_api_import_and_update_by_email(api):
    a = api("manager")
    run = _api_import(a, "rfc6350-example.vcf", key="email")
    assert run["state"] == "done" and run["created"] == 1, run
    simon = check_simon(a)
    run = _api_import(a, "rfc6350-example.vcf", key="email")
    assert (run["created"], run["skipped"]) == (0, 1)
    # an update by e-mail adds nothing twice: the same address is not repeated
    run = _api_import(a, "rfc6350-example.vcf", key="email", on_duplicate="update")
    assert (run["created"], run["updated"], run["rejected"]) == (0, 1, 0), run
    assert check_simon(a)["id"] == simon["id"]
    assert len(people(a)) == 1
    # a dry run writes nothing
    run = _api_import(a, "gmail-list.vcf", key="email", dry_run=True)
    assert run["created"] == 3 and len(people(a)) == 1
    # the vCard endpoint finds the people the importer made
    res = a.post("/api/v1/persons/_import/vcard", (SAMPLES / "rfc6350-example.vcf").read_bytes(),
                 headers={"Content-Type": "text/vcard"}).json
    assert res["summary"]["duplicate"] == 1 and res["summary"]["created"] == 0


def test_web_wizard_suggests_the_vcard_columns(client, api):
    app = client("manager")
    page = app.get("/persons/_import")
    form = [f for f in page.forms.values() if "file" in f.fields][0]
    form["file"] = ("contacts.vcf", (SAMPLES / "outlook-2007.vcf").read_bytes())
    res = form.submit().follow()
    sel = {s["name"]: s.find("option", selected=True) for s in res.html.select("select")}
    chosen = {v["value"] for k, v in sel.items() if k.startswith("map.") and v}
    assert {"first_name", "last_name", "email", "emails", "phones", "addresses",
            "job_title", "birth_date", "account_id"} <= chosen
    form = [f for f in res.forms.values() if "map.0" in f.fields][0]
    assert form["key"].value == "email"  # e-mails mapped: people are found by them
    res = form.submit("action", value="run").follow()
    assert "Import finished" in res.text
    reader = api("manager")
    mike = reader.get("/api/v1/persons", {"last_name": "Angstadt"}).json["items"]
    assert [m["email"] for m in mike] == ["mike.angstadt@gmail.com"]
    # ORG:TheCompany;TheDepartment: the account is found by name, or created
    account = reader.get(f"/api/v1/accounts/{mike[0]['account_id']}").json
    assert account["name"] == "TheCompany" and mike[0]["department"] == "TheDepartment"


def test_addresses_field_through_the_api(api):
    a = api("manager")
    p = a.post_json("/api/v1/persons", {"first_name": "Ana", "last_name": "Ionescu",
                    "addresses": [{"kind": "home", "street": "Str. Lipscani 5",
                                   "city": "București", "country": "ro"}]}, status=201).json
    assert [(x["city"], x["country"]) for x in p["addresses"]] == [("București", "RO")]
    # writing adds what is missing, never repeats or removes
    p = a.patch_json(f"/api/v1/persons/{p['id']}", {"addresses": [
        {"kind": "home", "street": "Str. Lipscani 5", "city": "București", "country": "RO"},
        {"kind": "office", "city": "Cluj-Napoca", "country": "RO"}]}, status=200).json
    assert [x["city"] for x in p["addresses"]] == ["București", "Cluj-Napoca"]
    res = a.patch_json(f"/api/v1/persons/{p['id']}", {"addresses": [
        {"kind": "castle", "city": "x", "country": "XX", "floor": 3}, "oops"]}, status=400)
    from contacts_helpers import error_fields

    assert set(error_fields(res)) == {"addresses.0.kind", "addresses.0.country",
                                      "addresses.0.floor", "addresses.1"}
    assert len(a.get(f"/api/v1/persons/{p['id']}").json["addresses"]) == 2

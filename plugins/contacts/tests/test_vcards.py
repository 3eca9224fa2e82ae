"""vCard import and export of people, through the API and the web pages: every sample
export (Gmail, iPhone, Outlook, Thunderbird, RFC 6350) imports; an export re-imported
creates nobody; what goes out comes back."""

import re
from pathlib import Path

import pytest
from kyklos_contacts.domain.vcard import parse_vcards

SAMPLES = Path(__file__).parent / "domain" / "data" / "vcards"
FILES = sorted(p.name for p in SAMPLES.glob("*.vcf"))


def import_file(api, name: str, **params):
    query = "".join(f"&{k}={v}" for k, v in params.items()).lstrip("&")
    url = "/api/v1/persons/_import/vcard" + (f"?{query}" if query else "")
    return api.post(url, (SAMPLES / name).read_bytes(),
                    headers={"Content-Type": "text/vcard"}).json


def all_people(api):
    return api.get("/api/v1/persons", {"limit": 100, "sort": "id"}).json["items"]


def test_every_sample_imports_and_reimport_creates_nobody(api):
    a = api("manager")
    created, results = {}, {}
    for name in FILES:
        res = import_file(a, name)
        results[name] = res
        assert res["summary"]["error"] == 0, res
        created[name] = res["summary"]["created"]
    # The Gmail and iPhone cards are the Evolution card's John Doe (same e-mail): found,
    # not repeated.
    assert created == {
        "John_Doe_EVOLUTION.vcf": 1,
        "John_Doe_GMAIL.vcf": 0,
        "gmail-single2.vcf": 1,
        "John_Doe_IPHONE.vcf": 0,
        "gmail-list.vcf": 3,
        "outlook-2007.vcf": 1,
        "rfc6350-example.vcf": 1,
        "thunderbird-MoreFunctionsForAddressBook-extension.vcf": 1,
    }
    people = all_people(a)
    assert len(people) == 8
    by_name = {(p["first_name"], p["last_name"]): p for p in people}
    simon = by_name[("Simon", "Perreault")]
    assert simon["email"] == "simon.perreault@viagenie.ca"
    assert simon["phones"][0] == {
        "type": "work", "number": "+14186569254 ext. 102", "primary": True}
    assert simon["birth_date"] == "--02-03"  # day and month known, year not
    assert simon["anniversary_date"] == "2009-08-08"
    assert simon["country"] == "CA"
    viagenie = a.get(f"/api/v1/accounts/{simon['account_id']}").json
    assert viagenie["name"] == "Viagenie"
    addresses = a.get("/api/v1/addresses", {"person_id": simon["id"]}).json["items"]
    assert [(x["kind"], x["city"], x["country"]) for x in addresses] == [
        ("office", "Quebec", "CA")]
    john = next(p for p in people if p["email"] == "john.doe@ibm.com")
    assert (john["first_name"], john["middle_name"], john["last_name"]) == (
        "John", "Richter, James", "Doe")
    mike = by_name[("Michael", "Angstadt")]
    assert mike["name_prefix"] == "Mr." and mike["name_suffix"] == "Jr."
    # (111) 555-xxxx are not real numbers: kept as given and flagged, never in the notes.
    assert "(111) 555-1111" not in (mike["notes"] or "")
    assert "(111) 555-1111" in [n["number"] for n in mike["phones"]]
    outlook = next(i for i in results["outlook-2007.vcf"]["items"])
    assert any(w["field"] == "phones" and w["value"] == "(111) 555-1111"
               for w in outlook["warnings"]), outlook
    tb = next(p for p in people if p["email"] == "doe.john@hotmail.com")
    assert len(tb["emails"]) == 5
    tags = a.get(f"/api/v1/persons/{tb['id']}/tags").json
    names = sorted(t["name"] for t in (tags["items"] if isinstance(tags, dict) else tags))
    assert names == ["category1", "category2", "category3"]

    # Export everything, import it again: all duplicates.
    exported = a.get("/api/v1/persons/_export/vcard").text
    assert exported.count("BEGIN:VCARD") == 8
    res = a.post("/api/v1/persons/_import/vcard", exported.encode("utf-8"),
                 headers={"Content-Type": "text/vcard"}).json
    assert res["summary"] == {"created": 0, "duplicate": 8, "error": 0, "new": 0}
    assert len(all_people(a)) == 8
    # The same file into an empty database gives the same people back.
    for p in people:
        a.delete(f"/api/v1/persons/{p['id']}")
    res = a.post("/api/v1/persons/_import/vcard", exported.encode("utf-8"),
                 headers={"Content-Type": "text/vcard"}).json
    assert res["summary"]["created"] == 8
    again = {(p["first_name"], p["last_name"]): p for p in all_people(a)}
    assert again.keys() == by_name.keys()
    for key, before in by_name.items():
        after = again[key]
        for field in ("middle_name", "email", "emails", "phones", "birth_date", "anniversary_date",
                      "name_prefix", "name_suffix", "job_title", "department", "notes",
                      "website", "country"):
            assert after[field] == before[field], (key, field)


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_one_person_round_trip(api, version):
    a = api("manager")
    acc = a.post_json("/api/v1/accounts", {"name": "Ερμής Α.Ε.", "country": "GR"}).json
    p = a.post_json("/api/v1/persons", {
        "first_name": "Γιώργος", "last_name": "Παπαδόπουλος", "country": "GR",
        "email": "giorgos@example.com", "account_id": acc["id"], "job_title": "Λογιστής",
        "birth_date": "1975-04-23", "phones": [
            {"type": "mobile", "number": "+306931234567", "primary": True},
            {"type": "fax", "number": "+302101234567"}],
    }).json
    res = a.get(f"/api/v1/persons/{p['id']}/vcard", {"version": version})
    assert res.content_type == "text/vcard"
    assert "attachment" in res.headers["Content-Disposition"]
    card = next(iter(parse_vcards(res.body)))
    assert (card.first_name, card.last_name) == ("Γιώργος", "Παπαδόπουλος")
    assert card.organization == "Ερμής Α.Ε." and card.title == "Λογιστής"
    assert [e[0] for e in card.emails] == ["giorgos@example.com"]
    assert [(n, t) for n, t, _pref in card.phones] == [
        ("+306931234567", "cell"), ("+302101234567", "fax")]
    assert card.birthday.isoformat() == "1975-04-23"
    # Importing it again finds the person (by the UID, then the e-mail).
    again = a.post("/api/v1/persons/_import/vcard", res.body,
                   headers={"Content-Type": "text/vcard"}).json
    assert again["items"][0]["status"] == "duplicate"
    assert again["items"][0]["duplicate_of"] == p["id"]


def test_dry_run_and_bad_input(api):
    a = api("manager")
    res = import_file(a, "gmail-list.vcf", dry_run="true")
    assert res["summary"] == {"created": 0, "duplicate": 0, "error": 0, "new": 3}
    assert all_people(a) == []
    res = a.post("/api/v1/persons/_import/vcard", b"hello", status=400,
                 headers={"Content-Type": "text/vcard"})
    assert res.content_type == "application/problem+json"
    a.post("/api/v1/persons/_import/vcard", b"{}", status=415,
           headers={"Content-Type": "application/json"})


def test_import_needs_the_import_permission(api):
    res = api("sales").post("/api/v1/persons/_import/vcard",
                            (SAMPLES / "gmail-list.vcf").read_bytes(),
                            headers={"Content-Type": "text/vcard"}, status=403)
    assert res.content_type == "application/problem+json"


def test_import_page_preview_then_import(client):
    c = client("manager")
    page = c.get("/contacts/vcards/import")
    form = next(f for f in page.forms.values() if "file" in f.fields)
    form["file"] = ("John_Doe_IPHONE.vcf", (SAMPLES / "John_Doe_IPHONE.vcf").read_bytes())
    preview = form.submit()
    assert "k-vcard-new" in preview.text and "John Doe" in preview.text
    confirm = next(f for f in preview.forms.values() if "payload" in f.fields)
    done = confirm.submit()
    assert "k-vcard-created" in done.text
    pid = int(re.search(r"k-vcard-created.*?/persons/(\d+)", done.text, re.S).group(1))
    photo = c.get(f"/contacts/persons/{pid}/photo")
    assert photo.content_type == "image/jpeg" and photo.body[:3] == b"\xff\xd8\xff"
    # The same file again: previewed as already here, nothing to import.
    page = c.get("/contacts/vcards/import")
    form = next(f for f in page.forms.values() if "file" in f.fields)
    form["file"] = ("John_Doe_GMAIL.vcf", (SAMPLES / "John_Doe_GMAIL.vcf").read_bytes())
    preview = form.submit()
    assert "k-vcard-duplicate" in preview.text and "k-vcard-new" not in preview.text
    # Export of one person from their page.
    card = c.get(f"/contacts/persons/{pid}/vcard")
    assert card.content_type == "text/vcard" and "PHOTO" in card.text

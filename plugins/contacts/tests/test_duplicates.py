"""Duplicate rules of people and accounts (issue #5, D5): the API's 409 naming the
look-alikes (e-mail, phone, names across scripts, VAT numbers as stored), the web
form's warning, the scan finding a Greek/Latin pair, and merges that re-point e-mails,
phones, relationships, addresses and account links and keep both histories."""

from contacts_helpers import error_fields


def count(api, slug):
    return len(api.get(f"/api/v1/{slug}", {"limit": 100}).json["items"])


def test_person_create_answers_409_naming_the_candidates(api):
    a = api("manager")
    maria = a.post_json("/api/v1/persons", {
        "first_name": "Μαρία", "last_name": "Παπαδοπούλου", "email": "Maria.P@example.gr",
        "phone": "+30 2310 123456"}, status=201).json
    res = a.post_json("/api/v1/persons", {"first_name": "Maria", "last_name": "Papadopoulou"},
                      status=409)
    assert res.content_type == "application/problem+json"
    assert res.json["duplicates"] == [
        {"id": maria["id"], "title": "Μαρία Παπαδοπούλου", "rule": "name"}]
    assert "_duplicates" in error_fields(res)
    # the e-mail, compared case-insensitively, also when only the typed list has it
    res = a.post_json("/api/v1/persons", {"first_name": "M.", "last_name": "Other",
                                          "emails": [{"email": "maria.p@EXAMPLE.gr"}]},
                      status=409)
    assert res.json["duplicates"][0] == {"id": maria["id"], "title": "Μαρία Παπαδοπούλου",
                                         "rule": "email"}
    # the phone, whatever the formatting
    res = a.post_json("/api/v1/persons", {"first_name": "X", "last_name": "Y",
                                          "phone": "0030 2310-123456"}, status=409)
    assert res.json["duplicates"][0]["rule"] == "phone"
    # Polish diacritics
    wojcik = a.post_json("/api/v1/persons", {"first_name": "Jan", "last_name": "Wójcik"},
                         status=201).json
    res = a.post_json("/api/v1/persons", {"first_name": "jan", "last_name": "WOJCIK"},
                      status=409)
    assert [d["id"] for d in res.json["duplicates"]] == [wojcik["id"]]
    assert count(a, "persons") == 2  # nothing written by the refused creates
    made = a.post_json("/api/v1/persons?duplicates=allow",
                       {"first_name": "Maria", "last_name": "Papadopoulou"}, status=201).json
    assert made["id"] != maria["id"]
    # a different person is not a candidate
    a.post_json("/api/v1/persons", {"first_name": "Maria", "last_name": "Nikolaou",
                                    "email": "other@example.gr"}, status=201)
    # updates are never held up
    a.patch_json(f"/api/v1/persons/{made['id']}", {"email": "maria.p@example.gr"}, status=200)


def test_account_create_answers_409_for_vat_email_and_name(api):
    a = api("manager")
    acme = a.post_json("/api/v1/accounts", {"name": "Παπαδόπουλος Α.Ε.", "country": "GR",
                                            "vat_number": "094259216",
                                            "email": "info@papadopoulos.example"},
                       status=201).json
    assert acme["vat_number"] == "EL094259216"
    # the VAT number as stored (VIES form), typed another way
    res = a.post_json("/api/v1/accounts", {"name": "Other name", "vat_number": "EL 094 259 216"},
                      status=409)
    assert res.json["duplicates"] == [
        {"id": acme["id"], "title": "Παπαδόπουλος Α.Ε.", "rule": "vat_number"}]
    res = a.post_json("/api/v1/accounts", {"name": "Papadopoulos A.E."}, status=409)
    assert res.json["duplicates"][0]["rule"] == "name"
    res = a.post_json("/api/v1/accounts", {"name": "Third",
                                           "email": "INFO@papadopoulos.example"}, status=409)
    assert res.json["duplicates"][0]["rule"] == "email"
    a.post_json("/api/v1/accounts", {"name": "Third"},
                headers={"X-Kyklos-Duplicates": "allow"}, status=201)
    assert count(a, "accounts") == 2


def _person_form(page):
    return [f for f in page.forms.values() if "last_name" in f.fields][-1]


def test_web_form_warns_then_creates_on_second_save(client, api):
    api("manager").post_json("/api/v1/persons", {"first_name": "Γιώργος",
                                                 "last_name": "Παπαδόπουλος"}, status=201)
    app = client("manager")
    form = _person_form(app.get("/persons/new"))
    form["first_name"] = "Giorgos"
    form["last_name"] = "Papadopoulos"
    res = form.submit(status=400)
    assert "Possible duplicate" in res.text and "Γιώργος Παπαδόπουλος" in res.text
    assert count(api("manager"), "persons") == 1
    res = _person_form(res).submit().follow()
    assert "Giorgos" in res.text
    assert count(api("manager"), "persons") == 2


def test_scan_finds_the_greek_latin_pair(api, client):
    a = api("manager")
    greek = a.post_json("/api/v1/persons", {"first_name": "Γιώργος",
                                            "last_name": "Παπαδόπουλος"}, status=201).json
    latin = a.post_json("/api/v1/persons?duplicates=allow",
                        {"first_name": "Giorgos", "last_name": "Papadopoulos"},
                        status=201).json
    a.post_json("/api/v1/persons", {"first_name": "Anna", "last_name": "Kowalska"}, status=201)
    a.post_json("/api/v1/_duplicates/scan", {"entity": "person"}, status=202)
    pairs = a.get("/api/v1/_duplicates", {"entity": "person"}).json["items"]
    assert [[r["id"] for r in p["records"]] for p in pairs] == [[greek["id"], latin["id"]]]
    page = client("manager").get("/duplicates/person")
    assert "Giorgos Papadopoulos" in page.text and "Γιώργος Παπαδόπουλος" in page.text


def test_secondary_emails_and_phones_match_too(api):
    """Every address and number a person has is a match key, not only the primary
    ones: a new contact with someone's private address, or their second mobile, is a
    look-alike; the scan pairs records that share only a secondary number."""
    a = api("manager")
    eleni = a.post_json("/api/v1/persons", {
        "first_name": "Ελένη", "last_name": "Νικολάου",
        "emails": [{"type": "work", "email": "eleni@company.gr", "primary": True},
                   {"type": "home", "email": "Eleni.N@Home.example"}],
        "phones": [{"type": "work", "number": "+30 210 1234567", "primary": True},
                   {"type": "mobile", "number": "+30 694 1234567"}]}, status=201).json
    res = a.post_json("/api/v1/persons", {"first_name": "E.", "last_name": "N.",
                                          "email": "eleni.n@home.example"}, status=409)
    assert res.json["duplicates"] == [
        {"id": eleni["id"], "title": "Ελένη Νικολάου", "rule": "email"}]
    res = a.post_json("/api/v1/persons", {"first_name": "E.", "last_name": "N.",
                                          "phone": "0030 694 123 4567"}, status=409)
    assert res.json["duplicates"][0]["rule"] == "phone"
    # a number only on the typed list of both
    other = a.post_json("/api/v1/persons?duplicates=allow", {
        "first_name": "Someone", "last_name": "Else", "phone": "+30 2310 999999",
        "phones": [{"type": "work", "number": "+30 2310 999999", "primary": True},
                   {"type": "mobile", "number": "+30 694 1234567"}]}, status=201).json
    a.post_json("/api/v1/_duplicates/scan", {"entity": "person"}, status=202)
    pairs = a.get("/api/v1/_duplicates", {"entity": "person"}).json["items"]
    assert [[r["id"] for r in p["records"]] for p in pairs] == [[eleni["id"], other["id"]]]
    # the "type" labels of the lists never make keys: two people with only "home"
    # addresses in common labels are not look-alikes
    a.post_json("/api/v1/persons", {"first_name": "Piotr", "last_name": "Nowak",
                                    "emails": [{"type": "home", "email": "piotr@a.pl"}]},
                status=201)
    a.post_json("/api/v1/persons", {"first_name": "Ana", "last_name": "Pop",
                                    "emails": [{"type": "home", "email": "ana@b.ro"}]},
                status=201)


def test_merge_people_repoints_everything_and_keeps_both_histories(api, rel_types):
    a = api("manager")
    acc1 = a.post_json("/api/v1/accounts", {"name": "Alpha"}, status=201).json
    acc2 = a.post_json("/api/v1/accounts", {"name": "Beta"}, status=201).json
    win = a.post_json("/api/v1/persons", {
        "first_name": "Γιώργος", "last_name": "Παπαδόπουλος", "account_id": acc1["id"],
        "emails": [{"email": "g@alpha.example", "type": "work", "primary": True},
                   {"email": "shared@example.gr", "type": "home"}],
        "phones": [{"number": "+302310123456", "type": "work"}]}, status=201).json
    lose = a.post_json("/api/v1/persons?duplicates=allow", {
        "first_name": "Giorgos", "last_name": "Papadopoulos", "account_id": acc2["id"],
        "job_title": "Buyer",
        "emails": [{"email": "giorgos@beta.example", "primary": True},
                   {"email": "SHARED@example.gr"}],
        "phones": [{"number": "+306944000111", "type": "mobile"}]}, status=201).json
    a.patch_json(f"/api/v1/persons/{lose['id']}", {"notes": "met at the fair"}, status=200)
    friend = a.post_json("/api/v1/persons", {"first_name": "Anna", "last_name": "Kowalska"},
                         status=201).json
    colleague = rel_types["associate"]
    rel = a.post_json("/api/v1/relationships", {"type_id": colleague,
                      "from_person_id": lose["id"], "to_person_id": friend["id"]},
                      status=201).json
    a.post_json("/api/v1/relationships", {"type_id": colleague,
                "from_person_id": win["id"], "to_person_id": lose["id"]}, status=201)
    a.post_json("/api/v1/addresses", {"person_id": lose["id"], "kind": "home",
                "city": "Θεσσαλονίκη", "country": "GR"}, status=201)
    a.post_json(f"/api/v1/persons/{win['id']}/merge", {"loser": lose["id"]}, status=200)

    a.get(f"/api/v1/persons/{lose['id']}", status=404)
    got = a.get(f"/api/v1/persons/{win['id']}").json
    assert got["email"] == "g@alpha.example" and got["account_id"] == acc1["id"]
    assert got["job_title"] == "Buyer"  # an empty field taken from the loser
    assert [(e["email"].lower(), e["primary"]) for e in got["emails"]] == [
        ("g@alpha.example", True), ("shared@example.gr", False),
        ("giorgos@beta.example", False)]
    assert [p["number"] for p in got["phones"]] == ["+302310123456", "+306944000111"]
    assert [(x["city"], x["country"]) for x in got["addresses"]] == [("Θεσσαλονίκη", "GR")]
    rels = a.get(f"/api/v1/persons/{win['id']}/relationships").json
    rel_rows = a.get("/api/v1/relationships", {"limit": 50}).json["items"]
    # the loser's link now starts at the winner; the link between the two is gone
    assert [(r["id"], r["from_person_id"], r["to_person_id"]) for r in rel_rows] == [
        (rel["id"], win["id"], friend["id"])]
    assert rels
    affs = a.get("/api/v1/affiliations", {"person_id": win["id"], "sort": "id"}).json["items"]
    assert sorted((x["account_id"], x["is_primary"]) for x in affs) == [
        (acc1["id"], True), (acc2["id"], False)]
    beta_people = a.get("/api/v1/persons", {"account_id": acc2["id"]}).json["items"]
    assert beta_people == []  # the winner's account is kept; Beta stays in the history
    history = a.get(f"/api/v1/persons/{win['id']}/history", {"limit": 50}).json["items"]
    actions = [h["action"] for h in history]
    assert actions.count("create") == 2 and "merge" in actions
    assert any("notes" in (h.get("changes") or {}) for h in history)  # the loser's edit
    # the loser's keys are gone: a new Giorgos meets only the winner
    res = a.post_json("/api/v1/persons", {"first_name": "Giorgos",
                                          "last_name": "Papadopoulos"}, status=409)
    assert [d["id"] for d in res.json["duplicates"]] == [win["id"]]


def test_merge_accounts_repoints_people_and_partners(api):
    a = api("manager")
    lose = a.post_json("/api/v1/accounts", {"name": "Wojcik Meble", "city": "Kraków"},
                       status=201).json
    win = a.post_json("/api/v1/accounts?duplicates=allow", {"name": "Wójcik Meble",
                      "partner_id": lose["id"]}, status=201).json
    client_acc = a.post_json("/api/v1/accounts", {"name": "Sklep", "partner_id": lose["id"]},
                             status=201).json
    jan = a.post_json("/api/v1/persons", {"first_name": "Jan", "last_name": "Nowak",
                                          "account_id": lose["id"]}, status=201).json
    a.post_json(f"/api/v1/accounts/{win['id']}/merge", {"loser": lose["id"]}, status=200)
    a.get(f"/api/v1/accounts/{lose['id']}", status=404)
    assert a.get(f"/api/v1/persons/{jan['id']}").json["account_id"] == win["id"]
    assert a.get(f"/api/v1/accounts/{client_acc['id']}").json["partner_id"] == win["id"]
    got = a.get(f"/api/v1/accounts/{win['id']}").json
    assert got["city"] == "Kraków" and got["partner_id"] is None  # not its own partner


def test_merge_keeps_the_winners_row_where_only_one_may_exist(api):
    """Both people opted in/out of e-mail (one consent per person and channel): the
    winner's stays, the loser's goes, no error; a child account of the loser moves to
    the winner, and the winner, once the loser's child, is left without a parent."""
    a = api("manager")
    win = a.post_json("/api/v1/persons", {"first_name": "Anna", "last_name": "Wójcik",
                                          "email": "anna@example.com"}, status=201).json
    lose = a.post_json("/api/v1/persons?duplicates=allow", {
        "first_name": "Anna", "last_name": "Wojcik", "email": "a.wojcik@example.com"},
        status=201).json
    for pid, status in ((win["id"], "opt_in"), (lose["id"], "opt_out")):
        a.post_json("/api/v1/consents", {"person_id": pid, "channel": "email",
                                         "status": status}, status=201)
    a.post_json(f"/api/v1/persons/{win['id']}/merge", {"loser": lose["id"]}, status=200)
    consents = a.get(f"/api/v1/consents?person_id={win['id']}").json["items"]
    assert [(c["channel"], c["status"]) for c in consents] == [("email", "opt_in")]

    parent = a.post_json("/api/v1/accounts", {"name": "Holding"}, status=201).json
    child = a.post_json("/api/v1/accounts", {"name": "Filia", "parent_id": parent["id"]},
                        status=201).json
    other = a.post_json("/api/v1/accounts", {"name": "Oddział", "parent_id": parent["id"]},
                        status=201).json
    a.post_json(f"/api/v1/accounts/{child['id']}/merge", {"loser": parent["id"]}, status=200)
    assert a.get(f"/api/v1/accounts/{child['id']}").json["parent_id"] is None
    assert a.get(f"/api/v1/accounts/{other['id']}").json["parent_id"] == child["id"]

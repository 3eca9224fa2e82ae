"""People through the REST API: plain name and e-mail fields, typed phone and e-mail
lists (CON-07), personal data (CON-08), salutation (CON-11), affiliations (CON-04/16)."""

import datetime as dt

from contacts_helpers import error_fields, new_account, new_person


def test_plain_fields_and_typed_lists(api):
    a = api("manager")
    p = new_person(
        a,
        first_name="Γιώργος",
        last_name="Παπαδόπουλος",
        email="giorgos@example.com",
        country="GR",
        gender="male",
        phones=[
            {"type": "mobile", "number": "693 123 4567"},
            {"type": "work", "number": "+30 210 123 4567", "primary": True},
        ],
        emails=[{"type": "home", "email": "g.papa@example.net"}],
    )
    assert (p["first_name"], p["last_name"]) == ("Γιώργος", "Παπαδόπουλος")
    assert p["email"] == "giorgos@example.com"
    assert p["phones"] == [
        {"type": "mobile", "number": "+306931234567", "primary": False},
        {"type": "work", "number": "+302101234567", "primary": True},
    ]
    assert p["phone"] == "+302101234567"
    # The plain e-mail is the primary one of the list.
    assert p["emails"] == [
        {"type": "work", "email": "giorgos@example.com", "primary": True},
        {"type": "home", "email": "g.papa@example.net", "primary": False},
    ]
    got = a.get(f"/api/v1/persons/{p['id']}").json
    assert got["phones"] == p["phones"] and got["emails"] == p["emails"]
    listed = a.get("/api/v1/persons", {"email": "giorgos@example.com"}).json["items"]
    assert [x["id"] for x in listed] == [p["id"]]
    assert listed[0]["phones"][1]["number"] == "+302101234567"


def test_changing_the_plain_email_updates_the_list(api):
    a = api("manager")
    p = new_person(a, email="old@example.com",
                   emails=[{"type": "home", "email": "home@example.net"}])
    p = a.patch_json(f"/api/v1/persons/{p['id']}", {"email": "new@example.com"}).json
    assert p["email"] == "new@example.com"
    assert [(e["email"], e["primary"]) for e in p["emails"]] == [
        ("new@example.com", True), ("home@example.net", False)]
    p = a.patch_json(f"/api/v1/persons/{p['id']}", {"emails": [
        {"type": "work", "email": "work@example.org", "primary": True}]}).json
    assert p["email"] == "work@example.org"
    assert len(p["emails"]) == 1


def test_invalid_phone_and_email_in_lists_name_the_item(api):
    a = api("manager")
    res = a.post_json("/api/v1/persons", {
        "last_name": "X", "country": "PL",
        "phones": [{"type": "mobile", "number": "601 234 567"}, {"number": "12"}],
        "emails": [{"email": "not-an-email"}],
    }, status=400)
    errors = error_fields(res)
    assert "phones.1.number" in errors and "emails.0.email" in errors
    assert "phones.0.number" not in errors
    res = a.post_json("/api/v1/persons", {"last_name": "X", "phones": ["210 1234567"]},
                      status=400)
    assert "phones.0.number" in error_fields(res)  # no country to read it in


def test_personal_id_validated_and_birth_date_filled(api):
    a = api("manager")
    p = new_person(a, first_name="Jan", last_name="Kowalski", country="PL",
                   personal_id="44051401458", gender="male")
    assert p["personal_id"] == "44051401458"
    assert p["birth_date"] == "1944-05-14"
    res = a.post_json("/api/v1/persons", {"last_name": "Popescu", "country": "RO",
                                          "personal_id": "1800101221145"}, status=400)
    assert "personal_id" in error_fields(res)
    p = new_person(a, first_name="Ion", last_name="Popescu", country="RO",
                   personal_id="1800101221144", tax_id="1800101221144")
    assert p["birth_date"] == "1980-01-01"


def test_tax_id_per_country(api):
    a = api("manager")
    p = new_person(a, country="GR", tax_id="094259216")
    assert p["tax_id"] == "094259216"
    res = a.post_json("/api/v1/persons", {"last_name": "X", "country": "GR",
                                          "tax_id": "094259217"}, status=400)
    assert "tax_id" in error_fields(res)


def test_defaults_salutation_language_and_calendar(api):
    a = api("manager")
    p = new_person(a, first_name="Γιώργος", last_name="Παπαδόπουλος", gender="male",
                   country="GR")
    assert p["salutation"] == "Αγαπητέ κύριε Παπαδόπουλε"
    assert (p["language"], p["name_day_calendar"]) == ("el", "el")
    p = new_person(a, first_name="Ioana", last_name="Stănescu", gender="female",
                   country="RO")
    assert p["salutation"] == "Stimată doamnă Stănescu"
    p = new_person(a, first_name="Emma", last_name="Smith", gender="female", country="GB",
                   salutation="Dear Emma")
    assert p["salutation"] == "Dear Emma"
    assert p["name_day_calendar"] is None


def test_photo_marital_status_and_roles(api):
    a = api("manager")
    p = new_person(a, marital_status="married", roles=["customer", "prospect"])
    assert p["marital_status"] == "married" and p["roles"] == ["customer", "prospect"]
    res = a.post_json("/api/v1/persons", {"last_name": "X", "marital_status": "maybe"},
                      status=400)
    assert "marital_status" in error_fields(res)


def test_affiliations_and_employment_history(api):
    a = api("manager")
    first = new_account(a, name="First Ltd")
    second = new_account(a, name="Second Ltd")
    other = new_account(a, name="Client Ltd")
    p = new_person(a, account_id=first["id"], job_title="Accountant")
    affs = a.get("/api/v1/affiliations", {"person_id": p["id"]}).json["items"]
    assert [(x["account_id"], x["role"], x["is_primary"], x["end_date"]) for x in affs] == [
        (first["id"], "Accountant", True, None)]
    # An accountant serving another firm too (CON-04).
    a.post_json("/api/v1/affiliations", {"person_id": p["id"], "account_id": other["id"],
                                         "role": "External accountant"})
    # A job change ends the first affiliation: the employment history (CON-16).
    a.patch_json(f"/api/v1/persons/{p['id']}", {"account_id": second["id"]})
    affs = a.get("/api/v1/affiliations", {"person_id": p["id"]}).json["items"]
    by_account = {x["account_id"]: x for x in affs}
    assert by_account[first["id"]]["end_date"] == dt.date.today().isoformat()
    assert by_account[first["id"]]["is_primary"] is False
    assert by_account[second["id"]]["is_primary"] is True
    assert by_account[second["id"]]["end_date"] is None
    assert by_account[other["id"]]["role"] == "External accountant"
    res = a.post_json("/api/v1/affiliations", {
        "person_id": p["id"], "account_id": other["id"], "start_date": "2020-01-02",
        "end_date": "2020-01-01"}, status=400)
    assert "end_date" in error_fields(res)


def test_addresses_and_installed_base_need_one_party(api):
    a = api("manager")
    acc = new_account(a, name="Owner")
    p = new_person(a)
    addr = a.post_json("/api/v1/addresses", {"account_id": acc["id"], "kind": "branch",
                                             "street": "ul. Długa 5", "city": "Gdańsk",
                                             "country": "pl"}).json
    assert addr["country"] == "PL"
    res = a.post_json("/api/v1/addresses", {"account_id": acc["id"], "person_id": p["id"],
                                            "city": "X"}, status=400)
    assert error_fields(res)
    item = a.post_json("/api/v1/installed-products", {
        "account_id": acc["id"], "product": "Fiscal cash register", "quantity": 2,
        "purchased_on": "2024-03-01", "serial_number": "FCR-1"}).json
    assert item["active"] is True and item["quantity"] == 2
    res = a.post_json("/api/v1/installed-products", {"product": "X"}, status=400)
    assert error_fields(res)

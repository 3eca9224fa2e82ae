"""Accounts through the REST API: tax numbers per country, roles, hierarchy, CON-15."""

from contacts_helpers import error_fields, new_account


def test_invalid_vat_is_a_400_naming_vat_number(api):
    a = api("manager")
    res = a.post_json(
        "/api/v1/accounts", {"name": "Bad VAT", "country": "GR", "vat_number": "094259217"},
        status=400,
    )
    assert res.json["status"] == 400
    assert "vat_number" in error_fields(res)
    assert a.get("/api/v1/accounts").json["items"] == []


def test_valid_afm_nip_cui_are_accepted_and_normalised(api):
    a = api("manager")
    gr = new_account(a, name="Αιγαίο Α.Ε.", country="GR", vat_number="094259216")
    assert gr["vat_number"] == "EL094259216"
    pl = new_account(a, name="Wisła sp. z o.o.", country="PL", vat_number="526-025-02-74",
                     company_id="192598184")
    assert pl["vat_number"] == "PL5260250274"
    assert pl["company_id"] == "192598184"
    ro = new_account(a, name="Carpați S.R.L.", country="ro", vat_number="RO 18547290")
    assert (ro["vat_number"], ro["country"]) == ("RO18547290", "RO")


def test_vat_prefix_gives_the_country(api):
    acc = new_account(api("manager"), name="Delta", vat_number="EL 094259216")
    assert (acc["vat_number"], acc["country"]) == ("EL094259216", "GR")


def test_vat_without_country_or_prefix_is_refused(api):
    res = api("manager").post_json(
        "/api/v1/accounts", {"name": "X", "vat_number": "094259216"}, status=400
    )
    assert "vat_number" in error_fields(res)


def test_invalid_company_id_and_country(api):
    a = api("manager")
    res = a.post_json(
        "/api/v1/accounts", {"name": "X", "country": "PL", "company_id": "192598185"},
        status=400,
    )
    assert "company_id" in error_fields(res)
    res = a.post_json("/api/v1/accounts", {"name": "X", "country": "XY"}, status=400)
    assert "country" in error_fields(res)


def test_patching_an_invalid_vat_is_refused(api):
    a = api("manager")
    acc = new_account(a, name="Delta", country="GR", vat_number="094259216")
    res = a.patch_json(f"/api/v1/accounts/{acc['id']}", {"vat_number": "123456789"},
                       status=400)
    assert "vat_number" in error_fields(res)
    assert a.get(f"/api/v1/accounts/{acc['id']}").json["vat_number"] == "EL094259216"


def test_roles_payment_terms_discount_and_satisfaction(api):
    a = api("manager")
    acc = new_account(a, name="Tatry", roles=["supplier", "customer"], payment_terms=30,
                      discount_level="7.5", satisfaction_level=4, source="trade_show")
    assert acc["roles"] == ["customer", "supplier"]
    assert (acc["payment_terms"], acc["discount_level"], acc["satisfaction_level"]) == (
        30, "7.50", 4)
    res = a.post_json("/api/v1/accounts", {"name": "X", "satisfaction_level": 6}, status=400)
    assert "satisfaction_level" in error_fields(res)
    res = a.post_json("/api/v1/accounts", {"name": "X", "roles": ["boss"]}, status=400)
    assert "roles" in error_fields(res)
    res = a.post_json("/api/v1/accounts", {"name": "X", "source": "tv"}, status=400)
    assert "source" in error_fields(res)


def test_hierarchy_cycles_are_refused(api):
    a = api("manager")
    holding = new_account(a, name="Holding")
    sub = new_account(a, name="Subsidiary", parent_id=holding["id"])
    branch = new_account(a, name="Subsidiary – Kraków", parent_id=sub["id"], is_branch=True)
    res = a.patch_json(f"/api/v1/accounts/{holding['id']}", {"parent_id": branch["id"]},
                       status=400)
    assert "parent_id" in error_fields(res)
    res = a.patch_json(f"/api/v1/accounts/{sub['id']}", {"parent_id": sub["id"]}, status=400)
    assert "parent_id" in error_fields(res)
    children = a.get("/api/v1/accounts", {"parent_id": holding["id"]}).json["items"]
    assert [c["name"] for c in children] == ["Subsidiary"]


def test_partner_channel(api):
    a = api("manager")
    partner = new_account(a, name="Reseller", roles=["partner"])
    customer = new_account(a, name="Customer", partner_id=partner["id"], invoice_partner=True)
    assert (customer["partner_id"], customer["invoice_partner"]) == (partner["id"], True)
    res = a.patch_json(f"/api/v1/accounts/{partner['id']}", {"partner_id": partner["id"]},
                       status=400)
    assert "partner_id" in error_fields(res)
    handled = a.get("/api/v1/accounts", {"partner_id": partner["id"]}).json["items"]
    assert [x["name"] for x in handled] == ["Customer"]


def test_phone_normalised_in_the_accounts_country(api):
    acc = new_account(api("manager"), name="Ερμής", country="GR", phone="210 123 4567")
    assert acc["phone"] == "+302101234567"


def test_sales_role_can_create_but_not_delete(api):
    a = api("sales")
    acc = new_account(a, name="Mine")
    a.delete(f"/api/v1/accounts/{acc['id']}", status=403)


def test_roles_are_filterable(api):
    a = api("manager")
    new_account(a, name="Both", roles=["customer", "partner"])
    new_account(a, name="Supplier", roles=["supplier"])
    new_account(a, name="Prospect", roles=["prospect"])
    got = a.get("/api/v1/accounts", {"roles__contains": "partner"}).json["items"]
    assert [x["name"] for x in got] == ["Both"]
    got = a.get("/api/v1/accounts", {"roles__in": "supplier,prospect", "sort": "name"}).json
    assert [x["name"] for x in got["items"]] == ["Prospect", "Supplier"]

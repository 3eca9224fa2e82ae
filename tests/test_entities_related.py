"""The registry over a real plugin's types (contacts: accounts and people): filters on
a related entity's fields, references checked against visible records, multichoice."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


@pytest.fixture
def people(api):
    admin = api("admin")
    gr = admin.post_json(
        "/api/v1/accounts", {"name": "Athena SA", "country": "GR", "city": "Athens"}, status=201
    ).json
    ro = admin.post_json(
        "/api/v1/accounts", {"name": "Carpati SRL", "country": "RO", "city": "Cluj"}, status=201
    ).json
    for first, last, acc in (
        ("Eleni", "Papadopoulou", gr),
        ("Nikos", "Georgiou", gr),
        ("Ana", "Popescu", ro),
        ("Free", "Lancer", None),
    ):
        admin.post_json(
            "/api/v1/persons",
            {"first_name": first, "last_name": last, "account_id": acc and acc["id"]},
            status=201,
        )
    return admin, gr, ro


def last_names(res):
    return sorted(p["last_name"] for p in res.json["items"])


def test_filter_on_a_related_entity(people):
    admin, gr, ro = people
    assert last_names(admin.get("/api/v1/persons?account.country=GR")) == [
        "Georgiou",
        "Papadopoulou",
    ]
    assert last_names(admin.get("/api/v1/persons?account.city__in=Cluj,Nowhere")) == ["Popescu"]
    assert last_names(admin.get("/api/v1/persons?account.country__ne=GR")) == ["Popescu"]
    assert last_names(admin.get(f"/api/v1/persons?account_id={gr['id']}&sort=last_name")) == [
        "Georgiou",
        "Papadopoulou",
    ]
    # only declared paths: other fields of the account, or other relations, are refused
    for bad in ("account.vat_number=1", "account.owner.email=x", "owner.email=x"):
        res = admin.get(f"/api/v1/persons?{bad}", status=400)
        assert res.json["errors"][0]["field"] == bad.split("=")[0]


def test_reference_to_a_missing_record_is_refused(people):
    admin, _gr, _ro = people
    res = admin.post_json("/api/v1/persons", {"last_name": "X", "account_id": 99999}, status=400)
    assert [e["field"] for e in res.json["errors"]] == ["account_id"]


def test_multichoice_filter(people):
    admin, gr, ro = people
    admin.patch_json(f"/api/v1/accounts/{gr['id']}", {"roles": ["customer", "supplier"]})
    admin.patch_json(f"/api/v1/accounts/{ro['id']}", {"roles": ["supplier"]})
    names = lambda q: sorted(a["name"] for a in admin.get(f"/api/v1/accounts?{q}").json["items"])  # noqa: E731
    assert names("roles__contains=customer") == ["Athena SA"]
    assert names("roles__in=customer,supplier") == ["Athena SA", "Carpati SRL"]
    admin.get("/api/v1/accounts?roles__contains=bogus", status=400)

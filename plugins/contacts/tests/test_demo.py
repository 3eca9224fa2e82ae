"""Demo data: realistic, valid, consistent and the same for the same seed."""

from kyklos_contacts.domain.phones import normalize_phone
from kyklos_contacts.domain.taxids import (
    validate_company_id,
    validate_personal_id,
    validate_vat,
)
from kyklos_contacts.models import (
    Account,
    Affiliation,
    Consent,
    Person,
    PersonEmail,
    PersonPhone,
    Relationship,
)
from sqlalchemy import func, select

from kyklos_sdk.testing import empty_database, run_cli, write_ini

SIZE = 80


def snapshot(db):
    people = db.execute(
        select(Person.id, Person.first_name, Person.last_name, Person.email, Person.phone,
               Person.birth_date, Person.personal_id, Person.account_id, Person.owner_id)
        .order_by(Person.id)
    ).all()
    accounts = db.execute(
        select(Account.id, Account.name, Account.vat_number, Account.parent_id,
               Account.partner_id, Account.roles).order_by(Account.id)
    ).all()
    rels = db.execute(
        select(Relationship.type_id, Relationship.from_person_id, Relationship.to_person_id,
               Relationship.to_account_id).order_by(Relationship.id)
    ).all()
    return [tuple(r) for r in people], [tuple(r) for r in accounts], [tuple(r) for r in rels]


def test_demo_data_is_valid_and_deterministic(registry, db_url, tmp_path, dbsession):
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    proc = run_cli("demo-data", ini, "--size", SIZE, "--seed", 7, check=True)
    assert "contacts:" in proc.stdout
    with dbsession() as db:
        first = snapshot(db)
        people, accounts, rels = first
        assert len(people) == SIZE and len(accounts) == SIZE // 4
        countries = set()
        for acc in db.execute(select(Account)).scalars():
            countries.add(acc.country)
            if acc.vat_number:
                assert validate_vat(acc.country, acc.vat_number) == acc.vat_number
            if acc.company_id:
                validate_company_id(acc.country, acc.company_id)
            assert normalize_phone(acc.phone) == acc.phone
            assert acc.email.endswith(".example.com")
        assert countries == {"GR", "RO", "PL", "GB"}
        scripts = "".join(p.first_name + p.last_name for p in db.execute(select(Person))
                          .scalars())
        assert any("α" <= ch <= "ω" for ch in scripts)  # Greek script
        assert any(ch in scripts for ch in "șțăâî")  # Romanian letters
        assert any(ch in scripts for ch in "ąćęłńóśźż")  # Polish letters
        for p in db.execute(select(Person)).scalars():
            assert p.phones and p.phones[0]["number"] == p.phone
            assert normalize_phone(p.phone) == p.phone
            assert p.emails[0]["email"] == p.email
            if p.personal_id:
                assert validate_personal_id(p.country, p.personal_id) == p.personal_id
            assert p.birth_md == p.birth_date.month * 100 + p.birth_date.day
            assert p.owner_id is not None and p.salutation
        owners = set(db.execute(select(Person.owner_id).distinct()).scalars())
        assert len(owners) >= 3  # spread over the demo users
        primary = db.execute(
            select(func.count()).select_from(Affiliation).where(Affiliation.is_primary)
        ).scalar_one()
        assert primary == db.execute(
            select(func.count()).select_from(Person).where(Person.account_id.is_not(None))
        ).scalar_one()
        assert db.execute(select(func.count()).select_from(Consent)).scalar_one() > SIZE // 2
        assert rels
        assert db.execute(select(func.count()).select_from(PersonPhone)).scalar_one() >= SIZE
        assert db.execute(select(func.count()).select_from(PersonEmail)).scalar_one() >= SIZE
    # A second run on a filled database adds nothing.
    proc = run_cli("demo-data", ini, "--size", SIZE, "--seed", 7, check=True)
    assert "skipped" in proc.stdout
    with dbsession() as db:
        assert snapshot(db) == first
    # Same seed on an empty database: the same data.
    empty_database(registry)
    run_cli("demo-data", ini, "--size", SIZE, "--seed", 7, check=True)
    with dbsession() as db:
        assert snapshot(db) == first
    # The demo data works through the API like any other.


def test_demo_data_through_the_app(registry, db_url, tmp_path, api):
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    run_cli("demo-data", ini, "--size", 40, check=True)
    a = api("manager")
    items = a.get("/api/v1/persons", {"limit": 50}).json["items"]
    assert len(items) == 40
    pid = items[0]["id"]
    a.get(f"/api/v1/persons/{pid}/relationships")
    # A new record after the bulk load gets a fresh id (sequences moved past the load).
    new = a.post_json("/api/v1/persons", {"last_name": "After"}).json
    assert new["id"] > max(i["id"] for i in items)
    acc = a.post_json("/api/v1/accounts", {"name": "After"}).json
    assert acc["id"] > 10

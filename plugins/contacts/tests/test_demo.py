"""Demo data: realistic, valid, consistent and the same for the same seed."""

from kyklos_contacts.demo.data import COUNTRIES, romanize
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

from kyklos_sdk import fold
from kyklos_sdk.testing import empty_database, run_cli, write_ini

SIZE = 80
PREFIX = {"GR": "+30", "RO": "+40", "PL": "+48", "GB": "+44"}


def snapshot(db):
    people = db.execute(
        select(
            Person.id,
            Person.first_name,
            Person.last_name,
            Person.email,
            Person.phone,
            Person.birth_date,
            Person.personal_id,
            Person.account_id,
            Person.owner_id,
        ).order_by(Person.id)
    ).all()
    accounts = db.execute(
        select(
            Account.id,
            Account.name,
            Account.vat_number,
            Account.parent_id,
            Account.partner_id,
            Account.roles,
        ).order_by(Account.id)
    ).all()
    rels = db.execute(
        select(
            Relationship.type_id,
            Relationship.from_person_id,
            Relationship.to_person_id,
            Relationship.to_account_id,
        ).order_by(Relationship.id)
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
            # Reserved for examples (RFC 2606): a demo database never mails a real firm.
            assert acc.email.endswith(".example")
        assert countries == {"GR", "RO", "PL", "GB"}
        scripts = "".join(p.first_name + p.last_name for p in db.execute(select(Person)).scalars())
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
        assert (
            primary
            == db.execute(
                select(func.count()).select_from(Person).where(Person.account_id.is_not(None))
            ).scalar_one()
        )
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


def test_romanisation_is_elot_743():
    assert romanize("Καραγιάννης") == "Karagiannis"  # not "Karaianis"
    assert romanize("Ευάγγελος Παπαδοπούλου") == "Evangelos Papadopoulou"
    assert romanize("Σταύρος Ευθύμιος Μπάμπης Ντίνος") == "Stavros Efthymios Bampis Dinos"
    assert romanize("Łukasz Wiśniewski Ștefan Țărănu") == "Lukasz Wisniewski Stefan Taranu"


def test_names_addresses_and_companies_match(registry, db_url, tmp_path, dbsession):
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    run_cli("demo-data", ini, "--size", 120, "--seed", 5, check=True)
    with dbsession() as db:
        accounts = {a.id: a for a in db.execute(select(Account)).scalars()}
        for acc in accounts.values():
            # The company's domain is its name (without the legal form), in Latin letters.
            domain = acc.email.split("@")[1].removesuffix(".example")
            words = fold(acc.name).split()
            assert all(fold(w) in words for w in domain.split("-")), (acc.name, acc.email)
            assert acc.phone.startswith(PREFIX[acc.country])
        for p in db.execute(select(Person)).scalars():
            local, domain = p.email.split("@")
            assert local.isascii() and local == local.lower()
            # The local part is the person's own name, transliterated: the core's
            # cross-script matching key of each part is the name's.
            parts = local.rstrip("0123456789").split(".")
            assert fold(parts[-1]) == fold(p.last_name), (p.last_name, p.email)
            assert fold(parts[0]) == fold(p.first_name) or (
                len(parts[0]) == 1 and fold(p.first_name).startswith(parts[0])
            ), p.email
            assert p.phone.startswith(PREFIX[p.country])
            if p.account_id is not None:
                account = accounts[p.account_id]
                assert p.country == account.country and p.city == account.city
                assert domain == account.email.split("@")[1]
                # No "Eleni Lewandowski": first and last name of one country.
            pack = COUNTRIES[p.country]
            assert p.first_name in pack["first_m"] + pack["first_f"] or p.first_name in {
                romanize(n) for n in pack["first_m"] + pack["first_f"]
            }
            assert p.last_name in pack["surnames_m"] + pack["surnames_f"] or p.last_name in {
                romanize(n) for n in pack["surnames_m"] + pack["surnames_f"]
            }

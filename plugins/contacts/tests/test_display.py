"""People and accounts read as a person would (issue 16, points 3 and 4): typed phones,
e-mails and addresses as words, roles and countries as translated names, history as
sentences with the referenced records' titles, relationship words in the person's
gender, per-language titles of lookup values through the API and the forms."""

from __future__ import annotations

import re

import pytest
import webtest
from contacts_helpers import new_account, new_person, type_id

from kyklos_sdk.testing import PASSWORD


@pytest.fixture
def person_client(kyklos_app, make_user, login):
    """A signed-in browser session of a user with ``roles``, ``locale`` and ``name``."""

    def make(roles=("manager",), locale="en", name="", email=None):
        email = email or f"{(name or 'user').lower()}.{locale}.{id(roles)}@example.com"
        uid = make_user(email=email, roles=roles, locale=locale, name=name)
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        login(app, email, PASSWORD)
        app.email, app.uid = email, uid
        return app

    return make


def _details(page) -> str:
    """The text of the Details card (fields only), tags dropped."""
    html = page.text
    start = html.index('id="k-fields-h"')
    end = html.index("</dl>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start:end]))


def _timeline(page) -> str:
    html = page.text
    start = html.index('id="k-tl-h"')
    end = html.index("</ol>", start)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html[start:end]))


def test_person_page_in_greek_has_no_json_and_no_english_values(api, person_client):
    a = api("manager")
    acc = new_account(a, name="Αφοί Καραγιάννη ΟΕ", country="GR")
    p = new_person(
        a,
        first_name="Ελένη",
        last_name="Καραγιάννη",
        gender="female",
        country="GR",
        account_id=acc["id"],
        roles=["customer", "supplier"],
        phones=[
            {"type": "work", "number": "+302101234567", "primary": False},
            {"type": "mobile", "number": "+306971234567", "primary": True},
        ],
        emails=[{"type": "work", "email": "eleni@karagianni.gr", "primary": True}],
    )
    page = person_client(locale="el").get(f"/persons/{p['id']}")
    details = _details(page)
    # phones formatted, primary first, with translated type words and badge
    assert "+30 697 123 4567 κινητό κύριο" in details
    assert "+30 21 0123 4567 εργασίας" in details
    assert 'href="tel:+306971234567"' in page.text
    assert "eleni@karagianni.gr εργασίας κύριο" in details
    # lists and codes as words; the account as a link with its title
    assert "Πελάτης, Προμηθευτής" in details
    assert "Ελλάδα" in details and " GR " not in details
    assert f'href="http://localhost/accounts/{acc["id"]}">Αφοί Καραγιάννη ΟΕ</a>' in page.text
    # no JSON, no Python repr, no English seeded word anywhere in the fields
    for bad in ('"number"', "[{", "{'", "True", "False", "customer", "Customer", "mobile"):
        assert bad not in details, bad


def test_history_reads_as_sentences_with_titles(api, person_client, make_user):
    maria = make_user(email="maria.h@example.com", name="Maria Papadopoulou", roles=("manager",))
    andrei = make_user(email="andrei.h@example.com", name="Andrei Popescu", roles=("manager",))
    giorgos = person_client(name="Giorgos")
    a = api("manager")
    acc = new_account(a, name="Olympus Foods SA")
    p = new_person(a, owner_id=maria)
    # Giorgos changes the owner on the edit form
    form = giorgos.get(f"/persons/{p['id']}/edit").forms["k-record-form"]
    form["owner_id"] = str(andrei)
    assert form.submit("save").status_int == 303
    a.patch_json(
        f"/api/v1/persons/{p['id']}", {"roles": ["customer", "supplier"], "account_id": acc["id"]}
    )
    page = giorgos.get(f"/persons/{p['id']}")
    tl = _timeline(page)
    assert "Giorgos changed Owner from Maria Papadopoulou to Andrei Popescu" in tl
    # several fields in one change: one line each, reference titles as links
    assert "Roles: Customer, Supplier" in tl
    assert "Account: Olympus Foods SA" in tl
    assert f'href="http://localhost/accounts/{acc["id"]}">Olympus Foods SA</a>' in page.text
    assert "→ 3" not in tl and "[]" not in tl and "—  →" not in tl


def test_history_references_are_loaded_in_one_query_per_type(api, person_client, query_counter):
    a = api("manager")
    accounts = [new_account(a, name=f"Firm {i}")["id"] for i in range(6)]
    p = new_person(a)
    for acc in accounts:
        a.patch_json(f"/api/v1/persons/{p['id']}", {"account_id": acc})
    viewer = person_client()
    viewer.get(f"/persons/{p['id']}")  # warm caches (catalogs, plugins)
    with query_counter() as few:
        page = viewer.get(f"/persons/{p['id']}")
    for i in range(6):
        assert f"Firm {i}" in _timeline(page)
    account_queries = [
        s for s in few.statements if "FROM contacts_account" in s and "contacts_account.id IN" in s
    ]
    # the field cell and the whole timeline: not one query per history row
    assert len(account_queries) <= 3, account_queries


@pytest.mark.parametrize(
    ("locale", "daughter", "son"),
    [
        ("en", "daughter of", "son of"),
        ("el", "κόρη του/της", "γιος του/της"),
        ("ro", "fiica lui", "fiul lui"),
        ("pl", "córka", "syn"),
    ],
)
def test_inverse_relationship_follows_the_persons_gender(
    api, person_client, rel_types, locale, daughter, son
):
    a = api("manager")
    nikos = new_person(a, first_name="Nikos", last_name="Pappas", gender="male")
    maria = new_person(a, first_name="Maria", last_name="Pappa", gender="female")
    kostas = new_person(a, first_name="Kostas", last_name="Pappas", gender="male")
    father = type_id(a, "father")
    for child in (maria, kostas):
        a.post_json(
            "/api/v1/relationships",
            {"type_id": father, "from_person_id": nikos["id"], "to_person_id": child["id"]},
        )
    c = person_client(locale=locale)
    maria_page = c.get(f"/persons/{maria['id']}").text
    kostas_page = c.get(f"/persons/{kostas['id']}").text
    label = re.compile(r'k-relationship-label">([^<]*)<')
    assert label.findall(maria_page) == [daughter]
    assert label.findall(kostas_page) == [son]


def test_spouse_and_parent_words_follow_gender(api, person_client, rel_types):
    a = api("manager")
    eleni = new_person(a, first_name="Eleni", gender="female")
    petros = new_person(a, first_name="Petros", gender="male")
    alex = new_person(a, first_name="Alex")  # gender not given: the neutral word
    a.post_json(
        "/api/v1/relationships",
        {
            "type_id": type_id(a, "spouse"),
            "from_person_id": eleni["id"],
            "to_person_id": petros["id"],
        },
    )
    a.post_json(
        "/api/v1/relationships",
        {
            "type_id": type_id(a, "parent"),
            "from_person_id": eleni["id"],
            "to_person_id": alex["id"],
        },
    )
    c = person_client()
    label = re.compile(r'k-relationship-label">([^<]*)<')
    assert sorted(label.findall(c.get(f"/persons/{eleni['id']}").text)) == ["mother of", "wife of"]
    assert label.findall(c.get(f"/persons/{petros['id']}").text) == ["husband of"]
    assert label.findall(c.get(f"/persons/{alex['id']}").text) == ["child of"]
    # the form that adds a relationship offers the words of the person's gender
    form = c.get(f"/contacts/person/{eleni['id']}/relationships/new", {"q": "Petros"}).text
    options = re.findall(r'<option value="\d+:(?:fwd|rev)"[^>]*>([^<]*)<', form)
    assert "mother of" in options and "daughter of" in options and "wife of" in options
    assert "son of" not in options and "husband of" not in options


def test_title_translations_round_trip_through_the_api(api, person_client, rel_types):
    admin = api("admin")
    body = {
        "code": "godparent",
        "name": "godparent of",
        "inverse_name": "godchild of",
        "title_translations": {"el": "νονός/νονά του/της", "pl": "rodzic chrzestny"},
    }
    rt = admin.post_json("/api/v1/relationship-types", body).json
    assert rt["title_translations"] == {"el": "νονός/νονά του/της", "pl": "rodzic chrzestny"}
    got = admin.get(f"/api/v1/relationship-types/{rt['id']}").json
    assert got["title_translations"] == rt["title_translations"]
    patched = admin.patch_json(
        f"/api/v1/relationship-types/{rt['id']}",
        {"title_translations": {"el": "ανάδοχος του/της", "ro": "naș al lui", "pl": ""}},
    ).json
    assert patched["title_translations"] == {"el": "ανάδοχος του/της", "ro": "naș al lui"}
    # an unknown language is refused with a message on the field
    bad = admin.patch_json(
        f"/api/v1/relationship-types/{rt['id']}", {"title_translations": {"xx": "?"}}, status=400
    )
    assert "title_translations" in bad.text
    # the API document describes the field
    doc = admin.get("/api/openapi.json").json
    schemas = doc["components"]["schemas"]
    props = next(
        s["properties"]
        for n, s in schemas.items()
        if "title_translations" in s.get("properties", {})
    )
    assert "el" in props["title_translations"].get("description", "")
    # a Greek user sees the Greek title where the type is shown; English the stored one
    el = person_client(locale="el")
    assert "ανάδοχος του/της" in el.get(f"/relationship-types/{rt['id']}").text
    assert "ανάδοχος του/της" in el.get("/relationship-types/").text
    en = person_client(locale="en")
    assert "godparent of" in en.get("/relationship-types/").text


def test_title_translations_on_the_lookup_form(api, person_client, rel_types):
    admin_web = person_client(roles=("admin",), locale="el")
    rid = rel_types["partner"]
    form = admin_web.get(f"/relationship-types/{rid}/edit").forms["k-record-form"]
    page = admin_web.get(f"/relationship-types/{rid}/edit").text
    assert "Τίτλος (Ελληνικά)" in page and "Tytuł" not in page
    form["el"] = "συνεργάτης (δικός μας)"
    assert form.submit("save").status_int == 303
    got = api("admin").get(f"/api/v1/relationship-types/{rid}").json
    assert got["title_translations"] == {"el": "συνεργάτης (δικός μας)"}
    # the edit form shows it back, and the Greek list uses it
    assert (
        admin_web.get(f"/relationship-types/{rid}/edit").forms["k-record-form"]["el"].value
        == "συνεργάτης (δικός μας)"
    )


def test_human_export_reads_like_the_page(api, person_client, make_user):
    a = api("manager")
    acc = new_account(a, name="Kowalski Handel sp. z o.o.", country="PL")
    p = new_person(
        a,
        first_name="Jan",
        last_name="Kowalski",
        country="PL",
        account_id=acc["id"],
        roles=["customer", "supplier"],
    )
    pl = person_client(locale="pl")
    cols = "first_name,account_id,roles,country,owner_id"
    human = pl.get(
        "/persons/_export", {"format": "csv", "variant": "human", "cols": cols, "id__eq": p["id"]}
    )
    rows = [line for line in human.text.lstrip("\ufeff").splitlines() if line]
    assert rows[1].startswith('Jan,Kowalski Handel sp. z o.o.,"Klient, Dostawca",Polska,')
    assert str(acc["id"]) not in rows[1].split(",")
    # the data variant (the default) stays what an import reads back
    data = pl.get("/persons/_export", {"format": "csv", "cols": cols, "id__eq": p["id"]})
    line = [x for x in data.text.lstrip("\ufeff").splitlines() if x][1]
    assert line.startswith(f'Jan,{acc["id"]},"customer, supplier",PL,')

"""Global search over the real plugins: a name is found in Greek or Latin letters
("Karagiannis" finds "Καραγιάννης" and the other way round), "Nowak" finds Nowak, a quote
number finds the quote; results carry the second line (a person's account) and the
entity type in the user's language; bulk-loaded people get their duplicate keys.
Run on both databases with ``TEST_DATABASE_URL=postgresql+psycopg:///test``."""

from __future__ import annotations

import pytest

from kyklos_sdk.testing import run_cli, write_ini


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def groups(app, q) -> dict[str, list[dict]]:
    res = app.get("/api/v1/_search", {"q": q})
    return {g["type"]: g["items"] for g in res.json["groups"]}


def titles(app, q, type_) -> list[str]:
    return [i["title"] for i in groups(app, q).get(type_, [])]


def test_names_across_scripts_numbers_and_second_lines(api, registry, dbsession):
    from kyklos_sdk import bulk_insert

    admin = api("admin")
    acc = admin.post_json(
        "/api/v1/accounts", {"name": "Kritiki Marine S.A.", "country": "GR"}, status=201
    ).json["id"]
    greek = admin.post_json(
        "/api/v1/persons", {"first_name": "Θοδωρής", "last_name": "Καραγιάννης", "account_id": acc}
    ).json["id"]
    latin = admin.post_json(
        "/api/v1/persons?duplicates=allow", {"first_name": "Ilias", "last_name": "Karagiannis"}
    ).json["id"]
    # a person bulk-loaded straight into the table (COPY on PostgreSQL), no service
    person_table = registry.kyklos_entities["person"].model.__table__
    with dbsession() as db:
        bulk_insert(
            db,
            person_table,
            [
                {"first_name": "Zofia", "last_name": "Nowak", "account_id": acc},
                *(
                    {"first_name": f"Filler{n}", "last_name": "Lewandowski", "account_id": None}
                    for n in range(20)
                ),
            ],
        )
    quote = admin.post_json(
        "/api/v1/quotes",
        {"title": "Hull sensors", "currency": "EUR", "account_id": acc},
        status=201,
    ).json

    for q in ("Karagiannis", "Καραγιάννης", "karagiannis", "ΚΑΡΑΓΙΆΝΝΗΣ"):
        assert sorted(titles(admin, q, "person")) == ["Ilias Karagiannis", "Θοδωρής Καραγιάννης"], q
    hit = next(i for i in groups(admin, "Καραγιάννης")["person"] if i["id"] == greek)
    assert hit["subtitle"] == "Kritiki Marine S.A."
    assert (
        next(i for i in groups(admin, "Karagiannis")["person"] if i["id"] == latin)["subtitle"]
        == ""
    )
    assert titles(admin, "Nowak", "person") == ["Zofia Nowak"]
    nowak = groups(admin, "Nowak")["person"][0]
    assert nowak["subtitle"] == "Kritiki Marine S.A."
    number = quote["number"]
    assert number and [i["id"] for i in groups(admin, number)["quote"]] == [quote["id"]]
    assert quote["id"] in [i["id"] for i in groups(admin, number.split("-")[-1])["quote"]]

    # the bulk-loaded person has duplicate keys: the API warns about a second Zofia Nowak
    res = admin.post_json(
        "/api/v1/persons", {"first_name": "Zofia", "last_name": "NOWAK"}, status=409
    )
    assert "Zofia Nowak" in str(res.json)


def test_results_page_in_greek(client, api):
    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Αιγαίο Ναυτιλιακή Α.Ε."}, status=201).json[
        "id"
    ]
    admin.post_json(
        "/api/v1/persons",
        {"first_name": "Νίκος", "last_name": "Καραγιάννης", "account_id": acc},
        status=201,
    )
    app = client("admin")
    app.set_cookie("_LOCALE_", "el")
    page = app.get("/search", {"q": "Karagiannis"})
    [hit] = page.html.select("#k-search-person .k-search-hit")
    assert hit.select_one("a").get_text(strip=True) == "Νίκος Καραγιάννης"
    assert hit.select_one(".k-search-subtitle").get_text(strip=True) == "Αιγαίο Ναυτιλιακή Α.Ε."
    assert hit.select_one(".k-search-type").get_text(strip=True) == "Πρόσωπο"


def test_demo_data_is_searchable(tmp_path, db_kind):
    """The reproduction of the report: demo data written in bulk was not in the index."""
    if db_kind != "sqlite":
        pytest.skip("the CLI run uses a file database of its own")
    from sqlalchemy import create_engine, text

    ini = write_ini(tmp_path, "contacts, activities, catalog, sfa")
    run_cli(
        "init",
        ini,
        "--admin-email",
        "boss@example.com",
        "--admin-password",
        "correct horse battery",
        check=True,
    )
    proc = run_cli("demo-data", ini, "--size", "20", check=True)
    assert "added to the search index" in proc.stdout
    engine = create_engine(f"sqlite:///{tmp_path}/kyklos.sqlite")
    with engine.begin() as conn:
        last = conn.execute(text("SELECT last_name FROM contacts_person LIMIT 1")).scalar()
        n = conn.execute(
            text("SELECT count(*) FROM kyklos_search WHERE entity = 'person' AND title LIKE :p"),
            {"p": f"%{last}%"},
        ).scalar()
        people = conn.execute(text("SELECT count(*) FROM contacts_person")).scalar()
        indexed = conn.execute(
            text("SELECT count(*) FROM kyklos_search WHERE entity = 'person'")
        ).scalar()
        keys = conn.execute(
            text(
                "SELECT count(DISTINCT record_id) FROM kyklos_duplicate_key WHERE entity = 'person'"
            )
        ).scalar()
    engine.dispose()
    assert n >= 1 and indexed == people and keys == people


def test_second_lines_come_with_the_hits(api, registry):
    """The hits' second lines are read by the search statement itself (a column per
    hit), plus one query per referenced type for all the types with hits - not the
    hit records of each type (and their eager collections) one query after another."""
    from sqlalchemy import event

    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Quillfern Holdings"}, status=201).json
    other = admin.post_json("/api/v1/accounts", {"name": "Brackmoor Ltd"}, status=201).json
    with_acc = admin.post_json(
        "/api/v1/persons", {"first_name": "Ada", "last_name": "Quillfern", "account_id": acc["id"]}
    ).json["id"]
    with_other = admin.post_json(
        "/api/v1/persons?duplicates=allow",
        {"first_name": "Bo", "last_name": "Quillfern", "account_id": other["id"]},
    ).json["id"]
    alone = admin.post_json(
        "/api/v1/persons?duplicates=allow", {"first_name": "Cy", "last_name": "Quillfern"}
    ).json["id"]
    product = admin.post_json(
        "/api/v1/products", {"name": "Quillfern valve", "sku": "QV-0042"}, status=201
    ).json["id"]
    quote = admin.post_json(
        "/api/v1/quotes",
        {"title": "Quillfern refit", "currency": "EUR", "account_id": other["id"]},
        status=201,
    ).json["id"]
    tables = {
        et.name: et.model.__table__.name
        for et in registry.kyklos_entities.values()
        if et.name in ("person", "account", "product", "quote")
    }
    engine = registry["dbengine"]
    seen: list[str] = []

    def before(conn, cursor, statement, *_a):
        seen.append(statement)

    groups(admin, "Quillfern")  # warm: the user's caches
    event.listen(engine, "before_cursor_execute", before)
    try:
        found = groups(admin, "Quillfern")
    finally:
        event.remove(engine, "before_cursor_execute", before)
    subs = {(t, i["id"]): i["subtitle"] for t, items in found.items() for i in items}
    assert subs[("person", with_acc)] == "Quillfern Holdings"
    assert subs[("person", with_other)] == "Brackmoor Ltd"
    assert subs[("person", alone)] == ""
    assert subs[("product", product)] == "QV-0042"
    assert subs[("quote", quote)] == "Brackmoor Ltd"
    searches = [s for s in seen if "kyklos_search" in s]
    assert len(searches) == 1
    rest = [s for s in seen if "kyklos_search" not in s and s.lstrip().upper().startswith("SELECT")]
    # the accounts' names for the people and the quote: one statement for both types
    from_accounts = [s for s in rest if f"FROM {tables['account']}" in s]
    assert len(from_accounts) == 1
    for name in ("person", "product", "quote"):
        read = [s for s in rest if f"FROM {tables[name]}" in s]
        if name == "product":
            # a product's names in other languages, for the reader's title: that
            # column only, never the record whole
            read = [s for s in read if "name_translations \nFROM" not in s]
        assert not read, name


def test_fold_keys_memo_keeps_the_keys():
    """The words' keys are remembered (an import repeats names): the second call gives
    the same keys as the first, each once, digits and self-folding words left out."""
    from kyklos.entities.search import fold_keys
    from kyklos.text import fold

    text = "Γιώργος 12345 Anna iorgos Γιώργος Ñandú ΓΙΏΡΓΟΣ"
    first = fold_keys(text)
    assert fold_keys(text) == first
    assert fold("iorgos") == "iorgos"  # a word that is its own key gives none
    assert first.split() == [fold("γιώργος"), fold("anna"), fold("ñandú")]

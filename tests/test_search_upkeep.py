"""The search index follows every write path, not only the entity service: rows a plugin
bulk-loads with ``kyklos_sdk.bulk_insert`` (COPY on PostgreSQL), records added with a
plain ORM session, the import pipeline and the API. ``kyklos search-index`` and the
administration page rebuild it. Run on both databases with
``TEST_DATABASE_URL=postgresql+psycopg:///test``."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import delete, func, select

from kyklos_sdk.testing import csrf_of, write_ini

from .cli_support import run


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def found(app, q, **params) -> list[str]:
    res = app.get("/api/v1/_search", {"q": q, **params})
    return [i["title"] for g in res.json["groups"] for i in g["items"]]


def _thing_table(registry):
    return registry.kyklos_entities["thing"].model.__table__


def test_bulk_insert_without_ids_is_indexed(api, registry, dbsession):
    from kyklos_sdk import bulk_insert

    # Enough rows for COPY on PostgreSQL, written in a session without any request.
    rows = [{"name": f"Bulkloaded gadget {n:03d}", "size": n} for n in range(60)]
    with dbsession() as db:
        bulk_insert(db, _thing_table(registry), rows)
    reader = api("thingsreader")
    got = found(reader, "bulkloaded", type="thing", limit=100)
    assert len(got) == 60
    assert "Bulkloaded gadget 042" in found(reader, "gadget 042")


def test_bulk_insert_with_ids_and_orm_writes_are_indexed(api, registry, dbsession):
    from kyklos_sdk import bulk_insert

    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add(model(name="Hand-added widget"))
        db.flush()
        # ids given by the loader (far above the sequence, which they do not move)
        top = (db.execute(select(func.max(model.id))).scalar() or 0) + 100_000
        bulk_insert(
            db,
            _thing_table(registry),
            [
                {"id": top + 1, "name": "Copied sprocket"},
                {"id": top + 2, "name": "Copied flange"},
            ],
        )
    reader = api("thingsreader")
    assert found(reader, "copied") and sorted(found(reader, "copied")) == [
        "Copied flange",
        "Copied sprocket",
    ]
    assert found(reader, "widget") == ["Hand-added widget"]
    # a plain ORM update and delete keep it current as well
    with dbsession() as db:
        thing = db.execute(select(model).where(model.name == "Hand-added widget")).scalar_one()
        thing.name = "Hand-renamed gizmo"
    assert found(reader, "widget") == [] and found(reader, "gizmo") == ["Hand-renamed gizmo"]
    with dbsession() as db:
        db.delete(db.execute(select(model).where(model.name == "Copied flange")).scalar_one())
    assert found(reader, "copied") == ["Copied sprocket"]


def test_import_and_api_writes_are_found_on_the_page(api, client):
    ed = api("thingseditor")
    data = "name,size\nImported anvil,1\nImported bellows,2\n"
    opts = {"mapping": {"name": "name", "size": "size"}}
    res = ed.post(
        "/api/v1/things/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "t.csv", data.encode())],
        status=202,
    )
    assert ed.get(res.headers["Location"]).json["created"] == 2
    ed.post_json("/api/v1/things", {"name": "Posted anvil"}, status=201)
    assert sorted(found(ed, "anvil")) == ["Imported anvil", "Posted anvil"]
    page = client("thingsreader").get("/search", {"q": "anvil"})
    hits = page.html.select("#k-search-thing .k-search-hit")
    assert sorted(h.select_one("a").get_text(strip=True) for h in hits) == [
        "Imported anvil",
        "Posted anvil",
    ]
    assert all(h.select_one(".k-search-type").get_text(strip=True) == "Thing" for h in hits)


def test_results_page_is_paged(api, client, registry, dbsession):
    from kyklos_sdk import bulk_insert

    with dbsession() as db:
        bulk_insert(
            db, _thing_table(registry), [{"name": f"Pagedthing {n:02d}"} for n in range(25)]
        )
    app = client("thingsreader")
    first = app.get("/search", {"q": "pagedthing"})
    # all types: a few hits and a link to this type's own, paged results
    assert len(first.html.select(".k-search-hit")) == 5
    more = first.html.select_one("#k-search-thing a.k-search-more")["href"]
    page1 = app.get(more)
    assert len(page1.html.select(".k-search-hit")) == 20
    nxt = page1.html.select_one("a[rel=next]")["href"]
    page2 = app.get(nxt)
    assert len(page2.html.select(".k-search-hit")) == 5
    assert page2.html.select_one("a[rel=prev]") and not page2.html.select_one("a[rel=next]")
    seen = {
        h.select_one("a").get_text(strip=True)
        for p in (page1, page2)
        for h in p.html.select(".k-search-hit")
    }
    assert len(seen) == 25
    # the API pages the same way
    reader = api("thingsreader")
    a = reader.get("/api/v1/_search", {"q": "pagedthing", "type": "thing", "limit": 20}).json
    b = reader.get(
        "/api/v1/_search", {"q": "pagedthing", "type": "thing", "limit": 20, "offset": 20}
    ).json
    assert a["groups"][0]["more"] and not b["groups"][0]["more"]
    assert len({i["id"] for g in (a, b) for i in g["groups"][0]["items"]}) == 25
    assert a["groups"][0]["type_title"] == "Thing"


def test_admin_button_rebuilds_in_a_job(client, api, registry, dbsession):
    from kyklos.entities.search import SearchDoc
    from kyklos.jobs.models import Job

    ed = api("thingseditor")
    for name in ("Rebuilt kettle", "Rebuilt teapot"):
        ed.post_json("/api/v1/things", {"name": name}, status=201)
    with dbsession() as db:  # an index lost (a restore from an old backup, say)
        db.execute(delete(SearchDoc))
    assert found(ed, "rebuilt") == []
    assert client("user").get("/admin/search", status=403)
    admin = client("admin")
    page = admin.get("/admin")
    assert "/admin/search" in page.text
    page = admin.get("/admin/search")
    row = page.html.select_one(".k-search-counts tr.table-warning")
    assert row is not None and "Things" in row.get_text()
    form = next(f for f in page.forms.values() if f.action.endswith("/admin/search"))
    res = form.submit().follow()
    # the jobs backend of the tests runs the job at once; the page shows its progress row
    with dbsession() as db:
        job = db.execute(select(Job).where(Job.name == "kyklos.search.rebuild")).scalar_one()
        assert job.state == "done" and job.result["records"] >= 2
    bar = res.html.select_one(f"tr[data-job-id='{job.id}'] .progress-bar")
    assert bar is not None and "100%" in bar.get_text()
    assert sorted(found(ed, "rebuilt")) == ["Rebuilt kettle", "Rebuilt teapot"]
    assert res.html.select_one(".k-search-counts tr.table-warning") is None
    # one type only
    with dbsession() as db:
        db.execute(delete(SearchDoc))
    admin.post("/admin/search", {"entity": "thing", "csrf_token": csrf_of(admin)}, status=302)
    assert len(found(ed, "rebuilt")) == 2


def test_cli_rebuilds_with_a_count(tmp_path):
    from sqlalchemy import create_engine, text

    ini = write_ini(tmp_path, "samplea")
    run(
        "init",
        ini,
        "--admin-email",
        "boss@example.com",
        "--admin-password",
        "correct horse battery",
        check=True,
    )
    csv = tmp_path / "things.csv"
    csv.write_text("name\nCli lantern\nCli lamp\nCli candle\n")
    run("import", ini, "thing", csv, "--map", "name=name", check=True)
    engine = create_engine(f"sqlite:///{tmp_path}/kyklos.sqlite")
    with engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM kyklos_search")).scalar() == 3
        conn.execute(text("DELETE FROM kyklos_search"))
    proc = run("search-index", ini, check=True)
    assert "thing: 3 record(s)" in proc.stdout
    assert re.search(r"search index rebuilt: 3 record\(s\)", proc.stdout)
    assert "indexing" in proc.stderr  # the progress bar
    with engine.begin() as conn:
        titles = conn.execute(text("SELECT title FROM kyklos_search ORDER BY title")).scalars()
        assert list(titles) == ["Cli candle", "Cli lamp", "Cli lantern"]
    bad = run("search-index", ini, "--entity", "nope")
    assert bad.returncode == 1 and "unknown entity type" in bad.stderr
    assert "thing: 3" in run("search-index", ini, "--entity", "thing", check=True).stdout
    engine.dispose()


def test_migrate_rebuilds_the_types_whose_definition_changed(tmp_path):
    """An upgrade that changes what a type's rows are made from (here: a duplicate rule
    the deployment adds) makes ``kyklos migrate`` rebuild that type's rows, and only
    when something changed; a type without records just gets its digest."""
    from sqlalchemy import create_engine, text

    ini = write_ini(tmp_path, "samplea")
    run("init", ini, "--admin-email", "boss@example.com", "--admin-password",
        "correct horse battery", check=True)
    csv = tmp_path / "things.csv"
    csv.write_text("name\nMigrated lantern\nMigrated lamp\n")
    run("import", ini, "thing", csv, "--map", "name=name", check=True)
    engine = create_engine(f"sqlite:///{tmp_path}/kyklos.sqlite")

    def state():
        with engine.begin() as conn:
            rows = conn.execute(text("SELECT entity, digest FROM kyklos_search_definition"))
            digests = dict(rows.all())
            keys = conn.execute(text("SELECT count(*) FROM kyklos_duplicate_key")).scalar()
        return digests, keys

    digests, keys = state()
    # init recorded every type's digest (no records yet: nothing rebuilt)
    assert "thing" in digests and all(len(d) == 64 for d in digests.values())
    assert keys == 0
    quiet = run("migrate", ini, check=True)
    assert "search index" not in quiet.stdout
    # the deployment declares a duplicate rule on things: their keys must be built
    ini.write_text(ini.read_text().replace(
        "kyklos.secret = test-secret\n",
        "kyklos.secret = test-secret\nkyklos.duplicates.rules = thing samename fold name\n",
    ))
    proc = run("migrate", ini, check=True)
    assert "search index: thing changed in this version, indexing 2 record(s)" in proc.stdout
    assert "search index rebuilt for 1 type(s): 2 record(s)" in proc.stdout
    assert "indexing" in proc.stderr  # the progress bar
    after, keys = state()
    assert keys == 2 and after["thing"] != digests["thing"]
    assert {k: v for k, v in after.items() if k != "thing"} == {
        k: v for k, v in digests.items() if k != "thing"
    }
    # the search rows are whole again after the rebuild
    with engine.begin() as conn:
        titles = conn.execute(text("SELECT title FROM kyklos_search ORDER BY title")).scalars()
        assert list(titles) == ["Migrated lamp", "Migrated lantern"]
    assert "search index" not in run("migrate", ini, check=True).stdout
    engine.dispose()

"""Imports end to end: the web wizard (upload, mapping, dry run, import, log), the API,
the CLI, business-key upserts, re-runs that never duplicate and resumption after a
crash."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from entities_support import roles_synced, thing_rules  # noqa: F401 - fixtures
from sqlalchemy import func, select

from kyklos.entities.history import AuditEntry
from kyklos.imports import pipeline
from kyklos.imports.models import ImportRun
from kyklos_sdk.testing import run_cli, write_ini

pytestmark = pytest.mark.usefixtures("thing_rules")
SAMPLES = Path(__file__).resolve().parents[1] / "sample_plugins"


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def things(registry, dbsession):
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        return sorted(
            (t.name, t.colour, t.size, dict(t.custom or {}))
            for t in db.execute(select(model)).scalars()
        )


CSV = (
    "Name;Colour;Size;Shoe\n"
    "Anvil;black;7;40\n"
    "Bell;;x;41\n"  # bad size
    ";red;3;42\n"  # no name
    "Crate;\"brown\nish\";5;\n"
    "Anvil;grey;8;43\n"  # duplicate key within the file
)


def test_web_wizard_dry_run_then_import(client, api, registry, dbsession, tmp_path):
    api("admin").post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_shoe",
                           "type": "integer", "label": {"en": "Shoe"}}, status=201)
    app = client("thingseditor")
    page = app.get("/things/")
    page = page.click(href="/things/_import")
    form = page.forms[0] if len(page.forms) == 1 else [
        f for f in page.forms.values() if "file" in f.fields][0]
    form["file"] = ("people.csv", CSV.encode("cp1252"))
    res = form.submit().follow()
    # suggested mapping from the headers (titles, custom field label included)
    sel = {s["name"]: s.find("option", selected=True) for s in res.html.select("select")}
    chosen = {k: (v["value"] if v else "") for k, v in sel.items() if k.startswith("map.")}
    assert chosen == {"map.0": "name", "map.1": "colour", "map.2": "size", "map.3": "cf_shoe"}
    form = [f for f in res.forms.values() if "map.0" in f.fields][0]
    form["key"] = "name"
    form["on_duplicate"] = "skip"
    form["profile_name"] = "my things"
    res = form.submit("action", value="dry").follow()
    assert "Dry run" in res.text
    assert things(registry, dbsession) == []
    problems = res.html.find(id="import-problems").text
    assert "Size" in problems and "Name" in problems and "Duplicate" in problems
    res = res.forms[[k for k, f in res.forms.items() if "action" in f.fields][-1]].submit(
        "action", value="run").follow()
    dl = res.html.find(id="import-summary")
    summary = dict(zip([d.text for d in dl.find_all("dt")], [d.text for d in dl.find_all("dd")],
                       strict=True))
    assert "Import finished" in res.text
    assert summary == {"Rows": "5", "Created": "2", "Updated": "0", "Skipped": "1",
                       "Rejected": "2"}
    got = things(registry, dbsession)
    assert got == [("Anvil", "black", 7, {"cf_shoe": 40}),
                   ("Crate", "brown\nish", 5, {})]
    log = res.click(href="/log")
    rows = list(csv.DictReader(io.StringIO(log.text)))
    assert [r["status"] for r in rows] == ["created", "rejected", "rejected", "created",
                                           "skipped"]
    assert "Size:" in rows[1]["errors"]
    with dbsession() as db:
        assert db.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.source == "import")).scalar() == 2
    # the same file again: the key finds both records, nothing is duplicated
    page = app.get("/things/_import")
    form = [f for f in page.forms.values() if "file" in f.fields][0]
    form["file"] = ("people.csv", CSV.encode("cp1252"))
    form["profile"] = "saved:my things"
    res = form.submit().follow()
    form = [f for f in res.forms.values() if "map.0" in f.fields][0]
    assert form["map.3"].value == "cf_shoe"
    assert form["key"].value == "name"  # the profile keeps its key and policy too
    assert form["on_duplicate"].value == "skip"
    form["on_duplicate"] = "update"
    res = form.submit("action", value="run").follow()
    got = things(registry, dbsession)
    assert len(got) == 2 and got[0] == ("Anvil", "grey", 8, {"cf_shoe": 43})


def test_api_import_custom_key_upsert(api, registry, dbsession):
    admin = api("admin")
    admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_ext",
                    "type": "string", "label": "External id", "unique": True,
                    "filterable": True}, status=201)
    ed = api("thingseditor")
    data = "name,ext id,size\nA,X-1,1\nB,X-2,2\nC,x-1,3\n"
    opts = {"mapping": {"name": "name", "ext id": "cf_ext", "size": "size"}, "key": "cf_ext",
            "on_duplicate": "update"}
    res = ed.post("/api/v1/things/_import", {"options": json.dumps(opts)},
                  upload_files=[("file", "t.csv", data.encode())], status=202)
    run = ed.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["created"] == 2 and run["updated"] == 1, run
    got = things(registry, dbsession)
    assert [(n, s, c["cf_ext"]) for n, _c, s, c in got] == [("B", 2, "X-2"), ("C", 3, "X-1")]
    # bad options are refused before anything runs
    bad = {"mapping": {"name": "name", "nope": "owner_id"}, "key": "size"}
    res = ed.post("/api/v1/things/_import", {"options": json.dumps(bad)},
                  upload_files=[("file", "t.csv", data.encode())], status=400)
    assert res.content_type == "application/problem+json"
    # no import permission
    api("thingsreader").post("/api/v1/things/_import", {},
                             upload_files=[("file", "t.csv", data.encode())], status=403)
    # a malformed file: a clear error, nothing written
    res = ed.post("/api/v1/things/_import", {},
                  upload_files=[("file", "w.csv", ("a," * 5000 + "\n").encode())], status=400)
    assert "w.csv:1:" in res.json["detail"]
    assert len(things(registry, dbsession)) == 2


def test_crash_mid_import_resumes_without_duplicates(api, registry, dbsession, tmp_path,
                                                     monkeypatch):
    from kyklos.jobs import job_request

    ed = api("thingseditor")
    path = tmp_path / "many.csv"
    path.write_text("name,size\n" + "".join(f"t{i},{i}\n" for i in range(25)),
                    encoding="utf-8")
    monkeypatch.setattr(pipeline, "BATCH", 10)
    options = {"mapping": {"name": "name", "size": "size"}, "key": "name",
               "on_duplicate": "skip", "headers": ["name", "size"]}
    with job_request(registry, ed.user_id) as request:
        et = registry.kyklos_entities["thing"]
        run_id = pipeline.start_run(request, et, path, path.name, options, False).id

    def crash(pct, message=""):
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        pipeline.execute(registry, run_id, progress=crash)
    assert len(things(registry, dbsession)) == 10  # the first batch committed
    with job_request(registry, ed.user_id) as request:
        again = pipeline.start_run(request, et, path, path.name, options, False)
        assert again.id == run_id and again.last_row == 11
    summary = pipeline.execute(registry, run_id)
    assert summary["created"] == 25 and summary["state"] == "done"
    assert len(things(registry, dbsession)) == 25
    # a new run of the finished file: every row is a duplicate
    with job_request(registry, ed.user_id) as request:
        third = pipeline.start_run(request, et, path, path.name, options, False).id
    summary = pipeline.execute(registry, third)
    assert summary["skipped"] == 25 and summary["created"] == 0
    with dbsession() as db:
        assert db.execute(select(func.count()).select_from(ImportRun)).scalar() == 2


def test_cli_import(api, registry, dbsession, db_url, tmp_path):
    api("admin", email="boss@example.com")
    ini = write_ini(tmp_path, plugins="samplea", url=db_url)
    good = tmp_path / "good.csv"
    good.write_text("Name,Size\nAnvil,7\nBell,8\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("Name,Size\nAnvil,7\n,x\n", encoding="utf-8")
    proc = run_cli("import", ini, "thing", bad, "--key", "name", "--dry-run",
                   pythonpath=[SAMPLES])
    assert proc.returncode == 1
    assert "bad.csv:3:Size: " in proc.stderr and "bad.csv:3:Name: " in proc.stderr
    assert things(registry, dbsession) == []
    proc = run_cli("import", ini, "thing", good, "--key", "name", pythonpath=[SAMPLES])
    assert proc.returncode == 0, proc.stderr
    assert "2 created" in proc.stdout
    proc = run_cli("import", ini, "thing", good, "--key", "name", pythonpath=[SAMPLES])
    assert "2 skipped" in proc.stdout
    assert [t[0] for t in things(registry, dbsession)] == ["Anvil", "Bell"]
    wide = tmp_path / "wide.csv"
    wide.write_text(",".join(["x"] * 20000) + "\n", encoding="utf-8")
    proc = run_cli("import", ini, "thing", wide, pythonpath=[SAMPLES])
    assert proc.returncode != 0 and "wide.csv:1:" in proc.stderr


def test_plugin_import_format(api, registry, dbsession):
    """A plugin contributes a file format through kyklos_import_formats."""
    from kyklos.hookspecs import hookimpl

    def parse_kv(data: bytes):
        rows = [["name", "size"]]
        for n, line in enumerate(data.decode().splitlines(), start=1):
            if "=" not in line:
                raise ValueError(f"line {n}: expected name=size")
            rows.append(line.split("=", 1))
        return rows

    class Plugin:
        @hookimpl
        def kyklos_import_formats(self):
            return [("kv", parse_kv)]

    plugin = Plugin()
    registry.kyklos_pm.register(plugin, name="test-import-format")
    try:
        ed = api("thingseditor")
        res = ed.post("/api/v1/things/_import", {}, upload_files=[
            ("file", "things.kv", b"Anvil=7\nBell=8\n")], status=202)
        assert ed.get(res.headers["Location"]).json["created"] == 2
        res = ed.post("/api/v1/things/_import", {}, upload_files=[
            ("file", "bad.kv", b"oops\n")], status=400)
        assert "bad.kv" in res.json["detail"] and "line 1" in res.json["detail"]
    finally:
        registry.kyklos_pm.unregister(plugin)
    assert [t[0] for t in things(registry, dbsession)] == ["Anvil", "Bell"]


def test_a_declared_import_key_makes_a_reimport_update(api, registry, dbsession):
    """``config.add_import_key``: a type's own key (a product's code, an event's UID) is
    the default match of an import that names no key: the same file twice creates nobody
    twice, and with "update" changes the records it matched."""
    from pyramid.config import Configurator

    config = Configurator(registry=registry)
    config.add_import_key("thing", "colour")
    config.commit()
    try:
        ed = api("thingseditor")
        opts = {"mapping": {"name": "name", "colour": "colour", "size": "size"}}
        for size, dup in ((1, "skip"), (1, "skip"), (2, "update")):
            opts["on_duplicate"] = dup
            data = f"name,colour,size\nAnvil,black,{size}\nBell,gold,{size}\n"
            res = ed.post("/api/v1/things/_import", {"options": json.dumps(opts)},
                          upload_files=[("file", "t.csv", data.encode())], status=202)
            run = ed.get(res.headers["Location"]).json
            assert run["state"] == "done", run
        assert sorted((n, s) for n, _c, s, _x in things(registry, dbsession)) == [
            ("Anvil", 2), ("Bell", 2)]
    finally:
        registry.kyklos_import_keys.pop("thing", None)


class SlowRows:
    """A plugin whose validation takes 10 ms a row: a starved CPU, as seen from the
    pipeline's clock."""

    from kyklos.hookspecs import hookimpl

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors, source):
        import time

        if source == "import":
            time.sleep(0.01)


def test_a_slow_batch_is_cut_by_time(api, registry, dbsession, tmp_path, monkeypatch):
    """A batch commits when it reaches its rows OR its seconds: 200 slow rows (2 s of
    work) with a 0.5 s budget commit in several transactions, none much longer than the
    budget; a crash after the second one resumes after the last committed row, with no
    row written twice."""
    from kyklos.jobs import job_request

    ed = api("thingseditor")
    path = tmp_path / "slow.csv"
    path.write_text("name,size\n" + "".join(f"s{i},{i}\n" for i in range(200)),
                    encoding="utf-8")
    monkeypatch.setitem(registry.settings, "kyklos.imports.batch_seconds", "0.5")
    slow = SlowRows()
    registry.kyklos_pm.register(slow, name="slow-rows")
    try:
        options = {"mapping": {"name": "name", "size": "size"}, "key": "name"}
        with job_request(registry, ed.user_id) as request:
            et = registry.kyklos_entities["thing"]
            run_id = pipeline.start_run(request, et, path, path.name, options, False).id
        commits = []

        def crash_on_second(pct, message=""):
            commits.append(message)
            if len(commits) == 2:
                raise RuntimeError("worker killed")

        with pytest.raises(RuntimeError):
            pipeline.execute(registry, run_id, progress=crash_on_second)
        written = len(things(registry, dbsession))
        assert 0 < written < 200  # cut well before the batch's 1000 rows
        with dbsession() as db:
            run = db.get(ImportRun, run_id)
            assert run.last_row == written + 1 and run.rows_created == written

        times = []

        def timed(pct, message=""):
            times.append((message, __import__("time").monotonic()))

        summary = pipeline.execute(registry, run_id, progress=timed)
        assert summary["state"] == "done" and summary["created"] == 200
        assert len(things(registry, dbsession)) == 200
        assert len(times) >= 2, times  # the rest took several transactions too
        assert times[-1][0] == "200/200"
        log = pipeline.read_log(registry, run_id)
        assert sorted(int(r["row"]) for r in log) == list(range(2, 202))
    finally:
        registry.kyklos_pm.unregister(slow)

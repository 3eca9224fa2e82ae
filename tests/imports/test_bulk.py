"""The import's batch path (issue #5): rows validated together (one query per
referenced type and unique field) and written together (one executemany per table),
with every behaviour of a single create kept - record rules, field checks, workflow
initial states, custom-field mirror, history, search index, duplicate keys, plugin
hooks (``kyklos_records_saved`` once per batch, ``kyklos_record_after_save`` per record
for plugins without it) - and the row-by-row retry when the database refuses a batch."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from kyklos.duplicates import DuplicateKey
from kyklos.entities.customfields import CustomValue
from kyklos.entities.history import AuditEntry
from kyklos.entities.search import SearchDoc
from kyklos.hookspecs import hookimpl
from kyklos.imports import pipeline
from kyklos.jobs import job_request


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.duplicates.rules": "ticket name fold name"}


def run_import(registry, user_id, path, options, dry_run=False):
    with job_request(registry, user_id) as request:
        et = registry.kyklos_entities["ticket"]
        run_id = pipeline.start_run(request, et, path, path.name, options, dry_run).id
    summary = pipeline.execute(registry, run_id)
    return summary, pipeline.read_log(registry, run_id)


def tickets(registry, dbsession):
    model = registry.kyklos_entities["ticket"].model
    with dbsession() as db:
        return {t.name: (t.id, t.status, t.parent_id, dict(t.custom or {}), t.owner_id,
                         t.version)
                for t in db.execute(select(model).order_by(model.id)).scalars()}


def define_fields(admin):
    for body in ({"name": "cf_code", "type": "string", "unique": True, "filterable": True},
                 {"name": "cf_level", "type": "integer", "filterable": True},
                 {"name": "cf_note", "type": "string"}):
        admin.post_json("/api/v1/_custom-fields", {"entity": "ticket", "label": body["name"],
                                                   **body}, status=201)


OPTIONS = {"mapping": {"name": "name", "parent": "parent_id", "code": "cf_code",
                       "level": "cf_level", "status": "status", "note": "cf_note"}}


def test_batch_validation_and_writes(api, registry, dbsession, tmp_path):
    admin, ed = api("admin"), api("ticketeer")
    define_fields(admin)
    parent = ed.post_json("/api/v1/tickets", {"name": "Παπαδόπουλος", "cf_code": "X-0"},
                          status=201).json
    path = tmp_path / "tickets.csv"
    path.write_text(
        "name,parent,code,level,status,note\n"
        "alpha,,X-1,5,,first\n"  # 2 created, initial state
        f"beta,{parent['id']},X-2,6,open,\n"  # 3 a visible parent; imported state kept
        "gamma,999999,X-3,7,,\n"  # 4 no such parent
        "delta,,X-0,8,,\n"  # 5 code held by the existing ticket
        "epsilon,,x-1,9,,\n"  # 6 the code of row 2 (case folded)
        "zeta,,X-6,lots,,\n"  # 7 not an integer
        ",,X-7,1,,\n"  # 8 name required
        "eta,,X-8,2,bogus,\n"  # 9 not a state of the workflow
        "Papadopoulos,,X-9,3,,\n",  # 10 a look-alike of the parent: imports never ask
        encoding="utf-8")
    summary, log = run_import(registry, ed.user_id, path, OPTIONS)
    assert (summary["created"], summary["rejected"]) == (3, 6), log
    errors = {int(r["row"]): r["errors"] for r in log if r["status"] == "rejected"}
    assert "No such record" in errors[4] and "already used" in errors[5]
    assert "already used" in errors[6] and "integer" in errors[7]
    assert "Required" in errors[8] and "starts in state" in errors[9]
    got = tickets(registry, dbsession)
    assert set(got) == {"Παπαδόπουλος", "alpha", "beta", "Papadopoulos"}
    alpha, beta, papa = got["alpha"], got["beta"], got["Papadopoulos"]
    assert alpha[1:4] == ("new", None, {"cf_code": "X-1", "cf_level": 5, "cf_note": "first"})
    assert beta[1:4] == ("open", parent["id"], {"cf_code": "X-2", "cf_level": 6})
    assert alpha[4] == ed.user_id and alpha[5] == 1
    ids = [alpha[0], beta[0], papa[0]]
    assert [int(r["record_id"]) for r in log if r["status"] == "created"] == ids
    with dbsession() as db:
        # the mirror of the filterable and unique fields, one row per field and record
        mirror = db.execute(select(CustomValue.record_id, CustomValue.v_text, CustomValue.v_num,
                                   CustomValue.unique_key)
                            .where(CustomValue.record_id.in_(ids))).all()
        assert sorted((r, t or str(int(n))) for r, t, n, _k in mirror) == sorted(
            [(alpha[0], "X-1"), (alpha[0], "5"), (beta[0], "X-2"), (beta[0], "6"),
             (papa[0], "X-9"), (papa[0], "3")])
        assert {k for _r, _t, _n, k in mirror} - {None} == {"x-1", "x-2", "x-9"}
        # history: one create entry each, by the importing user, with the values
        entries = db.execute(select(AuditEntry).where(AuditEntry.record_id.in_(ids))
                             .order_by(AuditEntry.record_id)).scalars().all()
        assert [(e.record_id, e.action, e.source, e.user_id, e.version) for e in entries] == [
            (i, "create", "import", ed.user_id, 1) for i in ids]
        assert entries[0].changes["name"] == [None, "alpha"]
        assert entries[0].changes["cf_level"] == [None, 5]
        assert entries[0].changes["status"] == [None, "new"]
        assert entries[0].changes["owner_id"] == [None, ed.user_id]
        # search index and duplicate keys, written by the batch hooks
        docs = dict(db.execute(select(SearchDoc.record_id, SearchDoc.title)
                               .where(SearchDoc.entity == "ticket")).all())
        assert {i: docs.get(i) for i in ids} == {alpha[0]: "alpha", beta[0]: "beta",
                                                 papa[0]: "Papadopoulos"}
        keys = db.execute(select(DuplicateKey.record_id).where(
            DuplicateKey.entity == "ticket", DuplicateKey.record_id.in_(ids))).scalars().all()
        assert sorted(keys) == sorted(ids)
    # ... so the public surfaces see the imported records
    found = ed.get("/api/v1/_search", {"q": "alpha"}).json["groups"][0]["items"]
    assert [i["id"] for i in found] == [alpha[0]]
    res = ed.post_json("/api/v1/tickets", {"name": "Papadopoulos"}, status=409)
    assert {d["id"] for d in res.json["duplicates"]} == {parent["id"], papa[0]}
    listed = ed.get("/api/v1/tickets", {"cf_code": "X-2"}).json
    assert [r["id"] for r in listed["items"]] == [beta[0]]


def test_dry_run_writes_nothing(api, registry, dbsession, tmp_path):
    ed = api("ticketeer")
    path = tmp_path / "dry.csv"
    path.write_text("name,status\nalpha,\nbeta,bogus\ngamma,done\n", encoding="utf-8")
    summary, log = run_import(registry, ed.user_id, path,
                              {"mapping": {"name": "name", "status": "status"}}, dry_run=True)
    assert (summary["created"], summary["rejected"]) == (2, 1)
    assert [r["status"] for r in log] == ["created", "rejected", "created"]
    assert tickets(registry, dbsession) == {}
    with dbsession() as db:
        for model in (AuditEntry, SearchDoc, DuplicateKey, CustomValue):
            assert db.execute(select(func.count()).select_from(model)).scalar() == 0


class PerRecord:
    """A plugin that knows only the per-record hook."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created, source):
        if entity_type.name == "ticket":
            # a real record, as after a flush: in the session, columns loaded
            assert record in request.dbsession and record.id and record.version == 1
            self.calls.append((record.id, record.name, changes["name"][1], created, source))


class Batched(PerRecord):
    """A plugin that handles batches itself (and single writes per record)."""

    def __init__(self):
        super().__init__()
        self.batches = []

    @hookimpl
    def kyklos_records_saved(self, request, entity_type, records, changes, created, source):
        if entity_type.name == "ticket":
            self.batches.append(([(r.id, r.name) for r in records],
                                 [c["name"][1] for c in changes], created, source))


def test_batch_hook_and_per_record_fallback(api, registry, dbsession, tmp_path, monkeypatch):
    ed = api("ticketeer")
    monkeypatch.setattr(pipeline, "BATCH", 3)
    single, batched = PerRecord(), Batched()
    pm = registry.kyklos_pm
    pm.register(single, name="test-per-record")
    pm.register(batched, name="test-batched")
    try:
        path = tmp_path / "five.csv"
        path.write_text("name\n" + "".join(f"t{i}\n" for i in range(5)), encoding="utf-8")
        summary, log = run_import(registry, ed.user_id, path, {"mapping": {"name": "name"}})
        assert summary["created"] == 5
        ids = [int(r["record_id"]) for r in log]
        # the per-record plugin saw every record once, the batched one never per record
        assert single.calls == [(i, f"t{n}", f"t{n}", True, "import")
                                for n, i in enumerate(ids)]
        assert batched.calls == []
        assert batched.batches == [
            ([(ids[0], "t0"), (ids[1], "t1"), (ids[2], "t2")], ["t0", "t1", "t2"], True,
             "import"),
            ([(ids[3], "t3"), (ids[4], "t4")], ["t3", "t4"], True, "import"),
        ]
        # a single write calls the per-record hook of both
        one = ed.post_json("/api/v1/tickets", {"name": "single"}, status=201).json
        assert batched.calls == [(one["id"], "single", "single", True, "api")]
        assert len(batched.batches) == 2
    finally:
        pm.unregister(single)
        pm.unregister(batched)


class Refuser:
    """Breaks a database constraint for one row: its batch must be retried row by row."""

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "ticket" and record.name == "boom":
            record.name = None  # NOT NULL


def test_database_refusal_retries_row_by_row(api, registry, dbsession, tmp_path):
    admin, ed = api("admin"), api("ticketeer")
    define_fields(admin)
    plugin = Refuser()
    registry.kyklos_pm.register(plugin, name="test-refuser")
    try:
        path = tmp_path / "boom.csv"
        path.write_text("name,code,level\nalpha,A,1\nboom,B,2\ngamma,C,3\n", encoding="utf-8")
        summary, log = run_import(registry, ed.user_id, path, {"mapping": {
            "name": "name", "code": "cf_code", "level": "cf_level"}})
    finally:
        registry.kyklos_pm.unregister(plugin)
    assert (summary["created"], summary["rejected"]) == (2, 1)
    assert [r["status"] for r in log] == ["created", "rejected", "created"]
    assert "refused" in log[1]["errors"]
    got = tickets(registry, dbsession)
    assert sorted(got) == ["alpha", "gamma"]
    ids = sorted(v[0] for v in got.values())
    with dbsession() as db:
        # nothing of the refused batch attempt is left: one entry, mirror rows, index row
        # and key per record
        for model, col in ((AuditEntry, AuditEntry.record_id),
                           (SearchDoc, SearchDoc.record_id),
                           (DuplicateKey, DuplicateKey.record_id)):
            assert sorted(db.execute(select(col)).scalars()) == ids, model
        assert db.execute(select(func.count()).select_from(CustomValue)).scalar() == 4
    # the retried rows are ordinary records: they can be updated through the API
    rid = got["gamma"][0]
    rec = ed.get(f"/api/v1/tickets/{rid}").json
    ed.patch_json(f"/api/v1/tickets/{rid}", {"cf_level": 4},
                  headers={"If-Match": f'"{rec["version"]}"'}, status=200)


def test_update_of_a_record_created_earlier_in_the_batch(api, registry, dbsession, tmp_path):
    """With on_duplicate=update a later row updates the record an earlier row of the
    same batch created (the batch path leaves real, updatable records behind)."""
    ed = api("ticketeer")
    path = tmp_path / "upd.csv"
    path.write_text("name,amount\nalpha,1\nbeta,2\nALPHA,3\n", encoding="utf-8")
    summary, log = run_import(registry, ed.user_id, path, {
        "mapping": {"name": "name", "amount": "amount"}, "key": "name",
        "on_duplicate": "update"})
    assert [r["status"] for r in log] == ["created", "created", "updated"], log
    model = registry.kyklos_entities["ticket"].model
    with dbsession() as db:
        rows = db.execute(select(model.name, model.amount, model.version)
                          .order_by(model.id)).all()
        assert rows == [("alpha", 3, 2), ("beta", 2, 1)]
        actions = db.execute(select(AuditEntry.action).order_by(AuditEntry.id)).scalars().all()
        assert actions == ["create", "create", "update"]


def test_a_batch_large_enough_for_copy(api, registry, dbsession, tmp_path):
    """More rows than ``kyklos.db.COPY_MIN_ROWS``: on PostgreSQL every table of the batch
    (records, custom-field mirror, history, search index, duplicate keys) is written with
    COPY; the outcome is the same as with executemany."""
    from kyklos.db import COPY_MIN_ROWS

    admin, ed = api("admin"), api("ticketeer")
    define_fields(admin)
    n = COPY_MIN_ROWS * 2 + 7
    path = tmp_path / "many.csv"
    path.write_text("name,code,level\n" + "".join(f"t{i},C-{i},{i}\n" for i in range(n)),
                    encoding="utf-8")
    summary, log = run_import(registry, ed.user_id, path, {"mapping": {
        "name": "name", "code": "cf_code", "level": "cf_level"}})
    assert (summary["created"], summary["rejected"]) == (n, 0), log[:3]
    got = tickets(registry, dbsession)
    ids = sorted(v[0] for v in got.values())
    assert got["t5"][1:4] == ("new", None, {"cf_code": "C-5", "cf_level": 5})
    with dbsession() as db:
        for model, col in ((AuditEntry, AuditEntry.record_id),
                           (SearchDoc, SearchDoc.record_id),
                           (DuplicateKey, DuplicateKey.record_id)):
            assert sorted(db.execute(select(col)).scalars()) == ids, model
        assert db.execute(select(func.count()).select_from(CustomValue)).scalar() == 2 * n
        entry = db.execute(select(AuditEntry).where(
            AuditEntry.record_id == got["t5"][0])).scalar_one()
        assert entry.changes["cf_code"] == [None, "C-5"] and entry.source == "import"
    # found through the public surfaces
    assert [i["id"] for i in ed.get("/api/v1/_search", {"q": "t77"}).json["groups"][0][
        "items"]] == [got["t77"][0]]
    listed = ed.get("/api/v1/tickets", {"cf_code": "C-9"}).json
    assert [r["id"] for r in listed["items"]] == [got["t9"][0]]
    # running the same file again with the code as key creates nothing
    summary, _log = run_import(registry, ed.user_id, path, {"key": "cf_code", "mapping": {
        "name": "name", "code": "cf_code", "level": "cf_level"}})
    assert (summary["created"], summary["skipped"]) == (0, n)


def test_keyed_reimport_is_set_based_and_keeps_history_search_keys_mirror(
    api, registry, dbsession, tmp_path, monkeypatch
):
    """A keyed re-import (on_duplicate=update) writes each batch set-based - one look-up
    of the batch's keys, one flush, batched mirror, history, search and duplicate
    upkeep - and leaves exactly what row-by-row updates did: an "update" entry per
    changed record with its old and new values, the search row and the duplicate key
    of the new name, the mirror of the new custom values, versions + 1; unchanged rows
    keep their version and get no entry; a refused row is rejected alone."""
    admin, ed = api("admin"), api("ticketeer")
    define_fields(admin)
    monkeypatch.setattr(pipeline, "BATCH", 4)
    n = 10
    first = tmp_path / "first.csv"
    first.write_text(
        "code,name,level\n" + "".join(f"K-{i},old{i},{i}\n" for i in range(n)), encoding="utf-8"
    )
    mapping = {"code": "cf_code", "name": "name", "level": "cf_level"}
    summary, _log = run_import(registry, ed.user_id, first, {"mapping": mapping})
    assert summary["created"] == n
    before = tickets(registry, dbsession)
    # rows 0-6 change name and level; 7 changes nothing; 8 is refused (not an integer);
    # 9 changes only its level; the key is matched case-insensitively
    again = tmp_path / "again.csv"
    lines = [f"k-{i},Fresh{i},{100 + i}\n" for i in range(7)]
    lines += ["K-7,old7,7\n", "K-8,fresh8,lots\n", "K-9,old9,909\n"]
    again.write_text("code,name,level\n" + "".join(lines), encoding="utf-8")
    statements = []

    def count(conn, cursor, statement, params, context, executemany):
        statements.append(statement)

    from sqlalchemy import event

    engine = registry["dbengine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        summary, log = run_import(
            registry,
            ed.user_id,
            again,
            {"mapping": mapping, "key": "cf_code", "on_duplicate": "update"},
        )
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert (summary["created"], summary["updated"], summary["rejected"]) == (0, 9, 1), log
    assert "integer" in log[8]["errors"]
    after = tickets(registry, dbsession)
    ids = {i: before[f"old{i}"][0] for i in range(n)}
    for i in range(7):
        rid, _status, _p, custom, _o, version = after[f"Fresh{i}"]
        assert (rid, custom["cf_level"], version) == (ids[i], 100 + i, 2)
    assert after["old7"][5] == 1 and after["old8"][5] == 1
    assert after["old9"][3]["cf_level"] == 909 and after["old9"][5] == 2
    # set-based: the audit rows are written per batch, not one INSERT per record
    audit_inserts = [
        s
        for s in statements
        if s.lstrip().upper().startswith(("INSERT INTO KYKLOS_AUDIT", "COPY KYKLOS_AUDIT"))
    ]
    assert len(audit_inserts) <= 3, audit_inserts  # 3 batches of 4 rows
    with dbsession() as db:
        entries = (
            db.execute(
                select(AuditEntry)
                .where(AuditEntry.action == "update")
                .order_by(AuditEntry.record_id)
            )
            .scalars()
            .all()
        )
        assert [e.record_id for e in entries] == [ids[i] for i in (0, 1, 2, 3, 4, 5, 6, 9)]
        first_entry = entries[0]
        assert first_entry.changes == {"name": ["old0", "Fresh0"], "cf_level": [0, 100]}
        assert (first_entry.source, first_entry.user_id, first_entry.version) == (
            "import",
            ed.user_id,
            2,
        )
        assert entries[-1].changes == {"cf_level": [9, 909]}
        docs = dict(db.execute(select(SearchDoc.record_id, SearchDoc.title)).all())
        assert docs[ids[0]] == "Fresh0" and docs[ids[7]] == "old7" and len(docs) == n
        keys = db.execute(select(DuplicateKey.record_id, DuplicateKey.key)).all()
        assert sorted(r for r, _k in keys) == sorted(ids.values())
        assert "fresh3" in {k for r, k in keys if r == ids[3]}
        levels = dict(
            db.execute(
                select(CustomValue.record_id, CustomValue.v_num).where(
                    CustomValue.v_num.is_not(None)
                )
            ).all()
        )
        assert levels[ids[2]] == 102 and levels[ids[9]] == 909 and levels[ids[8]] == 8
    # and the public surfaces see the new values, not the old ones
    assert titles_found(ed, "Fresh4") == [ids[4]]
    assert titles_found(ed, "old4") == []
    listed = ed.get("/api/v1/tickets", {"cf_level": "105"}).json
    assert [r["id"] for r in listed["items"]] == [ids[5]]


def titles_found(app, q):
    groups = app.get("/api/v1/_search", {"q": q}).json["groups"]
    return [i["id"] for g in groups for i in g["items"]]


class RefuseUpdate:
    """Breaks NOT NULL when an update sets amount 20: the database refuses that row."""

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if (
            entity_type.name == "ticket"
            and not created
            and changes.get("amount", (None, None))[1] == 20
        ):
            changes["name"] = (record.name, None)


def test_reimport_batch_refused_by_the_database_retries_row_by_row(
    api, registry, dbsession, tmp_path
):
    """The batch's updates are rolled back together and redone one by one, so only the
    refused row is rejected and the others get one history entry each, their search
    rows intact."""
    ed = api("ticketeer")
    path = tmp_path / "t.csv"
    path.write_text("name,amount\nalpha,1\nbeta,2\ngamma,3\n", encoding="utf-8")
    opts = {
        "mapping": {"name": "name", "amount": "amount"},
        "key": "name",
        "on_duplicate": "update",
    }
    run_import(registry, ed.user_id, path, opts)
    plugin = RefuseUpdate()
    registry.kyklos_pm.register(plugin, name="test-refuse-update")
    try:
        path.write_text("name,amount\nalpha,11\nbeta,20\ngamma,31\n", encoding="utf-8")
        summary, log = run_import(registry, ed.user_id, path, opts)
    finally:
        registry.kyklos_pm.unregister(plugin)
    assert [r["status"] for r in log] == ["updated", "rejected", "updated"], log
    assert "refused" in log[1]["errors"]
    model = registry.kyklos_entities["ticket"].model
    with dbsession() as db:
        rows = dict(db.execute(select(model.name, model.amount)).all())
        assert rows == {"alpha": 11, "beta": 2, "gamma": 31}
        names = dict(db.execute(select(model.id, model.name)).all())
        updated = (
            db.execute(select(AuditEntry.record_id).where(AuditEntry.action == "update"))
            .scalars()
            .all()
        )
        assert sorted(names[i] for i in updated) == ["alpha", "gamma"]
        docs = sorted(db.execute(select(SearchDoc.title)).scalars())
        assert docs == ["alpha", "beta", "gamma"]

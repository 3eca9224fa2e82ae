"""History (CORE-08) and lifecycle hooks: every write path — API, bulk, and the service
called directly as the web UI, importers and jobs do — runs the hooks and leaves an audit
entry; the timeline merges history with what plugins contribute."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
import transaction
from entities_support import (
    audit_count,
    roles_synced,  # noqa: F401 - fixture
    thing_rows,
    thing_rules,  # noqa: F401 - fixture
)
from pyramid.httpexceptions import HTTPForbidden
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import select

from kyklos.entities import RecordError, history, service
from kyklos.hookspecs import hookimpl
from kyklos.web import TimelineItem

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


class Recorder:
    """Real hook implementations that note every lifecycle call."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def kyklos_record_validate(self, entity_type, record, data, source):
        self.calls.append(("validate", entity_type.name, record is None, dict(data), source))

    @hookimpl
    def kyklos_record_before_save(self, record, changes, created, source):
        self.calls.append(("before_save", created, sorted(changes), source))

    @hookimpl
    def kyklos_record_after_save(self, record, changes, created, source):
        assert record.id is not None
        self.calls.append(("after_save", created, sorted(changes), source))

    @hookimpl
    def kyklos_record_before_delete(self, record, source):
        self.calls.append(("before_delete", record.name, source))
        if record.name == "undeletable":
            raise RecordError({"": "This thing stays."})

    @hookimpl
    def kyklos_record_after_delete(self, record, soft, source):
        self.calls.append(("after_delete", soft, source))

    @hookimpl
    def kyklos_timeline_items(self, entity_type, record):
        return [
            TimelineItem(when=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), title="Founded", kind="note")
        ]


@pytest.fixture
def recorder(registry):
    rec = Recorder()
    registry.kyklos_pm.register(rec, name="test-recorder")
    yield rec
    registry.kyklos_pm.unregister(rec)


@pytest.fixture
def as_user(registry, make_user, dbsession):
    """``with as_user("thingseditor") as request:`` — a request outside HTTP, as scripts,
    importers and jobs have, committed at the end of the block."""
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    @contextlib.contextmanager
    def run(*roles):
        uid = make_user(roles=roles)
        with dbsession() as db:
            token, _row = create_token(db, db.get(User, uid), name="svc")
        req = Request.blank("/", headers={"Authorization": f"Bearer {token}"})
        tm = transaction.TransactionManager(explicit=True)
        req.tm = tm
        env = prepare(request=req, registry=registry)
        try:
            with tm:
                yield env["request"]
        finally:
            env["closer"]()

    return run


def test_every_path_runs_hooks_and_writes_history(api, recorder, as_user, registry):
    e = api("thingseditor")
    rid = e.post_json("/api/v1/things", {"name": "h1", "size": 1}).json["id"]
    assert recorder.calls == [
        ("validate", "thing", True, {"name": "h1", "size": 1}, "api"),
        ("before_save", True, ["name", "owner_id", "size"], "api"),
        ("after_save", True, ["name", "owner_id", "size"], "api"),
    ]
    recorder.calls.clear()
    e.patch_json(f"/api/v1/things/{rid}", {"size": 2})
    assert [c[0] for c in recorder.calls] == ["validate", "before_save", "after_save"]
    recorder.calls.clear()
    e.post_json("/api/v1/things/_bulk", {"action": "update", "ids": [rid], "data": {"size": 3}})
    assert recorder.calls[-1] == ("after_save", False, ["size"], "bulk")
    recorder.calls.clear()
    with as_user("thingseditor") as request:
        et = service.get_entity_type(request, "thing")
        rec = service.get_record(request, et, rid, action="update")
        service.update_record(request, et, rec, {"colour": "red"}, source="ui")
        other = service.create_record(request, et, {"name": "imported"}, source="import")
        service.delete_record(request, et, other, source="job")
    assert ("after_save", False, ["colour"], "ui") in recorder.calls
    assert ("after_save", True, ["name", "owner_id"], "import") in recorder.calls
    assert ("before_delete", "imported", "job") in recorder.calls
    assert ("after_delete", True, "job") in recorder.calls
    sources = [i["source"] for i in e.get(f"/api/v1/things/{rid}/history").json["items"]]
    assert sources == ["ui", "bulk", "api", "api"]
    imported = e.get(f"/api/v1/things/{other.id}/history").json["items"]
    assert [(i["action"], i["source"]) for i in imported] == [
        ("delete", "job"),
        ("create", "import"),
    ]


def test_before_delete_hook_can_refuse(api, recorder, registry, dbsession):
    e = api("thingseditor")
    rid = e.post_json("/api/v1/things", {"name": "undeletable"}).json["id"]
    before = thing_rows(registry, dbsession)
    res = e.delete(f"/api/v1/things/{rid}", status=400)
    assert res.json["errors"][0]["detail"] == "This thing stays."
    e.post_json("/api/v1/things/_bulk", {"action": "delete", "ids": [rid]}, status=400)
    assert thing_rows(registry, dbsession) == before


def test_service_checks_permission_before_writing(as_user, registry, dbsession, api):
    rid = api("thingseditor").post_json("/api/v1/things", {"name": "p"}).json["id"]
    before, n = thing_rows(registry, dbsession), audit_count(dbsession)
    with pytest.raises(HTTPForbidden), as_user("thingsreader") as request:
        et = service.get_entity_type(request, "thing")
        rec = service.get_record(request, et, rid)
        service.update_record(request, et, rec, {"name": "q"})
    with pytest.raises(HTTPForbidden), as_user("thingsreader") as request:
        service.create_record(request, service.get_entity_type(request, "things"), {"name": "z"})
    assert thing_rows(registry, dbsession) == before and audit_count(dbsession) == n


def test_record_error_collects_all_fields(as_user):
    with as_user("thingseditor") as request:
        et = service.get_entity_type(request, "thing")
        with pytest.raises(RecordError) as info:
            service.create_record(request, et, {"name": "forbidden", "size": "9", "zzz": 1})
    assert set(info.value.errors) == {"name", "size", "zzz"}


def test_timeline_merges_history_and_hook_items(api, recorder, as_user):
    e = api("thingseditor")
    rid = e.post_json("/api/v1/things", {"name": "t", "size": 1}).json["id"]
    e.patch_json(f"/api/v1/things/{rid}", {"size": 2, "colour": "red"})
    with as_user("thingsreader") as request:
        et = service.get_entity_type(request, "thing")
        items = history.timeline(request, et, service.get_record(request, et, rid))
    who = e.email.split("@")[0]
    assert [str(i.title) for i in items] == [
        f"{who} made changes", f"{who} created the record", "Founded"]
    # a field that had no value reads "Colour: red", one that changed "Size: 1 → 2"
    assert "Size: 1 → 2" in items[0].detail and "Colour: red" in items[0].detail
    assert items[0].who == e.email.split("@")[0] and items[0].kind == "history.update"


def test_audit_rows_are_in_the_same_transaction(api, registry, dbsession):
    """A refused write leaves neither the record change nor an audit entry behind."""
    e = api("thingseditor")
    rid = e.post_json("/api/v1/things", {"name": "tx"}).json["id"]
    n = audit_count(dbsession)
    e.patch_json(f"/api/v1/things/{rid}", {"name": "forbidden"}, status=400)
    assert audit_count(dbsession) == n
    with dbsession() as db:
        entries = (
            db.execute(select(history.AuditEntry).where(history.AuditEntry.record_id == rid))
            .scalars()
            .all()
        )
        assert [(x.entity, x.action, x.version) for x in entries] == [("thing", "create", 1)]


def test_a_batch_created_record_shows_no_row_number_or_version(as_user):
    """A batched insert (imports, demo data) records every column it wrote; the server's
    own fields (row number, version, who and when) are not lines a person reads."""
    with as_user("thingsreader") as request:
        et = service.get_entity_type(request, "thing")
        entry = history.AuditEntry(action="create", changes={
            "id": [None, 31], "version": [None, 1], "name": [None, "Crate"],
            "created_at": [None, "2026-01-02T10:00:00+00:00"],
            "updated_at": [None, "2026-01-02T10:00:00+00:00"]})
        readable = set(et.fields) | {"id", "version", "created_at", "updated_at"}
        _title, detail = history.describe(request, et, entry, "ann", readable, {})
    assert "Crate" in str(detail)
    assert "31" not in str(detail) and "2026" not in str(detail), detail

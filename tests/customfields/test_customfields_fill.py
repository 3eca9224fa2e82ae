"""Making a custom field filterable or unique fills its index mirror in a background job:
the field is "indexing" meanwhile (API flag, admin badge, job with progress) and its
filters read the records' JSON; afterwards they use the mirror. A unique fill that
meets shared values fails and leaves the field unindexed."""

from __future__ import annotations

import datetime as dt

import pytest
from entities_support import insert_things, roles_synced, thing_rules  # noqa: F401 - fixtures
from sqlalchemy import func, select

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.entities.customfields import CustomField, CustomValue

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


@pytest.fixture
def delayed_fill(registry, monkeypatch):
    # The test backend runs a job right after its commit; a delay keeps the fill
    # waiting so the "indexing" state can be seen, until run_scheduled runs it.
    monkeypatch.setitem(registry.settings, "kyklos.customfields.fill_delay", "3600")


def run_fill(registry):
    return jobs.run_scheduled(registry, until=utcnow() + dt.timedelta(hours=2))


def mirror_count(dbsession, field_id):
    with dbsession() as db:
        return db.execute(
            select(func.count()).select_from(CustomValue).where(CustomValue.field_id == field_id)
        ).scalar_one()


def test_filterable_fill_runs_in_a_job_and_filters_meanwhile(
    api, client, registry, dbsession, delayed_fill, query_counter
):
    admin = api("admin")
    d = admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_code",
                        "type": "string", "label": {"en": "Code"}}, status=201).json
    assert d["indexing"] is False
    # more than one batch of records, written straight to the table (no mirror rows)
    n = 2100
    insert_things(registry, dbsession, [
        {"name": f"t{i}", "custom": {"cf_code": "X1" if i % 100 == 0 else f"C{i}"}}
        for i in range(n)
    ])
    d = admin.patch_json(f"/api/v1/_custom-fields/{d['id']}", {"filterable": True}).json
    assert d["filterable"] is True and d["indexing"] is True and d["indexing_job"]
    job_id = d["indexing_job"]
    assert mirror_count(dbsession, d["id"]) == 0  # nothing filled in the request
    listed = admin.get("/api/v1/_custom-fields", {"entity": "thing"}).json["items"]
    assert [f["indexing"] for f in listed if f["id"] == d["id"]] == [True]
    assert admin.get(f"/api/v1/_jobs/{job_id}").json["state"] == "queued"
    # the admin page marks the field and links the jobs page
    page = client("admin").get("/admin/custom-fields/thing")
    badge = page.html.select_one(f'.k-indexing[data-job-id="{job_id}"]')
    assert badge is not None and badge["href"].endswith("/jobs")
    # meanwhile the filter is answered from the JSON, completely
    ed = api("thingseditor")
    with query_counter() as qc:
        res = ed.get("/api/v1/things", {"cf_code": "X1", "count": "exact", "limit": "200"})
    assert res.json["count"] == n // 100 and len(res.json["items"]) == n // 100
    assert not [s for s in qc.statements if "kyklos_custom_value" in s]
    assert run_fill(registry) == 1
    job = admin.get(f"/api/v1/_jobs/{job_id}").json
    assert job["state"] == "done" and job["progress"] == 100
    assert job["result"] == {"records": n, "rows": n}
    assert mirror_count(dbsession, d["id"]) == n
    assert admin.get(f"/api/v1/_custom-fields/{d['id']}").json["indexing"] is False
    # now through the mirror, same answer
    with query_counter() as qc:
        res = ed.get("/api/v1/things", {"cf_code": "X1", "count": "exact", "limit": "200"})
    assert res.json["count"] == n // 100
    assert [s for s in qc.statements if "kyklos_custom_value" in s]
    assert ed.get("/api/v1/things", {"cf_code__startswith": "x"}).json["items"]
    # records written during and after the fill are mirrored by the record service
    rec = ed.post_json("/api/v1/things", {"name": "new", "cf_code": "X1"}, status=201).json
    ids = {r["id"] for r in ed.get("/api/v1/things", {"cf_code": "X1", "limit": "200"})
           .json["items"]}
    assert rec["id"] in ids and len(ids) == n // 100 + 1


def test_unique_fill_with_shared_values_fails_and_unindexes(
    api, registry, dbsession, delayed_fill
):
    admin = api("admin")
    d = admin.post_json("/api/v1/_custom-fields", {"entity": "thing", "name": "cf_vat",
                        "type": "string", "label": {"en": "VAT"}}, status=201).json
    insert_things(registry, dbsession, [{"name": f"v{i}", "custom": {"cf_vat": f"EL{i}"}}
                                        for i in range(5)]
                  + [{"name": "dup", "custom": {"cf_vat": "el3"}}])  # case-folded: shared
    d = admin.patch_json(f"/api/v1/_custom-fields/{d['id']}",
                         {"unique": True, "filterable": True}).json
    assert d["unique"] is True and d["indexing"] is True
    job_id = d["indexing_job"]
    # retries, then the last attempt gives up and leaves the field unindexed
    for _ in range(3):
        run_fill(registry)
        with dbsession() as db:
            from kyklos.jobs.models import Job

            state = db.get(Job, job_id).state
        if state == "failed":
            break
        jobs.run_scheduled(registry, until=utcnow() + dt.timedelta(hours=3))
    job = admin.get(f"/api/v1/_jobs/{job_id}").json
    assert job["state"] == "failed" and "share a value" in (job.get("error") or "")
    d = admin.get(f"/api/v1/_custom-fields/{d['id']}").json
    assert (d["unique"], d["filterable"], d["indexing"]) == (False, False, False)
    assert mirror_count(dbsession, d["id"]) == 0
    with dbsession() as db:
        row = db.get(CustomField, d["id"])
        assert not row.unique and not row.filterable
    # not filterable any more: a clear 400, not a partial answer
    api("thingseditor").get("/api/v1/things", {"cf_vat": "EL1"}, status=400)

"""The CSV export streams (issue 11): BOM and header first, then one chunk per keyset
batch read by a column-projected Core select, no Content-Length, the security event
written when the stream ends with the rows sent; formula neutralisation unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from entities_support import insert_things, roles_synced, thing_model, thing_rules  # noqa: F401
from sqlalchemy import select
from webob import Request

from kyklos.security.audit import SecurityEvent

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def test_csv_export_streams_batch_by_batch(api, kyklos_app, registry, dbsession, query_counter):
    ed = api("thingseditor")
    n = 2500
    ids = insert_things(registry, dbsession, [{"name": "=1+1" if i == 7 else f"t{i:04}",
                                               "size": i % 9} for i in range(n)])
    table = thing_model(registry).__table__.name
    req = Request.blank(
        "/api/v1/things/_export?format=csv&columns=id,name,size&sort=-id",
        environ={"HTTP_HOST": "localhost",
                 "HTTP_AUTHORIZATION": ed.extra_environ["HTTP_AUTHORIZATION"]},
    )
    with query_counter() as qc:
        status, headers, app_iter = req.call_application(kyklos_app)

        def reads():
            return [s for s in qc.statements if f"FROM {table}" in s]

        assert status.startswith("200")
        assert "Content-Length" not in dict(headers)
        assert dict(headers)["Content-Type"].startswith("text/csv")
        chunks = iter(app_iter)
        first = next(chunks)
        # the header is out before any row is read
        assert first.startswith(b"\xef\xbb\xbf") and b"\r\n" in first
        assert reads() == []
        second = next(chunks)
        assert len(reads()) == 1 and second.count(b"\r\n") == 1000
        rest = b"".join(chunks)
        app_iter.close()
    batch_reads = reads()
    assert len(batch_reads) == 3
    # projected: only the exported columns (and the sort key), never the whole row
    assert all("custom" not in s.split("FROM")[0] for s in batch_reads)
    rows = list(csv.reader(io.StringIO((first + second + rest).decode("utf-8-sig"))))
    assert rows[0] == ["ID", "Name", "Size"] or rows[0][1] == "Name"
    body = rows[1:]
    assert [int(r[0]) for r in body] == sorted(ids, reverse=True)
    assert "'=1+1" in {r[1] for r in body} and "=1+1" not in {r[1] for r in body}
    with dbsession() as db:
        events = db.execute(select(SecurityEvent).where(SecurityEvent.kind == "export")).scalars()
        detail = [e.detail for e in events]
    assert [(d["rows"], d["streamed"], d["complete"]) for d in detail] == [(n, True, True)]


def test_a_stream_closed_early_is_logged_as_incomplete(api, kyklos_app, registry, dbsession):
    ed = api("thingseditor")
    insert_things(registry, dbsession, [{"name": f"t{i}"} for i in range(1500)])
    req = Request.blank("/api/v1/things/_export?format=csv&columns=name",
                        environ={"HTTP_HOST": "localhost",
                                 "HTTP_AUTHORIZATION": ed.extra_environ["HTTP_AUTHORIZATION"]})
    _status, _headers, app_iter = req.call_application(kyklos_app)
    chunks = iter(app_iter)
    next(chunks)
    next(chunks)
    app_iter.close()  # the client went away
    with dbsession() as db:
        detail = db.execute(select(SecurityEvent.detail)
                            .where(SecurityEvent.kind == "export")).scalars().all()
    assert [(d["rows"], d["complete"]) for d in detail] == [(1000, False)]

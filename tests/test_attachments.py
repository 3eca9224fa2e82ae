"""Attachments (CORE-04): upload, download, delete; content sniffing, safe names, size
limit, storage outside code paths, and the record's visibility as the access rule."""

from __future__ import annotations

import hashlib
import struct
import zlib
from pathlib import Path

import pytest
from sqlalchemy import select

from kyklos_sdk.testing import csrf_of


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


def png_bytes(extra: bytes = b"") -> bytes:
    """A valid 1x1 PNG (plus optional trailing bytes)."""

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00\xff\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
        + extra
    )


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64


def user_id(dbsession, email):
    from kyklos.security.models import User

    with dbsession() as db:
        return db.execute(select(User.id).where(User.email == email)).scalar_one()


def make(registry, dbsession, entity="thing", **values):
    model = registry.kyklos_entities[entity].model
    with dbsession() as db:
        obj = model(**values)
        db.add(obj)
        db.flush()
        return obj.id


def rows(dbsession):
    from kyklos.entities.attachments import Attachment

    with dbsession() as db:
        return list(db.execute(select(Attachment).order_by(Attachment.id)).scalars())


def stored_files(registry) -> list[Path]:
    root = Path(registry.settings["kyklos.files_dir"])
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture(autouse=True)
def empty_files_dir(registry):
    """The database is emptied after each test; the app's files folder is shared too."""
    import shutil

    root = Path(registry.settings["kyklos.files_dir"])
    for child in root.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.fixture
def editor(api, dbsession):
    return api("thingseditor")


@pytest.fixture
def thing(registry, dbsession, editor):
    return make(registry, dbsession, name="T", owner_id=editor.user_id)


def upload(app, thing_id, name, content, ctype="application/octet-stream", status=None):
    return app.post(
        f"/api/v1/things/{thing_id}/attachments",
        upload_files=[("file", name, content, ctype)],
        status=status,
    )


def test_upload_list_download_delete(editor, thing, registry, dbsession):
    data = png_bytes()
    # the client's content type is ignored: the bytes say PNG
    res = upload(editor, thing, "photo.png", data, ctype="text/html", status=201)
    body = res.json
    assert body["content_type"] == "image/png"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["filename"] == "photo.png"
    [att] = rows(dbsession)
    # stored under files_dir in a two-level fan-out of the random key, not the user's name
    [path] = stored_files(registry)
    root = Path(registry.settings["kyklos.files_dir"]).resolve()
    assert path.resolve() == root / att.storage_key[:2] / att.storage_key[2:4] / att.storage_key
    assert path.read_bytes() == data and "photo" not in str(path)

    listing = editor.get(f"/api/v1/things/{thing}/attachments").json["items"]
    assert [a["id"] for a in listing] == [body["id"]]

    dl = editor.get(body["url"])
    assert dl.body == data
    assert dl.headers["Content-Type"] == "image/png"
    assert dl.headers["Content-Disposition"].startswith("attachment;")
    assert dl.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in dl.headers["Content-Security-Policy"]

    editor.delete(body["url"], status=204)
    assert rows(dbsession) == []
    assert stored_files(registry) == []
    editor.get(body["url"], status=404)


def test_download_name_is_rfc6266_encoded(editor, thing):
    res = upload(editor, thing, 'Προσφορά "2026".pdf', PDF, status=201)
    assert res.json["filename"] == "Προσφορά _2026_.pdf"
    cd = editor.get(res.json["url"]).headers["Content-Disposition"]
    assert cd.startswith('attachment; filename="')
    assert "filename*=UTF-8''%CE%A0%CF%81%CE%BF%CF%83" in cd
    assert '"2026"' not in cd


@pytest.mark.parametrize(
    "name, content, why",
    [
        ("shell.php", b"<?php system($_GET['c']); ?>", "type .php"),
        ("shell.pHaR", png_bytes(), "type .phar"),
        ("evil.php.jpg", JPEG, "type .php"),
        ("run.py", b"import os\n", "type .py"),
        ("page.html", b"<html><script>alert(1)</script></html>", "type .html"),
        ("notes.txt", b"hello <script>alert(1)</script>", "web page or script"),
        ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "svg"),
        ("image.svg.txt", b"<svg onload=alert(1)>", "svg"),
        ("fake.pdf", png_bytes(), "does not match"),
        ("doc.jpg", PDF, "does not match"),
        ("empty.txt", b"", "empty"),
        ("binary.bin", b"\x00\x01\x02\x03" * 10, "not accepted"),
        ("prog.exe", b"MZ\x90\x00" + b"\x00" * 60, "exe"),
    ],
)
def test_dangerous_or_mismatched_files_are_refused(
    editor, thing, registry, dbsession, name, content, why
):
    res = upload(editor, thing, name, content, status=400)
    assert res.content_type == "application/problem+json"
    assert why.lower() in res.text.lower()
    assert rows(dbsession) == []
    assert stored_files(registry) == []


def test_unsafe_names_are_cleaned(editor, thing, registry):
    res = upload(editor, thing, "../../etc/passwd.txt", b"root:x:0:0\n", status=201)
    assert res.json["filename"] == "passwd.txt"
    assert res.json["content_type"] == "text/plain"
    res = upload(editor, thing, "C:\\Users\\x\\report\u202egpj.pdf", PDF, status=201)
    assert res.json["filename"] == "reportgpj.pdf"
    res = upload(editor, thing, "inv\x00oice.csv", b"a;b\n1;2\n", status=201)
    assert res.json["filename"] == "invoice.csv" and res.json["content_type"] == "text/csv"
    root = Path(registry.settings["kyklos.files_dir"]).resolve()
    assert all(root in p.resolve().parents for p in stored_files(registry))


def test_size_limit_gives_413(editor, thing, registry, dbsession):
    registry.settings["kyklos.upload.max_bytes"] = "1000"
    try:
        res = upload(editor, thing, "big.txt", b"x" * 1001, status=413)
        assert "larger than the limit" in res.json["detail"]
        # far over the limit: refused from the Content-Length, before reading the body
        res = upload(editor, thing, "huge.txt", b"x" * 200_000, status=413)
        assert res.json["status"] == 413
        assert upload(editor, thing, "ok.txt", b"x" * 1000, status=201)
    finally:
        registry.settings["kyklos.upload.max_bytes"] = str(20 * 1024 * 1024)
    assert len(rows(dbsession)) == 1
    assert len(stored_files(registry)) == 1


def test_access_follows_the_record(api, editor, thing, registry, dbsession):
    res = upload(editor, thing, "a.pdf", PDF, status=201)
    url = res.json["url"]
    reader = api("thingsreader")
    assert reader.get(url).body == PDF
    assert len(reader.get(f"/api/v1/things/{thing}/attachments").json["items"]) == 1
    # reading is not changing
    upload(reader, thing, "b.pdf", PDF, status=403)
    reader.delete(url, status=403)
    # no read permission: the record does not exist for this user
    outsider = api("user")
    outsider.get(url, status=404)
    editor.get("/api/v1/attachments/99999999999999999999", status=404)
    outsider.get(f"/api/v1/things/{thing}/attachments", status=404)
    upload(outsider, thing, "c.pdf", PDF, status=404)
    # a soft-deleted record's files are out of reach as well
    model = registry.kyklos_entities["thing"].model
    from kyklos.db import utcnow

    with dbsession() as db:
        db.get(model, thing).deleted_at = utcnow()
    editor.get(url, status=404)
    assert len(rows(dbsession)) == 1


def test_ui_upload_download_delete(client, registry, dbsession):
    app = client("thingseditor")
    uid = user_id(dbsession, app.email)
    tid = make(registry, dbsession, name="Ui", owner_id=uid)
    page = app.get(f"/things/{tid}")
    form = next(f for f in page.forms.values() if f.action.endswith("/attachments"))
    form["file"] = ("offer.pdf", PDF)
    res = form.submit()
    assert res.status_int == 303 and res.location.endswith("#attachments")
    page = res.follow()
    assert "Uploaded offer.pdf." in page.text
    dl = page.click(description="offer.pdf")
    assert dl.body == PDF and dl.headers["Content-Disposition"].startswith("attachment")
    # a refused file comes back as a message on the page, nothing is stored
    form = next(f for f in page.forms.values() if f.action.endswith("/attachments"))
    form["file"] = ("x.php", b"<?php ?>")
    page = form.submit().follow()
    assert "Files of type .php are not accepted." in page.text
    assert len(rows(dbsession)) == 1
    [att] = rows(dbsession)
    assert app.post(f"/attachments/{att.id}/delete", {"csrf_token": csrf_of(app)}).status_int == 303
    assert rows(dbsession) == [] and stored_files(registry) == []
    # a reader sees the file list but no upload form
    make_reader = client("thingsreader")
    assert "multipart/form-data" not in make_reader.get(f"/things/{tid}").text


def test_purging_a_record_removes_its_files(client, registry, dbsession):
    app = client("releditor")
    uid = user_id(dbsession, app.email)
    box = make(registry, dbsession, "box", name="Box", owner_id=uid)
    page = app.get(f"/boxes/{box}")
    form = next(f for f in page.forms.values() if f.action.endswith("/attachments"))
    form["file"] = ("list.csv", b"a,b\n")
    form.submit()
    assert len(stored_files(registry)) == 1
    confirm = app.get(f"/boxes/{box}/delete")
    next(f for f in confirm.forms.values() if f.action.endswith("/delete")).submit()
    # boxes are deleted for good: so are their files
    assert rows(dbsession) == [] and stored_files(registry) == []


def test_current_attachments_of_many_records_in_one_query(
    api, editor, registry, dbsession, query_counter
):
    """The SDK's ``current_attachments``: for a whole list of records, each one's latest
    file and its number of versions, in one statement whatever the number of records;
    the record's visibility rules apply as on every other attachment path."""
    import datetime as dt

    from kyklos.entities.attachments import Attachment
    from kyklos_sdk import current_attachments, request_as

    et = registry.kyklos_entities["thing"]
    ids = [make(registry, dbsession, name=f"T{n}", owner_id=editor.user_id) for n in range(6)]
    uploaded = {}
    for n, tid in enumerate(ids[:5]):
        # thing n has n + 1 versions; the last upload is the current one
        uploaded[tid] = [
            upload(editor, tid, f"t{n}-v{v}.pdf", PDF, status=201).json["id"] for v in range(n + 1)
        ]
    # the same second for two uploads: the higher id wins the tie
    with dbsession() as db:
        same = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        for aid in uploaded[ids[1]]:
            db.get(Attachment, aid).created_at = same

    def current(user_id, record_ids):
        with request_as(registry, user_id) as request:
            # the user's roles and record rules are loaded once per request, first
            current_attachments(request, et, ids[-1:])
            with query_counter() as q:
                got = current_attachments(request, et, record_ids)
            return {
                rid: (c.attachment.id, c.attachment.filename, c.versions) for rid, c in got.items()
            }, q.count

    got, n_two = current(editor.user_id, ids[:2])
    assert n_two == 1
    got, n_all = current(editor.user_id, ids)
    assert n_all == 1  # six records, still one statement
    assert got == {
        tid: (uploaded[tid][-1], f"t{n}-v{n}.pdf", n + 1) for n, tid in enumerate(ids[:5])
    }  # the sixth thing has no file: absent
    assert current(editor.user_id, [])[0] == {}
    # a reader sees the same; a user who may not read things sees nothing
    reader = api("thingsreader")
    assert current(reader.user_id, ids)[0] == got
    outsider = api("user")
    assert current(outsider.user_id, ids) == ({}, 1)
    # a soft-deleted record's files are out of reach, as on the download path
    from kyklos.db import utcnow

    with dbsession() as db:
        db.get(et.model, ids[0]).deleted_at = utcnow()
    assert ids[0] not in current(editor.user_id, ids)[0]
    assert set(current(editor.user_id, ids)[0]) == set(ids[1:5])

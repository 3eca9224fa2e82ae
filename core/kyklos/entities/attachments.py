"""Attachments (CORE-04): files on any record.

Uploads are checked by content, not by name or by the client's content type: the first
bytes are sniffed (``filetype``), the type must be on an allow-list and agree with the
extension, and no part of the name may carry an executable or script extension
(``x.php.jpg``, ``.pHaR``). Files live under ``kyklos.files_dir`` in a two-level fan-out
of random names, never at a path a user chose, and are always served as a download
with ``nosniff`` and a sandboxing CSP. Access follows the record: whoever cannot see the
record gets 404; changing attachments needs ``update`` on it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import filetype
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.response import FileResponse
from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, func, select
from sqlalchemy.orm import Mapped, aliased, mapped_column

from kyklos.db import Base, IdMixin, UTCDateTime, utcnow
from kyklos.entities.display import flash
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.problem import Problem
from kyklos.settings import asint

SNIFF_BYTES = 8192
CHUNK = 64 * 1024

#: sniffed type -> the extensions a file of that type may have
BINARY_TYPES: dict[str, tuple[str, ...]] = {
    "image/jpeg": ("jpg", "jpeg", "jpe", "jfif"),
    "image/png": ("png",),
    "image/gif": ("gif",),
    "image/webp": ("webp",),
    "image/bmp": ("bmp",),
    "image/tiff": ("tif", "tiff"),
    "image/heic": ("heic",),
    "image/avif": ("avif",),
    "application/pdf": ("pdf",),
    "application/rtf": ("rtf",),
    "audio/mpeg": ("mp3",),
    "audio/mp4": ("m4a",),
    "audio/ogg": ("ogg", "oga"),
    "audio/x-wav": ("wav",),
    "video/mp4": ("mp4",),
    "video/quicktime": ("mov",),
    "video/webm": ("webm",),
}
# Office formats are containers (ZIP or OLE) whose sniffed type depends on the order of
# their parts, so within one family the extension names the type.
ZIP_FAMILY = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "odp": "application/vnd.oasis.opendocument.presentation",
    "epub": "application/epub+zip",
    "zip": "application/zip",
}
OLE_FAMILY = {
    "doc": "application/msword",
    "xls": "application/vnd.ms-excel",
    "ppt": "application/vnd.ms-powerpoint",
    "msg": "application/vnd.ms-outlook",
}
#: files without a signature: accepted only as plain text with one of these extensions
TEXT_TYPES = {
    "txt": "text/plain",
    "md": "text/plain",
    "log": "text/plain",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "vcf": "text/vcard",
    "ics": "text/calendar",
    "json": "application/json",
}
#: refused anywhere in a name ("report.php.pdf" too): what a server or desktop might run
DANGEROUS_EXTENSIONS = frozenset(
    """php php3 php4 php5 php7 php8 phtml pht phps phar inc pl pm py pyc pyo pyw pyz rb cgi
    sh bash zsh ksh csh fish exe dll so com bat cmd msi msp scr vbs vbe js mjs cjs jse wsf
    wsh hta html htm xhtml xht shtml svg svgz xml xsl xslt jsp jspx asp aspx asa ashx cer
    jar war ps1 psm1 lnk reg swf htaccess desktop appimage apk""".split()
)
#: text that a browser or an interpreter would treat as active content
ACTIVE_MARKERS = (
    b"<script",
    b"<html",
    b"<!doctype",
    b"<svg",
    b"<?php",
    b"<?xml",
    b"<iframe",
    b"<body",
    b"<object",
    b"<embed",
    b"<?=",
)
UNSAFE_CHARS = '<>:"/\\|?*'


class Attachment(IdMixin, Base):
    __tablename__ = "kyklos_attachment"
    __table_args__ = (Index("ix_kyklos_attachment_record", "entity", "record_id"),)

    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    #: the display name, sanitised; never used as a path
    filename: Mapped[str] = mapped_column(String(255), nullable=False)
    #: the sniffed type from the allow-list; the client's claim is ignored
    content_type: Mapped[str] = mapped_column(String(127), nullable=False)
    size: Mapped[int] = mapped_column(BigInteger, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    #: random name under ``kyklos.files_dir``
    storage_key: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[object] = mapped_column(UTCDateTime, default=utcnow, nullable=False)


# --- names and types --------------------------------------------------------------------


def safe_filename(raw) -> str:
    """A display name: no directories, controls, bidi overrides or reserved characters."""
    name = str(raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(
        "_" if c in UNSAFE_CHARS else c for c in name if unicodedata.category(c)[0] != "C"
    )
    name = " ".join(name.split()).strip(" .")
    if len(name) > 200:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: 200 - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else name[:200]
    return name or "file"


def _extensions(name: str) -> list[str]:
    parts = name.casefold().split(".")
    return parts[1:] if len(parts) > 1 else []


def classify(filename: str, head: bytes) -> tuple[str, str]:
    """``(display name, content type)`` for an upload, or :class:`Problem` 400.

    ``head`` is the file's first bytes (at least :data:`SNIFF_BYTES` when it is longer).
    """
    name = safe_filename(filename)
    exts = _extensions(name)
    bad = [e for e in exts if e.strip() in DANGEROUS_EXTENSIONS]
    if bad:
        raise _refuse(_("Files of type .${ext} are not accepted.", mapping={"ext": bad[0]}))
    ext = exts[-1].strip() if exts else ""
    kind = filetype.guess(head) if head else None
    if kind is not None:
        mime = kind.mime
        if mime in BINARY_TYPES:
            allowed = BINARY_TYPES[mime]
            if not ext:
                return f"{name}.{allowed[0]}", mime
            if ext in allowed:
                return name, mime
            raise _mismatch(kind.extension, ext)
        family = _family(mime)
        if family is not None:
            if not ext:
                ext = kind.extension if kind.extension in family else next(iter(family))
                name = f"{name}.{ext}"
            if ext in family:
                return name, family[ext]
            raise _mismatch(kind.extension, ext)
        raise _refuse(
            _("Files of this kind (${kind}) are not accepted.", mapping={"kind": kind.extension})
        )
    if not head:
        raise _refuse(_("The file is empty."))
    if b"\x00" in head:
        raise _refuse(_("Files of this kind are not accepted."))
    lowered = head.lower()
    if any(m in lowered for m in ACTIVE_MARKERS):
        raise _refuse(_("Files with web page or script content are not accepted."))
    if ext in TEXT_TYPES:
        return name, TEXT_TYPES[ext]
    if not ext:
        return f"{name}.txt", "text/plain"
    raise _refuse(_("Files of type .${ext} are not accepted.", mapping={"ext": ext}))


def _family(mime: str):
    if mime in ZIP_FAMILY.values():
        return ZIP_FAMILY
    if mime in OLE_FAMILY.values():
        return OLE_FAMILY
    return None


def _refuse(msg):
    return Problem(400, _("File refused"), msg, errors={"file": msg})


def _mismatch(found, ext):
    return _refuse(
        _(
            "The file's content (${found}) does not match its extension .${ext}.",
            mapping={"found": found, "ext": ext},
        )
    )


def content_disposition(name: str) -> str:
    """RFC 6266: an ASCII fallback plus the exact UTF-8 name in ``filename*``."""
    fallback = "".join(c for c in name if 32 <= ord(c) < 127 and c not in '"\\%;') or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# --- storage ----------------------------------------------------------------------------


def files_root(registry) -> Path:
    root = registry.settings.get("kyklos.files_dir") or ""
    if not root:
        raise Problem(
            503, _("File storage is not configured"), _("Set kyklos.files_dir to a directory.")
        )
    return Path(root).resolve()


def storage_path(root: Path, key: str) -> Path:
    if len(key) < 8 or not key.isalnum():
        raise ValueError("bad storage key")
    return root / key[:2] / key[2:4] / key


def max_bytes(registry) -> int:
    return asint(registry.settings, "kyklos.upload.max_bytes")


def _too_large(registry):
    limit = max_bytes(registry)
    msg = _("The file is larger than the limit of ${mb} MB.", mapping={"mb": _mb(limit)})
    return Problem(413, _("File too large"), msg, errors={"file": msg})


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def check_request_size(request) -> None:
    """Refuse an oversize body before reading it (the multipart envelope gets a margin)."""
    length = request.content_length
    if length is not None and length > max_bytes(request.registry) + 64 * 1024:
        raise _too_large(request.registry)


def _after_commit(request, fn):
    """Run ``fn(committed)`` once the request's transaction ends."""
    request.tm.get().addAfterCommitHook(lambda ok: fn(ok))


def store_upload(request, et, record, stream, filename) -> Attachment:
    """Copy ``stream`` into storage and record it. Refuses oversize or unsafe files.

    The file is written to a temporary name and renamed into place; if the transaction
    aborts, the file is removed again.
    """
    root = files_root(request.registry)
    limit = max_bytes(request.registry)
    key = secrets.token_hex(16)
    tmp_dir = root / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    tmp = tmp_dir / f"{key}.part"
    digest = hashlib.sha256()
    size = 0
    head = b""
    try:
        with open(tmp, "xb") as out:
            os.chmod(tmp, 0o640)
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > limit:
                    raise _too_large(request.registry)
                if len(head) < SNIFF_BYTES:
                    head += chunk[: SNIFF_BYTES - len(head)]
                digest.update(chunk)
                out.write(chunk)
        name, ctype = classify(filename, head)
        final = storage_path(root, key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise

    def cleanup(committed):
        if not committed:
            final.unlink(missing_ok=True)

    _after_commit(request, cleanup)
    ident = request.identity
    att = Attachment(
        entity=et.name,
        record_id=record.id,
        filename=name,
        content_type=ctype,
        size=size,
        sha256=digest.hexdigest(),
        storage_key=key,
        uploaded_by_id=ident.user.id if ident else None,
    )
    request.dbsession.add(att)
    request.dbsession.flush()
    return att


class StoredFile:
    """A file the application makes (an export, a batch of letters) written straight into
    the storage attachments use, so that a large output is streamed to disk, never held
    in memory or in a database row. Written through :attr:`file` inside ``with``; on a
    clean exit it is renamed into place under :attr:`key` (keep the key in a row) and
    removed again if the request's transaction aborts. No upload limit or type sniffing
    applies: the content is the application's own."""

    def __init__(self, request):
        self.request = request
        self.root = files_root(request.registry)
        self.key = secrets.token_hex(16)
        self.size = 0
        self._digest = hashlib.sha256()
        self._tmp = self.root / "tmp" / f"{self.key}.part"
        self.file = None

    def __enter__(self):
        self._tmp.parent.mkdir(parents=True, exist_ok=True)
        self.file = open(self._tmp, "xb+")  # noqa: SIM115 - closed in __exit__
        os.chmod(self._tmp, 0o640)
        return self

    def __exit__(self, exc_type, exc, tb):
        self.file.close()
        if exc_type is not None:
            self._tmp.unlink(missing_ok=True)
            return False
        with open(self._tmp, "rb") as f:
            for chunk in iter(lambda: f.read(CHUNK), b""):
                self._digest.update(chunk)
                self.size += len(chunk)
        final = storage_path(self.root, self.key)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._tmp, final)

        def cleanup(committed):
            if not committed:
                final.unlink(missing_ok=True)

        _after_commit(self.request, cleanup)
        return False

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()


def stored_file_path(registry, key: str) -> Path:
    """Where the stored file ``key`` (of :class:`StoredFile`) lives."""
    return storage_path(files_root(registry), key)


def delete_stored_file(request, key: str) -> None:
    """Remove the stored file ``key`` once the request's transaction has committed."""
    path = stored_file_path(request.registry, key)
    _after_commit(request, lambda committed: committed and path.unlink(missing_ok=True))


def stored_file_response(request, key: str, filename: str, content_type: str):
    """A stored file as a download (streamed from disk, as attachments are served)."""
    path = stored_file_path(request.registry, key)
    if not path.is_file():
        raise HTTPNotFound()
    resp = FileResponse(str(path), request=request, content_type=content_type)
    resp.headers["Content-Disposition"] = content_disposition(filename)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def delete_attachment(request, att: Attachment) -> None:
    """Delete the row now and the file once the transaction has committed."""
    path = storage_path(files_root(request.registry), att.storage_key)
    request.dbsession.delete(att)
    request.dbsession.flush()

    def remove(committed):
        if committed:
            path.unlink(missing_ok=True)

    _after_commit(request, remove)


def forget_record(request, et, record_id) -> None:
    """Delete every attachment of a purged record."""
    rows = request.dbsession.execute(
        select(Attachment).where(Attachment.entity == et.name, Attachment.record_id == record_id)
    ).scalars()
    for att in list(rows):
        delete_attachment(request, att)


class AttachmentHooks:
    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record, soft):
        # A soft-deleted record keeps its files for a restore; a purged one loses them.
        if not soft:
            forget_record(request, entity_type, record.id)


def attachments_of(dbsession, et, record_id) -> list[Attachment]:
    return list(
        dbsession.execute(
            select(Attachment)
            .where(Attachment.entity == et.name, Attachment.record_id == record_id)
            .order_by(Attachment.created_at.desc(), Attachment.id.desc())
        ).scalars()
    )


@dataclass(frozen=True)
class CurrentAttachment:
    """A record's latest file and how many files (versions) the record has."""

    attachment: Attachment
    versions: int


def current_attachments(request, et, record_ids) -> dict[int, CurrentAttachment]:
    """``{record id: CurrentAttachment}`` for many records of ``et`` in one query: each
    record's latest attachment (newest ``created_at``, then highest id) and its number
    of attachments. Access follows the record, as everywhere in the attachment API:
    records the user may not see (record rules, soft-deleted) and records without
    files are absent, so a caller cannot learn of a file it could not download."""
    from kyklos.entities import service

    ids = {int(i) for i in record_ids}
    if not ids:
        return {}
    visible = (
        service.visible_select(request, et)
        .where(et.model.id.in_(ids))
        .with_only_columns(et.model.id)
    )
    ranked = (
        select(
            Attachment.id.label("aid"),
            func.row_number()
            .over(
                partition_by=Attachment.record_id,
                order_by=(Attachment.created_at.desc(), Attachment.id.desc()),
            )
            .label("rank"),
            func.count().over(partition_by=Attachment.record_id).label("versions"),
        )
        .where(Attachment.entity == et.name, Attachment.record_id.in_(visible))
        .subquery()
    )
    att = aliased(Attachment)
    rows = request.dbsession.execute(
        select(att, ranked.c.versions)
        .join(ranked, ranked.c.aid == att.id)
        .where(ranked.c.rank == 1)
    ).all()
    return {a.record_id: CurrentAttachment(a, int(n)) for a, n in rows}


def read_attachment(request, att: Attachment) -> bytes:
    """The stored bytes of an attachment (the caller checked the user may read its
    record): for a plugin that sends or processes a record's files."""
    path = storage_path(files_root(request.registry), att.storage_key)
    if not path.is_file():
        raise HTTPNotFound()
    return path.read_bytes()


def download_response(request, att: Attachment):
    path = storage_path(files_root(request.registry), att.storage_key)
    if not path.is_file():
        raise HTTPNotFound()
    ctype = att.content_type
    if ctype.startswith("text/"):
        ctype += "; charset=utf-8"
    resp = FileResponse(str(path), request=request, content_type=ctype)
    resp.headers["Content-Disposition"] = content_disposition(att.filename)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def human_size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


# --- access -----------------------------------------------------------------------------


def _record_from_route(request, action="read"):
    from kyklos.entities import service

    et = service.get_entity_type(request, request.matchdict["slug"])
    record = service.get_record(request, et, int(request.matchdict["id"]))
    _require(request, et, record, action)
    return et, record


def _attachment_from_route(request, action="read"):
    """The attachment and its record; 404 unless the record is visible to the user."""
    from kyklos.entities import service

    aid = request.matchdict["aid"]
    # an id beyond the column's range is simply not found (PostgreSQL would raise)
    att = request.dbsession.get(Attachment, int(aid)) if len(aid) < 10 else None
    et = request.registry.kyklos_entities.get(att.entity) if att else None
    if att is None or et is None:
        raise HTTPNotFound()
    record = service.get_record(request, et, att.record_id)
    _require(request, et, record, action)
    return att, et, record


def _require(request, et, record, action):
    from kyklos.security import rules

    if action != "read" and not rules.can_access(request, et, record, action):
        # The forbidden view answers problem+json under /api/ and a page elsewhere.
        raise HTTPForbidden()


def attachment_json(request, att: Attachment) -> dict:
    return {
        "id": att.id,
        "filename": att.filename,
        "content_type": att.content_type,
        "size": att.size,
        "sha256": att.sha256,
        "uploaded_by_id": att.uploaded_by_id,
        "created_at": att.created_at.isoformat(),
        "url": request.route_url("api.attachment", aid=att.id),
    }


# --- API views --------------------------------------------------------------------------


def api_list(request):
    et, record = _record_from_route(request)
    items = attachments_of(request.dbsession, et, record.id)
    return {"items": [attachment_json(request, a) for a in items]}


def api_upload(request):
    check_request_size(request)
    et, record = _record_from_route(request, "update")
    upload = request.POST.get("file")
    if upload is None or not hasattr(upload, "file"):
        msg = _("Send the file as multipart/form-data field 'file'.")
        raise Problem(400, _("No file"), msg, errors={"file": msg})
    att = store_upload(request, et, record, upload.file, upload.filename)
    request.response.status = 201
    request.response.headers["Location"] = request.route_url("api.attachment", aid=att.id)
    return attachment_json(request, att)


def api_download(request):
    att, _et, _record = _attachment_from_route(request)
    return download_response(request, att)


def api_delete(request):
    att, _et, _record = _attachment_from_route(request, "update")
    delete_attachment(request, att)
    request.response.status = 204
    return request.response


# --- UI views ---------------------------------------------------------------------------


def ui_upload(request):
    from kyklos.entities import service

    et = service.get_entity_type(request, request.matchdict["slug"])
    back = request.route_url("entity.detail", slug=et.slug, id=request.matchdict["id"])
    try:
        check_request_size(request)
        et, record = _record_from_route(request, "update")
        upload = request.POST.get("file")
        if upload is None or not hasattr(upload, "file"):
            raise _refuse(_("Choose a file to upload."))
        att = store_upload(request, et, record, upload.file, upload.filename)
    except Problem as exc:
        if exc.status == 503:
            raise
        # The refused upload wrote nothing; the message goes back to the page.
        flash(request, exc.detail or exc.title, "danger")
        return HTTPSeeOther(back + "#attachments")
    flash(request, _("Uploaded ${name}.", mapping={"name": att.filename}), "success")
    return HTTPSeeOther(back + "#attachments")


def ui_download(request):
    att, _et, _record = _attachment_from_route(request)
    return download_response(request, att)


def ui_delete(request):
    att, et, record = _attachment_from_route(request, "update")
    name = att.filename
    delete_attachment(request, att)
    flash(request, _("Deleted ${name}.", mapping={"name": name}), "success")
    return HTTPSeeOther(
        request.route_url("entity.detail", slug=et.slug, id=record.id) + "#attachments"
    )


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    att = o.obj(
        {
            "id": {"type": "integer"},
            "filename": {"type": "string"},
            "content_type": {"type": "string"},
            "size": {"type": "integer"},
            "sha256": {"type": "string"},
            "uploaded_by_id": {"type": ["integer", "null"]},
            "created_at": o.DATETIME,
            "url": {"type": "string"},
        },
        ["id", "filename", "content_type", "size", "sha256", "created_at", "url"],
    )
    record = [o.slug_param(request), o.path_id()]
    aid = [o.path_id("aid")]
    return {
        "/api/v1/{slug}/{id}/attachments": {
            "get": o.operation(
                "Attachments",
                "list_attachments",
                {"200": o.json_ok(o.page_of(att, cursor=False)), **o.problems("401", "403", "404")},
                parameters=record,
            ),
            "post": o.operation(
                "Attachments",
                "upload_attachment",
                {
                    "201": o.json_ok(att, "stored", {"Location": {"schema": {"type": "string"}}}),
                    **o.problems("400", "401", "403", "404", "413"),
                },
                summary="Upload a file (multipart/form-data field 'file'); "
                "its content is sniffed and refused when not allowed",
                parameters=record,
                body={
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": o.obj(
                                {"file": {"type": "string", "format": "binary"}},
                                ["file"],
                                strict=False,
                            )
                        }
                    },
                },
                **{"x-kyklos-semantic-checks": True},
            ),
        },
        "/api/v1/attachments/{aid}": {
            "get": o.operation(
                "Attachments",
                "download_attachment",
                {
                    "200": {
                        "description": "the file, as uploaded",
                        "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    **o.problems("401", "403", "404"),
                },
                parameters=aid,
            ),
            "delete": o.operation(
                "Attachments",
                "delete_attachment",
                {"204": o.no_content("deleted"), **o.problems("401", "403", "404")},
                parameters=aid,
            ),
        },
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_hooks(AttachmentHooks(), name="kyklos.attachments")
    config.add_route("api.attachments", r"/api/v1/{slug}/{id:\d+}/attachments", kyklos_slug=True)
    config.add_view(api_list, route_name="api.attachments", request_method="GET", renderer="json")
    config.add_view(
        api_upload, route_name="api.attachments", request_method="POST", renderer="json"
    )
    config.add_route("api.attachment", r"/api/v1/attachments/{aid:\d+}")
    config.add_view(api_download, route_name="api.attachment", request_method="GET")
    config.add_view(api_delete, route_name="api.attachment", request_method="DELETE")
    config.add_route(
        "entity.attachments.add",
        r"/{slug}/{id:\d+}/attachments",
        request_method="POST",
        kyklos_slug=True,
    )
    config.add_view(ui_upload, route_name="entity.attachments.add")
    config.add_route("attachment.download", r"/attachments/{aid:\d+}", request_method="GET")
    config.add_view(ui_download, route_name="attachment.download")
    config.add_route("attachment.delete", r"/attachments/{aid:\d+}/delete", request_method="POST")
    config.add_view(ui_delete, route_name="attachment.delete")

"""vCard 3.0/4.0 import (upload -> preview -> import) and export of people."""

from __future__ import annotations

import base64
import binascii

from pyramid.httpexceptions import HTTPForbidden
from pyramid.response import Response

from kyklos_sdk import Problem, get_record, visible_select

from .. import _
from ..domain.vcard import VCardError
from ..models import Person
from ..vcards import (
    export_vcards,
    import_rows,
    phone_regions,
    read_rows,
    row_json,
    vcard_filename,
)
from .common import entity

MAX_BYTES = 10 * 1024 * 1024
EXPORT_LIMIT = 5000
VCARD_TYPES = ("text/vcard", "text/x-vcard", "text/directory", "application/octet-stream",
               "text/plain")


def _version(request) -> str:
    version = request.GET.get("version", "3.0")
    if version not in ("3.0", "4.0"):
        raise Problem(400, _("Invalid parameters"), errors={"version": _("Use 3.0 or 4.0.")})
    return version


def vcard_response(text: str, filename: str) -> Response:
    resp = Response(body=text.encode("utf-8"), content_type="text/vcard", charset="utf-8")
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


def _import_allowed(request):
    entity(request, "person", "import")
    entity(request, "person", "create")


def _read_upload(request) -> bytes:
    """The vCard bytes of a request: a ``file`` form field, or the raw body."""
    too_big = Problem(413, _("Request body too large"),
                      _("At most ${n} bytes.", mapping={"n": MAX_BYTES}))
    if request.content_length is not None and request.content_length > MAX_BYTES + 4096:
        raise too_big
    upload = request.POST.get("file") if request.content_type.startswith("multipart/") else None
    if upload is not None and getattr(upload, "file", None) is not None:
        data = upload.file.read(MAX_BYTES + 1)
    elif request.content_type in VCARD_TYPES:
        data = request.body_file.read(MAX_BYTES + 1)
    else:
        raise Problem(415, _("Unsupported media type"),
                      _("Send the vCard file as text/vcard or as a form field 'file'."))
    if len(data) > MAX_BYTES:
        raise too_big
    return data


def _rows(request, data: bytes):
    try:
        return read_rows(data, phone_regions(request))
    except VCardError as exc:
        raise Problem(400, _("This is not a vCard file."), str(exc),
                      errors={"file": _("This is not a vCard file.")}) from None


def _summary(rows) -> dict:
    out = {"created": 0, "duplicate": 0, "error": 0, "new": 0}
    for r in rows:
        out[r.status] = out.get(r.status, 0) + 1
    return out


# --- API ------------------------------------------------------------------------------


def _create_anyway(request, value: str | None) -> bool:
    """``on_duplicate``: ``skip`` (the default) or ``create`` - a person whose e-mail is
    already here is then created again, on purpose."""
    value = (value or "skip").lower()
    if value not in ("skip", "create"):
        raise Problem(400, _("Invalid parameters"),
                      errors={"on_duplicate": _("Use skip or create.")})
    return value == "create"


def api_import(request):
    _import_allowed(request)
    dry = request.GET.get("dry_run", "").lower() in ("1", "true", "yes")
    anyway = _create_anyway(request, request.GET.get("on_duplicate"))
    rows = import_rows(request, _rows(request, _read_upload(request)), dry_run=dry,
                       create_anyway=anyway)
    return {"dry_run": dry, "summary": _summary(rows),
            "items": [row_json(request, r) for r in rows]}


def api_person_vcard(request):
    et = entity(request, "person", "export")
    person = get_record(request, et, request.matchdict["id"])
    return vcard_response(export_vcards(request, [person], _version(request)),
                          vcard_filename(person))


def _export_selection(request):
    et = entity(request, "person", "export")
    stmt = visible_select(request, et).order_by(Person.id)
    raw_ids = request.GET.get("ids")
    if raw_ids:
        try:
            ids = [int(i) for i in raw_ids.split(",") if i.strip()][:EXPORT_LIMIT]
        except ValueError:
            raise Problem(400, _("Invalid parameters"), errors={"ids": _("Not a list of ids.")}
                          ) from None
        stmt = stmt.where(Person.id.in_(ids))
    account = request.GET.get("account_id")
    if account:
        if not account.isdigit():
            raise Problem(400, _("Invalid parameters"), errors={"account_id": _("Not an id.")})
        stmt = stmt.where(Person.account_id == int(account))
    return request.dbsession.execute(stmt.limit(EXPORT_LIMIT)).scalars().all()


def export_view(request):
    people = _export_selection(request)
    return vcard_response(export_vcards(request, people, _version(request)),
                          "contacts.vcf")


# --- pages ----------------------------------------------------------------------------


def import_page(request):
    _import_allowed(request)
    page = {"title": _("Import vCards"), "rows": None, "payload": "", "summary": None,
            "done": False, "error": None, "create_anyway": False}
    if request.method != "POST":
        return page
    if request.POST.get("payload"):
        try:
            data = base64.b64decode(request.POST["payload"], validate=True)
        except (binascii.Error, ValueError):
            raise Problem(400, _("Invalid data")) from None
        if len(data) > MAX_BYTES:
            raise HTTPForbidden()
        anyway = request.POST.get("on_duplicate") == "create"
        rows = import_rows(request, _rows(request, data), dry_run=False, create_anyway=anyway)
        page.update(rows=rows, summary=_summary(rows), done=True)
        return page
    upload = request.POST.get("file")
    if getattr(upload, "file", None) is None:
        page["error"] = _("Choose a .vcf file.")
        request.response.status = 400
        return page
    data = upload.file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        page["error"] = _("The file is too large.")
        request.response.status = 400
        return page
    try:
        rows = read_rows(data, phone_regions(request))
    except VCardError:
        page["error"] = _("This is not a vCard file.")
        request.response.status = 400
        return page
    rows = import_rows(request, rows, dry_run=True)
    page.update(rows=rows, summary=_summary(rows),
                payload=base64.b64encode(data).decode("ascii"))
    return page


def person_vcard(request):
    return api_person_vcard(request)


def includeme(config):
    config.add_view(api_import, route_name="contacts.api.vcard_import", renderer="json",
                    permission="contacts.person.import")
    config.add_view(api_person_vcard, route_name="contacts.api.vcard",
                    permission="contacts.person.export")
    config.add_view(export_view, route_name="contacts.api.vcard_export",
                    permission="contacts.person.export")
    config.add_view(export_view, route_name="contacts.vcard_export",
                    permission="contacts.person.export")
    config.add_view(person_vcard, route_name="contacts.person_vcard",
                    permission="contacts.person.export")
    config.add_view(import_page, route_name="contacts.vcard_import",
                    renderer="kyklos_contacts:templates/vcard_import.pt",
                    permission="contacts.person.import")


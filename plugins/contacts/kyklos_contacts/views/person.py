"""A person's phones, e-mails and photo (CON-07/08), and their consent (per channel)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import select

from kyklos_sdk import (
    Problem,
    RecordError,
    create_record,
    update_record,
    utcnow,
)

from .. import _
from ..models import Consent, PersonPhoto
from ..models import choices as c
from ..vcards import MAX_PHOTO_BYTES
from .common import entity, flash, person_of

BLANK_ROWS = 2
MAX_ROWS = 20


def sniff_image(data: bytes) -> str | None:
    """The image type by its magic bytes (the upload's own claim is not trusted)."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _rows_from_post(post, prefix: str, value_key: str) -> list[dict]:
    rows = []
    primary = post.get(f"{prefix}_primary")
    for i in range(MAX_ROWS):
        value = (post.get(f"{prefix}_{i}_value") or "").strip()
        if not value:
            continue
        rows.append(
            {
                "type": post.get(f"{prefix}_{i}_type") or None,
                value_key: value,
                "primary": primary == str(i),
            }
        )
    return rows


def details_view(request):
    et, person = person_of(request, "update" if request.method == "POST" else "read")
    errors: dict = {}
    phones = [dict(p) for p in person.phones]
    emails = [dict(e) for e in person.emails]
    if request.method == "POST":
        phones = _rows_from_post(request.POST, "phone", "number")
        emails = _rows_from_post(request.POST, "email", "email")
        try:
            update_record(request, et, person, {"phones": phones, "emails": emails},
                          source="ui")
        except RecordError as exc:
            errors = {k: request.localizer.translate(v) for k, v in exc.errors.items()}
        upload = request.POST.get("photo")
        if not errors and getattr(upload, "file", None) is not None:
            data = upload.file.read(MAX_PHOTO_BYTES + 1)
            mime = sniff_image(data)
            if len(data) > MAX_PHOTO_BYTES:
                errors["photo"] = request.localizer.translate(_("The photo is larger than 1 MB."))
            elif mime is None:
                errors["photo"] = request.localizer.translate(
                    _("Upload a JPEG, PNG, GIF or WebP image.")
                )
            else:
                set_photo(request.dbsession, person.id, data, mime)
        elif not errors and request.POST.get("remove_photo"):
            row = request.dbsession.get(PersonPhoto, person.id)
            if row is not None:
                request.dbsession.delete(row)
        if not errors:
            flash(request, _("Saved."))
            return HTTPSeeOther(request.route_url("entity.detail", slug="persons", id=person.id))
        request.response.status = 400
    has_photo = request.dbsession.get(PersonPhoto, person.id) is not None
    return {
        "title": _("Phones, e-mails and photo of ${name}", mapping={"name": person.full_name}),
        "person": person,
        "phones": phones + [{"type": "mobile", "number": "", "primary": False}] * BLANK_ROWS,
        "emails": emails + [{"type": "work", "email": "", "primary": False}] * BLANK_ROWS,
        "phone_kinds": c.PHONE_KINDS,
        "email_kinds": c.EMAIL_KINDS,
        "errors": errors,
        "photo_url": request.route_url("contacts.photo", id=person.id) if has_photo else None,
        "detail_url": request.route_url("entity.detail", slug="persons", id=person.id),
    }


def set_photo(db, person_id: int, data: bytes, mime: str) -> None:
    row = db.get(PersonPhoto, person_id)
    if row is None:
        db.add(PersonPhoto(person_id=person_id, data=data, content_type=mime))
    else:
        row.data, row.content_type, row.updated_at = data, mime, utcnow()
    db.flush()


def photo_view(request):
    _et, person = person_of(request)
    row = request.dbsession.get(PersonPhoto, person.id)
    if row is None:
        raise HTTPNotFound()
    resp = Response(body=row.data, content_type=row.content_type)
    resp.headers["Content-Disposition"] = "inline"
    resp.cache_control.private = True
    resp.cache_control.max_age = 300
    return resp


def consent_view(request):
    _pet, person = person_of(request)
    et = entity(request, "consent", "update")
    entity(request, "consent", "create")
    channel = request.POST.get("channel")
    status = request.POST.get("status")
    errors = {}
    if channel not in c.values(c.CHANNELS):
        errors["channel"] = _("Not one of the allowed values.")
    if status not in c.values(c.CONSENT_STATUSES):
        errors["status"] = _("Not one of the allowed values.")
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    source = (request.POST.get("source") or "").strip()[:200] or None
    data = {"status": status, "source": source, "at": utcnow()}
    row = request.dbsession.execute(
        select(Consent).where(Consent.person_id == person.id, Consent.channel == channel)
    ).scalar_one_or_none()
    try:
        if row is None:
            create_record(request, et, {**data, "person_id": person.id, "channel": channel},
                          source="ui")
        else:
            update_record(request, et, row, data, source="ui")
    except RecordError as exc:
        raise Problem(400, _("Invalid data"), errors=exc.errors) from None
    flash(request, _("Consent saved."))
    return HTTPSeeOther(request.route_url("entity.detail", slug="persons", id=person.id))


def includeme(config):
    config.add_view(
        details_view,
        route_name="contacts.person_details",
        renderer="kyklos_contacts:templates/person_details.pt",
        permission="contacts.person.read",
    )
    config.add_view(photo_view, route_name="contacts.photo", permission="contacts.person.read")
    config.add_view(consent_view, route_name="contacts.consent",
                    permission="contacts.consent.update")

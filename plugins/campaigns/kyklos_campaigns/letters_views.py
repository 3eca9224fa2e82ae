"""Pages and API of letters: a letter template's Word document (upload, checked at
once, and download) and a letter campaign's letters (made by a job; a ZIP of the
documents and a CSV of the addresses)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden, HTTPFound, HTTPNotFound
from pyramid.response import Response

from kyklos_sdk import (
    Problem,
    RecordError,
    display_text,
    get_entity_type,
    get_record,
    read_json,
    stored_file_response,
)

from . import PERMISSIONS, SEND, _
from .letters import (
    DOCX_TYPE,
    FORMATS,
    check_document,
    content_of,
    last_run,
    pdf_available,
    start,
    store,
)
from .views import ID, _tr, excluded_words, members_words


def _template(request, action="read"):
    et = get_entity_type(request, "lettertemplate")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def _upload(request):
    """``(bytes, filename)`` of the form's ``file`` field (empty when none)."""
    field = request.POST.get("file")
    if field is None or not hasattr(field, "file"):
        return b"", ""
    return field.file.read(), (field.filename or "letter.docx")


def api_upload(request):
    """``POST /api/v1/letter-templates/{id}/document`` (multipart, field ``file``): the
    template's Word document, checked before anything is kept."""
    _et, template = _template(request, "update")
    content, filename = _upload(request)
    errors, _used = check_document(content)
    if errors:
        raise Problem(400, _("Invalid parameters"), errors=errors)
    store(request, template, content, filename)
    return {"filename": template.filename, "merge_fields": template.merge_fields}


def download_template(request):
    """``GET /letter-templates/{id}/document``: the Word document as uploaded."""
    _et, template = _template(request)
    content = content_of(request.dbsession, template.id)
    if content is None:
        raise HTTPNotFound()
    response = Response(content, content_type=DOCX_TYPE)
    response.content_disposition = f'attachment; filename="{_ascii(template.filename)}"'
    return response


def _ascii(name: str) -> str:
    return "".join(c if c.isascii() and c not in '"\\' else "_" for c in name) or "letter.docx"


def upload_page(request):
    et, template = _template(request, "update")
    detail = request.route_url("entity.detail", slug=et.slug, id=template.id)
    errors = {}
    if request.method == "POST":
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["csrf"] = _("The form expired; send it again.")
        else:
            content, filename = _upload(request)
            errors, _used = check_document(content)
            if not errors:
                store(request, template, content, filename)
                request.session.flash(_tr(request, _("The Word document is saved.")), "success")
                return HTTPFound(detail)
    return {
        "title": _("Word document: ${name}", mapping={"name": template.name}),
        "template": template,
        "detail_url": detail,
        "list_url": request.route_url("entity.list", slug=et.slug),
        "language": display_text(request, "lettertemplate", "language", template.language),
        "errors": {k: _tr(request, v) for k, v in errors.items()},
        "has_document": content_of(request.dbsession, template.id) is not None,
    }


# --- a campaign's letters --------------------------------------------------------------


def _campaign(request, action="read"):
    et = get_entity_type(request, "campaign")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def _running(request, campaign) -> dict | None:
    """The run being made now: its job, followed live by the page (core jobs API)."""
    run = last_run(request.dbsession, campaign.id, finished=False)
    if run is None or run.finished_at is not None:
        return None
    return {
        "job_id": run.job_id,
        "job_url": request.route_url("api.job", id=run.job_id),
        "format": run.format,
    }


def _run_json(request, campaign) -> dict:
    out = {
        "status": campaign.status,
        "pdf_available": pdf_available(),
        "running": _running(request, campaign),
        "made": False,
    }
    run = last_run(request.dbsession, campaign.id)
    if run is None:
        return out
    counts = {
        k: getattr(run, k)
        for k in (
            "excluded_consent",
            "excluded_duplicate",
            "excluded_suppressed",
            "excluded_no_address",
        )
    }
    return {
        **out,
        "made": True,
        "job_id": run.job_id,
        "format": run.format,
        "recipients": run.recipients,
        "documents": run.documents,
        "failed": run.failed,
        **counts,
        "excluded": excluded_words(request, counts),
        "zip_size": run.archive_size,
        "zip_url": request.route_url("campaigns.letters.zip", id=campaign.id),
        "csv_url": request.route_url("campaigns.letters.csv", id=campaign.id),
    }


def _format_param(request, body: dict) -> str:
    fmt = body.get("format", "docx")
    return fmt if isinstance(fmt, str) else ""


def api_make(request):
    """``POST /api/v1/campaigns/{id}/letters`` (optional JSON ``{"format": "docx" |
    "pdf"}``): queue the job making the letters."""
    _et, campaign = _campaign(request, "update")
    body = read_json(request) if request.body else {}
    if not isinstance(body, dict):
        raise Problem(400, _("Invalid parameters"), errors={"format": _("Send a JSON object.")})
    try:
        job_id = start(request, campaign, _format_param(request, body))
    except RecordError as exc:
        raise Problem(400, _("Invalid parameters"), errors=exc.errors) from None
    return {
        "status": campaign.status,
        "job_id": job_id,
        "job_url": request.route_url("api.job", id=job_id),
    }


def api_letters(request):
    """``GET /api/v1/campaigns/{id}/letters``: the last letters made, counted, and the
    run being made now."""
    _et, campaign = _campaign(request)
    return _run_json(request, campaign)


def _download(request, kind):
    _et, campaign = _campaign(request)
    run = last_run(request.dbsession, campaign.id)
    key = (run.archive_key if kind == "zip" else run.csv_key) if run is not None else None
    if key is None:
        raise HTTPNotFound()
    # streamed from the file storage: a ZIP of 20 000 letters never sits in memory
    ctype = "application/zip" if kind == "zip" else "text/csv; charset=utf-8"
    return stored_file_response(request, key, f"letters-{campaign.id}.{kind}", ctype)


def download_zip(request):
    return _download(request, "zip")


def download_csv(request):
    return _download(request, "csv")


def letters_page(request):
    """What the letters reach, "Make the letters", then the counts and downloads."""
    from .models import TargetList
    from .targets import resolve

    et, campaign = _campaign(request)
    detail = request.route_url("entity.detail", slug=et.slug, id=campaign.id)
    errors: dict = {}
    if request.method == "POST":
        if not request.has_permission(SEND):
            raise HTTPForbidden()
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["csrf"] = _("The form expired; send it again.")
        else:
            try:
                start(request, campaign, request.POST.get("format") or "docx")
            except RecordError as exc:
                errors = exc.errors
            else:
                request.session.flash(_tr(request, _("The letters are being made.")), "success")
                return HTTPFound(request.route_url("campaigns.letters", id=campaign.id))
    reach = excluded = ""
    tl = request.dbsession.get(TargetList, campaign.list_id) if campaign.list_id else None
    if tl is not None and campaign.status == "draft":
        try:
            res = resolve(request, tl, "letter")
            reach = members_words(request, len(res.members))
            excluded = excluded_words(request, res.counts())
        except RecordError as exc:
            errors.update(exc.errors)
    run = _run_json(request, campaign)
    lt = None
    if campaign.letter_template_id:
        from .models import LetterTemplate

        lt = request.dbsession.get(LetterTemplate, campaign.letter_template_id)
    return {
        "title": _("Letters: ${name}", mapping={"name": campaign.name}),
        "campaign": campaign,
        "detail_url": detail,
        "list_url": request.route_url("entity.list", slug=et.slug),
        "list_title": tl.name if tl else "",
        "letter_title": lt.name if lt else "",
        "reach": reach,
        "excluded": excluded,
        "run": run,
        "documents": members_words(request, run["documents"]) if run["made"] else "",
        "status": display_text(request, "campaign", "status", campaign.status),
        "errors": {k: _tr(request, v) for k, v in errors.items()},
        "can_make": campaign.status == "draft" and request.has_permission(SEND),
        "formats": [
            (k, request.localizer.translate(t), k == "pdf" and not run["pdf_available"])
            for k, t in FORMATS
        ],
        "format_title": dict(FORMATS).get(run.get("format", ""), ""),
        "width_class": _width_class,
        "script": request.static_url("kyklos_campaigns:static/letters.js"),
    }


def _width_class(progress) -> str:
    """A bar width as a class (the CSP forbids inline styles), as the jobs page does."""
    return f"k-w-{max(0, min(100, int(progress or 0))) // 5 * 5}"


def includeme(config):
    tpl = "kyklos_campaigns:templates/"
    r = config.add_route
    v = config.add_view
    p = PERMISSIONS
    r(
        "campaigns.api.letter.document",
        f"/api/v1/letter-templates/{ID}/document",
        request_method="POST",
    )
    r("campaigns.api.letters.make", f"/api/v1/campaigns/{ID}/letters", request_method="POST")
    r("campaigns.api.letters", f"/api/v1/campaigns/{ID}/letters", request_method="GET")
    r("campaigns.letter.upload", f"/letter-templates/{ID}/upload")
    r("campaigns.letter.document", f"/letter-templates/{ID}/document")
    r("campaigns.letters", f"/campaigns/{ID}/letters")
    r("campaigns.letters.zip", f"/campaigns/{ID}/letters.zip")
    r("campaigns.letters.csv", f"/campaigns/{ID}/letters.csv")
    v(
        api_upload,
        route_name="campaigns.api.letter.document",
        renderer="json",
        permission=p["lettertemplate"]["update"],
    )
    v(api_make, route_name="campaigns.api.letters.make", renderer="json", permission=SEND)
    v(
        api_letters,
        route_name="campaigns.api.letters",
        renderer="json",
        permission=p["campaign"]["read"],
    )
    v(
        upload_page,
        route_name="campaigns.letter.upload",
        renderer=tpl + "letter_upload.pt",
        permission=p["lettertemplate"]["update"],
    )
    v(
        download_template,
        route_name="campaigns.letter.document",
        permission=p["lettertemplate"]["read"],
    )
    v(
        letters_page,
        route_name="campaigns.letters",
        renderer=tpl + "letters.pt",
        permission=p["campaign"]["read"],
    )
    # the letters carry people's names and addresses: an export, not a mere read
    v(download_zip, route_name="campaigns.letters.zip", permission=p["campaign"]["export"])
    v(download_csv, route_name="campaigns.letters.csv", permission=p["campaign"]["export"])

"""Letters for post (MKT-07, MKT-10): a DOCX mail merge with docxtpl.

A marketer uploads a Word document whose merge fields are Jinja placeholders
(``{{ first_name }}``, ``{{ account.name }}``, ``{{ salutation or "Dear customer" }}``),
one per language: letter templates of the same name are the language versions of one
letter, as for e-mail. The upload is checked at once (a .docx, placeholders that read,
only known merge fields) so that a bad template is refused with the placeholder named,
never found out while the letters are made.

"Make the letters" of a campaign on the ``letter`` channel queues the
``campaigns.letters`` job. Running with the permissions of the user who asked, it fills
the campaign's outbox from its list on the ``letter`` channel (people without a postal
address, without consent for post, suppressed or at an address already taken are left
out and counted, as for e-mail), merges one document per recipient in their language
(else the campaign's template) with the same merge fields and field permissions as
e-mail (:func:`kyklos_campaigns.rendering.merge_context`), reports its progress, and
keeps a ZIP of the documents and a CSV of the addresses for the envelopes.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from kyklos_sdk import StoredFile, delete_stored_file, neutralise, request_as, utcnow

from . import _
from .models import Campaign, LetterRun, LetterTemplate, LetterTemplateFile, Recipient
from .rendering import ACCOUNT_FIELDS, MERGE_FIELDS, TemplateError, merge_context

log = logging.getLogger(__name__)

JOB = "campaigns.letters"
#: the merge fields a letter may use: e-mail's, the coupon, the postal address, and the
#: link to the campaign's response page
LETTER_FIELDS = (*MERGE_FIELDS, "coupon", "address", "response_url")
ADDRESS_PARTS = ("street", "postcode", "city", "region", "country")
#: a Word document is a ZIP; this many bytes is far beyond any letter
MAX_BYTES = 10 * 1024 * 1024
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
CSV_COLUMNS = ("document", "name", "street", "postcode", "city", "region", "country", "language")


def _env() -> SandboxedEnvironment:
    # autoescape: a merged "&" or "<" must stay text, not break the document's XML;
    # chainable: ``{{ account.name | default("...") }}`` for a person without an account
    return SandboxedEnvironment(autoescape=True, undefined=ChainableUndefined)


class _Source:
    """The Jinja source docxtpl makes of a document (body, headers, footers), the way
    its own ``get_undeclared_template_variables`` reads it."""

    def __init__(self, content: bytes):
        self.tpl = DocxTemplate(io.BytesIO(content))
        self.tpl.init_docx()
        doc = self.tpl.docx
        parts = [self.tpl.patch_xml(self.tpl.get_xml())]
        for rel in doc.part.rels.values():
            if rel.reltype in (self.tpl.HEADER_URI, self.tpl.FOOTER_URI) and not rel.is_external:
                parts.append(self.tpl.patch_xml(rel.target_part.blob.decode("utf-8")))
        # one paragraph per line, as docxtpl renders it: an error's line is a paragraph
        self.xml = re.sub(r"<w:p([ >])", r"\n<w:p\1", "\n".join(parts))

    def paragraph(self, lineno: int | None) -> str:
        lines = self.xml.splitlines()
        if not lineno or lineno > len(lines):
            return ""
        return " ".join(re.sub(r"<[^>]+>", "", lines[lineno - 1]).split())[:200]


def check_document(content: bytes) -> tuple[dict, list[str]]:
    """``(errors by field, merge fields used)`` of an uploaded document. ``file`` errors
    name the placeholder or the paragraph that does not read."""
    if not content:
        return {"file": _("Choose a Word document (.docx).")}, []
    if len(content) > MAX_BYTES:
        return {"file": _("The document is larger than 10 MB.")}, []
    if not zipfile.is_zipfile(io.BytesIO(content)):
        return {"file": _("This is not a Word document (.docx).")}, []
    try:
        source = _Source(content)
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile):
        return {"file": _("This is not a Word document (.docx).")}, []
    except Exception:  # noqa: BLE001 - any damaged package: the person hears it in words
        return {"file": _("This is not a Word document (.docx).")}, []
    env = _env()
    try:
        tree = env.parse(source.xml)
    except TemplateSyntaxError as exc:
        return {
            "file": _(
                "A merge field does not read: ${error}, in \u201c${text}\u201d.",
                mapping={"error": exc.message or "", "text": source.paragraph(exc.lineno)},
            )
        }, []
    from jinja2 import meta

    used = meta.find_undeclared_variables(tree)
    unknown = sorted(used - set(LETTER_FIELDS))
    if unknown:
        return {
            "file": _(
                "Unknown merge field: ${names}. Known: ${known}.",
                mapping={"names": ", ".join(unknown), "known": ", ".join(LETTER_FIELDS)},
            )
        }, []
    # {{ account.x }} and {{ address.x }}: only the parts there are
    allowed = {"account": set(ACCOUNT_FIELDS), "address": set(ADDRESS_PARTS) | {"label"}}
    for node in tree.find_all(nodes.Getattr):
        if isinstance(node.node, nodes.Name) and node.node.name in allowed:
            if node.attr not in allowed[node.node.name]:
                name = f"{node.node.name}.{node.attr}"
                return {
                    "file": _(
                        "Unknown merge field: ${names}. Known: ${known}.",
                        mapping={
                            "names": name,
                            "known": ", ".join(
                                f"{node.node.name}.{a}" for a in sorted(allowed[node.node.name])
                            ),
                        },
                    )
                }, []
    return {}, sorted(used)


def render_document(content: bytes, values: dict) -> bytes:
    """The document merged with ``values``; a TemplateError when it does not render."""
    tpl = DocxTemplate(io.BytesIO(content))
    try:
        tpl.render(values, jinja_env=_env(), autoescape=True)
    except TemplateSyntaxError as exc:
        raise TemplateError("file", exc.message or str(exc)) from None
    except (SecurityError, UndefinedError, TypeError, ValueError) as exc:
        raise TemplateError("file", str(exc)) from None
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


class AddressValue(str):
    """The ``address`` merge field: the address on one line, and its parts."""

    def __new__(cls, row):
        obj = super().__new__(cls, row.label)
        obj.__dict__.update({p: getattr(row, p) or "" for p in ADDRESS_PARTS})
        obj.__dict__["label"] = row.label
        return obj


# --- templates -------------------------------------------------------------------------


def store(request, template: LetterTemplate, content: bytes, filename: str) -> None:
    """Keep ``content`` (already checked) as the template's document."""
    db = request.dbsession
    _errors, used = check_document(content)
    row = db.execute(
        select(LetterTemplateFile).where(LetterTemplateFile.template_id == template.id)
    ).scalar_one_or_none()
    if row is None:
        db.add(LetterTemplateFile(template_id=template.id, content=content))
    else:
        row.content = content
    template.filename = filename[:250]
    template.version += 1
    template.merge_fields = ", ".join(used)
    db.flush()


def content_of(db, template_id: int) -> bytes | None:
    return db.execute(
        select(LetterTemplateFile.content).where(LetterTemplateFile.template_id == template_id)
    ).scalar_one_or_none()


def template_for(db, campaign: Campaign, language: str | None) -> LetterTemplate | None:
    """The campaign's letter in ``language`` (a letter template of the same name with
    its Word document), else the campaign's own (its default language)."""
    base = db.get(LetterTemplate, campaign.letter_template_id)
    if base is None or not language or language == base.language:
        return base
    # a language version whose document is not uploaded yet is no version to use
    other = db.execute(
        select(LetterTemplate)
        .join(LetterTemplateFile, LetterTemplateFile.template_id == LetterTemplate.id)
        .where(
            LetterTemplate.name == base.name,
            LetterTemplate.language == language,
            LetterTemplate.deleted_at.is_(None),
        )
    ).scalar_one_or_none()
    return other or base


# --- making the letters ----------------------------------------------------------------

#: the document formats a run can make
FORMATS = (("docx", _("Word documents (.docx)")), ("pdf", _("PDF documents")))
#: letters converted to PDF per LibreOffice call: one start-up for many files
PDF_BATCH = 50
#: seconds one LibreOffice call may take before the batch counts as failed
PDF_TIMEOUT = 300


def soffice() -> str | None:
    """LibreOffice's command when it is installed (it converts the letters to PDF)."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    return soffice() is not None


def to_pdf(documents: dict[str, bytes]) -> dict[str, bytes]:
    """``{name.docx: bytes}`` converted by LibreOffice headless in one call, as
    ``{name.pdf: bytes}``; a document it could not convert is absent. Each call gets its
    own profile directory: two LibreOffice processes sharing one profile block each
    other, and a stale lock from a killed run would stop every later one."""
    command = soffice()
    if command is None or not documents:
        return {}
    with tempfile.TemporaryDirectory(prefix="kyklos-letters-") as work:
        base = Path(work)
        src, out, profile = base / "in", base / "out", base / "profile"
        src.mkdir()
        out.mkdir()
        names = {}
        for i, (name, data) in enumerate(documents.items()):
            # simple file names: LibreOffice's command line and the letter's name
            # (which can hold any script) need not agree on quoting
            path = src / f"{i:06d}.docx"
            path.write_bytes(data)
            names[path.stem] = name
        try:
            subprocess.run(
                [
                    command,
                    f"-env:UserInstallation={profile.as_uri()}",
                    "--headless",
                    "--norestore",
                    "--convert-to",
                    "pdf",
                    "--outdir",
                    str(out),
                    *sorted(str(p) for p in src.iterdir()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=PDF_TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired:
            log.warning("LibreOffice took longer than %s s converting letters", PDF_TIMEOUT)
        result = {}
        for pdf in out.glob("*.pdf"):
            name = names.get(pdf.stem)
            if name is not None:
                result[name[: -len(".docx")] + ".pdf"] = pdf.read_bytes()
        return result


def start(request, campaign: Campaign, fmt: str = "docx") -> str:
    """Queue the ``campaigns.letters`` job; returns its id."""
    from kyklos_sdk import RecordError

    errors = {}
    if campaign.channel != "letter":
        errors["channel"] = _("Only a campaign on the letter channel makes letters.")
    if campaign.list_id is None:
        errors["list_id"] = _("Choose the target list.")
    if campaign.letter_template_id is None:
        errors["letter_template_id"] = _("Choose the letter template.")
    elif content_of(request.dbsession, campaign.letter_template_id) is None:
        errors["letter_template_id"] = _("Upload the letter template's Word document first.")
    if campaign.status == "sent":
        errors["status"] = _("The letters of this campaign were made already.")
    if fmt not in dict(FORMATS):
        errors["format"] = _("Choose Word documents or PDF documents.")
    elif fmt == "pdf" and not pdf_available():
        errors["format"] = _(
            "PDF letters are unavailable: LibreOffice is not installed on the server. "
            "Word documents can be made."
        )
    if errors:
        raise RecordError(errors)
    campaign.status = "scheduled"
    campaign.version += 1
    job_id = request.enqueue_job(
        JOB, args={"campaign_id": campaign.id, "format": fmt}, key=f"{JOB}:{campaign.id}"
    )
    # the run exists from now on: the letters page follows its job's progress
    request.dbsession.add(
        LetterRun(campaign_id=campaign.id, job_id=job_id, created_at=utcnow(), format=fmt)
    )
    request.dbsession.flush()
    return job_id


def _filename(index: int, rec: Recipient, language: str) -> str:
    safe = re.sub(r"[^\w\-]+", "-", rec.name or "", flags=re.UNICODE).strip("-")[:60]
    return f"{index:05d}-{safe or rec.person_id}-{language}.docx"


def letters_job(ctx, campaign_id: int, format: str = "docx"):  # noqa: A002 - the job's arg
    """The ``campaigns.letters`` job (see the module's description). The ZIP and the CSV
    are written straight to the file storage, a letter at a time (PDF: a batch at a
    time), so that memory holds one batch whatever the number of letters."""
    from kyklos_contacts.models import Person

    from .coupons import coupon_values
    from .sending import fill_outbox
    from .targets import postal_address
    from .tracking import response_url

    with request_as(ctx.registry, ctx.user_id, job_id=ctx.job_id, write=True) as request:
        db = request.dbsession
        campaign = db.get(Campaign, int(campaign_id))
        if campaign is None or campaign.deleted_at is not None:
            return {"skipped": True}
        run = db.execute(
            select(LetterRun).where(LetterRun.job_id == ctx.job_id)
        ).scalar_one_or_none()
        if run is None:  # a job queued before runs were made with it
            run = LetterRun(campaign_id=campaign.id, job_id=ctx.job_id, created_at=utcnow())
            db.add(run)
        run.format = "pdf" if format == "pdf" else "docx"
        fill_outbox(request, campaign)
        ids = list(
            db.execute(
                select(Recipient.id)
                .where(Recipient.campaign_id == campaign.id)
                .order_by(Recipient.id)
            ).scalars()
        )
        total = len(ids)
        documents = failed = 0
        cache: dict[int, bytes | None] = {}
        pending: list[tuple[str, bytes, Recipient, list, str]] = []
        done: list = []

        def flush_batch(zf, writer):
            """Write the pending letters (converted first for PDF) to the ZIP and CSV."""
            nonlocal documents, failed
            if not pending:
                return
            pdfs = (
                to_pdf({name: data for name, data, *_r in pending}) if run.format == "pdf" else {}
            )
            for name, data, rec, cells, language in pending:
                if run.format == "pdf":
                    name = name[: -len(".docx")] + ".pdf"
                    data = pdfs.get(name)
                    if data is None:
                        rec.state, rec.error = "failed", "PDF conversion failed"
                        failed += 1
                        continue
                zf.writestr(name, data)
                # names and addresses are typed by people: never a formula when
                # the list is opened in a spreadsheet
                writer.writerow([name, *(neutralise(c) for c in cells), language])
                rec.state, rec.error, rec.sent_at = "sent", None, utcnow()
                documents += 1
            pending.clear()

        with StoredFile(request) as archive, StoredFile(request) as addresses:
            text = io.TextIOWrapper(addresses.file, encoding="utf-8", newline="")
            # a BOM: spreadsheet programs then read the Greek of the addresses right
            text.write("\ufeff")
            writer = csv.writer(text)
            writer.writerow(CSV_COLUMNS)
            with zipfile.ZipFile(archive.file, "w", zipfile.ZIP_DEFLATED) as zf:
                for index, rid in enumerate(ids, 1):
                    rec = db.get(Recipient, rid)
                    person = db.get(Person, rec.person_id)
                    template = template_for(db, campaign, person.language if person else None)
                    if template.id not in cache:
                        cache[template.id] = content_of(db, template.id)
                    row = postal_address(person) if person is not None else None
                    extra = coupon_values(db, campaign.id, rec.person_id)
                    extra["response_url"] = response_url(request, rec.id)
                    if row is not None:
                        extra["address"] = AddressValue(row)
                    try:
                        if cache[template.id] is None or row is None:
                            raise TemplateError("file", "no document or no address")
                        data = render_document(
                            cache[template.id], merge_context(request, person, extra)
                        )
                    except TemplateError as exc:
                        rec.state, rec.error = "failed", exc.message[:500]
                        failed += 1
                    else:
                        cells = [rec.name, *(getattr(row, p) or "" for p in ADDRESS_PARTS)]
                        name = _filename(index, rec, template.language)
                        pending.append((name, data, rec, cells, template.language))
                    if len(pending) >= (PDF_BATCH if run.format == "pdf" else 1):
                        flush_batch(zf, writer)
                    done.extend(o for o in (rec, person) if o is not None)
                    if index % 100 == 0:
                        # the letters done so far leave the session: 20 000 recipients
                        # and their people are not kept in memory together
                        flush_batch(zf, writer)
                        db.flush()
                        for obj in done:
                            if obj in db:
                                db.expunge(obj)
                        done.clear()
                    ctx.progress(
                        min(99, 100 * index / max(1, total)),
                        _tr_count(request, index, total),
                    )
                flush_batch(zf, writer)
            text.flush()
            text.detach()
        old = (run.archive_key, run.csv_key)
        run.recipients = total
        run.documents = documents
        run.failed = failed
        run.excluded_consent = campaign.excluded_consent
        run.excluded_duplicate = campaign.excluded_duplicate
        run.excluded_suppressed = campaign.excluded_suppressed
        run.excluded_no_address = campaign.excluded_no_address
        run.archive_key, run.archive_size = archive.key, archive.size
        run.csv_key = addresses.key
        run.finished_at = utcnow()
        for key in old:
            if key:  # a retried attempt's files
                delete_stored_file(request, key)
        campaign.status = "sent"
        campaign.finished_at = utcnow()
        db.flush()
    return {"recipients": total, "documents": documents, "failed": failed}


def _tr_count(request, done: int, total: int) -> str:
    return request.localizer.translate(
        _("${done} of ${total} letters", mapping={"done": done, "total": total})
    )


def last_run(db, campaign_id: int, finished: bool = True) -> LetterRun | None:
    """The campaign's last finished run (``finished=False``: its last run, finished or
    still being made)."""
    q = select(LetterRun).where(LetterRun.campaign_id == campaign_id)
    if finished:
        q = q.where(LetterRun.finished_at.is_not(None))
    return db.execute(q.order_by(LetterRun.id.desc()).limit(1)).scalar_one_or_none()


def includeme(config):
    config.add_job(
        JOB, letters_job, retries=3, retry_delay=30, title=_("Make a campaign's letters")
    )

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
import re
import zipfile

from docx.opc.exceptions import PackageNotFoundError
from docxtpl import DocxTemplate
from jinja2 import ChainableUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from kyklos_sdk import neutralise, request_as, utcnow

from . import _
from .models import Campaign, LetterRun, LetterTemplate, LetterTemplateFile, Recipient
from .rendering import ACCOUNT_FIELDS, MERGE_FIELDS, TemplateError, merge_context

JOB = "campaigns.letters"
#: the merge fields a letter may use: e-mail's, the coupon, and the postal address
LETTER_FIELDS = (*MERGE_FIELDS, "coupon", "address")
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


def start(request, campaign: Campaign) -> str:
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
    if errors:
        raise RecordError(errors)
    campaign.status = "scheduled"
    campaign.version += 1
    return request.enqueue_job(JOB, args={"campaign_id": campaign.id}, key=f"{JOB}:{campaign.id}")


def _filename(index: int, rec: Recipient, language: str) -> str:
    safe = re.sub(r"[^\w\-]+", "-", rec.name or "", flags=re.UNICODE).strip("-")[:60]
    return f"{index:05d}-{safe or rec.person_id}-{language}.docx"


def letters_job(ctx, campaign_id: int):
    """The ``campaigns.letters`` job (see the module's description)."""
    from kyklos_contacts.models import Person

    from .coupons import coupon_values
    from .sending import fill_outbox
    from .targets import postal_address

    with request_as(ctx.registry, ctx.user_id, job_id=ctx.job_id, write=True) as request:
        db = request.dbsession
        campaign = db.get(Campaign, int(campaign_id))
        if campaign is None or campaign.deleted_at is not None:
            return {"skipped": True}
        fill_outbox(request, campaign)
        rows = list(
            db.execute(
                select(Recipient).where(Recipient.campaign_id == campaign.id).order_by(Recipient.id)
            ).scalars()
        )
        archive = io.BytesIO()
        addresses = io.StringIO()
        writer = csv.writer(addresses)
        writer.writerow(CSV_COLUMNS)
        documents = failed = 0
        cache: dict[int, bytes | None] = {}
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for index, rec in enumerate(rows, 1):
                person = db.get(Person, rec.person_id)
                template = template_for(db, campaign, person.language if person else None)
                if template.id not in cache:
                    cache[template.id] = content_of(db, template.id)
                row = postal_address(person) if person is not None else None
                extra = coupon_values(db, campaign.id, rec.person_id)
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
                    name = _filename(index, rec, template.language)
                    zf.writestr(name, data)
                    # names and addresses are typed by people: never a formula when
                    # the list is opened in a spreadsheet
                    cells = [rec.name, *(getattr(row, p) or "" for p in ADDRESS_PARTS)]
                    writer.writerow([name, *(neutralise(c) for c in cells), template.language])
                    rec.state, rec.error, rec.sent_at = "sent", None, utcnow()
                    documents += 1
                ctx.progress(min(99, 100 * index / max(1, len(rows))))
        run = LetterRun(
            campaign_id=campaign.id,
            job_id=ctx.job_id,
            created_at=utcnow(),
            recipients=len(rows),
            documents=documents,
            failed=failed,
            excluded_consent=campaign.excluded_consent,
            excluded_duplicate=campaign.excluded_duplicate,
            excluded_suppressed=campaign.excluded_suppressed,
            excluded_no_address=campaign.excluded_no_address,
            archive=archive.getvalue(),
            addresses_csv=addresses.getvalue(),
        )
        db.add(run)
        campaign.status = "sent"
        campaign.finished_at = utcnow()
        db.flush()
    return {"recipients": len(rows), "documents": documents, "failed": failed}


def last_run(db, campaign_id: int) -> LetterRun | None:
    return db.execute(
        select(LetterRun)
        .where(LetterRun.campaign_id == campaign_id)
        .order_by(LetterRun.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def includeme(config):
    config.add_job(
        JOB, letters_job, retries=3, retry_delay=30, title=_("Make a campaign's letters")
    )

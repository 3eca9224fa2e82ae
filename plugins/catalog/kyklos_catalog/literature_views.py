"""Sales literature on the web and the API: the library page with its filters, the
"Literature" panel of a product, the send-by-e-mail form of a record and its API, the
offered documents over the API, and the sends on the timeline."""

from __future__ import annotations

import datetime as dt
import io
import smtplib
from urllib.parse import urlencode

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from sqlalchemy import func, or_, select

from kyklos_sdk import (
    LANGUAGES,
    Action,
    MailError,
    MenuItem,
    Panel,
    Problem,
    attachments_of,
    build_mail,
    deliver_mail,
    format_date,
    format_datetime,
    get_entity_type,
    get_record,
    hookimpl,
    read_attachment,
    read_json,
    record_titles,
    store_attachment,
    translate_for,
    utcnow,
    visible_select,
)

from . import PERMISSIONS, _
from .literature import (
    KINDS,
    SEND_FROM,
    SEND_STATES,
    Literature,
    LiteratureSend,
    current_files,
    offered,
    offered_page,
    send_title,
    timeline,
)

READ = PERMISSIONS["literature"]["read"]
MAX_MESSAGE = 5000
MAX_LIMIT = 200  # as the core's lists: ``limit`` is 1..200
SEND_JOB = "catalog.literature.send"
#: the automatic retries of a send after a temporary failure: after 1, 5 and 30 minutes
RETRY_DELAYS = (60, 300, 1800)
#: reasons a send fails before it reaches the SMTP server, kept as a key and said in the
#: reader's language (an SMTP server's own reply is kept as it was given)
FAILURES = {
    "documents": _("A document or its file is no longer available to the sender."),
    "address": _("The recipient's address cannot be used."),
}
VALIDITY = [("valid", _("Valid now")), ("expired", _("Expired")), ("all", _("All"))]


# --- recipients and sending --------------------------------------------------------------


def recipients(request, entity: str, record) -> list:
    """The people of a record with an e-mail address that the user may see: a person
    themself; an account's people; an opportunity's or quote's contact and its account's
    people."""
    from kyklos_contacts.models import Person

    person_et = get_entity_type(request, "person")
    if entity == "person":
        where = Person.id == record.id
    else:
        account = record.id if entity == "account" else getattr(record, "account_id", None)
        pid = getattr(record, "person_id", None)
        conds = []
        if account:
            conds.append(Person.account_id == account)
        if pid:
            conds.append(Person.id == pid)
        if not conds:
            return []
        where = or_(*conds)
    stmt = visible_select(request, person_et).where(
        where, Person.email.is_not(None), Person.email != ""
    )
    return list(request.dbsession.execute(stmt.order_by(Person.id).limit(200)).scalars())


def person_label(person) -> str:
    name = " ".join(p for p in (person.first_name, person.last_name) if p) or person.email
    return f"{name} <{person.email}>"


def _send_source(request, entity, record_id):
    """The record documents are sent from, if the user may see it (404 otherwise)."""
    if entity not in SEND_FROM:
        raise HTTPNotFound()
    et = get_entity_type(request, entity)
    return et, get_record(request, et, record_id)


def _ids(raw) -> list[int]:
    out = []
    for v in raw if isinstance(raw, list | tuple) else [raw]:
        if isinstance(v, int) and not isinstance(v, bool):
            out.append(v)
        elif isinstance(v, str) and v.isdigit() and len(v) < 10:
            out.append(int(v))
        else:
            raise ValueError(v)
    return out


def send_literature(request, entity, record, person_id, literature_ids, message) -> LiteratureSend:
    """Check everything, then send the documents' current files to one of the record's
    people and log it; :class:`Problem` 400 naming each bad field (nothing is sent)."""
    errors = {}
    db = request.dbsession
    people = {p.id: p for p in recipients(request, entity, record)}
    try:
        pid = _ids(person_id)[0] if person_id not in (None, "") else None
    except (ValueError, IndexError):
        pid = None
    person = people.get(pid)
    if person is None:
        errors["person_id"] = _("Choose one of the record's people with an e-mail address.")
    try:
        ids = list(dict.fromkeys(_ids(literature_ids or [])))
    except ValueError:
        ids = []
        errors["literature_ids"] = _("Choose documents of the library.")
    lit_et = get_entity_type(request, "literature")
    docs = []
    if ids:
        docs = (
            db.execute(visible_select(request, lit_et).where(Literature.id.in_(ids)))
            .scalars()
            .all()
        )
    files = current_files(request, [d.id for d in docs])
    if not ids and "literature_ids" not in errors:
        errors["literature_ids"] = _("Choose at least one document.")
    elif len(docs) != len(ids) or any(d.id not in files for d in docs):
        errors["literature_ids"] = _("Choose documents of the library that have a file.")
    message = (message or "").strip() if isinstance(message, str | type(None)) else None
    if message is None:
        errors["message"] = _("Write the message as text.")
    elif len(message) > MAX_MESSAGE:
        errors["message"] = _("Keep the message under ${n} characters.", mapping={"n": MAX_MESSAGE})
    if errors:
        raise Problem(400, _("The documents were not sent"), errors=errors)
    order = {i: n for n, i in enumerate(ids)}
    docs = sorted(docs, key=lambda d: order[d.id])
    subject = translate_for(
        request,
        _("Documents: ${names}"),
        person.language,
        mapping={"names": ", ".join(d.title for d in docs)},
    )
    user = request.identity.user if request.identity else None
    try:
        # built once now so that a bad address or header is refused here, naming the
        # field, and not later in the queue
        build_mail(request.registry.settings, person.email, subject, "")
    except MailError:
        raise Problem(
            400,
            _("The documents were not sent"),
            errors={"person_id": FAILURES["address"]},
        ) from None
    log = LiteratureSend(
        entity=entity,
        record_id=record.id,
        person_id=person.id,
        email=person.email,
        documents="\n".join(files[d.id]["filename"] for d in docs),
        message=message or None,
        user_id=user.id if user else None,
        subject=subject,
        literature_ids=[d.id for d in docs],
        state="queued",
        attempts=0,
    )
    db.add(log)
    db.flush()
    queue_send(request, log)
    return log


def queue_send(request, log: LiteratureSend) -> str:
    """Put a send in the outbox: the job goes to the queue once the request commits (a
    rolled-back request queues nothing). Each attempt has its own job."""
    log.state = "queued"
    log.error = None
    log.next_attempt_at = None
    log.retries = 0
    return request.enqueue_job(
        SEND_JOB, args={"send_id": log.id}, key=f"{SEND_JOB}:{log.id}:{log.attempts}"
    )


def retry_delays(settings) -> list[int]:
    """Seconds to wait before each automatic retry after a temporary failure
    (``kyklos.catalog.literature.retry_delays``, default "60 300 1800": after 1, 5
    and 30 minutes); their number bounds the attempts (one more than the delays)."""
    raw = settings.get("kyklos.catalog.literature.retry_delays")
    if raw is None:
        return list(RETRY_DELAYS)
    try:
        return [max(1, int(v)) for v in str(raw).replace(",", " ").split()]
    except ValueError:
        return list(RETRY_DELAYS)


def temporary(exc: Exception) -> bool:
    """Whether a delivery failure may pass by itself: an SMTP 4xx reply (greylisting, a
    full queue), a server that is down, refuses connections or is too slow. A 5xx is
    permanent: sending the same message again would be refused again."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        # SMTPException is an OSError too: the others (no AUTH, a refused sender
        # without a code) are this installation's setup, not a passing state
        return False
    # ConnectionRefusedError, TimeoutError, a name that does not resolve for now...
    return isinstance(exc, OSError)


class _Undeliverable(Exception):
    """The message cannot be built; ``args[0]`` is a key of :data:`FAILURES`."""


def _message(request, log: LiteratureSend):
    """The e-mail of a send, with the current files of its documents as the sender may
    see them now, in the recipient's language."""
    from kyklos_contacts.models import Person

    db = request.dbsession
    ids = [i for i in (log.literature_ids or []) if isinstance(i, int)]
    lit_et = get_entity_type(request, "literature")
    docs = {
        d.id: d
        for d in db.execute(visible_select(request, lit_et).where(Literature.id.in_(ids))).scalars()
    }
    files = current_files(request, ids)
    if not ids or any(i not in docs or i not in files for i in ids):
        raise _Undeliverable("documents")
    attachments = []
    try:
        for i in ids:
            f = files[i]
            attachments.append(
                (f["filename"], f["content_type"], read_attachment(request, f["attachment"]))
            )
    except HTTPNotFound:
        raise _Undeliverable("documents") from None
    names = [a[0] for a in attachments]
    person = db.get(Person, log.person_id) if log.person_id else None
    lang = person.language if person else None
    listing = "\n".join(f"- {n}" for n in names)
    intro = translate_for(request, _("Attached:"), lang)
    text = f"{log.message}\n\n{intro}\n{listing}\n" if log.message else f"{intro}\n{listing}\n"
    user = request.identity.user if request.identity else None
    settings = request.registry.settings
    try:
        msg = build_mail(
            settings,
            log.email,
            log.subject or ", ".join(names),
            text,
            reply_to=getattr(user, "email", None) or None,
            attachments=attachments,
        )
    except MailError:
        raise _Undeliverable("address") from None
    # the same Message-ID on every attempt: a receiver drops a repeat of a message whose
    # first delivery was accepted but not recorded (a worker killed in between)
    sender = settings.get("kyklos.mail.sender") or "kyklos@localhost"
    domain = sender.rsplit("@", 1)[-1].strip(" >") or "localhost"
    del msg["Message-ID"]
    msg["Message-ID"] = f"<literature-send-{log.id}@{domain}>"
    log.documents = "\n".join(names)
    return msg


def _smtp_reason(exc: Exception) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        words = exc.smtp_error
        words = words.decode("utf-8", "replace") if isinstance(words, bytes) else str(words)
        return f"{exc.smtp_code} {words}"[:500]
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {msg.decode('utf-8', 'replace') if isinstance(msg, bytes) else msg}"
            for code, msg in exc.recipients.values()
        )[:500]
    return (str(exc) or type(exc).__name__)[:500]


def deliver_send(ctx, send_id: int):
    """The ``catalog.literature.send`` job: deliver one queued send as the user who sent
    it and record the outcome. A temporary failure (SMTP 4xx, server unreachable) is
    tried again by a new job after the next of :func:`retry_delays`, with the same
    Message-ID, until the attempts run out; a permanent refusal (5xx) or the last
    attempt marks it failed with the reason (the user sees it on the timeline and may
    send it again). The job itself succeeds: the retries are the send's, counted and
    shown, not the queue's."""
    request = ctx.request
    log = ctx.dbsession.get(LiteratureSend, int(send_id))
    if log is None or log.state not in ("queued", "retrying"):
        return {"skipped": True}
    log.attempts += 1
    log.next_attempt_at = None
    try:
        msg = _message(request, log)
    except _Undeliverable as exc:
        log.state, log.error = "failed", exc.args[0]
        return {"state": "failed"}
    try:
        deliver_mail(request.registry.settings, msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.error = _smtp_reason(exc)
        delays = retry_delays(request.registry.settings)
        # ``retries`` counts the automatic retries since the user last sent it (a send
        # again by hand gets the whole series again)
        if temporary(exc) and (log.retries or 0) < len(delays):
            delay = delays[log.retries or 0]
            log.retries = (log.retries or 0) + 1
            log.state = "retrying"
            log.next_attempt_at = utcnow() + dt.timedelta(seconds=delay)
            ctx.enqueue(
                SEND_JOB,
                args={"send_id": log.id},
                key=f"{SEND_JOB}:{log.id}:{log.attempts}",
                delay=delay,
            )
            return {"state": "retrying", "next_attempt_at": log.next_attempt_at.isoformat()}
        log.state = "failed"
        return {"state": "failed"}
    log.state, log.error, log.delivered_at = "sent", None, utcnow()
    return {"state": "sent"}


def failure_words(request, log: LiteratureSend) -> str:
    if not log.error:
        return ""
    known = FAILURES.get(log.error)
    return request.localizer.translate(known) if known is not None else log.error


def _send_json(request, log: LiteratureSend) -> dict:
    return {
        "id": log.id,
        "entity": log.entity,
        "record_id": log.record_id,
        "email": log.email,
        "person_id": log.person_id,
        "documents": log.documents.splitlines(),
        "state": log.state,
        "state_title": request.localizer.translate(dict(SEND_STATES).get(log.state, log.state)),
        "error": failure_words(request, log) or None,
        "attempts": log.attempts,
        "next_attempt_at": log.next_attempt_at.isoformat() if log.next_attempt_at else None,
        # the same in words, in the user's language and time zone
        "next_attempt": format_datetime(request, log.next_attempt_at)
        if log.next_attempt_at
        else None,
        "sent_at": log.sent_at.isoformat(),
        "delivered_at": log.delivered_at.isoformat() if log.delivered_at else None,
        "url": request.route_url("catalog.api.literature.sent", id=log.id),
    }


def _sent_row(request) -> LiteratureSend:
    """A send the user may see: one made from a record they can see (404 otherwise)."""
    raw = request.matchdict["id"]
    log = request.dbsession.get(LiteratureSend, int(raw)) if len(raw) < 10 else None
    if log is None:
        raise HTTPNotFound()
    _send_source(request, log.entity, log.record_id)
    return log


def _retry(request, log: LiteratureSend) -> None:
    if log.state != "failed":
        msg = _("Only a failed send can be sent again.")
        raise Problem(409, _("Not sent again"), msg, errors={"state": msg})
    queue_send(request, log)


def api_send(request):
    body = read_json(request)
    if not isinstance(body, dict):
        raise Problem(400, _("Send a JSON object."))
    entity = body.get("entity")
    rid = body.get("record_id")
    if entity not in SEND_FROM or not isinstance(rid, int) or isinstance(rid, bool):
        errors = {}
        if entity not in SEND_FROM:
            errors["entity"] = _("One of: account, person, opportunity, quote.")
        if not isinstance(rid, int) or isinstance(rid, bool):
            errors["record_id"] = _("Give the record's number.")
        raise Problem(400, _("The documents were not sent"), errors=errors)
    _et, record = _send_source(request, entity, rid)
    log = send_literature(
        request,
        entity,
        record,
        body.get("person_id"),
        body.get("literature_ids"),
        body.get("message"),
    )
    # accepted into the outbox; the send's URL tells its state (queued, sent, failed)
    request.response.status = 202
    request.response.headers["Location"] = request.route_url(
        "catalog.api.literature.sent", id=log.id
    )
    return _send_json(request, log)


def api_sent(request):
    return _send_json(request, _sent_row(request))


def api_retry(request):
    log = _sent_row(request)
    _retry(request, log)
    request.response.status = 202
    return _send_json(request, log)


def api_offered(request):
    """``GET /api/v1/catalog/literature/offered?product_id=1&product_id=2&language=el
    &include_expired=&page=&limit=``: one page of the documents offered for products,
    paged as the library (``count``, ``page``, ``pages``, ``limit``, ``next``,
    ``previous``)."""
    errors = {}
    g = request.GET
    try:
        pids = _ids(g.getall("product_id"))
    except ValueError:
        errors["product_id"] = _("Give product numbers.")
        pids = []
    lang = g.get("language") or None
    if lang is not None and lang not in LANGUAGES:
        errors["language"] = _("One of: ${list}.", mapping={"list": ", ".join(LANGUAGES)})
    expired = g.get("include_expired") in ("1", "true")
    page, limit = paging(request, g, errors)
    if errors:
        raise Problem(400, _("Bad parameters"), errors=errors)
    found, total = offered_page(
        request, pids, lang, include_expired=expired, page=page, limit=limit
    )
    keep = [("product_id", p) for p in pids]
    keep += [
        (k, v)
        for k, v in (("language", lang), ("include_expired", "true" if expired else None))
        if v
    ]
    if g.get("limit"):
        keep.append(("limit", limit))

    def url(n):
        query = urlencode(keep + ([("page", n)] if n > 1 else []))
        return request.route_url("catalog.api.literature.offered") + (f"?{query}" if query else "")

    return {
        "items": [_doc_json(request, doc, f) for doc, f in found],
        "count": total,
        "page": page,
        "pages": max(1, -(-total // limit)),
        "limit": limit,
        "next": url(page + 1) if page * limit < total else None,
        "previous": url(page - 1) if page > 1 else None,
    }


def _doc_json(request, doc, f) -> dict:
    return {
        "id": doc.id,
        "title": doc.title,
        "kind": doc.kind,
        "language": doc.language,
        "product_id": doc.product_id,
        "category_id": doc.category_id,
        "valid_from": doc.valid_from.isoformat() if doc.valid_from else None,
        "valid_until": doc.valid_until.isoformat() if doc.valid_until else None,
        "expired": doc.expired,
        "file": {
            "id": f["id"],
            "filename": f["filename"],
            "size": f["size"],
            "versions": f["versions"],
            "url": request.route_url("api.attachment", aid=f["id"]),
        }
        if f
        else None,
    }


# --- pages -------------------------------------------------------------------------------


def _csrf_ok(request) -> bool:
    return request.POST.get("csrf_token") == request.session.get_csrf_token()


def send_page(request):
    params = request.POST if request.method == "POST" else request.GET
    entity = params.get("entity") or ""
    try:
        rid = int(params.get("id") or "")
    except ValueError:
        raise HTTPNotFound() from None
    et, record = _send_source(request, entity, rid)
    back = request.route_url("entity.detail", slug=et.slug, id=record.id)
    errors = {}
    chosen = {int(v) for v in params.getall("literature_ids") if v.isdigit() and len(v) < 10}
    # a pager button posts the form to show another page of documents, keeping what is
    # chosen and written so far; only the Send button sends
    navigating = request.method == "POST" and params.get("page") not in (None, "")
    if request.method == "POST" and not navigating:
        if not _csrf_ok(request):
            errors[""] = _("The form expired; send it again.")
        else:
            try:
                log = send_literature(
                    request,
                    entity,
                    record,
                    params.get("person_id"),
                    sorted(chosen),
                    params.get("message"),
                )
            except Problem as exc:
                errors = exc.errors or {"": exc.title}
            else:
                request.session.flash(
                    request.localizer.translate(
                        _(
                            "The documents are on their way to ${email}.",
                            mapping={"email": log.email},
                        )
                    ),
                    "success",
                )
                return HTTPSeeOther(back)
        request.response.status = 400
    people = recipients(request, entity, record)
    show_expired = params.get("expired") == "1"
    # the recipient's language first: a Greek reader gets the Greek brochure
    lang = people[0].language if len(people) == 1 else None
    page, limit = paging(request, params, {})
    docs, total = offered_page(
        request,
        everything=True,
        include_expired=show_expired,
        first_language=lang,
        page=page,
        limit=limit,
    )
    if docs == [] and total and page > 1:  # past the end: the last page
        page = -(-total // limit)
        docs, total = offered_page(
            request,
            everything=True,
            include_expired=show_expired,
            first_language=lang,
            page=page,
            limit=limit,
        )
    shown = {d.id for d, _f in docs}
    pages = max(1, -(-total // limit))
    kinds = {k: request.localizer.translate(v) for k, v in KINDS}
    return {
        "title": _("Send documents"),
        "record_title": record_titles(request, et, [record]).get(record.id, ""),
        "back": back,
        "entity": entity,
        "record": record,
        "people": [(p.id, person_label(p)) for p in people],
        "person_id": params.get("person_id") or "",
        "docs": docs,
        "kinds": kinds,
        "languages": LANGUAGES,
        "chosen": chosen,
        # chosen on another page: kept in the form as hidden fields
        "chosen_elsewhere": sorted(chosen - shown),
        "pager": {
            "page": page,
            "pages": pages,
            "total": total,
            "first": (page - 1) * limit + 1 if docs else 0,
            "last": (page - 1) * limit + len(docs),
            "limit": limit if params.get("limit") else None,
        },
        "message": params.get("message") or "",
        "errors": errors,
        "show_expired": show_expired,
        "fmt_date": lambda d: format_date(request, d),
        "expired_url": request.route_url(
            "catalog.literature.send", _query={"entity": entity, "id": record.id, "expired": "1"}
        ),
    }


def _filter_id(raw):
    return int(raw) if raw and raw.isdigit() and len(raw) < 10 else None


def _page_size(request) -> int:
    try:
        return max(1, min(MAX_LIMIT, int(request.registry.settings.get("kyklos.list.page_size"))))
    except (TypeError, ValueError):
        return 50


def _positive(raw, high=None):
    """A whole number from 1 (up to ``high``) or ``None``."""
    if raw is None or not raw.isdigit() or len(raw) > 9:
        return None
    n = int(raw)
    return n if n >= 1 and (high is None or n <= high) else None


def paging(request, params, errors: dict) -> tuple[int, int]:
    """``page`` (from 1) and ``limit`` (1..200, default the core's list page size) of
    a paged list, the library's and the offered documents' alike; a bad one is named
    in ``errors`` and its default used."""
    page = 1
    if params.get("page") not in (None, ""):
        page = _positive(params.get("page")) or 0
        if not page:
            errors["page"] = _("A page number from 1.")
            page = 1
    limit = _page_size(request)
    if params.get("limit") not in (None, ""):
        n = _positive(params.get("limit"), MAX_LIMIT)
        if n is None:
            errors["limit"] = _("A number from 1 to ${max}.", mapping={"max": MAX_LIMIT})
        else:
            limit = n
    return page, limit


def library(request, strict: bool = False) -> dict:
    """The library's documents for the query string: filters, then one page of them in
    title order (``page`` from 1, ``limit`` 1..200, default the core's list page size),
    the total and the pages before and after. ``strict`` (the API): a bad parameter is
    a 400 naming it; the page falls back to the default instead."""
    db = request.dbsession
    et = get_entity_type(request, "literature")
    g = request.GET
    errors = {}

    def pick(name, allowed, default=""):
        raw = g.get(name)
        if raw in (None, ""):
            return default
        if raw in allowed:
            return raw
        errors[name] = _("One of: ${list}.", mapping={"list": ", ".join(allowed)})
        return default

    def ident(name):
        raw = g.get(name)
        if raw in (None, ""):
            return None
        n = _positive(raw)
        if n is None:
            errors[name] = _("Give the record's number.")
        return n

    kind = pick("kind", list(dict(KINDS)))
    lang = pick("language", list(LANGUAGES))
    validity = pick("valid", list(dict(VALIDITY)), "valid")
    product_id = ident("product_id")
    category_id = ident("category_id")
    page, limit = paging(request, g, errors)
    if errors and strict:
        raise Problem(400, _("Bad parameters"), errors=errors)
    today = dt.date.today()
    stmt = visible_select(request, et)
    if kind:
        stmt = stmt.where(Literature.kind == kind)
    if lang:
        stmt = stmt.where(Literature.language == lang)
    if product_id:
        stmt = stmt.where(Literature.product_id == product_id)
    if category_id:
        stmt = stmt.where(Literature.category_id == category_id)
    valid_now = or_(Literature.valid_from.is_(None), Literature.valid_from <= today) & or_(
        Literature.valid_until.is_(None), Literature.valid_until >= today
    )
    if validity == "valid":
        stmt = stmt.where(valid_now)
    elif validity == "expired":
        stmt = stmt.where(Literature.valid_until < today)
    total = db.execute(
        select(func.count()).select_from(stmt.with_only_columns(Literature.id).subquery())
    ).scalar_one()
    # offset paging: a library holds hundreds of documents, not millions, and a reader
    # goes back a page as often as forward (the core's keyset lists only go forward)
    docs = (
        db.execute(
            stmt.order_by(Literature.title, Literature.id).offset((page - 1) * limit).limit(limit)
        )
        .scalars()
        .all()
    )
    files = current_files(request, [d.id for d in docs])
    f = {
        "kind": kind,
        "language": lang,
        "valid": validity,
        "product_id": product_id,
        "category_id": category_id,
    }
    keep = [(k, v) for k, v in f.items() if v not in ("", None)]
    if g.get("limit") and "limit" not in errors:
        keep.append(("limit", limit))

    def page_url(route, n):
        query = urlencode(keep + ([("page", n)] if n > 1 else []))
        return request.route_url(route) + (f"?{query}" if query else "")

    pages = max(1, -(-total // limit))
    return {
        "docs": docs,
        "files": files,
        "f": f,
        "page": page,
        "pages": pages,
        "limit": limit,
        "total": total,
        "first": (page - 1) * limit + 1 if docs else 0,
        "last": (page - 1) * limit + len(docs),
        "page_url": page_url,
        "has_next": page * limit < total,
        "has_previous": page > 1,
    }


def library_page(request):
    db = request.dbsession
    found = library(request)
    docs, f = found["docs"], found["f"]
    product_id, category_id = f["product_id"], f["category_id"]
    route = "catalog.literature.library"
    from .models import Category, Product

    pids = {d.product_id for d in docs if d.product_id} | ({product_id} if product_id else set())
    cids = {d.category_id for d in docs if d.category_id} | (
        {category_id} if category_id else set()
    )
    products = db.execute(select(Product).where(Product.id.in_(pids))).scalars().all()
    categories = db.execute(select(Category).where(Category.id.in_(cids))).scalars().all()
    ptitles = record_titles(request, "product", products)
    ctitles = record_titles(request, "productcategory", categories)
    tr = request.localizer.translate
    return {
        "title": _("Sales literature"),
        "docs": docs,
        "files": found["files"],
        "kinds": [(k, tr(v)) for k, v in KINDS],
        "kind_words": {k: tr(v) for k, v in KINDS},
        "languages": LANGUAGES,
        "validity": [(k, tr(v)) for k, v in VALIDITY],
        "f": f,
        "pager": {
            "page": found["page"],
            "pages": found["pages"],
            "total": found["total"],
            "first": found["first"],
            "last": found["last"],
            "next_url": found["page_url"](route, found["page"] + 1) if found["has_next"] else None,
            "previous_url": found["page_url"](route, found["page"] - 1)
            if found["has_previous"]
            else None,
            "first_url": found["page_url"](route, 1) if found["page"] > 2 else None,
        },
        "ptitles": ptitles,
        "ctitles": ctitles,
        "fmt_date": lambda d: format_date(request, d),
        "size": _size,
        "new_url": request.route_url("entity.new", slug="sales-literature")
        if request.has_permission(PERMISSIONS["literature"]["create"])
        else None,
    }


def api_library(request):
    """``GET /api/v1/catalog/literature?kind=&language=&valid=&product_id=&category_id=
    &page=&limit=``: one page of the library, each document with its current file."""
    found = library(request, strict=True)
    route = "catalog.api.literature.library"
    files = found["files"]
    return {
        "items": [_doc_json(request, d, files.get(d.id)) for d in found["docs"]],
        "count": found["total"],
        "page": found["page"],
        "pages": found["pages"],
        "limit": found["limit"],
        "next": found["page_url"](route, found["page"] + 1) if found["has_next"] else None,
        "previous": found["page_url"](route, found["page"] - 1) if found["has_previous"] else None,
    }


def sent_page(request):
    """A send of documents: to whom, what, its state and why it failed; a failed one can
    be sent again (POST)."""
    log = _sent_row(request)
    et = get_entity_type(request, log.entity)
    back = request.route_url("entity.detail", slug=et.slug, id=log.record_id)
    error = None
    if request.method == "POST":
        if not _csrf_ok(request):
            error = _("The form expired; send it again.")
        else:
            try:
                _retry(request, log)
            except Problem as exc:
                error = exc.detail or exc.title
            else:
                request.session.flash(
                    request.localizer.translate(
                        _(
                            "The documents are on their way to ${email} again.",
                            mapping={"email": log.email},
                        )
                    ),
                    "success",
                )
                return HTTPSeeOther(request.route_url("catalog.literature.sent", id=log.id))
        request.response.status = 400
    record = get_record(request, et, log.record_id)
    tr = request.localizer.translate
    return {
        "title": send_title(log),
        "send": log,
        "back": back,
        "record_title": record_titles(request, et, [record]).get(record.id, ""),
        "state_words": {k: tr(v) for k, v in SEND_STATES},
        "reason": failure_words(request, log),
        "error": error,
        "fmt_datetime": lambda d: format_datetime(request, d),
    }


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB"):
        if n < 1024 or unit == "MB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def attach_to_record(request, et, record, doc_ids) -> list[str]:
    """Copy the current files of documents the user may see onto ``record`` (a quote)
    as its attachments; the names attached."""
    db = request.dbsession
    lit_et = get_entity_type(request, "literature")
    docs = db.execute(visible_select(request, lit_et).where(Literature.id.in_(doc_ids))).scalars()
    names = []
    for doc in docs:
        versions = attachments_of(db, lit_et, doc.id)
        if not versions:
            continue
        att = versions[0]
        data = read_attachment(request, att)
        store_attachment(request, et, record, io.BytesIO(data), att.filename)
        names.append(att.filename)
    return names


# --- record pages ------------------------------------------------------------------------


class Hooks:
    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "product" or not request.has_permission(READ):
            return None
        docs = offered(request, [record.id], include_expired=True)
        if not docs:
            return None
        tr = request.localizer.translate
        kinds = {k: tr(v) for k, v in KINDS}
        items = []
        for doc, f in docs:
            bits = [kinds.get(doc.kind, doc.kind)]
            if doc.language:
                bits.append(LANGUAGES.get(doc.language, doc.language))
            if doc.expired:
                bits.append(
                    tr(_("expired ${day}", mapping={"day": format_date(request, doc.valid_until)}))
                )
            if f["versions"] > 1:
                bits.append(tr(_("version ${n}", mapping={"n": f["versions"]})))
            items.append(
                (
                    f"{doc.title} — {f['filename']}",
                    request.route_path("attachment.download", aid=f["id"]),
                    " · ".join(bits),
                )
            )
        return [Panel(_("Literature"), items=items, count=len(items), order=6)]

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name not in SEND_FROM:
            return None
        return [
            Action(
                _("Send documents"),
                request.route_path(
                    "catalog.literature.send", _query={"entity": entity_type.name, "id": record.id}
                ),
                style="outline-secondary",
                permission=READ,
            )
        ]

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name not in SEND_FROM:
            return None
        return timeline(request, entity_type.name, record.id) or None

    @hookimpl
    def kyklos_menu_items(self, request):
        return [
            MenuItem(
                _("Sales literature"),
                request.route_path("catalog.literature.library"),
                permission=READ,
                icon="file-earmark-richtext",
                order=38,
            )
        ]

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name != "literature":
            return
        start = data["valid_from"] if "valid_from" in data else getattr(record, "valid_from", None)
        end = data["valid_until"] if "valid_until" in data else getattr(record, "valid_until", None)
        if start and end and end < start:
            errors["valid_until"] = _("The end of validity cannot be before its start.")


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("catalog.literature.library", "/catalog/literature")
    config.add_view(
        library_page,
        route_name="catalog.literature.library",
        permission=READ,
        renderer="kyklos_catalog:templates/literature.pt",
    )
    config.add_job(SEND_JOB, deliver_send, retries=0, title=_("Send sales documents"))
    config.add_route("catalog.literature.sent", r"/catalog/literature/sent/{id:\d+}")
    config.add_view(
        sent_page,
        route_name="catalog.literature.sent",
        permission=READ,
        request_method=("GET", "POST"),
        renderer="kyklos_catalog:templates/literature_sent.pt",
    )
    config.add_route(
        "catalog.api.literature.library", "/api/v1/catalog/literature", request_method="GET"
    )
    config.add_view(
        api_library, route_name="catalog.api.literature.library", permission=READ, renderer="json"
    )
    config.add_route(
        "catalog.api.literature.sent",
        r"/api/v1/catalog/literature/sends/{id:\d+}",
        request_method="GET",
    )
    config.add_view(
        api_sent, route_name="catalog.api.literature.sent", permission=READ, renderer="json"
    )
    config.add_route(
        "catalog.api.literature.retry",
        r"/api/v1/catalog/literature/sends/{id:\d+}/retry",
        request_method="POST",
    )
    config.add_view(
        api_retry, route_name="catalog.api.literature.retry", permission=READ, renderer="json"
    )
    config.add_route("catalog.literature.send", "/catalog/literature/send")
    config.add_view(
        send_page,
        route_name="catalog.literature.send",
        permission=READ,
        renderer="kyklos_catalog:templates/literature_send.pt",
    )
    config.add_route(
        "catalog.api.literature.send", "/api/v1/catalog/literature/send", request_method="POST"
    )
    config.add_view(
        api_send, route_name="catalog.api.literature.send", permission=READ, renderer="json"
    )
    config.add_route(
        "catalog.api.literature.offered",
        "/api/v1/catalog/literature/offered",
        request_method="GET",
    )
    config.add_view(
        api_offered, route_name="catalog.api.literature.offered", permission=READ, renderer="json"
    )
    config.add_hooks(Hooks(), name="kyklos_catalog.literature")


def openapi_paths(request) -> dict:
    from kyklos_sdk import openapi as o

    ids = o.array({"type": "integer", "minimum": 1})
    send = o.obj(
        {
            "id": {"type": "integer"},
            "entity": {"type": "string"},
            "record_id": {"type": "integer"},
            "email": {"type": "string"},
            "person_id": {"type": ["integer", "null"]},
            "documents": o.array({"type": "string"}),
            "state": {"type": "string", "enum": [k for k, _v in SEND_STATES]},
            "state_title": {"type": "string"},
            "error": {"type": ["string", "null"]},
            "attempts": {"type": "integer"},
            "next_attempt_at": {"type": ["string", "null"], "format": "date-time"},
            "next_attempt": {"type": ["string", "null"]},
            "sent_at": {"type": "string", "format": "date-time"},
            "delivered_at": {"type": ["string", "null"], "format": "date-time"},
            "url": {"type": "string"},
        },
        strict=False,
    )
    sid = [o.path_id()]
    return {
        "/api/v1/catalog/literature": {
            "get": o.operation(
                "Catalog",
                "catalog_literature_library",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                "items": o.array({"type": "object"}),
                                "count": {"type": "integer"},
                                "page": {"type": "integer"},
                                "pages": {"type": "integer"},
                                "limit": {"type": "integer"},
                                "next": {"type": ["string", "null"]},
                                "previous": {"type": ["string", "null"]},
                            }
                        )
                    ),
                    **o.problems("400", "401", "403"),
                },
                "One page of the sales literature library, in title order, with the total",
                parameters=[
                    o.param("kind", {"type": "string", "enum": [k for k, _v in KINDS]}),
                    o.param("language", {"type": "string", "enum": list(LANGUAGES)}),
                    o.param("valid", {"type": "string", "enum": [k for k, _v in VALIDITY]}),
                    o.param("product_id", {"type": "integer", "minimum": 1}),
                    o.param("category_id", {"type": "integer", "minimum": 1}),
                    o.param("page", {"type": "integer", "minimum": 1}),
                    o.param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                ],
            )
        },
        "/api/v1/catalog/literature/sends/{id}": {
            "get": o.operation(
                "Catalog",
                "catalog_literature_sent",
                {"200": o.json_ok(send), **o.problems("401", "403", "404")},
                "A send of documents: queued, sent, or failed with the reason",
                parameters=sid,
            )
        },
        "/api/v1/catalog/literature/sends/{id}/retry": {
            "post": o.operation(
                "Catalog",
                "catalog_literature_retry",
                {"202": o.json_ok(send, "queued again"), **o.problems("401", "403", "404", "409")},
                "Send a failed send again",
                parameters=sid,
            )
        },
        "/api/v1/catalog/literature/offered": {
            "get": o.operation(
                "Catalog",
                "catalog_literature_offered",
                {
                    "200": o.json_ok(
                        o.obj(
                            {
                                "items": o.array({"type": "object"}),
                                "count": {"type": "integer"},
                                "page": {"type": "integer"},
                                "pages": {"type": "integer"},
                                "limit": {"type": "integer"},
                                "next": {"type": ["string", "null"]},
                                "previous": {"type": ["string", "null"]},
                            }
                        )
                    ),
                    **o.problems("400", "401", "403"),
                },
                "One page of the documents of products in a language, valid today, with "
                "their current file (paged as the library)",
                parameters=[
                    o.param("product_id", {"type": "integer"}, description="repeatable"),
                    o.param("language", {"type": "string", "enum": list(LANGUAGES)}),
                    o.param("include_expired", {"type": "boolean"}),
                    o.param("page", {"type": "integer", "minimum": 1}),
                    o.param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                ],
            )
        },
        "/api/v1/catalog/literature/send": {
            "post": o.operation(
                "Catalog",
                "catalog_literature_send",
                {
                    "202": o.json_ok(send, "queued in the outbox"),
                    **o.problems("400", "401", "403", "404", "415"),
                },
                "Send documents by e-mail from a record to one of its people: queued in "
                "the outbox and logged; the send's url tells whether it went out",
                body=o.json_body(
                    o.obj(
                        {
                            "entity": {"type": "string", "enum": list(SEND_FROM)},
                            "record_id": {"type": "integer"},
                            "person_id": {"type": "integer"},
                            "literature_ids": ids,
                            "message": o.text(MAX_MESSAGE),
                        },
                        required=("entity", "record_id", "person_id", "literature_ids"),
                    )
                ),
            )
        },
    }

"""The mail plugin's own pages and API: a mailbox's password, "Fetch now", its ledger,
the reconciliation with the server and the one-click resync, and filing a message by
hand. Mailboxes and messages themselves are served by the core (entity types)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNoContent, HTTPNotFound, HTTPSeeOther
from sqlalchemy import func, select

from kyklos_sdk import (
    LANGUAGES,
    Problem,
    attachments_of,
    get_entity_type,
    get_record,
    read_json,
    record_change,
    record_titles,
)

from . import PERMISSIONS, _
from .crypto import encrypt
from .filing import file_to
from .imap import ERRORS, Folder, Settings
from .jobs import FETCH
from .models import OUTCOMES, LedgerEntry, Mailbox, Message
from .tracking import allowed as tracking_allowed

ID = r"{id:\d{1,18}}"
PAGE = 100
FILE_TO = ("person", "account")


def _mailbox(request, action="read") -> Mailbox:
    return get_record(
        request, get_entity_type(request, "mailbox"), request.matchdict["id"], action=action
    )


def _detail(request, box) -> str:
    return request.route_path("entity.detail", slug="mailboxes", id=box.id)


# --- password -----------------------------------------------------------------------------


def set_password(request, box: Mailbox, password) -> None:
    if not isinstance(password, str) or not password or len(password) > 1000:
        raise Problem(400, _("Invalid data"), errors={"password": _("Give the password.")})
    box.password_secret = encrypt(request.registry, password)
    # the history says the password changed, never what it is
    record_change(
        request,
        get_entity_type(request, "mailbox"),
        box,
        "update",
        {"password": ["", "********"]},
        "api",
    )


def api_password(request):
    box = _mailbox(request, "update")
    set_password(request, box, read_json(request).get("password"))
    return HTTPNoContent()


def password_page(request):
    box = _mailbox(request, "update")
    error = None
    if request.method == "POST":
        try:
            set_password(request, box, request.POST.get("password", ""))
        except Problem as p:
            error = p.errors.get("password") or p.detail
        else:
            request.session.flash(_("The password is saved."), "success")
            return HTTPSeeOther(_detail(request, box))
    return {"box": box, "error": error, "back": _detail(request, box)}


# --- fetching -----------------------------------------------------------------------------


def _enqueue_fetch(request, box, rescan=False) -> str:
    # run as the person who asked, so the job and its progress show on their jobs page
    return request.enqueue_job(FETCH, args={"mailbox_id": box.id, "rescan": rescan})


def api_fetch(request):
    box = _mailbox(request, "update")
    job = _enqueue_fetch(request, box, rescan=request.matched_route.name == "mail.api.resync")
    request.response.status = 202
    return {"job_id": job, "job_url": request.route_path("api.job", id=job)}


def fetch_page(request):
    box = _mailbox(request, "update")
    _enqueue_fetch(request, box)
    request.session.flash(_("The mailbox is being read; new messages appear shortly."), "info")
    return HTTPSeeOther(request.route_path("jobs"))


# --- ledger -------------------------------------------------------------------------------


def _outcome_words(request) -> dict:
    return {k: request.localizer.translate(v) for k, v in OUTCOMES}


def ledger_rows(request, box, outcome=None, before=None, limit=PAGE):
    q = (
        select(LedgerEntry, Message.subject)
        .outerjoin(Message, Message.id == LedgerEntry.mail_id)
        .where(LedgerEntry.mailbox_id == box.id)
    )
    if outcome:
        q = q.where(LedgerEntry.outcome == outcome)
    if before:
        q = q.where(LedgerEntry.id < before)
    return request.dbsession.execute(q.order_by(LedgerEntry.id.desc()).limit(limit)).all()


def _outcome_param(request):
    outcome = request.GET.get("outcome") or None
    if outcome is not None and outcome not in dict(OUTCOMES):
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"outcome": _("One of: filed, unmatched, ignored, failed, bounce, complaint.")},
        )
    return outcome


def _before_param(request):
    raw = request.GET.get("before") or None
    if raw is None:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise Problem(400, _("Invalid parameters"), errors={"before": _("Give a number.")})
    return int(raw)


def _counts(request, box) -> dict:
    return dict(
        request.dbsession.execute(
            select(LedgerEntry.outcome, func.count())
            .where(LedgerEntry.mailbox_id == box.id)
            .group_by(LedgerEntry.outcome)
        ).all()
    )


def api_ledger(request):
    box = _mailbox(request)
    rows = ledger_rows(request, box, _outcome_param(request), _before_param(request))
    items = [
        {
            "id": e.id,
            "uidvalidity": e.uidvalidity,
            "uid": e.uid,
            "message_id": e.message_id,
            "outcome": e.outcome,
            "reason": e.reason,
            "mail_id": e.mail_id,
            "subject": subject,
            "recorded_at": e.recorded_at.isoformat(),
        }
        for e, subject in rows
    ]
    nxt = items[-1]["id"] if len(items) == PAGE else None
    return {"counts": _counts(request, box), "items": items, "next_before": nxt}


def ledger_page(request):
    box = _mailbox(request)
    try:
        outcome, before = _outcome_param(request), _before_param(request)
    except Problem:
        outcome = before = None
    rows = ledger_rows(request, box, outcome, before)
    words = _outcome_words(request)
    return {
        "box": box,
        "rows": [
            (
                e,
                subject,
                words.get(e.outcome, e.outcome),
                request.route_path("entity.detail", slug="mail-messages", id=e.mail_id)
                if e.mail_id
                else None,
            )
            for e, subject in rows
        ],
        "counts": [(k, words[k], n) for k, n in sorted(_counts(request, box).items())],
        "outcome": outcome,
        "outcomes": list(words.items()),
        "more": rows[-1][0].id if len(rows) == PAGE else None,
        "back": _detail(request, box),
    }


# --- reconciliation -----------------------------------------------------------------------


def reconcile(request, box) -> dict:
    """The server's UIDs against the ledger: ``missing`` are on the server with no
    ledger entry (lost so far), ``gone`` in the ledger but no longer on the server
    (deleted there: nothing lost), ``failed`` accounted for with a reason."""
    try:
        s = Settings.of(request.registry, box)
        with Folder(s) as folder:
            uidvalidity, server = folder.uidvalidity, folder.uids()
    except ERRORS as exc:
        return {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
    ledger = dict(
        request.dbsession.execute(
            select(LedgerEntry.uid, LedgerEntry.outcome).where(
                LedgerEntry.mailbox_id == box.id, LedgerEntry.uidvalidity == uidvalidity
            )
        ).all()
    )
    on_server = set(server)
    missing = [u for u in server if u not in ledger]
    return {
        "ok": True,
        "uidvalidity": uidvalidity,
        "server_count": len(server),
        "ledger_count": len(ledger),
        "missing": missing,
        "gone": sorted(u for u in ledger if u not in on_server),
        "failed": sorted(u for u, o in ledger.items() if o == "failed" and u in on_server),
        "in_sync": not missing,
    }


def api_reconcile(request):
    box = _mailbox(request)
    result = reconcile(request, box)
    if not result["ok"]:
        raise Problem(502, _("The mail server could not be reached"), result["error"])
    result.pop("ok")
    return result


def reconcile_page(request):
    box = _mailbox(request)
    if request.method == "POST":
        box = _mailbox(request, "update")
        _enqueue_fetch(request, box, rescan=True)
        request.session.flash(_("Resync started: every missing message is fetched again."), "info")
        return HTTPSeeOther(request.route_path("jobs"))
    return {
        "box": box,
        "r": reconcile(request, box),
        "back": _detail(request, box),
        "can_resync": request.has_permission(PERMISSIONS["mailbox"]["update"]),
    }


# --- filing by hand -----------------------------------------------------------------------


def _file(request, message, entity, record_id) -> bool:
    errors = {}
    if entity not in FILE_TO:
        errors["entity"] = _("File to a person or an account.")
    if isinstance(record_id, bool) or not str(record_id or "").isdigit():
        errors["record_id"] = _("Choose the record.")
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    target = get_entity_type(request, entity)
    try:
        record = get_record(request, target, int(record_id))
    except HTTPNotFound:
        raise Problem(400, _("Invalid data"), errors={"record_id": _("No such record.")}) from None
    return file_to(request, message, entity, record.id, "hand")


def _message(request, action="read"):
    return get_record(
        request, get_entity_type(request, "mailmessage"), request.matchdict["id"], action=action
    )


def api_file(request):
    message = _message(request, "update")
    body = read_json(request)
    added = _file(request, message, body.get("entity"), body.get("record_id"))
    request.response.status = 201 if added else 200
    return {"filed": True, "new": added}


def file_page(request):
    message = _message(request, "update")
    back = request.route_path("entity.detail", slug="mail-messages", id=message.id)
    entity = request.POST.get("entity", "")
    try:
        _file(
            request,
            message,
            entity,
            request.POST.get(f"record_{entity}") or request.POST.get("record_id"),
        )
    except Problem as p:
        request.session.flash(
            "; ".join(request.localizer.translate(m) for m in p.errors.values()), "danger"
        )
    else:
        request.session.flash(_("The message is filed."), "success")
    return HTTPSeeOther(back)


# --- compose and reply ---------------------------------------------------------------------


def _about_of(request):
    """``(entity type, record)`` from ``?about=opportunity:12`` (any type one can
    write from, see :mod:`.recipients`), or ``(None, None)``."""
    from .recipients import mailable_types

    raw = request.params.get("about") or ""
    entity, _sep, rid = raw.partition(":")
    if entity not in mailable_types(request) or not rid.isdigit():
        return None, None
    et = get_entity_type(request, entity)
    return et, get_record(request, et, rid)


def api_recipients(request):
    """``GET /api/v1/mail/recipients?about=opportunity:12``: whom the compose form offers
    when writing from that record (``address``, ``label``; the first is its main
    contact) and the record's files one may attach, as the user may read them."""
    from .recipients import mailable_types, recipients

    raw = request.params.get("about") or ""
    entity, _sep, rid = raw.partition(":")
    if entity not in mailable_types(request) or not rid.isdigit() or len(rid) > 18:
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"about": _("Write from a record that names people to write to.")},
        )
    et = get_entity_type(request, entity)
    record = get_record(request, et, rid)
    return {
        "about": {"entity": et.name, "record_id": record.id},
        "items": [{"address": a, "label": label} for a, label in recipients(request, et, record)],
        "attachments": [
            {"id": a.id, "filename": a.filename, "size": a.size}
            for a in attachments_of(request.dbsession, et, record.id)
        ],
    }


def api_send(request):
    """``POST /api/v1/mail/send``; with ``send_at`` (ISO 8601; without an offset, in
    the user's time zone) the message is checked now and sent then (202)."""
    from .compose import ComposeError, send_message
    from .later import schedule

    body = read_json(request)
    try:
        if body.get("send_at"):
            row = schedule(request, body, body["send_at"])
            request.response.status = 202
            return _scheduled_json(request, row)
        stored = send_message(request, body)
    except ComposeError as e:
        raise Problem(400, _("Invalid data"), errors=e.errors) from None
    request.response.status = 201
    return {"id": stored.id, "message_id": stored.message_id}


def _scheduled_json(request, row) -> dict:
    return {
        "scheduled_id": row.id,
        "subject": row.subject,
        "recipients": row.recipients,
        "mailbox_id": row.mailbox_id,
        "send_at": row.send_at.isoformat(),
        "status": row.status,
        "error": row.error,
        "mail_id": row.mail_id,
    }


def _my_scheduled(request):
    from .models import Scheduled

    row = request.dbsession.get(Scheduled, int(request.matchdict["id"]))
    # another user's message is not found rather than forbidden: its existence is theirs
    if row is None or row.user_id != request.identity.user.id:
        raise HTTPNotFound()
    return row


def api_scheduled(request):
    from .later import mine

    return {"items": [_scheduled_json(request, r) for r in mine(request)]}


def api_cancel_scheduled(request):
    from .compose import ComposeError
    from .later import cancel

    row = _my_scheduled(request)
    try:
        cancel(request, row)
    except ComposeError as e:
        raise Problem(409, _("Already sent"), errors=e.errors) from None
    return _scheduled_json(request, row)


def scheduled_page(request):
    from .later import mine
    from .models import SCHEDULE_STATES

    words = {k: request.localizer.translate(v) for k, v in SCHEDULE_STATES}
    return {"rows": [(r, words.get(r.status, r.status)) for r in mine(request)]}


def cancel_scheduled_page(request):
    from .compose import ComposeError
    from .later import cancel

    row = _my_scheduled(request)
    try:
        cancel(request, row)
    except ComposeError:
        request.session.flash(_("Only a message not sent yet can be cancelled."), "warning")
    else:
        request.session.flash(_("The scheduled message is cancelled."), "success")
    return HTTPSeeOther(request.route_path("mail.scheduled"))


def compose_page(request):
    from .compose import ComposeError, send_message, sendable_mailboxes
    from .recipients import recipients

    et, record = _about_of(request)
    reply = None
    if request.params.get("reply", "").isdigit():
        reply = _message_by_id(request, request.params["reply"])
    offered = recipients(request, et, record) if record is not None else []
    if reply is not None and reply.direction == "in" and reply.sender:
        from email.utils import parseaddr

        addr = parseaddr(reply.sender)[1]
        if addr and all(a.lower() != addr.lower() for a, _l in offered):
            offered.insert(0, (addr, reply.sender))
    files = attachments_of(request.dbsession, et, record.id) if record is not None else []
    boxes = sendable_mailboxes(request)
    from .merge import MergeError, rendered, version_for
    from .merge import offered as offered_templates
    from .parse import sanitise

    # the recipient's language; without one, the template's own default language
    from .recipients import language_of

    language = language_of(request, et, record)
    templates = offered_templates(request)
    chosen = None
    if request.params.get("template", "").isdigit():
        chosen = version_for(
            request,
            get_record(
                request, get_entity_type(request, "mailtemplate"), request.params["template"]
            ),
            language,
        )
    values = {
        "mailbox_id": str(boxes[0].id) if boxes else "",
        "to": [offered[0][0]] if offered else [],
        "other": "",
        "cc": "",
        "subject": "",
        "body": "",
        "body_html": "",
        "attachment_ids": [],
    }
    errors: dict = {}
    if reply is not None:
        from .compose import subject_tags, tagged
        from .parse import base_subject

        values["subject"] = tagged(
            "Re: " + base_subject(reply.subject), subject_tags(request, reply)
        )
        if reply.mailbox_id and any(b.id == reply.mailbox_id for b in boxes):
            values["mailbox_id"] = str(reply.mailbox_id)
    tags: list[str] = []
    if record is not None and reply is None:
        from .compose import record_tags

        # a case's number in the subject brings the customer's answer back to it
        tags = record_tags(request, et.name, record.id)
        values["subject"] = " ".join(tags)
    if chosen is not None:
        try:
            filled = rendered(request, chosen, et.name if et is not None else None, record)
        except MergeError:
            errors["template"] = _("This template cannot be filled in; correct it first.")
        else:
            if reply is None:
                from .compose import tagged

                values["subject"] = tagged(filled["subject"], tags)
            values["body_html"] = filled["html"]
    back = (
        request.route_path("entity.detail", slug=et.slug, id=record.id)
        if record is not None
        else request.route_path("entity.list", slug="mail-messages")
    )
    if request.method == "POST":
        post = request.POST
        values = {
            "mailbox_id": post.get("mailbox_id", ""),
            "to": post.getall("to"),
            "other": post.get("other", ""),
            "cc": post.get("cc", ""),
            "subject": post.get("subject", ""),
            "body": post.get("body", ""),
            "body_html": post.get("body_html", ""),
            "attachment_ids": post.getall("attachment_ids"),
            "send_at": post.get("send_at", "").strip(),
            "track": post.get("track") == "1",
        }
        split = [a for a in values["other"].replace(";", ",").split(",") if a.strip()]
        data = {
            **values,
            "to": values["to"] + split,
            "cc": [a for a in values["cc"].replace(";", ",").split(",") if a.strip()],
            "about": {"entity": et.name, "record_id": record.id} if record is not None else None,
            "reply_to": reply.id if reply is not None else None,
        }
        try:
            if values["send_at"]:
                from .later import schedule

                row = schedule(request, data, values["send_at"])
            else:
                send_message(request, data)
        except ComposeError as e:
            request.tm.doom()  # a message that failed to leave is not kept
            errors = e.errors
        else:
            if values["send_at"]:
                request.session.flash(
                    _(
                        "The message will be sent on ${when}.",
                        mapping={"when": request.format_datetime(row.send_at)},
                    ),
                    "success",
                )
            else:
                request.session.flash(_("The message is sent and filed."), "success")
            return HTTPSeeOther(back)
    return {
        "record": record,
        "record_title": record_titles(request, et, [record]).get(record.id, "")
        if record is not None
        else "",
        "offered": offered,
        "files": files,
        "boxes": boxes,
        "values": values,
        "errors": errors,
        "back": back,
        "reply": reply,
        "templates": templates,
        # what the customer will read, through the sanitiser the sending uses
        "preview_html": sanitise(values["body_html"]) if values.get("body_html") else "",
        "chosen": chosen,
        "chosen_main": (chosen.translation_of_id or chosen.id) if chosen is not None else None,
        "language_words": LANGUAGES,
        "can_track": tracking_allowed(request.registry),
    }


# --- mailbox rules --------------------------------------------------------------------------


def _rule(request):
    return get_record(request, get_entity_type(request, "mailrule"), request.matchdict["id"])


def api_rule_dry_run(request):
    """``GET /api/v1/mail-rules/{id}/dry-run``: the mailbox's last 50 received messages,
    whether this rule matches each, and which rule would apply."""
    from .rules import dry_run

    rule = _rule(request)
    return {
        "items": [
            {
                "id": r["message"].id,
                "subject": r["message"].subject,
                "sender": r["message"].sender,
                "sent_at": r["message"].sent_at.isoformat() if r["message"].sent_at else None,
                "matches": r["matches"],
                "applies": (
                    {"id": r["applies"].id, "name": r["applies"].name} if r["applies"] else None
                ),
            }
            for r in dry_run(request, rule)
        ]
    }


def rule_dry_run_page(request):
    from .rules import DRY_RUN, dry_run

    rule = _rule(request)
    rows = dry_run(request, rule)
    return {
        "rule": rule,
        "rows": [
            (
                r["message"],
                request.route_path("entity.detail", slug="mail-messages", id=r["message"].id),
                r["matches"],
                r["applies"],
            )
            for r in rows
        ],
        "matched": sum(1 for r in rows if r["matches"]),
        "limit": DRY_RUN,
        "back": request.route_path("entity.detail", slug="mail-rules", id=rule.id),
    }


def _merge_about(request):
    """``(entity type, record)`` from ``?about=opportunity:7``: any record type a
    template merges from (the preview picks one), read as the user may."""
    from .merge import merge_types

    about = request.params.get("about") or ""
    if not about:
        return None, None
    entity, _sep, rid = about.partition(":")
    if entity not in merge_types(request) or not rid.isdigit():
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"about": _("Choose a record to fill the template from.")},
        )
    try:
        et = get_entity_type(request, entity)
    except HTTPNotFound:
        raise Problem(
            400, _("Invalid parameters"), errors={"about": _("No such record.")}
        ) from None
    return et, get_record(request, et, rid)


def api_render_template(request):
    """``GET /api/v1/mail-templates/{id}/render?about=person:12``: the version of the
    template in the record's language (else its default language) with the merge
    fields filled from that record, as the user may read it: subject, HTML, text."""
    from .merge import MergeError, rendered, version_for

    template = get_record(
        request, get_entity_type(request, "mailtemplate"), request.matchdict["id"]
    )
    et, record = _merge_about(request)
    from .recipients import language_of

    language = request.params.get("language") or language_of(request, et, record)
    version = version_for(request, template, language)
    try:
        return rendered(request, version, et.name if et is not None else None, record)
    except MergeError as exc:
        raise Problem(
            400,
            _("Invalid data"),
            errors={"body": _("Cannot fill in: ${e}", mapping={"e": str(exc)[:300]})},
        ) from None


def template_preview_page(request):
    """The template's subject and text filled from a record picked with the core's
    picker: what a customer would read."""
    from .merge import MergeError, merge_types, rendered, version_for

    et_tpl = get_entity_type(request, "mailtemplate")
    template = get_record(request, et_tpl, request.matchdict["id"])
    pickers = []
    for name in merge_types(request):
        try:
            t = get_entity_type(request, name)
        except HTTPNotFound:
            continue
        if request.has_permission(t.permission("read")):
            pickers.append(
                (
                    name,
                    request.localizer.translate(t.title),
                    request.route_path("entity.lookup", slug=t.slug),
                )
            )
    et = record = None
    chosen_kind = request.params.get("kind", "")
    rid = request.params.get(f"record_{chosen_kind}", "")
    out = error = None
    if rid.isdigit() and any(p[0] == chosen_kind for p in pickers):
        et = get_entity_type(request, chosen_kind)
        record = get_record(request, et, rid)
    from .recipients import language_of

    version = version_for(request, template, language_of(request, et, record))
    try:
        out = rendered(request, version, et.name if et is not None else None, record)
    except MergeError as exc:
        error = str(exc)
    return {
        "template": template,
        "version": version,
        "pickers": pickers,
        "kind": chosen_kind,
        "record": record,
        "record_title": record_titles(request, et, [record]).get(record.id, "")
        if record is not None
        else "",
        "out": out,
        "error": error,
        "language_words": LANGUAGES,
        "back": request.route_path("entity.detail", slug=et_tpl.slug, id=template.id),
    }


def _message_by_id(request, mid):
    return get_record(request, get_entity_type(request, "mailmessage"), mid)


def includeme(config):
    tpl = "kyklos_mail:templates/"
    routes = [
        ("mail.password", f"/mail/mailboxes/{ID}/password"),
        ("mail.fetch", f"/mail/mailboxes/{ID}/fetch"),
        ("mail.ledger", f"/mail/mailboxes/{ID}/ledger"),
        ("mail.reconcile", f"/mail/mailboxes/{ID}/reconcile"),
        ("mail.file", f"/mail/messages/{ID}/file"),
        ("mail.compose", "/mail/compose"),
        ("mail.api.send", "/api/v1/mail/send"),
        ("mail.api.recipients", "/api/v1/mail/recipients"),
        ("mail.api.password", f"/api/v1/mailboxes/{ID}/password"),
        ("mail.api.fetch", f"/api/v1/mailboxes/{ID}/fetch"),
        ("mail.api.resync", f"/api/v1/mailboxes/{ID}/resync"),
        ("mail.api.ledger", f"/api/v1/mailboxes/{ID}/ledger"),
        ("mail.api.reconcile", f"/api/v1/mailboxes/{ID}/reconcile"),
        ("mail.api.file", f"/api/v1/mail-messages/{ID}/filings"),
        ("mail.rule_dry_run", f"/mail/rules/{ID}/dry-run"),
        ("mail.scheduled", "/mail/scheduled"),
        ("mail.api.render_template", f"/api/v1/mail-templates/{ID}/render"),
        ("mail.template_preview", f"/mail/templates/{ID}/preview"),
        ("mail.scheduled_cancel", f"/mail/scheduled/{ID}/cancel"),
        ("mail.api.scheduled", "/api/v1/mail/scheduled"),
        ("mail.api.scheduled_cancel", f"/api/v1/mail/scheduled/{ID}/cancel"),
        ("mail.api.rule_dry_run", f"/api/v1/mail-rules/{ID}/dry-run"),
    ]
    methods = {
        "mail.api.password": "PUT",
        "mail.api.fetch": "POST",
        "mail.api.resync": "POST",
        "mail.api.ledger": "GET",
        "mail.api.reconcile": "GET",
        "mail.api.file": "POST",
        "mail.api.send": "POST",
        "mail.api.recipients": "GET",
        "mail.api.rule_dry_run": "GET",
        "mail.api.scheduled": "GET",
        "mail.api.render_template": "GET",
        "mail.template_preview": "GET",
        "mail.api.scheduled_cancel": "POST",
        "mail.scheduled_cancel": "POST",
    }
    for name, pattern in routes:
        # the method on the route too: the core's /api/v1/{slug}/{id} must not swallow it
        config.add_route(name, pattern, request_method=methods.get(name))
    box, msg = PERMISSIONS["mailbox"], PERMISSIONS["mailmessage"]
    config.add_view(
        password_page,
        route_name="mail.password",
        renderer=tpl + "password.pt",
        permission=box["update"],
        request_method=("GET", "POST"),
    )
    config.add_view(
        fetch_page, route_name="mail.fetch", permission=box["update"], request_method="POST"
    )
    config.add_view(
        ledger_page,
        route_name="mail.ledger",
        renderer=tpl + "ledger.pt",
        permission=box["read"],
        request_method="GET",
    )
    config.add_view(
        reconcile_page,
        route_name="mail.reconcile",
        renderer=tpl + "reconcile.pt",
        permission=box["read"],
        request_method=("GET", "POST"),
    )
    config.add_view(
        file_page, route_name="mail.file", permission=msg["update"], request_method="POST"
    )
    config.add_view(
        compose_page,
        route_name="mail.compose",
        renderer=tpl + "compose.pt",
        permission=msg["read"],
        request_method=("GET", "POST"),
    )
    config.add_view(
        api_send,
        route_name="mail.api.send",
        permission=msg["read"],
        request_method="POST",
        renderer="json",
    )
    config.add_view(
        api_recipients,
        route_name="mail.api.recipients",
        permission=msg["read"],
        request_method="GET",
        renderer="json",
    )
    config.add_view(
        api_password, route_name="mail.api.password", permission=box["update"], request_method="PUT"
    )
    for name in ("mail.api.fetch", "mail.api.resync"):
        config.add_view(
            api_fetch,
            route_name=name,
            permission=box["update"],
            request_method="POST",
            renderer="json",
        )
    config.add_view(
        api_ledger,
        route_name="mail.api.ledger",
        permission=box["read"],
        request_method="GET",
        renderer="json",
    )
    config.add_view(
        api_reconcile,
        route_name="mail.api.reconcile",
        permission=box["read"],
        request_method="GET",
        renderer="json",
    )
    config.add_view(
        api_file,
        route_name="mail.api.file",
        permission=msg["update"],
        request_method="POST",
        renderer="json",
    )
    rule = PERMISSIONS["mailrule"]
    config.add_view(
        rule_dry_run_page,
        route_name="mail.rule_dry_run",
        renderer=tpl + "rule_dry_run.pt",
        permission=rule["read"],
        request_method="GET",
    )
    config.add_view(
        api_rule_dry_run,
        route_name="mail.api.rule_dry_run",
        permission=rule["read"],
        request_method="GET",
        renderer="json",
    )
    # one's own scheduled messages: whoever may write e-mail
    config.add_view(
        scheduled_page,
        route_name="mail.scheduled",
        renderer=tpl + "scheduled.pt",
        permission=msg["read"],
        request_method="GET",
    )
    config.add_view(
        cancel_scheduled_page, route_name="mail.scheduled_cancel", permission=msg["read"]
    )
    config.add_view(
        api_scheduled, route_name="mail.api.scheduled", permission=msg["read"], renderer="json"
    )
    config.add_view(
        api_cancel_scheduled,
        route_name="mail.api.scheduled_cancel",
        permission=msg["read"],
        renderer="json",
    )
    config.add_view(
        api_render_template,
        route_name="mail.api.render_template",
        permission=PERMISSIONS["mailtemplate"]["read"],
        renderer="json",
    )
    config.add_view(
        template_preview_page,
        route_name="mail.template_preview",
        renderer=tpl + "template_preview.pt",
        permission=PERMISSIONS["mailtemplate"]["read"],
        request_method="GET",
    )

"""The conversation on a case: the customer's replies from the portal and the staff's
replies (visible to the customer) or internal notes (never shown in the portal).

A portal user reads the public replies of a case of their company and replies on an
open one, with a file if they like: the reply lands on the case's timeline, the
assignee is notified, and a case waiting on the customer goes back to its assignee.
Staff write replies and notes through the derived form and API (``/case-replies``)."""

from __future__ import annotations

import datetime as dt

from markupsafe import Markup
from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from sqlalchemy import Boolean, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Action,
    Base,
    EntityMixin,
    MailError,
    Panel,
    Problem,
    TimelineItem,
    UTCDateTime,
    display_text,
    entity_permissions,
    format_datetime,
    get_entity_type,
    get_record,
    hookimpl,
    read_attachment,
    record_change,
    store_attachment,
    visible_select,
)

from . import _
from .models import OPEN_STATUSES, Case
from .reply_mail import NO_ADDRESS, STATES, queue_reply, recipient

PERMS = entity_permissions("helpdesk", "casereply")
BODY_LIMIT = 20000
THREAD_LIMIT = 500


class CaseReply(EntityMixin, Base):
    """One message of a case's conversation. ``public``: the customer sees it in the
    portal; otherwise an internal note. ``from_customer``: written by the customer in
    the portal (then ``person_id`` is who)."""

    __tablename__ = "helpdesk_casereply"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("helpdesk_case.id", ondelete="CASCADE"), nullable=False, index=True
    )
    body: Mapped[str] = mapped_column(Text, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    from_customer: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="SET NULL"), index=True
    )
    #: the file sent with it (stored among the case's attachments)
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_attachment.id", ondelete="SET NULL")
    )
    #: the first line, kept by the save hook: the reply's title in lists
    title: Mapped[str] = mapped_column(String(120), nullable=False, default="")
    #: a staff reply e-mailed to the customer (see :mod:`.reply_mail`): asked for when
    #: written, then its delivery state (queued, sent, failed), the server's reason, the
    #: address and when it went
    send_email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    email_state: Mapped[str | None] = mapped_column(String(10))
    email_error: Mapped[str | None] = mapped_column(String(500))
    email_to: Mapped[str | None] = mapped_column(String(320))
    emailed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: the Message-ID the reply went out with, or the one a customer's e-mailed answer
    #: came with: answers thread back to the case by it
    message_id: Mapped[str | None] = mapped_column(String(300), index=True)


def _title(body: str) -> str:
    line = (body or "").strip().splitlines()[0] if (body or "").strip() else ""
    return line[:117] + "…" if len(line) > 120 else line


def paragraphs(text: str | None) -> Markup:
    """Plain text as paragraphs (an empty line starts one, a newline breaks a line)."""
    blocks = [b.strip() for b in (text or "").replace("\r\n", "\n").split("\n\n") if b.strip()]
    return Markup("").join(
        Markup('<p class="mb-2">{}</p>').format(Markup("<br>").join(b.splitlines())) for b in blocks
    )


def public_replies(request, case) -> list[CaseReply]:
    """The public replies of a case the user was allowed to read (the caller checked),
    oldest first."""
    return list(
        request.dbsession.execute(
            select(CaseReply)
            .where(CaseReply.case_id == case.id, CaseReply.public.is_(True))
            .order_by(CaseReply.created_at, CaseReply.id)
            .limit(THREAD_LIMIT)
        ).scalars()
    )


def _who(request, reply) -> str:
    loc = request.localizer
    if reply.from_customer:
        return loc.translate(_("You")) if _is_portal(request) else loc.translate(_("Customer"))
    return loc.translate(_("Support"))


def _is_portal(request) -> bool:
    ident = request.identity
    return ident is not None and getattr(ident, "portal", None) is not None


def portal_thread(request, case) -> Markup:
    """The conversation and the reply form for the portal's case page (called from
    ``portal_case.pt``)."""
    loc = request.localizer
    state = request.environ.get("kyklos_helpdesk.reply", {})
    errors, body = state.get("errors", {}), state.get("body", "")
    items = []
    for r in public_replies(request, case):
        file_link = Markup("")
        if r.attachment_id:
            file_link = Markup('<div class="small"><a href="{}">{}</a></div>').format(
                request.route_url("helpdesk.portal.reply.file", id=case.id, file=r.attachment_id),
                loc.translate(_("Attached file")),
            )
        items.append(
            Markup(
                '<li class="list-group-item kb-reply{}"><div class="small text-muted">{} · {}</div>'
                "{}{}</li>"
            ).format(
                " bg-light" if r.from_customer else "",
                _who(request, r),
                format_datetime(request, r.created_at),
                paragraphs(r.body),
                file_link,
            )
        )
    thread = (
        Markup('<ul class="list-group mb-3" id="hd-portal-thread">{}</ul>').format(
            Markup("").join(items)
        )
        if items
        else Markup('<p class="text-muted" id="hd-portal-thread">{}</p>').format(
            loc.translate(_("No replies yet."))
        )
    )
    form = Markup("")
    if case.status in OPEN_STATUSES and case.merged_into_id is None:
        err = errors.get("body")
        form = Markup(
            '<form method="post" enctype="multipart/form-data" action="{}" id="hd-portal-reply">'
            '<input type="hidden" name="csrf_token" value="{}">'
            '<label for="reply-body" class="form-label">{}</label>'
            '<textarea class="form-control{}" id="reply-body" name="body" rows="5">{}</textarea>'
            "{}"
            '<label for="reply-file" class="form-label mt-2">{}</label>'
            '<input type="file" class="form-control{}" id="reply-file" name="file">{}'
            '<button type="submit" class="btn btn-primary mt-3">{}</button></form>'
        ).format(
            request.route_url("helpdesk.portal.reply", id=case.id),
            request.session.get_csrf_token(),
            loc.translate(_("Your reply")),
            " is-invalid" if err else "",
            body,
            Markup('<div class="invalid-feedback d-block">{}</div>').format(loc.translate(err))
            if err
            else "",
            loc.translate(_("Attach a file (optional)")),
            " is-invalid" if errors.get("file") else "",
            Markup('<div class="invalid-feedback d-block">{}</div>').format(
                loc.translate(errors["file"])
            )
            if errors.get("file")
            else "",
            loc.translate(_("Send the reply")),
        )
    elif errors.get("body"):
        # a reply sent to a case closed meanwhile: say why it was not taken
        form = Markup('<div class="alert alert-danger" role="alert">{}</div>').format(
            loc.translate(errors["body"])
        )
    return Markup('<section class="mt-4"><h2 class="h5">{}</h2>{}{}</section>').format(
        loc.translate(_("Conversation")), thread, form
    )


def reply_from_portal(request, case, body: str, upload=None) -> CaseReply:
    """Store the customer's reply (and file) on ``case``, notify the assignee and move a
    case waiting on the customer back to them. The caller checked the portal user may
    read the case and that it is open.

    Written by the server, not through the record service: a customer holds no right
    to edit a case (their record rules are read-only), and answering is not editing;
    the state change is recorded in the case's history all the same."""
    db = request.dbsession
    link = request.identity.portal
    et = get_entity_type(request, "case")
    attachment_id = None
    if upload is not None:
        att = store_attachment(request, et, case, upload.file, upload.filename)
        attachment_id = att.id
    reply = CaseReply(
        case_id=case.id,
        body=body,
        public=True,
        from_customer=True,
        person_id=link.record_id,
        attachment_id=attachment_id,
        title=_title(body),
        # the assignee's, so the agents' team rule reaches it like the case
        owner_id=case.owner_id,
        created_by_id=request.identity.user.id,
    )
    db.add(reply)
    db.flush()
    back_to_assignee(request, case, reply, source="ui")
    return reply


def back_to_assignee(request, case, reply, source: str = "mail") -> None:
    """The customer answered (``reply``, from the portal or by e-mail): a case waiting
    on them goes back to its assignee (recorded in its history; the SLA clock runs
    again) and the assignee is told. Written by the server: answering is not editing."""
    db = request.dbsession
    et = get_entity_type(request, "case")
    body = reply.body
    if case.status == "waiting":
        from .hooks import stamp
        from .sla import follow_status

        case.status = "assigned"
        stamp(case)
        follow_status(db, case)
        record_change(request, et, case, "update", {"status": ["waiting", "assigned"]}, source)
        db.flush()
    notify = getattr(request, "notify", None)
    if notify is not None and case.owner_id:
        try:
            notify(
                [case.owner_id],
                _(
                    "The customer replied on ${number}: ${subject}",
                    mapping={"number": case.number or "", "subject": case.subject},
                ),
                body=body[:2000],
                url=request.route_url("entity.detail", slug="cases", id=case.id),
                kind="helpdesk.reply",
            )
        except MailError:
            # the notification is kept in the app; a mail server down loses no reply
            pass


def _open_case(request) -> Case:
    et = get_entity_type(request, "case")
    case = get_record(request, et, int(request.matchdict["id"]))
    if case.merged_into_id is not None:
        raise HTTPNotFound()
    return case


def portal_reply_view(request):
    """``POST /portal/helpdesk/cases/{id}/reply``: the customer's reply (and file)."""
    from .portal import case_view

    case = _open_case(request)
    body = request.POST.get("body", "").strip()
    upload = request.POST.get("file")
    if not hasattr(upload, "file") or not getattr(upload, "filename", ""):
        upload = None
    errors = {}
    if case.status not in OPEN_STATUSES:
        errors["body"] = _("This case is closed: open a new case instead.")
    elif not body:
        errors["body"] = _("Write your reply.")
    elif len(body) > BODY_LIMIT:
        errors["body"] = _("Write a shorter reply.")
    if not errors:
        try:
            reply_from_portal(request, case, body, upload)
        except Problem as exc:
            # a refused file (too large, an unsafe type): nothing is written
            errors["file"] = exc.errors.get("file") or exc.detail or exc.title
        else:
            request.session.flash(request.localizer.translate(_("Your reply was sent.")), "success")
            return HTTPSeeOther(request.route_url("helpdesk.portal.case", id=case.id))
    request.environ["kyklos_helpdesk.reply"] = {"errors": errors, "body": body[:BODY_LIMIT]}
    request.response.status = 400
    return case_view(request)


def portal_file_view(request):
    """A file a customer sent with a public reply of their case."""
    from kyklos_sdk import attachments_of

    case = _open_case(request)
    file_id = int(request.matchdict["file"])
    allowed = request.dbsession.execute(
        select(CaseReply.id).where(
            CaseReply.case_id == case.id,
            CaseReply.public.is_(True),
            CaseReply.attachment_id == file_id,
        )
    ).scalar()
    if allowed is None:
        raise HTTPNotFound()
    et = get_entity_type(request, "case")
    att = next((a for a in attachments_of(request.dbsession, et, case.id) if a.id == file_id), None)
    if att is None:
        raise HTTPNotFound()
    return Response(
        body=read_attachment(request, att),
        content_type=att.content_type,
        content_disposition=f'attachment; filename="{att.filename.replace(chr(34), "")}"',
    )


def delivery(request, reply) -> Markup:
    """A staff reply's e-mail in words: "E-mailed to x@y · Sent 7 Dec 2026, 10:04",
    "Queued", "Failed: 554 Rejected" with "Send the e-mail again"."""
    if reply.email_state is None:
        return Markup("")
    loc = request.localizer
    state = display_text(request, "casereply", "email_state", reply.email_state)
    style = {"sent": "text-success", "failed": "text-danger"}.get(reply.email_state, "text-muted")
    words = Markup('<span class="{} hd-email-state">{}</span>').format(style, state)
    if reply.email_state == "sent" and reply.emailed_at:
        words += Markup(" · {}").format(format_datetime(request, reply.emailed_at))
    if reply.email_state == "failed" and reply.email_error:
        words += Markup(": {}").format(reply.email_error)
    button = Markup("")
    if reply.email_state != "queued" and request.has_permission(PERMS["update"]):
        button = Markup(
            '<form method="post" action="{}" class="d-inline ms-2">'
            '<input type="hidden" name="csrf_token" value="{}">'
            '<button type="submit" class="btn btn-link btn-sm p-0 align-baseline">{}</button>'
            "</form>"
        ).format(
            request.route_url("helpdesk.reply.send", id=reply.id),
            request.session.get_csrf_token(),
            loc.translate(_("Send the e-mail again")),
        )
    return Markup('<div class="small mt-1 hd-email">{} {} · {}{}</div>').format(
        loc.translate(_("E-mail to")), reply.email_to or "—", words, button
    )


def conversation_panel(request, case) -> Panel:
    """The conversation on the staff's case page: every reply and note the user may
    read, and links to reply or note."""
    et = get_entity_type(request, "casereply")
    rows = list(
        request.dbsession.execute(
            visible_select(request, et)
            .where(CaseReply.case_id == case.id)
            .order_by(CaseReply.created_at, CaseReply.id)
            .limit(THREAD_LIMIT)
        ).scalars()
    )
    loc = request.localizer
    items = []
    for r in rows:
        kind = (
            _("From the customer")
            if r.from_customer
            else (_("Reply to the customer") if r.public else _("Internal note"))
        )
        items.append(
            Markup(
                '<li class="list-group-item" data-reply="{}">'
                '<div class="small text-muted">{} · {}</div>{}{}</li>'
            ).format(
                r.id,
                loc.translate(kind),
                format_datetime(request, r.created_at),
                paragraphs(r.body),
                delivery(request, r),
            )
        )
    html = (
        Markup('<ul class="list-group list-group-flush" id="hd-conversation">{}</ul>').format(
            Markup("").join(items)
        )
        if items
        else Markup('<div class="card-body text-muted" id="hd-conversation">{}</div>').format(
            loc.translate(_("No replies yet."))
        )
    )
    if request.has_permission(PERMS["create"]):
        links = Markup("").join(
            Markup('<a class="btn btn-sm btn-outline-primary me-2" href="{}">{}</a>').format(
                request.route_url(
                    "entity.new",
                    slug="case-replies",
                    # the form starts from these (kyklos_record_defaults below)
                    _query={"case_id": case.id, "public": public, "from": f"case:{case.id}"},
                ),
                loc.translate(word),
            )
            for public, word in (
                ("true", _("Reply to the customer")),
                ("false", _("Internal note")),
            )
        )
        html += Markup('<div class="card-body">{}</div>').format(links)
    return Panel(_("Conversation"), html=str(html), count=len(items), order=4)


def _public(value) -> bool:
    """A submitted ``public`` (JSON or a form's text) as a flag; omitted: public."""
    if isinstance(value, str):
        return value.strip().lower() not in {"false", "0", "off", "no", ""}
    return True if value is None else bool(value)


class ReplyHooks:
    @hookimpl
    def kyklos_record_prepare(self, request, entity_type, record, data, source):
        # "E-mail it to the customer" left out (an API client, an import): a public
        # reply is e-mailed when the case has someone to write to, else kept quietly
        if entity_type.name != "casereply" or record is not None or not isinstance(data, dict):
            return
        if "send_email" in data:
            return
        send = False
        if _public(data.get("public")) and str(data.get("case_id") or "").isdigit():
            case = request.dbsession.get(Case, int(data["case_id"]))
            send = case is not None and bool(recipient(request.dbsession, case)[0])
        data["send_email"] = send

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "casereply" and (created or "body" in changes):
            body = changes["body"][1] if "body" in changes else record.body
            record.title = _title(body)
        if entity_type.name == "casereply" and created and not record.public:
            record.send_email = False  # an internal note is never e-mailed

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "casereply" and created and record.send_email and record.public:
            case = request.dbsession.get(Case, record.case_id)
            queue_reply(request, record, case)

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name != "casereply":
            return
        if record is not None:
            # whether it is e-mailed is settled when it is written; "Send the e-mail
            # again" sends it later
            data.pop("send_email", None)
        case = None
        if data.get("case_id"):
            case = request.dbsession.execute(
                visible_select(request, get_entity_type(request, "case")).where(
                    Case.id == data["case_id"]
                )
            ).scalar()
            if case is None:
                errors["case_id"] = _("No such case, or you may not see it.")
        if (
            record is None
            and case is not None
            and data.get("send_email")
            and data.get("public", True)
            and not recipient(request.dbsession, case)[0]
        ):
            errors["send_email"] = NO_ADDRESS

    @hookimpl
    def kyklos_record_defaults(self, request, entity_type, parent_type, parent):
        # the case page's two links: "Internal note" starts as a note, never e-mailed;
        # "Reply to the customer" is e-mailed when the case has someone to write to
        if entity_type.name != "casereply" or parent_type.name != "case":
            return None
        public = request.GET.get("public") != "false"
        return {
            "public": public,
            "send_email": public and bool(recipient(request.dbsession, parent)[0]),
        }

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if (
            entity_type.name != "casereply"
            or record.email_state not in ("sent", "failed")
            or not request.has_permission(PERMS["update"])
        ):
            return None
        return [
            Action(
                _("Send the e-mail again"),
                request.route_url("helpdesk.reply.send", id=record.id),
                method="post",
            )
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name == "case":
            return [conversation_panel(request, record)]
        return None

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name != "case":
            return None
        et = get_entity_type(request, "casereply")
        rows = request.dbsession.execute(
            visible_select(request, et)
            .where(CaseReply.case_id == record.id)
            .order_by(CaseReply.created_at.desc())
            .limit(THREAD_LIMIT)
        ).scalars()
        out = []
        for r in rows:
            title = (
                _("Reply from the customer")
                if r.from_customer
                else (_("Reply to the customer") if r.public else _("Internal note"))
            )
            out.append(
                TimelineItem(when=r.created_at, title=title, detail=r.body[:500], kind="note")
            )
        return out


def includeme(config):
    config.add_entity_type(
        CaseReply,
        "casereply",
        title=_("Case reply"),
        plural=_("Case replies"),
        slug="case-replies",
        title_field="title",
        subtitle_field="case_id",
        readonly=(
            "title",
            "from_customer",
            "person_id",
            "attachment_id",
            "email_state",
            "email_error",
            "email_to",
            "emailed_at",
            "message_id",
        ),
        list_columns=("case_id", "title", "public", "from_customer", "email_state", "created_at"),
        filters=("case_id", "public", "from_customer", "email_state", "created_at"),
        sort=("created_at",),
        fields={
            "case_id": {"title": _("Case")},
            "body": {"title": _("Message")},
            "public": {
                "title": _("Visible to the customer"),
                "default": True,
                "description": _("Off: an internal note the customer never sees."),
            },
            "send_email": {
                "title": _("E-mail it to the customer"),
                "default": True,
                "description": _(
                    "Sent to the case's contact in their language; their answer comes "
                    "back to this case. Never for an internal note."
                ),
            },
            "email_state": {
                "title": _("E-mail"),
                "type": "choice",
                "choices": STATES,
                "form": False,
            },
            "email_error": {"title": _("Why the e-mail failed"), "form": False},
            "email_to": {"title": _("E-mailed to"), "form": False},
            "emailed_at": {"title": _("E-mailed at"), "form": False},
            "message_id": {"title": _("Message-ID"), "form": False},
            "from_customer": {"title": _("From the customer")},
            "person_id": {"title": _("Customer contact")},
            "attachment_id": {"title": _("File"), "form": False},
            "title": {"title": _("Title")},
        },
        default_sort="-created_at",
        menu_group=None,
        icon="chat-left-text",
    )
    work = [PERMS[v] for v in ("read", "create", "update", "export")]
    full = [PERMS[v] for v in ("read", "create", "update", "delete", "export", "import", "assign")]
    config.extend_role("agent", work)
    config.extend_role("helpdeskmanager", full)
    config.extend_role("manager", full)
    for action in ("read", "write"):
        config.add_record_rule("casereply", "agent", action, "team")
    for role in ("helpdeskmanager", "manager"):
        for action in ("read", "write", "delete"):
            config.add_record_rule("casereply", role, action, "all")
    config.add_route(
        "helpdesk.portal.reply",
        r"/portal/helpdesk/cases/{id:\d{1,18}}/reply",
        request_method="POST",
    )
    config.add_view(
        portal_reply_view,
        route_name="helpdesk.portal.reply",
        renderer="kyklos_helpdesk:templates/portal_case.pt",
        permission="kyklos.portal.use",
    )
    config.add_route(
        "helpdesk.portal.reply.file",
        r"/portal/helpdesk/cases/{id:\d{1,18}}/files/{file:\d{1,18}}",
        request_method="GET",
    )
    config.add_view(
        portal_file_view, route_name="helpdesk.portal.reply.file", permission="kyklos.portal.use"
    )
    config.add_hooks(ReplyHooks(), name="kyklos_helpdesk.replies")
    config.include("kyklos_helpdesk.reply_mail")

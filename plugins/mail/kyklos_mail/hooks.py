"""Hook implementations: who sees a private message, the mail on a record's timeline,
the message's body and thread, a mailbox's state and its buttons, and the checks on a
mailbox's settings."""

from __future__ import annotations

import re

from pyramid.renderers import render
from sqlalchemy import or_, select

from kyklos_sdk import (
    Action,
    Panel,
    TimelineItem,
    format_number,
    get_entity_type,
    hookimpl,
    record_titles,
    visible_select,
)

from . import PERMISSIONS, _
from .models import Filing, LedgerEntry, Mailbox, Message, Template

HOST = re.compile(r"^[A-Za-z0-9.-]{1,200}$")
TIMELINE_LIMIT = 50
PICKER_OPTIONS = 200


def validate_mailbox(request, record, data, errors) -> None:
    for key in ("imap_host", "smtp_host"):
        host = data.get(key)
        if host is not None and host != "":
            host = host.strip()
            data[key] = host
            if not HOST.match(host):
                errors[key] = _("Give a server name such as imap.example.com.")
    for key in ("imap_port", "smtp_port"):
        port = data.get(key)
        if port is not None and not 0 < port < 65536:
            errors[key] = _("A port is a number from 1 to 65535.")
    if data.get("kind") == "shared" and not request.has_permission("mail.mailbox.assign"):
        errors["kind"] = _("Only a mail administrator sets up shared mailboxes.")
    if "folder" in data and not (data.get("folder") or "").strip():
        errors["folder"] = _("Give the folder to read, usually INBOX.")
    kind = data["kind"] if "kind" in data else getattr(record, "kind", None)
    if data.get("dropbox") and kind != "shared":
        # everyone's BCCs arrive there: a shared mailbox, which only an administrator keeps
        errors["dropbox"] = _("The drop-box must be a shared mailbox.")


def filed_messages(request, entity: str, record_id: int, limit=TIMELINE_LIMIT):
    et = get_entity_type(request, "mailmessage")
    return (
        request.dbsession.execute(
            visible_select(request, et)
            .join(Filing, Filing.mail_id == Message.id)
            .where(Filing.entity == entity, Filing.record_id == record_id)
            .order_by(Message.sent_at.desc(), Message.id.desc())
            .limit(limit)
        )
        .scalars()
        .unique()
        .all()
    )


def _snippet(text: str | None, n=160) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


def message_panel(request, message: Message) -> Panel:
    db = request.dbsession
    et = get_entity_type(request, "mailmessage")
    thread = []
    if message.thread_key:
        thread = (
            db.execute(
                visible_select(request, et)
                .where(Message.thread_key == message.thread_key)
                .order_by(Message.sent_at, Message.id)
                .limit(100)
            )
            .scalars()
            .all()
        )
    filings = db.execute(select(Filing).where(Filing.mail_id == message.id)).scalars().all()
    by_type: dict[str, list[int]] = {}
    for f in filings:
        by_type.setdefault(f.entity, []).append(f.record_id)
    filed = []
    for name, ids in by_type.items():
        target = request.registry.kyklos_entities.get(name)
        if target is None or not request.has_permission(target.permission("read")):
            continue
        rows = (
            db.execute(visible_select(request, target).where(target.model.id.in_(ids)))
            .scalars()
            .all()
        )
        titles = record_titles(request, target, rows)
        for r in rows:
            filed.append(
                (
                    request.localizer.translate(target.title),
                    titles.get(r.id, ""),
                    request.route_path("entity.detail", slug=target.slug, id=r.id),
                )
            )
    pickers = []
    for kind in ("person", "account"):
        t = request.registry.kyklos_entities.get(kind)
        if t is not None and request.has_permission(t.permission("read")):
            # up to PICKER_OPTIONS records are options (works without JavaScript, like
            # the core's record forms); beyond, the picker searches as one types
            rows = db.execute(visible_select(request, t).limit(PICKER_OPTIONS + 1)).scalars().all()
            options = []
            if len(rows) <= PICKER_OPTIONS:
                titles = record_titles(request, t, rows)
                options = sorted(((r.id, titles.get(r.id, "")) for r in rows), key=lambda o: o[1])
            pickers.append(
                (
                    kind,
                    request.localizer.translate(t.title),
                    request.route_path("entity.lookup", slug=t.slug),
                    options,
                )
            )
    can_file = request.has_permission(PERMISSIONS["mailmessage"]["update"])
    html = render(
        "kyklos_mail:templates/message_panel.pt",
        {
            "m": message,
            "thread": [
                (m, request.route_path("entity.detail", slug=et.slug, id=m.id))
                for m in thread
                if m.id != message.id
            ],
            "filed": filed,
            "pickers": pickers if can_file else [],
            "file_url": request.route_path("mail.file", id=message.id),
            "size": lambda n: format_number(request, round(n / 1024, 1)),
        },
        request=request,
    )
    return Panel(_("Message"), html=html, order=1)


def mailbox_panel(request, box: Mailbox) -> Panel:
    from sqlalchemy import func

    counts = dict(
        request.dbsession.execute(
            select(LedgerEntry.outcome, func.count())
            .where(LedgerEntry.mailbox_id == box.id)
            .group_by(LedgerEntry.outcome)
        ).all()
    )
    html = render(
        "kyklos_mail:templates/mailbox_panel.pt",
        {"box": box, "counts": counts},
        request=request,
    )
    return Panel(_("Connection"), html=html, order=1)


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.name == "mailbox":
            validate_mailbox(request, record, data, errors)
        elif entity_type.name == "mailtemplate":
            from .merge import validate_template

            validate_template(request, record, data, errors)
        elif entity_type.name == "mailrule":
            from .rules import validate_rule

            validate_rule(request, record, data, errors)

    @hookimpl
    def kyklos_visibility_restrictions(self, request, entity_type, action):
        if entity_type.name not in ("mailmessage", "mailtemplate"):
            return None
        ident = getattr(request, "identity", None)
        uid = ident.user.id if ident is not None and getattr(ident, "user", None) else None
        if entity_type.name == "mailtemplate":
            # a private template is its owner's alone, even for the mail administrators
            if uid is None:
                return [Template.shared.is_(True)]
            return [or_(Template.shared.is_(True), Template.owner_id == uid)]
        if uid is None:
            return [Message.private.is_(False)]
        return [or_(Message.private.is_(False), Message.owner_id == uid)]

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name == "mailmessage" or not request.has_permission(
            PERMISSIONS["mailmessage"]["read"]
        ):
            return None
        items = []
        for m in filed_messages(request, entity_type.name, record.id):
            items.append(
                TimelineItem(
                    when=m.sent_at,
                    title=m.subject or _("(no subject)"),
                    detail=_snippet(m.body_text),
                    url=request.route_path("entity.detail", slug="mail-messages", id=m.id),
                    who=m.sender,
                    kind="email",
                )
            )
        return items or None

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name == "mailmessage":
            return [message_panel(request, record)]
        if entity_type.name == "mailbox":
            return [mailbox_panel(request, record)]
        return None

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        read = PERMISSIONS["mailmessage"]["read"]
        if entity_type.name in ("person", "account"):
            url = request.route_path(
                "mail.compose", _query={"about": f"{entity_type.name}:{record.id}"}
            )
            return [Action(_("Write an e-mail"), url, permission=read)]
        from .recipients import recipients, sources

        if (
            sources(request, entity_type) is not None
            and request.has_permission(read)
            and recipients(request, entity_type, record)
        ):
            # any record that names people to write to (an opportunity, a case, a lead)
            url = request.route_path(
                "mail.compose", _query={"about": f"{entity_type.name}:{record.id}"}
            )
            return [Action(_("Write an e-mail"), url, permission=read)]
        if entity_type.name == "mailmessage":
            return [
                Action(
                    _("Reply"),
                    request.route_path("mail.compose", _query={"reply": record.id}),
                    style="primary",
                    permission=read,
                )
            ]
        if entity_type.name == "mailtemplate":
            return [
                Action(
                    _("Preview with a record"),
                    request.route_path("mail.template_preview", id=record.id),
                    permission=PERMISSIONS["mailtemplate"]["read"],
                )
            ]
        if entity_type.name == "mailrule":
            return [
                Action(
                    _("Try on recent messages"),
                    request.route_path("mail.rule_dry_run", id=record.id),
                    permission=PERMISSIONS["mailrule"]["read"],
                )
            ]
        if entity_type.name != "mailbox":
            return None
        update = PERMISSIONS["mailbox"]["update"]
        return [
            Action(
                _("Fetch now"),
                request.route_path("mail.fetch", id=record.id),
                method="post",
                style="primary",
                permission=update,
            ),
            Action(
                _("Set the password"),
                request.route_path("mail.password", id=record.id),
                permission=update,
            ),
            Action(_("Ledger"), request.route_path("mail.ledger", id=record.id)),
            # one's own personal drop-box address, from any mailbox page (the mail settings)
            Action(_("Your drop-box address"), request.route_path("mail.dropbox")),
            Action(_("Reconcile"), request.route_path("mail.reconcile", id=record.id)),
            Action(
                _("Rules"),
                request.route_path(
                    "entity.list", slug="mail-rules", _query={"mailbox_id": record.id}
                ),
                permission=PERMISSIONS["mailrule"]["read"],
            ),
        ]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_mail.hooks")

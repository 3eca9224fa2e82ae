"""Which records a message is about (ACT-02): the people any of whose addresses it
names, their accounts, the records earlier messages of its thread were filed to, the
account whose domain an unknown sender writes from (when the mailbox says so), and what
other plugins claim through ``kyklos_mail_file_message``."""

from __future__ import annotations

import logging

from sqlalchemy import func, or_, select

from kyklos_sdk import collect

from .models import Filing, Message

log = logging.getLogger("kyklos_mail")

#: domains of free mail services: a sender from gmail.com is nobody's company
PUBLIC_DOMAINS = frozenset(
    """gmail.com googlemail.com outlook.com hotmail.com live.com msn.com yahoo.com
    yahoo.gr yahoo.co.uk icloud.com me.com mac.com aol.com gmx.de gmx.net web.de
    mail.ru yandex.ru proton.me protonmail.com zoho.com otenet.gr hol.gr windowslive.com
    wp.pl o2.pl onet.pl interia.pl yahoo.ro""".split()
)


def thread_of(db, message: Message) -> tuple[str, list[int]]:
    """``(thread key, ids of earlier messages of the thread)`` by In-Reply-To and
    References (RFC 5322 section 3.6.4)."""
    ids = [i for i in [message.in_reply_to, *message.references] if i]
    if not ids:
        return message.message_id, []
    earlier = db.execute(
        select(Message.id, Message.thread_key)
        .where(Message.message_id.in_(ids[-50:]), Message.id != message.id)
        .order_by(Message.id)
    ).all()
    if not earlier:
        return ids[0] if message.references else (message.in_reply_to or message.message_id), []
    return earlier[0].thread_key or ids[0], [r.id for r in earlier]


def match(request, mailbox, message: Message, parsed) -> list[tuple[str, int, str]]:
    """``[(entity type name, record id, how)]`` for a new message."""
    from kyklos_contacts.models import Account, Person, PersonEmail

    db = request.dbsession
    own = {(mailbox.address or "").lower()} if mailbox is not None else set()
    addresses = [a for a in parsed.addresses() if a not in own]
    out: dict[tuple[str, int], str] = {}
    if addresses:
        people = db.execute(
            select(Person.id, Person.account_id)
            .outerjoin(PersonEmail, PersonEmail.person_id == Person.id)
            .where(
                or_(
                    func.lower(PersonEmail.email).in_(addresses),
                    func.lower(Person.email).in_(addresses),
                ),
                Person.deleted_at.is_(None),
            )
            .distinct()
        ).all()
        for pid, account_id in people:
            out.setdefault(("person", pid), "address")
            if account_id:
                out.setdefault(("account", account_id), "address")
        accounts = db.execute(
            select(Account.id).where(
                func.lower(Account.email).in_(addresses), Account.deleted_at.is_(None)
            )
        ).scalars()
        for aid in accounts:
            out.setdefault(("account", aid), "address")
    message.thread_key, earlier = thread_of(db, message)
    if earlier:
        for entity, rid in db.execute(
            select(Filing.entity, Filing.record_id).where(Filing.mail_id.in_(earlier)).distinct()
        ).all():
            out.setdefault((entity, rid), "thread")
    if not any(k[0] in ("person", "account") for k in out) and (
        mailbox is None or mailbox.file_by_domain
    ):
        domains = {a.rsplit("@", 1)[1] for a in addresses} - PUBLIC_DOMAINS
        own_domains = {a.rsplit("@", 1)[1] for a in own if "@" in a}
        for domain in sorted(domains - own_domains):
            found = (
                db.execute(
                    select(Account.id)
                    .where(
                        or_(
                            func.lower(Account.email).like(f"%@{domain}"),
                            func.lower(Account.website).like(f"%{domain}%"),
                        ),
                        Account.deleted_at.is_(None),
                    )
                    .order_by(Account.id)
                    .limit(2)
                )
                .scalars()
                .all()
            )
            if len(found) == 1:  # two accounts on one domain: not ours to choose
                out.setdefault(("account", found[0]), "domain")
    so_far = [k for k in out]
    for entity, rid in collect(
        request.registry.kyklos_pm,
        "kyklos_mail_file_message",
        request=request,
        mailbox=mailbox,
        message=message,
        parsed=parsed,
        filed=so_far,
    ):
        out.setdefault((entity, int(rid)), "hook")
    return [(e, r, how) for (e, r), how in out.items()]


def file_to(request, message: Message, entity: str, record_id: int, how: str) -> bool:
    """File ``message`` to a record; ``False`` when it already was."""
    db = request.dbsession
    exists = db.execute(
        select(Filing.id).where(
            Filing.mail_id == message.id, Filing.entity == entity, Filing.record_id == record_id
        )
    ).scalar()
    if exists:
        return False
    db.add(Filing(mail_id=message.id, entity=entity, record_id=record_id, how=how))
    db.flush()
    return True


def announce(request, mailbox, message: Message, parsed, filed) -> str:
    """Call ``kyklos_mail_message_filed``; an implementation that fails is undone (a
    savepoint) and the returned text names the failure for the ledger, else ``""``."""
    try:
        with request.dbsession.begin_nested():
            request.registry.kyklos_pm.hook.kyklos_mail_message_filed(
                request=request,
                mailbox=mailbox,
                message=message,
                parsed=parsed,
                filed=[(entity, rid) for entity, rid, _how in filed],
            )
    except Exception as exc:  # noqa: BLE001 - the message stays stored and filed either way
        log.warning("message %s: kyklos_mail_message_filed failed: %s", message.id, exc)
        return f"after filing: {exc.__class__.__name__}"
    return ""

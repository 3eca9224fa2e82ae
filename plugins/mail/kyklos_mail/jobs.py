"""Fetching (D6): one job per mailbox reads the new UIDs of its folder in batches, and
each batch commits the messages, their filings and their ledger entries together with
the mailbox's cursor. A worker killed mid-fetch leaves the last batch uncommitted: the
job runs again (its lease expires) and takes up from the cursor, so nothing is lost, and
the ledger's unique (mailbox, UIDVALIDITY, UID) means nothing is stored twice."""

from __future__ import annotations

import io
import logging
import time

from pyramid.settings import asbool
from sqlalchemy import delete, select

from kyklos_sdk import Problem, record_created, request_as, store_attachment, utcnow

from . import _
from .bounces import detect, notify
from .dropbox import targets as dropbox_targets
from .filing import announce, file_to, match, thread_of
from .imap import ERRORS, Folder, Settings, Watch, describe
from .models import LedgerEntry, Mailbox, Message
from .parse import parse
from .rules import first_match, rules_of

log = logging.getLogger("kyklos_mail")

FETCH = "mail.fetch"
POLL = "mail.poll"
WATCH = "mail.watch"


def _int_setting(registry, key, default) -> int:
    try:
        return max(1, int(registry.settings.get(key) or default))
    except (TypeError, ValueError):
        return default


def ledgered(db, mailbox_id, uidvalidity, retry_failed=False) -> set[int]:
    """The UIDs accounted for; with ``retry_failed`` the failed ones are not counted (a
    resync tries them again)."""
    q = select(LedgerEntry.uid).where(
        LedgerEntry.mailbox_id == mailbox_id, LedgerEntry.uidvalidity == uidvalidity
    )
    if retry_failed:
        q = q.where(LedgerEntry.outcome != "failed")
    return set(db.execute(q).scalars())


def store(
    request, box: Mailbox, uidvalidity: int, uid: int, raw: bytes | None, failure: str = ""
) -> LedgerEntry:
    """Account for one UID: the message with its filings, or the reason it failed."""
    db = request.dbsession
    if raw is None:
        entry = LedgerEntry(
            mailbox_id=box.id, uidvalidity=uidvalidity, uid=uid, outcome="failed", reason=failure
        )
        db.add(entry)
        return entry
    try:
        parsed = parse(raw)
    except Exception as exc:  # noqa: BLE001 - a message we cannot read is a ledger entry
        entry = LedgerEntry(
            mailbox_id=box.id,
            uidvalidity=uidvalidity,
            uid=uid,
            outcome="failed",
            reason=f"unreadable: {exc}"[:500],
        )
        db.add(entry)
        return entry
    report = detect(raw)
    if report is not None:
        # a bounce or a complaint is about mail sent earlier: no record, no filing
        problems = notify(request, box, report)
        entry = LedgerEntry(
            mailbox_id=box.id,
            uidvalidity=uidvalidity,
            uid=uid,
            message_id=parsed.message_id[:300],
            outcome=report.kind,
            reason="; ".join([report.summary(), *problems])[:2000],
        )
        db.add(entry)
        return entry
    # the same message seen again (a new UIDVALIDITY, a copy in the folder): one record
    existing = None
    if parsed.message_id:
        existing = db.execute(
            select(Message)
            .where(Message.mailbox_id == box.id, Message.message_id == parsed.message_id)
            .limit(1)
        ).scalar()
    if existing is not None:
        entry = LedgerEntry(
            mailbox_id=box.id,
            uidvalidity=uidvalidity,
            uid=uid,
            message_id=parsed.message_id,
            outcome="filed",
            reason="already stored",
            mail_id=existing.id,
        )
        db.add(entry)
        return entry
    msg = Message(
        mailbox_id=box.id,
        direction="in",
        message_id=parsed.message_id[:300],
        in_reply_to=parsed.in_reply_to[:300] or None,
        references=parsed.references,
        subject=parsed.subject[:998],
        sender=parsed.sender[:400],
        recipients=", ".join(f"{n} <{a}>" if n else a for n, a in parsed.to + parsed.cc),
        sent_at=parsed.date or utcnow(),
        private=box.kind == "personal",
        owner_id=box.owner_id,
        size=len(raw),
    )
    rule = first_match(
        rules_of(db, box.id), msg, bool(parsed.attachments), parsed.text, parsed.headers
    )
    if rule is not None:
        msg.rule_id = rule.id
        msg.private = msg.private or rule.make_private
        if rule.assign_to_id:
            msg.owner_id = rule.assign_to_id
    db.add(msg)
    db.flush()
    dropped = ""
    if rule is not None and rule.skip_filing:
        msg.thread_key = thread_of(db, msg)[0]
        targets = []
    elif box.dropbox:  # BCC'd or forwarded by a user: filed as theirs (dropbox.py)
        _user, targets, dropped = dropbox_targets(request, box, msg, parsed, raw)
    else:
        targets = match(request, box, msg, parsed)
        if rule is not None:
            for entity, rid in (("person", rule.file_person_id), ("account", rule.file_account_id)):
                if rid:
                    targets.insert(0, (entity, rid, "rule"))
    for entity, rid, how in targets:
        file_to(request, msg, entity, rid, how)
    created(request, msg, parsed)
    hows = {how for _e, _r, how in targets} | ({dropped} if dropped else set())
    filed = list(targets)
    if box.support or (rule is not None and rule.open_case):
        done, why = support(request, box, msg, parsed)
        if done is not None:
            file_to(request, msg, done[0], int(done[1]), "support")
            filed.append((done[0], int(done[1]), "support"))
            hows.add("support")
        elif why:
            hows.add(why)
    failed = announce(request, box, msg, parsed, filed)
    if failed:
        hows.add(failed)
    if rule is not None and rule.assign_to_id:
        request.notify(
            [rule.assign_to_id],
            _("An e-mail was assigned to you: ${subject}", mapping={"subject": msg.subject[:200]}),
            msg.sender[:300],
            url=request.route_path("entity.detail", slug="mail-messages", id=msg.id),
            kind="mail",
        )
    if rule is not None:
        hows.add(f"rule: {rule.name}")
    if rule is not None and rule.skip_filing:
        outcome = "ignored"
    else:
        outcome = "filed" if targets or "support" in hows else "unmatched"
    entry = LedgerEntry(
        mailbox_id=box.id,
        uidvalidity=uidvalidity,
        uid=uid,
        message_id=msg.message_id,
        outcome=outcome,
        mail_id=msg.id,
        reason=", ".join(sorted(hows))[:2000],
    )
    db.add(entry)
    return entry


def support(request, box: Mailbox, msg: Message, parsed) -> tuple[tuple | None, str]:
    """Hand a message of a support mailbox to the plugin that opens cases
    (``kyklos_mail_support_message``): ``((entity, id) or None, why not)``. What the
    implementation wrote is undone alone (a savepoint) when it fails, so the message
    and its ledger entry are kept either way."""
    hook = request.registry.kyklos_pm.hook.kyklos_mail_support_message
    if not hook.get_hookimpls():
        return None, "no support plugin"
    try:
        with request.dbsession.begin_nested():
            got = hook(request=request, mailbox=box, message=msg, parsed=parsed)
    except Exception as exc:  # noqa: BLE001 - a refused case is a reason in the ledger
        detail = getattr(exc, "errors", None) or str(exc) or exc.__class__.__name__
        log.warning("mailbox %s: no case for message %s: %s", box.id, msg.id, detail)
        return None, f"no case: {detail}"[:500]
    return got, ""


def created(request, msg: Message, parsed) -> None:
    """The record's bookkeeping (history, search) with its headers only, then the
    bodies: the history entry of an e-mail reads "from, to, subject", not its HTML or
    the Message-IDs of its thread."""
    technical = {"message_id": "", "in_reply_to": None, "references": [], "thread_key": ""}
    kept = {k: getattr(msg, k) for k in technical}
    for k, blank in technical.items():
        setattr(msg, k, blank)
    record_created(request, request.registry.kyklos_entities["mailmessage"], msg, source="job")
    for k, v in kept.items():
        setattr(msg, k, v)
    msg.body_text = parsed.text
    msg.body_html = parsed.html or None
    # for the rules' header conditions and their test; a long one is cut, not lost
    msg.headers = {k: v[:2000] for k, v in parsed.headers.items()}
    msg.attachments = store_files(request, msg, parsed)


def store_files(request, msg: Message, parsed) -> list[dict]:
    """The message's attachments become attachments of its record (downloadable from
    its page like any record's files); one the upload checks refuse (a type not
    allowed, too large) is listed with the reason instead."""
    et = request.registry.kyklos_entities["mailmessage"]
    out = []
    for a in parsed.attachments:
        item = {"filename": a.filename, "content_type": a.content_type, "size": a.size}
        if msg.direction == "in":
            try:
                att = store_attachment(request, et, msg, io.BytesIO(a.data), a.filename)
                item["attachment_id"] = att.id
            except Problem as refused:
                item["refused"] = str(request.localizer.translate(refused.detail or ""))[:300]
        out.append(item)
    return out


def _set_state(registry, mailbox_id, error: str | None) -> None:
    """Record the connection state; the owner (or the mail administrators of a shared
    mailbox) is notified when a working mailbox starts failing, once."""
    with request_as(registry, None) as request:
        box = request.dbsession.get(Mailbox, mailbox_id)
        if box is None:
            return
        was = box.state
        box.last_checked_at = utcnow()
        if error is None:
            box.state, box.last_error = "ok", None
            return
        box.state, box.last_error = "failing", error[:2000]
        if was != "failing":
            users = _responsible(request, box)
            if users:
                request.notify(
                    users,
                    _("The mailbox ${name} stopped working", mapping={"name": box.name}),
                    error[:500],
                    url=request.route_path("entity.detail", slug="mailboxes", id=box.id),
                    kind="mail",
                )


def _responsible(request, box) -> list[int]:
    if box.owner_id and box.kind == "personal":
        return [box.owner_id]
    from kyklos_sdk import user_ids_with_roles

    ids = user_ids_with_roles(request.dbsession, "mailadmin", "admin")
    return ids or ([box.owner_id] if box.owner_id else [])


def fetch(ctx, mailbox_id: int, rescan: bool = False):
    """The ``mail.fetch`` job: new UIDs (or, with ``rescan``, every UID the ledger
    lacks) in batches of ``kyklos.mail.batch``."""
    registry = ctx.registry
    batch = _int_setting(registry, "kyklos.mail.batch", 50)
    max_bytes = _int_setting(registry, "kyklos.mail.max_bytes", 50 * 1024 * 1024)
    # seconds to wait between batches, to spare a server that throttles clients
    pause = float(registry.settings.get("kyklos.mail.pause") or 0)
    try:
        with request_as(registry, None) as request:
            box = request.dbsession.get(Mailbox, int(mailbox_id))
            if box is None or not box.active:
                return {"skipped": True}
            s = Settings.of(registry, box)
    except ERRORS as exc:
        _set_state(registry, mailbox_id, str(exc))
        return {"error": str(exc)}
    done = failed = 0
    try:
        with Folder(s) as folder:
            uv = folder.uidvalidity
            if rescan or s.uidvalidity != uv:
                # a new UIDVALIDITY renumbers the folder: account for every UID again
                # (messages already stored are recognised by their Message-ID)
                with request_as(registry, None) as request:
                    known = ledgered(request.dbsession, s.id, uv, retry_failed=rescan)
                todo = [u for u in folder.uids() if u not in known]
            else:
                todo = folder.uids(after=s.last_uid)
            total = len(todo)
            for start in range(0, total, batch):
                chunk = todo[start : start + batch]
                sizes = folder.sizes(chunk)
                small = [u for u in chunk if sizes.get(u, 0) <= max_bytes]
                bodies = folder.bodies(small) if small else {}
                # the batch acts for the mailbox's owner: a case a support mailbox
                # opens, a rule's assignment are theirs and within their rights
                with request_as(registry, s.owner_id) as request:
                    db = request.dbsession
                    box = db.get(Mailbox, s.id)
                    known = ledgered(db, s.id, uv, retry_failed=True) if rescan else set()
                    for uid in chunk:
                        if uid in known:
                            continue
                        if rescan:  # a failed entry makes way for the new attempt
                            db.execute(
                                delete(LedgerEntry).where(
                                    LedgerEntry.mailbox_id == s.id,
                                    LedgerEntry.uidvalidity == uv,
                                    LedgerEntry.uid == uid,
                                )
                            )
                        if uid not in sizes:
                            entry = store(
                                request, box, uv, uid, None, "the server no longer has this message"
                            )
                        elif uid not in bodies:
                            entry = store(
                                request, box, uv, uid, None, f"too large ({sizes[uid]} bytes)"
                            )
                        else:
                            entry = store(request, box, uv, uid, bodies[uid])
                        failed += entry.outcome == "failed"
                        done += 1
                    prev = box.last_uid if box.uidvalidity == uv else 0
                    box.uidvalidity, box.last_uid = uv, max(prev, max(chunk))
                    db.flush()
                if pause and start + batch < total:
                    time.sleep(pause)
                ctx.progress(
                    100 * min(total, start + batch) / max(total, 1),
                    f"{min(total, start + batch)} / {total}",
                )
            if not todo:
                with request_as(registry, None) as request:
                    box = request.dbsession.get(Mailbox, s.id)
                    box.uidvalidity = uv
    except ERRORS as exc:
        _set_state(registry, s.id, describe(exc))
        return {"error": str(exc), "stored": done}
    _set_state(registry, s.id, None)
    return {"stored": done, "failed": failed}


class _Background:
    """What :func:`fetch` needs of a job context, for a fetch a watch starts."""

    def __init__(self, registry):
        self.registry = registry

    def progress(self, pct, message=""):
        pass


def _slot(registry) -> int:
    seconds = _int_setting(registry, "kyklos.mail.idle_seconds", 240)
    return int(time.time() // seconds)


def watch_for(registry, mailbox_id: int, seconds: float) -> dict:
    """Hold IMAP IDLE on the mailbox for up to ``seconds``; each new message the server
    announces is fetched at once (the same batched, ledgered fetch as polling). A
    server without IDLE returns ``{"idle": False}``: polling alone serves it."""
    with request_as(registry, None) as request:
        box = request.dbsession.get(Mailbox, int(mailbox_id))
        if box is None or not box.active:
            return {"skipped": True}
        s = Settings.of(registry, box)
    fetched = 0
    deadline = time.monotonic() + seconds
    try:
        with Watch(s) as watch:
            if not watch.supported:
                return {"idle": False}
            while (left := deadline - time.monotonic()) > 0:
                if watch.wait(left):
                    fetch(_Background(registry), s.id)
                    fetched += 1
    except ERRORS as exc:
        _set_state(registry, s.id, describe(exc))
        return {"error": str(exc), "fetched": fetched}
    return {"idle": True, "fetched": fetched}


def watch(ctx, mailbox_id: int):
    """The ``mail.watch`` job: a bounded IDLE (``kyklos.mail.idle_seconds``, well under
    the 29 minutes RFC 2177 allows), then the next watch is queued; a server without
    IDLE, or a failing one, is left to the periodic poll."""
    seconds = _int_setting(ctx.registry, "kyklos.mail.idle_seconds", 240)
    result = watch_for(ctx.registry, mailbox_id, seconds)
    if result.get("idle"):
        ctx.enqueue(
            WATCH,
            args={"mailbox_id": mailbox_id},
            key=f"mail.watch:{mailbox_id}:{_slot(ctx.registry) + 1}",
            user_id=None,
        )
    return result


def poll(ctx):
    """The periodic ``mail.poll`` job: a fetch for every active mailbox (one at a time
    per mailbox: the idempotency key is the mailbox and the minute)."""
    db = ctx.dbsession
    ids = db.execute(select(Mailbox.id).where(Mailbox.active.is_(True))).scalars().all()
    stamp = utcnow().strftime("%Y%m%d%H%M")
    idle = asbool(ctx.registry.settings.get("kyklos.mail.idle", "false"))
    for mid in ids:
        ctx.enqueue(FETCH, args={"mailbox_id": mid}, key=f"mail.fetch:{mid}:{stamp}", user_id=None)
        if idle:  # (re)start the watch; the key makes it one per mailbox and period
            ctx.enqueue(
                WATCH,
                args={"mailbox_id": mid},
                key=f"mail.watch:{mid}:{_slot(ctx.registry)}",
                user_id=None,
            )
    return {"mailboxes": len(ids)}


def includeme(config):
    minutes = _int_setting(config.registry, "kyklos.mail.poll_minutes", 5)
    config.add_job(FETCH, fetch, retries=2, retry_delay=30, title=_("Fetch a mailbox"))
    config.add_job(POLL, poll, retries=0, every=60.0 * minutes, title=_("Check the mailboxes"))
    config.add_job(WATCH, watch, retries=0, title=_("Watch a mailbox for new mail"))

"""The drop-box (ACT-02): each user has a personal address ``local+token@domain`` on the
mailbox the administrator marks as the drop-box (``local@`` its address, ``domain``
the ``kyklos.mail.dropbox_domain`` setting or its address's). A message arriving there,
BCC'd or forwarded by the user, is filed as that user:

- forwarded (an attached ``message/rfc822``, or an inline "From:" block as Outlook,
  Gmail and Thunderbird quote it): to the records of the original's sender;
- BCC'd: to the records of its other recipients (To and Cc, the user's own addresses
  and the drop-box's left out).

Only the records the user may read are filed to (their record rules); the ledger says
whose drop-box it was. A message naming no personal address is kept and filed nowhere."""

from __future__ import annotations

import dataclasses
import email
import re
import secrets
from email import policy
from email.utils import getaddresses, parseaddr

from sqlalchemy import select

from kyklos_sdk import User, get_entity_type, request_as, visible_select

from .filing import match
from .models import DropboxAddress, Mailbox

#: where a delivery agent leaves the envelope recipient of a BCC (To/Cc do not have it)
ENVELOPE = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to", "cc")
#: the lines that open a forwarded message in the text, in the languages Kyklos speaks
FORWARD_MARKERS = re.compile(
    r"^\s*(-{2,}\s*(forwarded message|original message|weitergeleitete nachricht|"
    r"προωθημένο μήνυμα|αρχικό μήνυμα|mesaj redirecționat|mesaj original|"
    r"wiadomość przekazana dalej|oryginalna wiadomość)\s*-{2,}|_{10,})\s*$",
    re.I | re.M,
)
#: "From:" in a quoted header block (Outlook writes it localised)
FROM_LINE = re.compile(r"^\s*\*?(from|von|de|od|από|expeditor)\s*:\*?\s*(.+)$", re.I | re.M)
ADDRESS = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def new_token() -> str:
    # lower-case letters and digits: the local part is case-insensitive in practice
    return secrets.token_hex(8)


def token_of(db, user_id: int, create: bool = True) -> str | None:
    row = db.execute(select(DropboxAddress).where(DropboxAddress.user_id == user_id)).scalar()
    if row is None and create:
        row = DropboxAddress(user_id=user_id, token=new_token())
        db.add(row)
        db.flush()
    return row.token if row else None


def regenerate(db, user_id: int) -> str:
    row = db.execute(select(DropboxAddress).where(DropboxAddress.user_id == user_id)).scalar()
    if row is None:
        return token_of(db, user_id)
    row.token = new_token()
    db.flush()
    return row.token


def dropbox_mailbox(db) -> Mailbox | None:
    return db.execute(
        select(Mailbox)
        .where(Mailbox.dropbox.is_(True), Mailbox.active.is_(True))
        .order_by(Mailbox.id)
        .limit(1)
    ).scalar()


def _parts(registry, box: Mailbox) -> tuple[str, str]:
    local, _at, domain = (box.address or "").partition("@")
    domain = (registry.settings.get("kyklos.mail.dropbox_domain") or domain).strip().lower()
    return local.split("+", 1)[0].lower(), domain


def address_for(request, user_id: int) -> str | None:
    """The user's drop-box address, or ``None`` when no mailbox is the drop-box."""
    box = dropbox_mailbox(request.dbsession)
    if box is None:
        return None
    local, domain = _parts(request.registry, box)
    return f"{local}+{token_of(request.dbsession, user_id)}@{domain}"


def user_of(request, box: Mailbox, parsed) -> int | None:
    """The user whose personal address the message was sent to."""
    local, _domain = _parts(request.registry, box)
    wanted = re.compile(rf"(?<![\w.+-]){re.escape(local)}\+([0-9a-f]{{16}})@", re.I)
    for name in ENVELOPE:
        for found in wanted.finditer(parsed.headers.get(name, "")):
            uid = request.dbsession.execute(
                select(DropboxAddress.user_id)
                .join(User, User.id == DropboxAddress.user_id)
                .where(DropboxAddress.token == found.group(1).lower(), User.is_active.is_(True))
            ).scalar()
            if uid:
                return uid
    return None


def forwarded_sender(raw: bytes, text: str) -> tuple[str, str] | None:
    """``(name, address)`` of the forwarded original's sender, or ``None``."""
    msg = email.message_from_bytes(raw, policy=policy.compat32)
    for part in msg.walk():
        if part.get_content_type() == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is not None:
                name, addr = parseaddr(str(inner.get("From", "")))
                if "@" in addr:
                    return name, addr.lower()
    marker = FORWARD_MARKERS.search(text or "")
    # Outlook quotes without a marker line: its block starts "From: ... Sent: ..."
    start = marker.end() if marker else 0
    found = FROM_LINE.search(text or "", start)
    if found is None or (marker is None and not _outlook_block(text, found.end())):
        return None
    line = found.group(2).replace("[mailto:", "<").replace("]", ">")
    name, addr = parseaddr(line)
    if "@" not in addr:
        m = ADDRESS.search(line)
        if m is None:
            return None
        addr = m.group(0)
    return name.strip('" *'), addr.lower()


def _outlook_block(text: str, at: int) -> bool:
    following = text[at : at + 400]
    return bool(
        re.search(r"^\s*\*?(sent|gesendet|trimis|wysłano|εστάλη)\s*:", following, re.I | re.M)
    )


def _readable(request, user_id: int, targets) -> list:
    """The targets the user may read, checked as them (their record rules), in a
    read-only transaction of its own: what is filed was committed before."""
    out = []
    with request_as(request.registry, user_id) as as_user:
        for entity, rid, how in targets:
            try:
                et = get_entity_type(as_user, entity)
            except Exception:  # noqa: BLE001 - an entity type gone: not filed
                continue
            if not as_user.has_permission(et.permission("read")):
                continue
            seen = as_user.dbsession.execute(
                visible_select(as_user, et).with_only_columns(et.model.id).where(et.model.id == rid)
            ).scalar()
            if seen is not None:
                out.append((entity, rid, how))
    return out


def targets(request, box: Mailbox, msg, parsed, raw: bytes) -> tuple[int | None, list, str]:
    """``(user id, [(entity, id, how)], reason for the ledger)``."""
    user_id = user_of(request, box, parsed)
    if user_id is None:
        return None, [], "drop-box: no personal address"
    user = request.dbsession.get(User, user_id)
    own = {(user.email or "").lower(), (box.address or "").lower()}
    local, _domain = _parts(request.registry, box)
    forwarded = forwarded_sender(raw, parsed.text)
    if forwarded is not None:
        view = dataclasses.replace(
            parsed, sender_address=forwarded[1], to=[], cc=[], in_reply_to="", references=[]
        )
        how = "forwarded"
    else:
        others = [
            (n, a)
            for n, a in getaddresses([parsed.headers.get("to", ""), parsed.headers.get("cc", "")])
            if a and a.lower() not in own and not a.lower().startswith(f"{local}+")
        ]
        view = dataclasses.replace(parsed, sender_address="", to=others, cc=[])
        how = "bcc"
    found = [(e, r, f"drop-box {how}") for e, r, _h in match(request, None, msg, view)]
    msg.owner_id = user_id
    msg.private = False
    return user_id, _readable(request, user_id, found), f"drop-box of {user.email}"

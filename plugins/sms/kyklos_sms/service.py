"""The outbox: queueing a message, handing queued ones to Jasmin's HTTP API in batches
under the per-minute limit, receipts and inbound messages.

Exactly once across a worker killed with SIGKILL: a message is claimed (state
"sending", ``sending_at``) by a conditional UPDATE that is committed *before* the HTTP
call, and its outcome is committed right after. A row found in "sending" later is one
whose worker died between the two commits: the gateway may or may not have taken it.
It is never sent again blindly (a customer would get it twice); instead its receipt URL
decides: Jasmin calls it (level 1, then 2) for every message it accepted, and the URL
names our row, so a message the gateway took becomes "sent"/"delivered" when its
receipt arrives. One still without any receipt after ``kyklos.sms.uncertain_minutes``
is marked failed with the reason, and the person can send it again by hand.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

import zope.sqlalchemy
from sqlalchemy import func, select, update

from kyklos_sdk import (
    ConfigError,
    decrypt_secret,
    encrypt_secret,
    record_created,
    request_as,
    site_setting,
    utcnow,
)

from . import _
from .encoding import MAX_PARTS, count, gsm7_bytes, ucs2_hex
from .models import Gateway, SmsMessage
from .numbers import BadNumber, normalise

log = logging.getLogger("kyklos_sms")

SEND_JOB = "sms.send"
#: Jasmin's receipt states (level 2) that end a message
DELIVERED = {"DELIVRD"}
UNDELIVERED = {"EXPIRED", "DELETED", "UNDELIV", "REJECTD", "UNKNOWN"}


class SmsRefused(ValueError):
    """A message that cannot be queued; ``errors`` names each bad field."""

    def __init__(self, errors: dict):
        super().__init__(str(errors))
        self.errors = errors


class GatewayError(RuntimeError):
    pass


def _int_setting(registry, key, default) -> int:
    try:
        return max(1, int(registry.settings.get(key) or default))
    except (TypeError, ValueError):
        return default


# --- the gateway's settings -------------------------------------------------------------


def gateway(db) -> Gateway | None:
    return db.execute(select(Gateway).order_by(Gateway.id).limit(1)).scalar()


def save_gateway(request, data: dict) -> Gateway:
    """Check and store the settings (``url``, ``username``, ``password`` (kept when
    empty), ``sender``, ``per_minute``, ``callback_base``, ``active``); raises
    :class:`SmsRefused` naming each bad field."""
    errors: dict = {}
    url = str(data.get("url") or "").strip()
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        errors["url"] = _("Give the address of Jasmin's HTTP API, e.g. http://127.0.0.1:1401.")
    username = str(data.get("username") or "").strip()
    if not username or len(username) > 100:
        errors["username"] = _("Give the user name Jasmin knows this site by.")
    password = data.get("password")
    if password is not None and (not isinstance(password, str) or len(password) > 200):
        errors["password"] = _("Give the password.")
    sender = str(data.get("sender") or "").strip()
    if not sender or len(sender) > 16 or (not sender.lstrip("+").isdigit() and len(sender) > 11):
        errors["sender"] = _(
            "A sender is a number of up to 15 digits or a name of up to 11 characters."
        )
    try:
        raw = data.get("per_minute")
        per_minute = 60 if raw is None or raw == "" else int(raw)
        if not 1 <= per_minute <= 100000:
            raise ValueError
    except (TypeError, ValueError):
        errors["per_minute"] = _("Give a number of messages from 1 to 100000.")
        per_minute = 60
    base = str(data.get("callback_base") or "").strip().rstrip("/")
    if base:
        b = urllib.parse.urlsplit(base)
        if b.scheme not in ("http", "https") or not b.hostname:
            errors["callback_base"] = _("Give this site's address as the gateway reaches it.")
    db = request.dbsession
    gw = gateway(db)
    if gw is None and not password:
        errors.setdefault("password", _("Give the password."))
    if errors:
        raise SmsRefused(errors)
    if gw is None:
        gw = Gateway(inbound_token=secrets.token_urlsafe(24))
        db.add(gw)
    gw.url, gw.username, gw.sender = url.rstrip("/"), username, sender
    gw.per_minute, gw.callback_base = per_minute, base
    gw.active = bool(data.get("active", True))
    if password:
        gw.password_secret = encrypt_secret(request.registry, password)
    gw.updated_at = utcnow()
    db.flush()
    return gw


def callback_base(request, gw: Gateway) -> str:
    return (gw.callback_base or site_setting(request, "base_url") or request.host_url).rstrip("/")


def inbound_url(request, gw: Gateway) -> str:
    return callback_base(request, gw) + request.route_path("sms.inbound", token=gw.inbound_token)


# --- queueing -----------------------------------------------------------------------------


def check_body(body) -> tuple[str, object]:
    body = str(body or "")
    if not body.strip():
        raise SmsRefused({"body": _("Write the message.")})
    c = count(body)
    if c.parts > MAX_PARTS:
        raise SmsRefused(
            {"body": _("At most ${n} parts: shorten the message.", mapping={"n": MAX_PARTS})}
        )
    return body, c


def person_country(request, person) -> list[str | None]:
    account = getattr(person, "account", None)
    return [
        getattr(person, "country", None),
        getattr(account, "country", None) if account is not None else None,
        site_setting(request, "country.default"),
    ]


def queue(request, number: str, body: str, *, person=None, source="manual") -> SmsMessage:
    """Add one message to the outbox (sent by the ``sms.send`` job after the commit)."""
    errors: dict = {}
    try:
        e164 = normalise(number, *person_country(request, person))
    except BadNumber as exc:
        errors["number"] = exc.reason
    try:
        body, c = check_body(body)
    except SmsRefused as exc:
        errors.update(exc.errors)
    if errors:
        raise SmsRefused(errors)
    ident = getattr(request, "identity", None)
    msg = SmsMessage(
        direction="out",
        state="queued",
        number=e164,
        person_id=person.id if person is not None else None,
        body=body,
        encoding=c.encoding,
        parts=c.parts,
        source=source,
        token=secrets.token_urlsafe(24),
        queued_at=utcnow(),
        owner_id=ident.user.id if ident is not None and ident.user is not None else None,
    )
    db = request.dbsession
    db.add(msg)
    db.flush()
    record_created(request, request.registry.kyklos_entities["smsmessage"], msg, source="api")
    # a run of the send job for this message (it sends whatever is queued, so in a
    # burst most runs find their message already sent: claims are conditional)
    request.enqueue_job(SEND_JOB, key=f"{SEND_JOB}:{msg.id}:{msg.token[:8]}", user_id=None)
    return msg


def mobile_numbers(person) -> list[str]:
    phones = person.phones or []
    mobiles = [p["number"] for p in phones if p.get("type") == "mobile"]
    return mobiles + [p["number"] for p in phones if p["number"] not in mobiles]


# --- handing messages to the gateway --------------------------------------------------------


def submit(registry, request, gw: Gateway, msg: SmsMessage) -> str:
    """One HTTP call to Jasmin's ``/send``; the gateway's message id, or
    :class:`GatewayError`."""
    try:
        password = decrypt_secret(registry, gw.password_secret)
    except ConfigError as exc:
        raise GatewayError(f"the gateway password cannot be read: {exc}") from None
    if msg.encoding == "gsm7":
        coding, hexed = "0", gsm7_bytes(msg.body).hex()
    else:
        coding, hexed = "8", ucs2_hex(msg.body)
    params = {
        "username": gw.username,
        "password": password,
        "to": msg.number.lstrip("+"),
        "from": gw.sender,
        "coding": coding,
        "hex-content": hexed,
        "dlr": "yes",
        "dlr-url": callback_base(request, gw)
        + request.route_path("sms.receipt", id=msg.id, token=msg.token),
        "dlr-level": "3",
        "dlr-method": "POST",
    }
    data = urllib.parse.urlencode(params).encode()
    timeout = float(registry.settings.get("kyklos.sms.timeout") or 30)
    try:
        with urllib.request.urlopen(gw.url + "/send", data=data, timeout=timeout) as resp:
            text = resp.read(2000).decode("utf-8", "replace").strip()
    except urllib.error.HTTPError as exc:
        text = exc.read(2000).decode("utf-8", "replace").strip()
        raise GatewayError(f"{exc.code}: {text}") from None
    except (OSError, ValueError) as exc:
        raise GatewayError(str(exc)) from None
    if not text.startswith("Success"):
        raise GatewayError(text[:500])
    return text.partition(" ")[2].strip().strip('"')


def _claim(db, msg_id: int, now) -> bool:
    res = db.execute(
        update(SmsMessage)
        .where(SmsMessage.id == msg_id, SmsMessage.state == "queued")
        .values(state="sending", sending_at=now)
        .execution_options(synchronize_session=False)
    )
    # a Core UPDATE passes by the ORM: tell the transaction manager to commit it
    zope.sqlalchemy.mark_changed(db)
    return res.rowcount == 1


def reconcile(registry, now=None) -> int:
    """Rows a dead worker left in "sending" without any receipt for longer than
    ``kyklos.sms.uncertain_minutes``: failed, with the reason, never re-sent."""
    now = now or utcnow()
    try:
        minutes = float(registry.settings.get("kyklos.sms.uncertain_minutes") or 15)
    except ValueError:
        minutes = 15.0
    with request_as(registry, None) as request:
        res = request.dbsession.execute(
            update(SmsMessage)
            .where(
                SmsMessage.state == "sending",
                SmsMessage.sending_at < now - dt.timedelta(minutes=minutes),
            )
            .values(
                state="failed",
                error="interrupted: the gateway never confirmed this message; it was not "
                "sent again so that nobody gets it twice",
            )
            .execution_options(synchronize_session=False)
        )
        zope.sqlalchemy.mark_changed(request.dbsession)
        return res.rowcount


def send_batch(ctx) -> dict:
    """The ``sms.send`` job: queued messages, oldest first, within the per-minute limit
    and ``kyklos.sms.batch``, each committed as "sending" before it goes out."""
    registry = ctx.registry
    uncertain = reconcile(registry)
    batch = _int_setting(registry, "kyklos.sms.batch", 100)
    sent = failed = 0
    with request_as(registry, None) as request:
        gw = gateway(request.dbsession)
        if gw is None or not gw.active:
            return {"sent": 0, "skipped": "no gateway", "uncertain": uncertain}
        per_minute = gw.per_minute
        recent = request.dbsession.execute(
            select(func.count())
            .select_from(SmsMessage)
            .where(
                SmsMessage.direction == "out",
                SmsMessage.sending_at >= utcnow() - dt.timedelta(minutes=1),
            )
        ).scalar()
        room = max(0, min(batch, per_minute - recent))
        ids = (
            request.dbsession.execute(
                select(SmsMessage.id)
                .where(SmsMessage.state == "queued", SmsMessage.direction == "out")
                .order_by(SmsMessage.id)
                .limit(room)
            )
            .scalars()
            .all()
        )
    pause = float(registry.settings.get("kyklos.sms.pause") or 0)
    for n, msg_id in enumerate(ids):
        if pause and n:
            time.sleep(pause)  # spare a gateway that wants messages spread out
        with request_as(registry, None) as request:
            if not _claim(request.dbsession, msg_id, utcnow()):
                continue  # another worker took it
        # committed: from here a crash leaves "sending", which reconcile() settles
        with request_as(registry, None) as request:
            db = request.dbsession
            msg, gw = db.get(SmsMessage, msg_id), gateway(db)
            try:
                gid = submit(registry, request, gw, msg)
            except GatewayError as exc:
                values = {"state": "failed", "error": str(exc)[:2000]}
                failed += 1
            else:
                values = {"state": "sent", "sent_at": utcnow()}
                sent += 1
                db.execute(
                    update(SmsMessage)
                    .where(SmsMessage.id == msg_id, SmsMessage.gateway_id.is_(None))
                    .values(gateway_id=gid[:80])
                    .execution_options(synchronize_session=False)
                )
            # only from "sending": a receipt that came first (it names our row, and may
            # arrive while the gateway's answer is on its way) keeps what it said
            db.execute(
                update(SmsMessage)
                .where(SmsMessage.id == msg_id, SmsMessage.state == "sending")
                .values(**values)
                .execution_options(synchronize_session=False)
            )
            zope.sqlalchemy.mark_changed(db)
    with request_as(registry, None) as request:
        # what is left (the limit was reached) goes with the periodic ``sms.poll``
        left = request.dbsession.execute(
            select(func.count()).select_from(SmsMessage).where(SmsMessage.state == "queued")
        ).scalar()
    return {"sent": sent, "failed": failed, "uncertain": uncertain, "left": left}


def poll(ctx):
    """Every minute: send what is queued, settle what a dead worker left (the job's own
    key keeps two runs of a minute from overlapping)."""
    return send_batch(ctx)


# --- receipts and inbound messages ----------------------------------------------------------


def apply_receipt(db, msg: SmsMessage, token: str, params) -> bool:
    """A delivery receipt from Jasmin (level 1: the SMSC's answer, ``ESME_ROK`` or an
    error; level 2: the handset's ``DELIVRD``, ``UNDELIV``...)."""
    if not hmac.compare_digest(msg.token or "", token or "") or msg.direction != "out":
        return False
    status = str(params.get("message_status") or "").strip().upper()
    level = str(params.get("level") or "").strip()
    gid = str(params.get("id") or "").strip()
    if gid and not msg.gateway_id:
        msg.gateway_id = gid[:80]
    now = utcnow()
    if level == "1":
        if status == "ESME_ROK":
            if msg.state in ("sending", "queued", "failed"):
                msg.state, msg.error = "sent", None
            msg.sent_at = msg.sent_at or now
        elif msg.state != "delivered":
            msg.state, msg.error = "failed", f"refused by the operator: {status}"[:2000]
    elif level == "2":
        if status in DELIVERED:
            msg.state, msg.delivered_at, msg.error = "delivered", now, None
            msg.sent_at = msg.sent_at or now
        elif status in UNDELIVERED:
            msg.state, msg.error = "failed", f"not delivered: {status}"
        elif status == "ACCEPTD" and msg.state == "sending":
            msg.state = "sent"
    return True


def match_person(db, number: str):
    from kyklos_contacts.models import PersonPhone

    return db.execute(
        select(PersonPhone.person_id).where(PersonPhone.number == number).limit(1)
    ).scalar()


def store_inbound(request, params) -> SmsMessage:
    """An inbound message from Jasmin's HTTP connector (``from``, ``to``, ``coding``,
    ``binary`` hex, ``content``, ``id``), filed to the person whose number it is."""
    from .encoding import decode

    raw = str(params.get("from") or "").strip()
    number = raw if raw.startswith("+") else "+" + raw.lstrip("0")
    raw_coding = str(params.get("coding") or "0")
    # Jasmin 0.11 posts the data_coding as the raw byte ("%00", "%08"), not as digits
    coding = int(raw_coding) if raw_coding.isdigit() else ord(raw_coding[0])
    binary = params.get("binary")
    try:
        body = decode(bytes.fromhex(binary), coding) if binary else None
    except ValueError:
        body = None
    if body is None:
        body = str(params.get("content") or "")
    db = request.dbsession
    gid = str(params.get("id") or "")[:80] or None
    if gid:
        found = db.execute(
            select(SmsMessage).where(SmsMessage.direction == "in", SmsMessage.gateway_id == gid)
        ).scalar()
        if found is not None:  # Jasmin retries a callback it did not see answered
            return found
    msg = SmsMessage(
        direction="in",
        state="received",
        number=number[:20],
        person_id=match_person(db, number),
        body=body[:5000],
        encoding="ucs2" if coding == 8 else "gsm7",
        parts=1,
        source="gateway",
        gateway_id=gid,
        queued_at=utcnow(),
        sent_at=utcnow(),
    )
    db.add(msg)
    db.flush()
    record_created(request, request.registry.kyklos_entities["smsmessage"], msg, source="api")
    return msg

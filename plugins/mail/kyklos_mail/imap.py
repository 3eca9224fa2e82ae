"""Talking to a mailbox's IMAP server (imapclient) and its SMTP server (smtplib)."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError

from . import oauth
from .crypto import KeyMissing, decrypt

#: what a connection can fail with; each is shown to people as the mailbox's last error
ERRORS = (
    IMAPClientError,
    OSError,
    socket.timeout,
    ssl.SSLError,
    KeyMissing,
    smtplib.SMTPException,
    oauth.OAuthFailed,
)


def describe(exc) -> str:
    """The last error as the mailbox page shows it: an OAuth2 failure is already a
    sentence; a network or protocol error keeps its class, which names what failed."""
    if isinstance(exc, oauth.OAuthFailed):
        return str(exc)
    return f"{exc.__class__.__name__}: {exc}"


@dataclass
class Settings:
    """A mailbox's connection settings, read in a short transaction so no database
    transaction stays open while the network is slow."""

    id: int
    name: str
    address: str
    owner_id: int | None
    kind: str
    host: str
    port: int
    security: str
    username: str
    password: str
    folder: str
    smtp_host: str
    smtp_port: int
    smtp_security: str
    uidvalidity: int | None
    last_uid: int
    timeout: float
    #: "password", or "oauth2": ``password`` is then the access token (XOAUTH2)
    auth_method: str = "password"
    #: OAuth2: gives a renewed access token when the server refuses the one we have
    renew: Callable[[], str] | None = None

    @classmethod
    def of(cls, registry, box, renew: Callable[[], str] | None = None) -> Settings:
        """``box`` attached to a session that commits: an OAuth2 access token about to
        expire is renewed here and the new one kept. ``renew`` (OAuth2): how to get a
        new token later, when the server refuses this one; by default in a transaction
        of its own (:func:`renew_in_job`)."""
        oauth2 = box.auth_method == "oauth2"
        return cls(
            id=box.id,
            name=box.name,
            address=box.address,
            owner_id=box.owner_id,
            kind=box.kind,
            host=box.imap_host,
            port=box.imap_port,
            security=box.imap_security,
            username=box.username,
            password=oauth.access_token(registry, box)
            if oauth2
            else decrypt(registry, box.password_secret),
            folder=box.folder or "INBOX",
            smtp_host=box.smtp_host or "",
            smtp_port=box.smtp_port,
            smtp_security=box.smtp_security,
            uidvalidity=box.uidvalidity,
            last_uid=box.last_uid or 0,
            timeout=float(registry.settings.get("kyklos.mail.timeout") or 30),
            auth_method=box.auth_method or "password",
            renew=(renew or _renewer(registry, box)) if oauth2 else None,
        )

    def renewed(self) -> bool:
        """After the server refused an OAuth2 token: take a new one (``False``: no
        OAuth2, nothing to renew)."""
        if self.auth_method != "oauth2" or self.renew is None:
            return False
        self.password = self.renew()
        return True


def _renewer(registry, box) -> Callable[[], str]:
    """Renew through the session ``box`` is still attached to (a web request sending
    mail: on SQLite a second writer would wait for the request's own lock), else in a
    transaction of its own (a fetch job, whose short read transaction has ended)."""
    from sqlalchemy.orm import object_session

    box_id = box.id

    def renew() -> str:
        session = object_session(box)
        if session is not None and session.is_active:
            return oauth.access_token(registry, box, force=True)
        return renew_in_job(registry, box_id)

    return renew


def renew_in_job(registry, mailbox_id: int) -> str:
    """A new access token for the mailbox, kept in a transaction of its own (a fetch
    holds no transaction open while it talks to the server)."""
    from kyklos_sdk import request_as

    from .models import Mailbox

    with request_as(registry, None, write=True) as request:
        box = request.dbsession.get(Mailbox, mailbox_id)
        if box is None:
            raise oauth.OAuthFailed("The mailbox was deleted.")
        return oauth.access_token(registry, box, force=True)


def _login(client, s: Settings) -> None:
    if s.auth_method == "oauth2":
        client.oauth2_login(s.username, s.password)
    else:
        client.login(s.username, s.password)


def connect(s: Settings, retry: bool = True) -> IMAPClient:
    client = IMAPClient(
        s.host, port=s.port, ssl=s.security == "ssl", timeout=s.timeout, use_uid=True
    )
    try:
        if s.security == "starttls":
            client.starttls(ssl.create_default_context())
        _login(client, s)
    except LoginError:
        _close(client)
        # an OAuth2 token the server refuses (revoked early, clock skew): renew it once
        # and log in again on a new connection (a failed SASL exchange may leave the
        # server expecting nothing more on this one)
        if retry and s.renewed():
            return connect(s, retry=False)
        raise
    except BaseException:
        _close(client)
        raise
    return client


def _close(client) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail any way
        try:
            client.shutdown()
        except Exception:  # noqa: BLE001
            pass


class Folder:
    """The mailbox's folder, opened read-only (fetching never marks mail as read)."""

    def __init__(self, s: Settings):
        self.s = s
        self.client = None

    def __enter__(self):
        self.client = connect(self.s)
        info = self.client.select_folder(self.s.folder, readonly=True)
        self.uidvalidity = int(info[b"UIDVALIDITY"])
        return self

    def __exit__(self, *exc):
        _close(self.client)
        return False

    def uids(self, after: int = 0) -> list[int]:
        """The folder's UIDs above ``after``, ascending."""
        found = self.client.search(["UID", f"{after + 1}:*"]) if after else self.client.search()
        return sorted(u for u in found if u > after)

    def sizes(self, uids) -> dict[int, int]:
        return {
            u: int(d.get(b"RFC822.SIZE", 0))
            for u, d in self.client.fetch(uids, ["RFC822.SIZE"]).items()
        }

    def bodies(self, uids) -> dict[int, bytes]:
        return {
            u: d.get(b"BODY[]", b"") for u, d in self.client.fetch(uids, ["BODY.PEEK[]"]).items()
        }


class Watch:
    """IMAP IDLE (RFC 2177) on the mailbox's folder: ``wait(seconds)`` returns ``True``
    as soon as the server announces a new message, ``False`` when the time runs out.
    ``supported`` is ``False`` for a server without IDLE (the caller keeps polling)."""

    def __init__(self, s: Settings):
        self.s = s
        self.client = None
        self.supported = False

    def __enter__(self):
        self.client = connect(self.s)
        self.supported = b"IDLE" in self.client.capabilities()
        self.client.select_folder(self.s.folder, readonly=True)
        return self

    def __exit__(self, *exc):
        _close(self.client)
        return False

    def wait(self, seconds: float) -> bool:
        self.client.idle()
        try:
            deadline = time.monotonic() + max(0.0, seconds)
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                # a server may send other untagged data (FETCH flags, RECENT): only a
                # new EXISTS count means new mail
                for item in self.client.idle_check(timeout=min(left, 30)):
                    if len(item) > 1 and item[1] == b"EXISTS":
                        return True
        finally:
            self.client.idle_done()


def send(s: Settings, msg) -> None:
    """Send ``msg`` through the mailbox's SMTP server (raises on failure)."""
    if not s.smtp_host:
        raise smtplib.SMTPException("the mailbox has no SMTP server")
    ctx = ssl.create_default_context()
    if s.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(s.smtp_host, s.smtp_port, timeout=s.timeout, context=ctx)
    else:
        smtp = smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=s.timeout)
    with smtp:
        if s.smtp_security == "starttls":
            smtp.starttls(context=ctx)
        smtp.ehlo_or_helo_if_needed()
        # a server that offers no AUTH (a relay trusting the network) is not logged in to
        if s.password and smtp.has_extn("auth"):
            if s.auth_method == "oauth2":
                _smtp_xoauth2(smtp, s)
            else:
                smtp.login(s.username, s.password)
        smtp.send_message(msg)


def _smtp_xoauth2(smtp, s: Settings) -> None:
    """AUTH XOAUTH2; a refused token (535) is renewed once and tried again."""
    for attempt in (1, 2):
        try:
            # the initial response in the command itself; on a refusal the server sends
            # a JSON challenge that an empty line answers, then the 535 smtplib raises
            smtp.auth(
                "XOAUTH2",
                lambda challenge=None: "" if challenge else oauth.xoauth2(s.username, s.password),
                initial_response_ok=True,
            )
            return
        except smtplib.SMTPAuthenticationError:
            if attempt == 2 or not s.renewed():
                raise

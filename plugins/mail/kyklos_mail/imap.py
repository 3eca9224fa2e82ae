"""Talking to a mailbox's IMAP server (imapclient) and its SMTP server (smtplib)."""

from __future__ import annotations

import smtplib
import socket
import ssl
import time
from dataclasses import dataclass

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from .crypto import KeyMissing, decrypt

#: what a connection can fail with; each is shown to people as the mailbox's last error
ERRORS = (IMAPClientError, OSError, socket.timeout, ssl.SSLError, KeyMissing, smtplib.SMTPException)


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

    @classmethod
    def of(cls, registry, box) -> Settings:
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
            password=decrypt(registry, box.password_secret),
            folder=box.folder or "INBOX",
            smtp_host=box.smtp_host or "",
            smtp_port=box.smtp_port,
            smtp_security=box.smtp_security,
            uidvalidity=box.uidvalidity,
            last_uid=box.last_uid or 0,
            timeout=float(registry.settings.get("kyklos.mail.timeout") or 30),
        )


def connect(s: Settings) -> IMAPClient:
    client = IMAPClient(
        s.host, port=s.port, ssl=s.security == "ssl", timeout=s.timeout, use_uid=True
    )
    try:
        if s.security == "starttls":
            client.starttls(ssl.create_default_context())
        client.login(s.username, s.password)
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
            smtp.login(s.username, s.password)
        smtp.send_message(msg)

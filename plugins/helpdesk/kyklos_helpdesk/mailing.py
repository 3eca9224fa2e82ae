"""One notice to many recipients, each in their own language: the loop the helpdesk's
mass mailings share (contract expiry notices, release notices).

Each recipient is told once: the caller says who was told before (``told``) and keeps
a record of each mail it sends (``record``, in the same transaction as the queued mail:
the core's mail leaves when the transaction commits, so both happen or neither). A bad
address on file skips that recipient only."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from kyklos_sdk import MailError, send_mail, site_setting


@dataclass
class Recipient:
    """Who gets a notice: the address, their language (``None``: not known) and what
    the caller needs to render and record their mail (a person, a contract...)."""

    email: str
    language: str | None = None
    about: Any = None


def recipient_language(request, wanted: str | None, offered: Iterable[str]) -> str:
    """``wanted`` when it is offered; else the site's first language (the one users of
    another language see), English or the first offered, in that order: a contact
    whose language is not on file, or one the notice is not written in."""
    offered = list(offered)
    site = site_setting(request, "languages") or ["en"]
    for lang in (wanted, site[0], "en"):
        if lang and lang in offered:
            return lang
    return offered[0]


def send_notice(
    request,
    recipients: Iterable[Recipient],
    render: Callable[[Recipient, str], tuple[str, str]],
    offered: Iterable[str],
    told: Callable[[Recipient], bool] = lambda r: False,
    record: Callable[[Recipient, str, str, str], None] = lambda r, lang, s, b: None,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Mail each recipient not ``told`` before their notice, rendered by
    ``render(recipient, language) -> (subject, body)`` in their language among
    ``offered`` (:func:`recipient_language`); ``record(recipient, language, subject,
    body)`` keeps each one sent; ``progress(done, total)`` is told after each recipient
    (a background job reports it). Returns ``{"sent", "skipped"}`` (skipped: told
    before, or an address the mail refused)."""
    offered = list(offered)
    recipients = list(recipients)
    sent = skipped = 0
    for i, r in enumerate(recipients):
        if progress is not None and i:
            progress(i, len(recipients))
        if told(r):
            skipped += 1
            continue
        lang = recipient_language(request, r.language, offered)
        subject, body = render(r, lang)
        try:
            send_mail(request, r.email, subject, body)
        except MailError:
            skipped += 1  # a bad address on file: the others are told all the same
            continue
        record(r, lang, subject, body)
        sent += 1
    return {"sent": sent, "skipped": skipped}

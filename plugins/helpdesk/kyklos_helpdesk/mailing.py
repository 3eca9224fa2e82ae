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


def send_claimed(
    registry,
    user_id: int | None,
    job_id: str | None,
    recipients: list[Recipient],
    render: Callable[[Any, Recipient, str], tuple[str, str]],
    offered: Iterable[str],
    claim: Callable[[Any, Recipient], bool],
    finish: Callable[[Any, Recipient, str, str | None], None],
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Mail each recipient that this run can *claim* in the database: the way two
    senders of the same notice at once (two workers, a double click) never mail one
    person twice.

    Per recipient, one short transaction (``request_as``, committed before anything is
    sent) runs ``claim(request, recipient)``: a conditional write (a row under a unique
    key, or an ``UPDATE ... WHERE`` its state allows) that only one run can win; the
    loser's ``False`` skips the recipient. The winner renders the mail
    (``render(request, recipient, language)``), hands it to the SMTP server at once,
    then records the outcome in another short transaction (``finish(request,
    recipient, "sent" | "failed", error)``). A claim lives in the database, not in this
    process: a second worker sees it. Returns ``{"sent", "skipped", "failed"}``."""
    import smtplib

    from kyklos_sdk import build_mail, deliver_mail, request_as

    offered = list(offered)
    sent = skipped = failed = 0
    total = len(recipients)
    settings = registry.settings
    for i, r in enumerate(recipients):
        if progress is not None:
            progress(i, total)
        msg = None
        with request_as(registry, user_id, job_id=job_id, write=True) as request:
            if not claim(request, r):
                skipped += 1
                continue
            lang = recipient_language(request, r.language, offered)
            subject, body = render(request, r, lang)
            try:
                msg = build_mail(settings, r.email, subject, body)
            except MailError as exc:
                # an address on file that is no address: recorded with the claim
                finish(request, r, "failed", str(exc))
                failed += 1
                continue
        try:
            deliver_mail(settings, msg)
        except (OSError, smtplib.SMTPException) as exc:
            outcome, error = "failed", str(exc) or exc.__class__.__name__
            failed += 1
        else:
            outcome, error = "sent", None
            sent += 1
        with request_as(registry, user_id, job_id=job_id, write=True) as request:
            finish(request, r, outcome, error)
    if progress is not None:
        progress(total, total)
    return {"sent": sent, "skipped": skipped, "failed": failed}

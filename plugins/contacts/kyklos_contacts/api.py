"""What other plugins use from contacts (they declare ``depends=("contacts",)``).

Consent (opt-in / opt-out per channel) is the rule every mass send honours: marketing
campaigns, SMS, greetings. No consent record means *no* consent (the GDPR opt-in
regime); pass ``default=True`` where the law allows contacting without opt-in (e.g. an
existing customer's service messages).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select

from kyklos_sdk import utcnow

from .models import Consent, Person

__all__ = [
    "CHANNELS",
    "consent_allows",
    "consent_status",
    "filter_consenting",
    "set_consent",
]

CHANNELS = ("email", "sms", "phone", "post")


def _check_channel(channel: str) -> str:
    if channel not in CHANNELS:
        raise ValueError(f"unknown consent channel {channel!r} (one of {', '.join(CHANNELS)})")
    return channel


def consent_status(db, person_id: int, channel: str) -> Consent | None:
    """The person's consent record for ``channel``, or ``None``."""
    _check_channel(channel)
    return db.execute(
        select(Consent).where(Consent.person_id == person_id, Consent.channel == channel)
    ).scalar_one_or_none()


def consent_allows(db, person_id: int, channel: str, default: bool = False) -> bool:
    """Whether ``person_id`` may be contacted on ``channel``: opted in, or no record and
    ``default``."""
    row = consent_status(db, person_id, channel)
    if row is None:
        return default
    return row.status == "opt_in"


def filter_consenting(stmt, channel: str, person_id=None, default: bool = False):
    """Narrow a SELECT to the people who may be contacted on ``channel``.

    ``person_id`` is the column holding the person id (default ``Person.id``): for a
    campaign's member table pass its ``person_id`` column. One SQL criterion, so a
    million-row send is filtered by the database, not in Python.
    """
    _check_channel(channel)
    pid = Person.id if person_id is None else person_id
    opted_in = exists().where(
        Consent.person_id == pid, Consent.channel == channel, Consent.status == "opt_in"
    )
    if not default:
        return stmt.where(opted_in)
    opted_out = exists().where(
        Consent.person_id == pid, Consent.channel == channel, Consent.status == "opt_out"
    )
    return stmt.where(~opted_out)


def set_consent(
    db,
    person_id: int,
    channel: str,
    status: str,
    source: str | None = None,
    at: dt.datetime | None = None,
    user_id: int | None = None,
) -> Consent:
    """Record an opt-in or opt-out (e.g. from an unsubscribe link); returns the row.

    Writes directly (no permission check): for trusted callers such as an unsubscribe
    handler. User edits go through the entity API so they are checked and audited.
    """
    _check_channel(channel)
    if status not in ("opt_in", "opt_out"):
        raise ValueError(f"unknown consent status {status!r}")
    row = consent_status(db, person_id, channel)
    if row is None:
        row = Consent(person_id=person_id, channel=channel, owner_id=user_id,
                      created_by_id=user_id)
        db.add(row)
    row.status = status
    row.source = source
    row.at = at or utcnow()
    row.updated_by_id = user_id
    db.flush()
    return row

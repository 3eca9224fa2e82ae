"""Occasion greetings: the message in the person's language, the channels to send it
through (the ``kyklos_message_channels`` hook), consent, and at most one greeting per
person, occasion and channel."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyklos_sdk import MailError, collect, send_mail

from . import _
from .api import consent_allows
from .models import Greeting, Person

#: our consent channel for each message channel id
CONSENT_CHANNEL = {"email": "email", "sms": "sms", "mail": "email"}

WISHES = {
    "en": {
        "birthday": ("Happy birthday!",
                     "Wishing you a very happy birthday and a wonderful year ahead."),
        "name_day": ("Happy name day!", "Warm wishes on your name day."),
        "anniversary": ("Happy anniversary!", "Warm wishes on your anniversary."),
    },
    "el": {
        "birthday": ("Χρόνια πολλά!",
                     "Χρόνια πολλά για τα γενέθλιά σας, με υγεία και ευτυχία."),
        "name_day": ("Χρόνια πολλά!",
                     "Χρόνια πολλά για τη γιορτή σας, με υγεία και ευτυχία."),
        "anniversary": ("Χρόνια πολλά!", "Θερμές ευχές για την επέτειό σας."),
    },
    "ro": {
        "birthday": ("La mulți ani!",
                     "Vă dorim un an plin de sănătate și bucurii. La mulți ani!"),
        "name_day": ("La mulți ani!", "La mulți ani de ziua numelui!"),
        "anniversary": ("La mulți ani!", "Felicitări cu ocazia aniversării!"),
    },
    "pl": {
        "birthday": ("Wszystkiego najlepszego!",
                     "Z okazji urodzin życzymy zdrowia i pomyślności."),
        "name_day": ("Wszystkiego najlepszego!",
                     "Z okazji imienin życzymy zdrowia i pomyślności."),
        "anniversary": ("Wszystkiego najlepszego!", "Serdeczne życzenia z okazji rocznicy."),
    },
}


def message_for(person: Person, kind: str, sender: str) -> tuple[str, str]:
    """``(subject, body)`` of a greeting in the person's language."""
    lang = person.language if person.language in WISHES else "en"
    subject, wish = WISHES[lang].get(kind, WISHES[lang]["birthday"])
    opening = person.salutation or person.full_name
    body = f"{opening},\n\n{wish}\n\n{sender}\n"
    return subject, body


class EmailChannel:
    """E-mail through the core's mailer (sent when the transaction commits)."""

    id = "email"
    title = _("E-mail")

    def send(self, request, recipient, subject, body):
        send_mail(request, recipient, subject, body)


def channels(request) -> dict:
    """The channels greetings can go through, by id: what plugins offer through the
    ``kyklos_message_channels`` hook, plus e-mail when the deployment sends mail."""
    found = collect(request.registry.kyklos_pm, "kyklos_message_channels")
    out = {ch.id: ch for ch in found if getattr(ch, "id", None)}
    if "email" not in out and request.registry.settings.get("kyklos.mail.host"):
        out["email"] = EmailChannel()
    return out


def recipient_for(person: Person, channel_id: str) -> str | None:
    if CONSENT_CHANNEL.get(channel_id) == "email" or channel_id == "email":
        return person.email
    if channel_id == "sms":
        mobiles = [p["number"] for p in person.phones if p["type"] == "mobile"]
        return mobiles[0] if mobiles else None
    return person.email


def can_greet(db, person: Person, channel_id: str) -> tuple[bool, str | None]:
    """``(allowed, recipient)``: consent given and an address to send to."""
    recipient = recipient_for(person, channel_id)
    consent = CONSENT_CHANNEL.get(channel_id, channel_id)
    if recipient is None:
        return False, None
    try:
        allowed = consent_allows(db, person.id, consent)
    except ValueError:
        allowed = False
    return allowed, recipient


def already_sent(db, person_id: int, kind: str, day: dt.date, channel_id: str) -> bool:
    return db.execute(
        select(Greeting.id).where(
            Greeting.person_id == person_id,
            Greeting.kind == kind,
            Greeting.occasion_date == day,
            Greeting.channel == channel_id,
        )
    ).first() is not None


def send_greeting(request, person: Person, kind: str, day: dt.date, channel) -> Greeting | None:
    """Send and record one greeting; ``None`` when it was sent before."""
    db = request.dbsession
    if already_sent(db, person.id, kind, day, channel.id):
        return None
    allowed, recipient = can_greet(db, person, channel.id)
    if not allowed:
        raise PermissionError(channel.id)
    ident = request.identity
    sender = ident.user.name if ident is not None else ""
    subject, body = message_for(person, kind, sender)
    greeting = Greeting(
        person_id=person.id,
        kind=kind,
        occasion_date=day,
        channel=channel.id,
        recipient=recipient,
        sent_by_id=ident.user.id if ident is not None else None,
    )
    savepoint = db.begin_nested()
    try:
        db.add(greeting)
        db.flush()
    except IntegrityError:  # a concurrent click sent it first
        savepoint.rollback()
        return None
    try:
        channel.send(request, recipient, subject, body)
    except MailError as exc:
        savepoint.rollback()
        raise GreetingRefused(str(exc)) from exc
    savepoint.commit()
    return greeting


class GreetingRefused(ValueError):
    """The channel refused the message (e.g. an address the mailer cannot use)."""

"""Demo campaigns: a static list of the demo people who opted in to e-mail, an English
and a Greek version of a newsletter, one campaign sent (with opens, clicks, responses
by hand and by reply, a hard bounce whose address is suppressed, a delayed message and
an unsubscribe), one draft waiting to be sent, and an English and a Greek Word letter
with a draft letter campaign."""

from __future__ import annotations

import datetime as dt
import decimal

import click
from sqlalchemy import func, select

from kyklos_sdk import create_record, find_user, get_entity_type, utcnow

from .models import Campaign, Recipient, Suppression, TargetList, TargetMember

NEWSLETTER_EN = (
    "<h1>Spring news</h1>"
    '<p>Dear {{ first_name | default("customer") }},</p>'
    "<p>Our new season's range is here, with early-order prices until the end of the month.</p>"
    '<p><a href="https://example.com/spring">See the range</a></p>'
    '<p style="color: #666">You receive this because you agreed to our news. '
    '<a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)
NEWSLETTER_EL = (
    "<h1>Ανοιξιάτικα νέα</h1>"
    '<p>Αγαπητέ/ή {{ first_name | default("πελάτη") }},</p>'
    "<p>Η νέα σειρά της σεζόν είναι εδώ, με τιμές προπαραγγελίας έως το τέλος του μήνα.</p>"
    '<p><a href="https://example.com/spring">Δείτε τη σειρά</a></p>'
    '<p style="color: #666">Λαμβάνετε αυτό το μήνυμα επειδή συμφωνήσατε. '
    '<a href="{{ unsubscribe_url }}">Διαγραφή</a></p>'
)


def demo_data(env, size: int) -> None:
    from kyklos_contacts.api import set_consent
    from kyklos_contacts.models import Person

    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count(Campaign.id))).scalar_one():
            click.echo("campaigns: the database already has campaigns; demo data skipped")
            return
        manager = find_user(db, "manager@example.com")
        if manager is None or not hasattr(env, "request_as"):
            click.echo("campaigns: no demo users; demo data skipped")
            return
        manager_id = manager.id
        people = (
            db.execute(
                select(Person)
                .where(Person.email.is_not(None), Person.deleted_at.is_(None))
                .order_by(Person.id)
                .limit(40)
            )
            .scalars()
            .all()
        )
        # most demo people agreed to e-mail news; a few never answered (excluded)
        for i, p in enumerate(people):
            if i % 7 != 6:
                set_consent(db, p.id, "email", "opt_in", source="demo: web form")
            # some agreed to letters too: the draft letter campaign reaches those with an
            # address
            if i % 3 == 0:
                set_consent(db, p.id, "post", "opt_in", source="demo: web form")
        chosen = [(p.id, p.email, p.full_name) for i, p in enumerate(people) if i % 7 != 6]
    now = utcnow()
    with env.request_as(manager_id) as request:
        db = request.dbsession
        tl = create_record(
            request,
            get_entity_type(request, "targetlist"),
            {"name": "Newsletter subscribers", "kind": "static", "channel": "email"},
            source="demo",
        )
        for pid, email, name in chosen:
            db.add(
                TargetMember(
                    list_id=tl.id, person_id=pid, address=email, name=name, owner_id=manager_id
                )
            )
        tl.member_count = len(chosen)
        tl.built_at = now
        et = get_entity_type(request, "emailtemplate")
        en = create_record(
            request,
            et,
            {
                "name": "Spring news",
                "language": "en",
                "subject": "Spring news from us",
                "body_html": NEWSLETTER_EN,
            },
            source="demo",
        )
        create_record(
            request,
            et,
            {
                "name": "Spring news",
                "language": "el",
                "subject": "Ανοιξιάτικα νέα",
                "body_html": NEWSLETTER_EL,
            },
            source="demo",
        )
        cet = get_entity_type(request, "campaign")
        sent = create_record(
            request,
            cet,
            {
                "name": "Spring news 2026",
                "list_id": tl.id,
                "template_id": en.id,
                "channel": "email",
                "throttle_per_minute": 600,
            },
            source="demo",
        )
        sent.cost = decimal.Decimal("350.00")
        sent.cost_currency = "EUR"
        sent.status = "sent"
        sent.started_at = now - dt.timedelta(days=7)
        sent.finished_at = sent.started_at + dt.timedelta(minutes=5)
        responses = ("interested", "accepted", "refused")
        for i, (pid, email, name) in enumerate(chosen):
            at = sent.started_at + dt.timedelta(seconds=10 * i)
            rec = Recipient(
                campaign_id=sent.id,
                person_id=pid,
                address=email,
                name=name,
                state="sent",
                attempts=1,
                sent_at=at,
                owner_id=manager_id,
            )
            if i % 2 == 0:
                rec.opened_at = at + dt.timedelta(hours=2)
            if i % 4 == 0:
                rec.clicked_at = at + dt.timedelta(hours=2, minutes=1)
            if i % 6 == 0:
                rec.response = responses[(i // 6) % 3]
                rec.responded_at = at + dt.timedelta(days=1)
            elif i % 6 == 3:  # answered the e-mail, read by the mail plugin
                rec.response = "replied"
                rec.responded_at = at + dt.timedelta(hours=5)
            if i == 5:
                rec.unsubscribed_at = at + dt.timedelta(hours=3)
            if i == 7:  # the address is gone: bounced and never written to again
                rec.state, rec.error = "bounced", "5.1.1 user unknown"
                rec.bounced_at = at + dt.timedelta(minutes=2)
                gone = email.lower()
                if (
                    db.execute(
                        select(Suppression.id).where(func.lower(Suppression.address) == gone)
                    ).scalar()
                    is None
                ):
                    db.add(Suppression(address=gone, reason="hard bounce: 5.1.1 user unknown"))
            if i == 9:  # a full mailbox: the receiving server still tries
                rec.soft_bounces, rec.error = 1, "delayed: 4.2.2"
            db.add(rec)
        create_record(
            request,
            cet,
            {
                "name": "Summer offer 2026",
                "list_id": tl.id,
                "template_id": en.id,
                "channel": "email",
                "throttle_per_minute": 120,
                "scheduled_at": now + dt.timedelta(days=30),
            },
            source="demo",
        )
        letter = demo_letters(request)
        create_record(
            request,
            cet,
            {
                "name": "Welcome letters 2026",
                "list_id": tl.id,
                "letter_template_id": letter.id,
                "channel": "letter",
            },
            source="demo",
        )
        db.flush()
    click.echo(f"campaigns: 1 list of {len(chosen)} people, 3 campaigns, 2 letter templates")


WELCOME_EN = (
    '{{ salutation or "Dear customer" }},',
    'We look forward to working with {{ account.name | default("you") }} again this year.',
    'Your personal code for the spring range: {{ coupon | default("SPRING") }}.',
)
WELCOME_EL = (
    '{{ salutation or "Αγαπητέ/ή πελάτη" }},',
    "Σας ευχαριστούμε που μας εμπιστεύεστε για άλλη μία χρονιά.",
    'Ο προσωπικός σας κωδικός για τη σειρά της άνοιξης: {{ coupon | default("SPRING") }}.',
)


def _letter_docx(lines) -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_paragraph("{{ full_name }}")
    document.add_paragraph("{{ address.street }}")
    document.add_paragraph("{{ address.postcode }} {{ address.city }}")
    for line in lines:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def demo_letters(request):
    """An English and a Greek letter template, their Word documents checked and kept
    as an upload would; returns the English one."""
    from .letters import check_document, store

    et = get_entity_type(request, "lettertemplate")
    first = None
    for language, lines in (("en", WELCOME_EN), ("el", WELCOME_EL)):
        t = create_record(
            request, et, {"name": "Welcome letter", "language": language}, source="demo"
        )
        content = _letter_docx(lines)
        errors, _used = check_document(content)
        if errors:  # the demo's own letters always read; a change that breaks them shows
            raise RuntimeError(f"demo letter {language}: {errors}")
        store(request, t, content, f"welcome-{language}.docx")
        first = first or t
    return first


__all__ = ["demo_data", "TargetList"]

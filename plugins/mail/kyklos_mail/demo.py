"""Demo mail: a shared support mailbox and a few messages from the demo people, filed
to them and their accounts exactly as a fetch files them (with ledger entries)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import click
from kyklos_contacts.models import Person
from sqlalchemy import func, select

from kyklos_sdk import find_user, utcnow

from .jobs import store
from .models import Mailbox

SUBJECTS = [
    ("Question about our order", "Could you confirm the delivery date of our last order?"),
    ("Ερώτηση για την προσφορά", "Καλημέρα σας, θα θέλαμε μια ενημερωμένη προσφορά."),
    ("Prośba o fakturę", "Dzień dobry, prosimy o przesłanie faktury za ostatni miesiąc."),
]


def demo_data(env, size: int) -> None:
    with env.request() as request:
        db = request.dbsession
        if db.execute(select(func.count(Mailbox.id))).scalar_one():
            click.echo("mail: the database already has mailboxes; demo data skipped")
            return
        admin = find_user(db, "admin@example.com")
        box = Mailbox(
            name="Support",
            address="support@example.com",
            kind="shared",
            imap_host="imap.example.com",
            imap_port=993,
            imap_security="ssl",
            username="support@example.com",
            password_secret="",
            folder="INBOX",
            smtp_host="smtp.example.com",
            smtp_port=587,
            smtp_security="starttls",
            file_by_domain=True,
            active=False,  # no real server behind it: the poller leaves it alone
            state="new",
            last_uid=0,
            uidvalidity=1,
            owner_id=admin.id if admin else None,
            custom={},
        )
        db.add(box)
        db.flush()
        people = (
            db.execute(
                select(Person).where(Person.email.is_not(None)).order_by(Person.id).limit(3 * size)
            )
            .scalars()
            .all()
        )
        now = utcnow()
        for uid, person in enumerate(people, start=1):
            subject, text = SUBJECTS[uid % len(SUBJECTS)]
            msg = EmailMessage()
            msg["From"] = f"{person.first_name or ''} {person.last_name or ''} <{person.email}>"
            msg["To"] = box.address
            msg["Subject"] = subject
            msg["Date"] = format_datetime(now - dt.timedelta(hours=7 * uid))
            msg["Message-ID"] = make_msgid(domain="demo.example.com")
            msg.set_content(text)
            store(request, box, 1, uid, msg.as_bytes())
            box.last_uid = uid
        click.echo(f"mail: 1 mailbox, {len(people)} messages")

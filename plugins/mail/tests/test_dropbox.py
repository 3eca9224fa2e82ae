"""The drop-box (ACT-02) against a real Dovecot: a personal address per user on the
mailbox marked as the drop-box; what a user BCCs or forwards there (attached or quoted
inline by Outlook, Gmail, Thunderbird) is filed as that user, within their record
rules; the page shows the address with a copy button and makes a new one."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid

from sqlalchemy import select

from .test_rules import new_box


def mail(sender, to, subject, body="Hi", cc=None, delivered_to=None, attach=None) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = sender, to, subject
    if cc:
        m["Cc"] = cc
    if delivered_to:  # what the delivery agent writes for a BCC
        m["Delivered-To"] = delivered_to
    m["Message-ID"] = make_msgid(domain="test.example")
    m.set_content(body)
    if attach is not None:
        m.add_attachment(attach)
    return m.as_bytes()


def setup_box(app, dovecot, user, password):
    return new_box(app, dovecot, user, password, address="dropbox@crm.example", dropbox=True)


GMAIL = """FYI, see below.

---------- Forwarded message ---------
From: Anna Nowak <anna@nowak.example>
Date: Mon, 7 Dec 2026 at 09:00
Subject: Order
To: Rep <rep@ours.example>

Please send the offer.
"""
THUNDERBIRD = """-------- Forwarded Message --------
Subject: \tOffer
Date: \tMon, 7 Dec 2026 09:00:00 +0200
From: \tGiorgos Papadopoulos <giorgos@papadopoulos.example>
To: \tRep <rep@ours.example>
"""
OUTLOOK = """See below

From: Ioana Popescu <ioana@popescu.example>
Sent: Monday, December 7, 2026 9:00 AM
To: Rep <rep@ours.example>
Subject: Offer
"""


def test_the_forwarded_original_sender_is_found_however_it_was_forwarded():
    from kyklos_mail.dropbox import forwarded_sender

    plain = mail("rep@ours.example", "x@y.example", "Fwd", body="x")
    assert forwarded_sender(plain, GMAIL) == ("Anna Nowak", "anna@nowak.example")
    assert forwarded_sender(plain, THUNDERBIRD)[1] == "giorgos@papadopoulos.example"
    assert forwarded_sender(plain, OUTLOOK)[1] == "ioana@popescu.example"
    inner = EmailMessage()
    inner["From"], inner["To"], inner["Subject"] = "Jan <jan@kowalski.example>", "rep@x", "Hi"
    inner.set_content("Hello")
    attached = mail("rep@ours.example", "x@y.example", "Fwd: Hi", attach=inner)
    assert forwarded_sender(attached, "") == ("Jan", "jan@kowalski.example")
    # a reply that quotes "From:" without being a forward is not one
    assert forwarded_sender(plain, "Thanks!\n\nFrom: the team\n") is None


def test_bcc_and_forwards_are_filed_as_the_user_within_their_rules(
    api, imap, make_record, make_user, dbsession
):
    from kyklos_mail.models import Filing, Message

    dovecot, user, password = imap
    admin = api("mailadmin", "sales")
    setup_box(admin, dovecot, user, password)
    rep = api("sales")
    address = rep.get("/api/v1/mail/dropbox").json["address"]
    assert address.startswith("dropbox+") and address.endswith("@crm.example")
    assert rep.get("/api/v1/mail/dropbox").json["address"] == address  # stable
    anna = make_record("person", first_name="Anna", last_name="Nowak", email="anna@nowak.example")
    ioana = make_record(
        "person", first_name="Ioana", last_name="Popescu", email="ioana@popescu.example"
    )
    box_id = admin.get("/api/v1/mailboxes").json["items"][0]["id"]
    dovecot.append(
        user,
        password,
        # BCC: the drop-box address only in Delivered-To; filed to the visible recipient
        mail(
            "rep@ours.example", "Ioana <ioana@popescu.example>", "Our offer", delivered_to=address
        ),
        # forwarded inline (Gmail): filed to the original sender
        mail("rep@ours.example", address, "Fwd: Order", body=GMAIL),
        # not a personal address: kept, filed nowhere
        mail("someone@else.example", "dropbox@crm.example", "Hello", cc="ioana@popescu.example"),
    )
    admin.post(f"/api/v1/mailboxes/{box_id}/fetch", status=202)
    led = {e["uid"]: e for e in admin.get(f"/api/v1/mailboxes/{box_id}/ledger").json["items"]}
    assert led[1]["outcome"] == "filed" and "drop-box of" in led[1]["reason"]
    assert led[2]["outcome"] == "filed"
    assert led[3]["outcome"] == "unmatched" and "no personal address" in led[3]["reason"]
    with dbsession() as db:
        filed = {
            (m.subject, f.entity, f.record_id, f.how)
            for m, f in db.execute(
                select(Message, Filing).join(Filing, Filing.mail_id == Message.id)
            )
        }
        owners = {m.subject: m.owner_id for m in db.execute(select(Message)).scalars()}
    assert ("Our offer", "person", ioana, "drop-box bcc") in filed
    assert ("Fwd: Order", "person", anna, "drop-box forwarded") in filed
    assert not any(s == "Hello" for s, *_ in filed)
    assert owners["Our offer"] == owners["Fwd: Order"] != owners["Hello"]
    # the rep sees them on the person's timeline as their own
    mine = rep.get("/api/v1/mail-messages").json["items"]
    assert {"Our offer", "Fwd: Order"} <= {m["subject"] for m in mine}


def test_regenerating_stops_the_old_address(api, imap, make_record, client):
    dovecot, user, password = imap
    admin = api("mailadmin", "sales")
    setup_box(admin, dovecot, user, password)
    rep = api("sales")
    old = rep.get("/api/v1/mail/dropbox").json["address"]
    new = rep.post("/api/v1/mail/dropbox/regenerate").json["address"]
    assert new != old and new.startswith("dropbox+")
    ioana = make_record(
        "person", first_name="Ioana", last_name="Popescu", email="ioana@popescu.example"
    )
    box_id = admin.get("/api/v1/mailboxes").json["items"][0]["id"]
    dovecot.append(
        user, password, mail("rep@ours.example", "ioana@popescu.example", "Old", delivered_to=old)
    )
    admin.post(f"/api/v1/mailboxes/{box_id}/fetch", status=202)
    [entry] = admin.get(f"/api/v1/mailboxes/{box_id}/ledger").json["items"]
    assert entry["outcome"] == "unmatched"
    assert ioana  # nothing was filed to her


def test_the_page_shows_the_address_copy_and_regenerate(api, client, imap):
    dovecot, user, password = imap
    web = client("sales")
    page = web.get("/mail/dropbox")
    assert page.html.select_one(".k-no-dropbox") is not None  # no drop-box mailbox yet
    setup_box(api("mailadmin", "sales"), dovecot, user, password)
    page = web.get("/mail/dropbox")
    shown = page.html.select_one("input.k-dropbox-address")["value"]
    assert shown.startswith("dropbox+") and page.html.select_one("button[data-k-copy]")
    form = next(f for f in page.forms.values() if f.action.endswith("/mail/dropbox"))
    page = form.submit().follow()
    assert page.html.select_one("input.k-dropbox-address")["value"] != shown


def test_only_a_shared_mailbox_is_the_drop_box(api, imap):
    from .test_rules import errors_of

    dovecot, user, password = imap
    rep = api("sales")
    res = rep.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@crm.example",
            "kind": "personal",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
            "dropbox": True,
        },
        status=400,
    )
    assert "dropbox" in errors_of(res)
    assert rep.get("/api/v1/mail/dropbox").json == {"address": None, "mailbox": None}
    rep.post("/api/v1/mail/dropbox/regenerate", status=409)


def test_a_user_files_only_to_records_they_may_read(api, imap, make_record, make_user):
    """A mail administrator without the contacts roles BCCs a customer: the message is
    kept as theirs but filed to no one, since they may not read the person."""
    dovecot, user, password = imap
    admin = api("mailadmin")
    setup_box(admin, dovecot, user, password)
    address = admin.get("/api/v1/mail/dropbox").json["address"]
    make_record("person", first_name="Ioana", last_name="Popescu", email="ioana@popescu.example")
    box_id = admin.get("/api/v1/mailboxes").json["items"][0]["id"]
    dovecot.append(
        user,
        password,
        mail("adm@ours.example", "ioana@popescu.example", "Secret", delivered_to=address),
    )
    admin.post(f"/api/v1/mailboxes/{box_id}/fetch", status=202)
    [entry] = admin.get(f"/api/v1/mailboxes/{box_id}/ledger").json["items"]
    assert entry["outcome"] == "unmatched" and "drop-box of" in entry["reason"]
    # the same message from a rep who may read her is filed (see the test above)
    rep = api("sales")
    dovecot.append(
        user,
        password,
        mail(
            "rep@ours.example",
            "ioana@popescu.example",
            "Offer",
            delivered_to=rep.get("/api/v1/mail/dropbox").json["address"],
        ),
    )
    admin.post(f"/api/v1/mailboxes/{box_id}/fetch", status=202)
    entries = admin.get(f"/api/v1/mailboxes/{box_id}/ledger").json["items"]
    assert entries[0]["outcome"] == "filed"

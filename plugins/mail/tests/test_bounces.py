"""Bounces and spam complaints (issue 23) and Outlook's winmail.dat, read from real
messages (see data/SOURCES.md): through Dovecot they are accounted for in the ledger as
"bounce"/"complaint", filed to nobody, and the campaigns plugin (through
``kyklos_mail_bounce_received``) marks the recipient bounced, suppresses the address or
unsubscribes the person; a reply to a campaign e-mail is filed as mail and (through
``kyklos_mail_message_filed``) recorded as that recipient's response."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from kyklos_sdk import utcnow

from .test_mail import message, new_mailbox

DATA = Path(__file__).parent / "data"


def eml(name: str) -> bytes:
    return (DATA / name).read_bytes()


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "mail", "campaigns"]


# --- reading the reports ------------------------------------------------------------------


def test_standard_and_non_standard_bounces_and_complaints_are_read():
    from kyklos_mail.bounces import detect

    postfix = detect(eml("postfix-dsn-spf-rejected.eml"))
    assert postfix.kind == "bounce"
    [f] = postfix.failures
    assert f.address == "3160929228@qq.com" and f.permanent
    assert f.reason.startswith("5.0.0 550 SPF check failed")
    exim = detect(eml("exim-dsn-unrouteable.eml"))
    assert [(f.address, f.permanent) for f in exim.failures] == [("nobody.here@example.org", True)]
    assert exim.original_message_id == "<campaign-7.42@example.com>"
    # no message/delivery-status part at all: flufl.bounce's Exim detector reads it
    old = detect(eml("exim-old-bounce-no-dsn.eml"))
    assert [f.address for f in old.failures] == ["gone.away@example.net"]
    assert old.original_message_id == "<campaign-7.43@example.com>"
    arf = detect(eml("arf-rfc5965-abuse-report.eml"))
    assert arf.kind == "complaint" and [f.address for f in arf.failures] == ["user@example.com"]
    # ordinary mail, even mail that talks about delivery, is not a report
    for name in ("gmail-alternative-attachment.eml", "outlook16-reply-threaded.eml"):
        assert detect(eml(name)) is None
    assert detect(message("jane@example.com", subject="Delivery failed?")) is None


def test_a_delay_is_a_temporary_failure():
    from kyklos_mail.bounces import detect

    raw = eml("exim-dsn-unrouteable.eml").replace(b"Action: failed", b"Action: delayed")
    raw = raw.replace(b"Status: 5.0.0", b"Status: 4.4.1")
    [f] = detect(raw).failures
    assert not f.permanent and f.reason == "4.4.1"


def test_winmail_dat_gives_its_body_and_goes():
    from kyklos_mail.parse import parse

    p = parse(eml("outlook16-winmail-dat-only.eml"))
    assert "Automate Show 2023" in p.text  # from the compressed RTF inside winmail.dat
    assert [a.filename for a in p.attachments] == []  # it wrapped no files
    assert p.problems == []
    # a broken one stays attached as it came, and the parse says so
    raw = eml("outlook16-winmail-dat-only.eml").replace(b"eJ8+IhoSAQaQ", b"AAAAAAAAAAAA")
    p = parse(raw)
    assert [a.filename for a in p.attachments] == ["winmail.dat"]
    assert any("winmail.dat" in x for x in p.problems)


def test_the_files_inside_winmail_dat_become_attachments(monkeypatch):
    """What :func:`kyklos_mail.tnef.unpack` returns replaces the winmail.dat (the
    unpacking of a stream with files is tnefparse's, tested there)."""
    from kyklos_mail import tnef
    from kyklos_mail.parse import parse

    monkeypatch.setattr(
        tnef, "unpack", lambda data: ([("offer.pdf", b"%PDF-1.4"), ("notes.txt", b"hi")], "", "")
    )
    p = parse(eml("outlook16-winmail-dat-only.eml"))
    assert [(a.filename, a.content_type) for a in p.attachments] == [
        ("offer.pdf", "application/pdf"),
        ("notes.txt", "text/plain"),
    ]


# --- through Dovecot, the ledger and the campaigns plugin ----------------------------------


def _campaign(dbsession, make_record, *addresses):
    from kyklos_campaigns.models import Campaign, Recipient

    people = [
        make_record("person", first_name=f"P{n}", last_name="Test", email=a)
        for n, a in enumerate(addresses)
    ]
    with dbsession() as db:
        c = Campaign(name="Spring offers", channel="email", status="sent")
        db.add(c)
        db.flush()
        ids = []
        for person, address in zip(people, addresses, strict=True):
            r = Recipient(
                campaign_id=c.id,
                person_id=person,
                address=address,
                state="sent",
                sent_at=utcnow(),
            )
            db.add(r)
            db.flush()
            ids.append(r.id)
        return c.id, ids, people


def test_reports_in_a_mailbox_are_ledgered_not_filed_and_reach_campaigns(
    api, imap, make_record, dbsession
):
    from kyklos_campaigns.models import Recipient, Suppression
    from kyklos_contacts.models import Consent

    dovecot, user, password = imap
    app = api("sales")
    _cid, (hard, complained, ok), (_p1, p2, _p3) = _campaign(
        dbsession, make_record, "3160929228@qq.com", "user@example.com", "fine@example.org"
    )
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(
        user,
        password,
        eml("postfix-dsn-spf-rejected.eml"),
        eml("arf-rfc5965-abuse-report.eml"),
        message("fine@example.org", subject="Thanks for the offer"),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    led = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json
    outcomes = {e["uid"]: (e["outcome"], e["reason"]) for e in led["items"]}
    assert outcomes[1][0] == "bounce" and "3160929228@qq.com (permanent" in outcomes[1][1]
    assert outcomes[2][0] == "complaint" and "user@example.com" in outcomes[2][1]
    assert outcomes[3][0] == "filed"
    # only the real message became an e-mail record
    msgs = app.get("/api/v1/mail-messages", {"mailbox_id": box["id"]}).json["items"]
    assert [m["subject"] for m in msgs] == ["Thanks for the offer"]
    assert (
        app.get(f"/api/v1/mailboxes/{box['id']}/ledger", {"outcome": "bounce"}).json["items"][0][
            "uid"
        ]
        == 1
    )
    with dbsession() as db:
        rec = {r.id: r for r in db.execute(select(Recipient)).scalars()}
        assert rec[hard].state == "bounced" and rec[hard].error.startswith("5.0.0")
        assert rec[hard].bounced_at is not None
        assert rec[complained].unsubscribed_at is not None
        assert rec[ok].state == "sent" and rec[ok].error is None
        suppressed = {s.address: s.reason for s in db.execute(select(Suppression)).scalars()}
        assert set(suppressed) == {"3160929228@qq.com", "user@example.com"}
        assert suppressed["user@example.com"].startswith("spam complaint")
        consent = db.execute(select(Consent).where(Consent.person_id == p2)).scalar_one()
        assert consent.channel == "email" and consent.status == "opt_out"


def test_a_bounce_quoting_the_campaign_message_finds_that_recipient(
    api, imap, make_record, dbsession
):
    """Matched by the quoted Message-ID ``<campaign-{campaign}.{recipient}@...>`` even when
    the same address had later mail from another campaign; a delay only notes it."""
    from kyklos_campaigns.models import Recipient

    dovecot, user, password = imap
    app = api("sales")
    cid, (first,), _ = _campaign(dbsession, make_record, "nobody.here@example.org")
    _cid2, (later,), _ = _campaign(dbsession, make_record, "nobody.here@example.org")
    raw = eml("exim-dsn-unrouteable.eml").replace(
        b"<campaign-7.42@example.com>", f"<campaign-{cid}.{first}@example.com>".encode()
    )
    delayed = raw.replace(b"Action: failed", b"Action: delayed").replace(
        b"Status: 5.0.0", b"Status: 4.4.1"
    )
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, delayed)
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    with dbsession() as db:
        r = db.get(Recipient, first)
        assert r.state == "sent" and r.error == "delayed: 4.4.1" and r.soft_bounces == 1
    dovecot.append(user, password, raw.replace(b"E1qZ3Jk", b"E1qZ3Jz"))
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    with dbsession() as db:
        assert db.get(Recipient, first).state == "bounced"
        assert db.get(Recipient, later).state == "sent"


def test_a_failing_bounce_handler_leaves_the_report_in_the_ledger(api, imap, registry):
    from kyklos_sdk import hookimpl

    class Broken:
        @hookimpl
        def kyklos_mail_bounce_received(
            self, request, address, kind, permanent, reason, original_message_id
        ):
            raise RuntimeError("no")

    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, eml("exim-old-bounce-no-dsn.eml"))
    pm = registry.kyklos_pm
    pm.register(Broken(), name="test.broken-bounces")
    try:
        app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    finally:
        pm.unregister(name="test.broken-bounces")
    [entry] = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"]
    assert entry["outcome"] == "bounce"
    assert "gone.away@example.net: RuntimeError" in entry["reason"]


def test_a_reply_to_a_campaign_e_mail_is_filed_and_recorded_as_a_response(
    api, imap, make_record, dbsession
):
    """The reply names the campaign's Message-ID in In-Reply-To (and References): filed
    to the person like any mail, and the recipient's response is "replied"; an
    out-of-office answer and ordinary mail from the same person are no response."""
    from kyklos_campaigns.models import Recipient

    dovecot, user, password = imap
    app = api("sales")
    cid, (nikos, maria), (p_nikos, _p_maria) = _campaign(
        dbsession, make_record, "nikos@example.gr", "maria@example.gr"
    )
    ours = f"<campaign-{cid}.{nikos}@example.com>"
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(
        user,
        password,
        message("maria@example.gr", subject="Another matter"),
        message(
            "maria@example.gr",
            subject="Out of office",
            in_reply_to=f"<campaign-{cid}.{maria}@example.com>",
            auto_submitted="auto-replied",
        ),
        message(
            "Nikos Test <nikos@example.gr>",
            subject="Re: Spring offers",
            body="Yes, please call me.",
            in_reply_to=ours,
            references=f"<older@example.gr> {ours}",
        ),
    )
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    led = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"]
    assert [e["outcome"] for e in sorted(led, key=lambda e: e["uid"])] == ["filed"] * 3
    with dbsession() as db:
        rec = db.get(Recipient, nikos)
        assert rec.response == "replied" and rec.responded_at is not None
        other = db.get(Recipient, maria)
        assert other.response is None and other.responded_at is None
    # the reply is mail filed to Nikos as well
    from kyklos_mail.models import Filing

    mails = app.get("/api/v1/mail-messages", {"mailbox_id": box["id"]}).json["items"]
    reply = next(m for m in mails if m["subject"] == "Re: Spring offers")
    with dbsession() as db:
        filed = db.execute(
            select(Filing.entity, Filing.record_id).where(Filing.mail_id == reply["id"])
        ).all()
    assert ("person", p_nikos) in [tuple(f) for f in filed]


def test_a_failing_message_filed_hook_leaves_the_message_filed(api, imap, registry, make_record):
    from kyklos_sdk import hookimpl

    seen = []

    class Broken:
        @hookimpl
        def kyklos_mail_message_filed(self, request, mailbox, message, parsed, filed):
            seen.append((mailbox.id, message.subject, parsed.sender_address, filed))
            raise RuntimeError("no")

    dovecot, user, password = imap
    app = api("sales")
    jane = make_record("person", first_name="Jane", last_name="Doe", email="jane@example.com")
    box = new_mailbox(app, dovecot, user, password)
    dovecot.append(user, password, message("jane@example.com", subject="Still here"))
    pm = registry.kyklos_pm
    pm.register(Broken(), name="test.broken-filed")
    try:
        app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    finally:
        pm.unregister(name="test.broken-filed")
    [entry] = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"]
    assert entry["outcome"] == "filed"
    assert "after filing: RuntimeError" in entry["reason"]
    [mail] = app.get("/api/v1/mail-messages", {"mailbox_id": box["id"]}).json["items"]
    assert mail["subject"] == "Still here"
    # the hook was told what was filed where
    assert seen == [(box["id"], "Still here", "jane@example.com", [("person", jane)])]

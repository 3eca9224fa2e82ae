"""The corpus of real clients' messages (data/SOURCES.md) through a real Dovecot: every
message put in is accounted for in the ledger, read with its subject in words whatever
its charset, and the files inside a real Outlook winmail.dat arrive whole (names, sizes,
SHA-256) as the message record's attachments."""

from __future__ import annotations

import hashlib
from pathlib import Path

from .test_mail import new_mailbox

DATA = Path(__file__).parent / "data"

#: file -> (subject as read, ledger outcome); every .eml of data/ must be here
CORPUS = {
    "alpine-greek-iso8859-7-subject.eml": (
        "Re: [PATCH] x86: pci: xen: Remove unnecessary ‘0’ values from ret",
        "unmatched",
    ),
    "applemail-quoted-printable.eml": (
        "Re: [oss-security] backdoor in upstream xz/liblzma leading to ssh server compromise",
        "unmatched",
    ),
    "arf-rfc5965-abuse-report.eml": (None, "complaint"),
    "exim-dsn-unrouteable.eml": (None, "bounce"),
    "exim-old-bounce-no-dsn.eml": (None, "bounce"),
    "gmail-alternative-attachment.eml": ("test eml", "unmatched"),
    "o2webmail-polish-iso8859-2.eml": ("Re: Problems with 2.6.10", "unmatched"),
    "outlook-exchange-winmail-dat-three-files.eml": ("UmlautAnhang TEST äöü +-*/~", "unmatched"),
    "outlook16-reply-threaded.eml": (
        "RE: [PATCH] ALSA: hda: cs35l56: Stop creating ALSA controls for firmware coefficients",
        "unmatched",
    ),
    "outlook16-winmail-dat-only.eml": ("Vger", "unmatched"),
    "outlook2000-multipart-latin1.eml": ("Test message from Microsoft Outlook 00", "unmatched"),
    "postfix-dsn-spf-rejected.eml": (None, "bounce"),
    "thunderbird1-polish-iso8859-2-flowed.eml": (
        "poor SATA performance under 2.6.11 (with < 2.6.11 is OK)?",
        "unmatched",
    ),
}

#: what tnefparse's umlaut.tnef (an Outlook message of TBZ PARIV GmbH) wraps
WINMAIL_FILES = [
    (
        "TBZ PARIV GmbH.jpg",
        44764,
        "67597116a0dbb64f7576edbf4285183441536529aa5643b4127de7d4e0097822",
    ),
    ("image003.jpg", 1001, "49b597682736b44a6ce499a05bcadf60d996244b5679d46cfe37ad5cc820fb00"),
    (
        "UmlautAnhang-äüö.txt",
        14,
        "9b34b140af86a7de1be22a13fd6bc8abf03abb8094c0e65751b2f221188a3b41",
    ),
]


def test_every_message_of_the_corpus_has_its_provenance():
    files = sorted(p.name for p in DATA.glob("*.eml"))
    assert files == sorted(CORPUS)
    sources = (DATA / "SOURCES.md").read_text()
    assert [f for f in files if f"`{f}`" not in sources] == []


def test_the_files_inside_a_real_winmail_dat_are_read_whole():
    from kyklos_mail.parse import parse

    p = parse((DATA / "outlook-exchange-winmail-dat-three-files.eml").read_bytes())
    assert [
        (a.filename, len(a.data), hashlib.sha256(a.data).hexdigest()) for a in p.attachments
    ] == WINMAIL_FILES
    assert [a.content_type for a in p.attachments] == ["image/jpeg", "image/jpeg", "text/plain"]
    assert p.problems == [] and "TESTäöü" in p.text


def test_every_real_message_is_accounted_for_and_winmail_files_arrive_whole(api, imap):
    dovecot, user, password = imap
    app = api("sales")
    box = new_mailbox(app, dovecot, user, password)
    names = sorted(CORPUS)
    dovecot.append(user, password, *[(DATA / n).read_bytes() for n in names])
    app.post(f"/api/v1/mailboxes/{box['id']}/fetch", status=202)
    ledger = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json
    # counted in and out: one ledger entry per message appended, in the order of the UIDs
    entries = sorted(ledger["items"], key=lambda e: e["uid"])
    assert len(entries) == len(names)
    assert [e["outcome"] for e in entries] == [CORPUS[n][1] for n in names]
    subjects = {e["subject"] for e in entries if e["subject"]}
    assert subjects == {s for s, _o in CORPUS.values() if s}
    reconcile = app.get(f"/api/v1/mailboxes/{box['id']}/reconcile").json
    assert reconcile["in_sync"] and reconcile["server_count"] == len(names)
    # the files of the winmail.dat are the message record's attachments, byte for byte
    [mail_id] = [e["mail_id"] for e in entries if e["subject"] == "UmlautAnhang TEST äöü +-*/~"]
    files = app.get(f"/api/v1/mail-messages/{mail_id}/attachments").json["items"]
    got = []
    for f in files:
        body = app.get(f"/api/v1/attachments/{f['id']}").body
        assert hashlib.sha256(body).hexdigest() == f["sha256"] and len(body) == f["size"]
        got.append((f["filename"], f["size"], f["sha256"]))
    assert sorted(got) == sorted(WINMAIL_FILES)

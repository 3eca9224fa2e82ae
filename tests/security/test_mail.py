"""Outgoing mail (kyklos.mail) against a real SMTP server: sent only after the
transaction commits, never when it aborts; header injection refused."""

from __future__ import annotations

import pytest
import transaction

from kyklos.mail import MailError, send_mail


class FakeRequest:
    """What send_mail needs of a request: the registry and the transaction manager."""

    def __init__(self, registry):
        self.registry = registry
        self.tm = transaction.TransactionManager(explicit=True)


def test_sent_after_commit_only(registry, smtp_server):
    req = FakeRequest(registry)
    req.tm.begin()
    send_mail(req, "a@example.com", "Rolled back", "never sent")
    req.tm.abort()
    req.tm.begin()
    send_mail(
        req,
        ["b@example.com", "Carol <c@example.com>"],
        "Καλημέρα — ok",
        "body text",
        html="<p>body <b>html</b></p>",
    )
    assert smtp_server.messages == []  # not before the commit
    req.tm.commit()
    msgs = smtp_server.wait(1)
    assert len(msgs) == 1
    msg = msgs[0]
    assert msg["Subject"] == "Καλημέρα — ok"
    assert msg.envelope_to == ["b@example.com", "c@example.com"]
    assert msg["From"] == "Kyklos <kyklos@example.com>"
    assert msg.get_body(("plain",)).get_content().strip() == "body text"
    assert "<b>html</b>" in msg.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    "to, subject",
    [
        ("a@example.com\r\nBcc: victim@example.com", "hi"),
        ("a@example.com", "hi\r\nBcc: victim@example.com"),
        ("a@example.com", "hi\nX-Injected: 1"),
        ("a@example.com, b@example.com", "two in one"),
        ("Eve <a@example.com>\nBcc: v@example.com", "name smuggling"),
        ("not an address", "hi"),
        ("a@example.com", "x" * 2000),
    ],
)
def test_header_injection_is_refused(registry, smtp_server, to, subject):
    req = FakeRequest(registry)
    req.tm.begin()
    with pytest.raises(MailError):
        send_mail(req, to, subject, "body")
    req.tm.commit()
    assert smtp_server.messages == []


def test_body_is_not_interpreted(registry, smtp_server):
    req = FakeRequest(registry)
    req.tm.begin()
    send_mail(req, "a@example.com", "body", "line1\r\n.\r\nBcc: x@example.com\r\nline2")
    req.tm.commit()
    msg = smtp_server.wait(1)[0]
    assert msg.envelope_to == ["a@example.com"] and msg["Bcc"] is None


def test_without_a_host_messages_go_to_the_drop_folder_and_the_console_says_so_once(
    tmp_path, caplog
):
    """development.ini has no SMTP server: what would have been sent is kept as .eml files,
    and a newcomer's console gets one line about it, not one per message."""
    import email
    import logging

    from kyklos import mail

    mail._told_unsent.clear()
    settings = {"kyklos.mail.drop_dir": str(tmp_path / "mail"), "kyklos.mail.sender": "k@x.gr"}
    with caplog.at_level(logging.INFO, logger="kyklos.mail"):
        for n in range(3):
            mail.deliver(settings, mail.build_message(settings, f"p{n}@x.gr", f"Θέμα {n}", "σώμα"))
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert len(files) == 3
    got = {
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Subject"]
        for f in files
    }
    assert got == {"Θέμα 0", "Θέμα 1", "Θέμα 2"}
    told = [r for r in caplog.records if r.levelno >= logging.INFO]
    assert len(told) == 1 and str(tmp_path / "mail") in told[0].getMessage()

    mail._told_unsent.clear()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kyklos.mail"):
        for _n in range(3):
            mail.deliver({}, mail.build_message({}, "p@x.gr", "s", "b"))
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warned) == 1 and "kyklos.mail.host is not set" in warned[0].getMessage()

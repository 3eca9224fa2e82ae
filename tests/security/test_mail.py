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

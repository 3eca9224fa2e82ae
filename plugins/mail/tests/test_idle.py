"""IMAP IDLE against a real Dovecot (its ``mailbox_idle_check_interval`` is 1 s here):
a message appended from another connection is fetched into the ledger within seconds,
while the watch still holds its bounded IDLE; the watch ends at its bound; a mailbox
that fails ends its watch and says why."""

from __future__ import annotations

import threading
import time
from email.message import EmailMessage
from email.utils import make_msgid


def message(subject) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "a@b.example", "box@example.com", subject
    m["Message-ID"] = make_msgid(domain="test.example")
    m.set_content("x")
    return m.as_bytes()


def new_box(app, dovecot, user, password) -> dict:
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Watched",
            "address": "box@example.com",
            "kind": "personal",
            "imap_host": dovecot.host,
            "imap_port": dovecot.port,
            "imap_security": "none",
            "username": user,
        },
        status=201,
    ).json
    app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": password}, status=204)
    return box


def test_a_new_message_is_fetched_within_seconds_while_idling(api, imap, registry):
    from kyklos_mail.jobs import watch_for

    dovecot, user, password = imap
    app = api("sales")
    box = new_box(app, dovecot, user, password)
    result = {}
    started = time.monotonic()
    watcher = threading.Thread(
        target=lambda: result.update(watch_for(registry, box["id"], 12)), daemon=True
    )
    watcher.start()
    time.sleep(1.5)  # the watch is in IDLE
    dovecot.append(user, password, message("Right now"))
    arrived = None
    while time.monotonic() - started < 11:
        items = app.get(f"/api/v1/mailboxes/{box['id']}/ledger").json["items"]
        if items:
            arrived = time.monotonic() - started
            break
        time.sleep(0.3)
    assert arrived is not None and arrived < 8, arrived
    assert watcher.is_alive()  # fetched while the IDLE went on, not by its end
    watcher.join(timeout=20)
    assert result == {"idle": True, "fetched": 1}
    assert time.monotonic() - started >= 12  # bounded: it returns at its limit
    msgs = app.get("/api/v1/mail-messages").json["items"]
    assert [m["subject"] for m in msgs] == ["Right now"]


def test_a_failing_mailbox_ends_the_watch_and_says_why(api, imap, registry):
    from kyklos_mail.jobs import watch_for

    dovecot, user, _password = imap
    app = api("sales")
    box = new_box(app, dovecot, user, "wrong")
    got = watch_for(registry, box["id"], 5)
    assert "error" in got
    assert app.get(f"/api/v1/mailboxes/{box['id']}").json["state"] == "failing"

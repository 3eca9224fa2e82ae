"""Automation actions that leave the building: e-mail through a real SMTP server
(aiosmtpd), messages through a plugin's channel, and webhooks with SSRF protection
(SECURITY.md class 21) against a real local HTTP server."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from kyklos.jobs.models import Job
from kyklos.workflow import webhooks
from kyklos.workflow.models import AutomationRun


class Receiver:
    def __init__(self):
        self.calls = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.calls.append((self.path, dict(self.headers), body))
                if self.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.end_headers()
                    return
                status = 500 if self.path == "/fail" else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"ok": true}')

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook", host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def kyklos_settings(smtp_server):
    # Only 127.0.0.1 is let through, for the local receiver; 127.0.0.2 stays refused.
    return {**smtp_server.settings, "kyklos.webhooks.allow_networks": "127.0.0.1/32"}


def rule(admin, **doc):
    body = {"entity": "ticket", "name": "io", "trigger": {"kind": "created"}, **doc}
    return admin.post_json("/api/v1/_automation/rules", body, status=201).json


def test_send_email_renders_a_sandboxed_template(api, smtp_server):
    admin = api("admin")
    rule(
        admin,
        actions=[
            {
                "type": "send_email",
                "to": ["owner", "audit@example.com"],
                "subject": "New ticket: $name",
                "body": "Ticket $name ($amount) at $record_url\n{{ ''.__class__.__mro__ }} "
                "${__class__} $request $nosuch",
            }
        ],
    )
    u = api("ticketeer", email="owner@example.com")
    u.post_json(
        "/api/v1/tickets", {"name": "Evil\r\nBcc: victim@example.com", "amount": 5}, status=201
    )
    msgs = smtp_server.wait(2)
    assert sorted(r for m in msgs for r in m.envelope_to) == [
        "audit@example.com",
        "owner@example.com",
    ]
    m = msgs[0]
    # CR/LF from the record cannot add a header.
    assert m["Subject"] == "New ticket: Evil Bcc: victim@example.com"
    assert m["Bcc"] is None
    body = m.get_body(("plain",)).get_content()
    assert "(5) at http" in body and "/tickets/" in body
    # No expressions, no attribute access: placeholders that are not fields stay as typed.
    assert "{{ ''.__class__.__mro__ }} ${__class__} $request $nosuch" in body


def test_send_message_through_a_plugin_channel(api, registry):
    admin = api("admin")
    rule(
        admin,
        actions=[
            {
                "type": "send_message",
                "channel": "sampleflow.sms",
                "to": ["owner"],
                "body": "ticket $name is in",
            }
        ],
    )
    before = len(registry.sampleflow_outbox.sent)
    u = api("ticketeer", email="sms@example.com")
    u.post_json("/api/v1/tickets", {"name": "printer"}, status=201)
    assert registry.sampleflow_outbox.sent[before:] == [
        ("sms@example.com", "", "ticket printer is in")
    ]
    res = admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "ticket",
            "name": "x",
            "trigger": "created",
            "actions": [{"type": "send_message", "channel": "pigeon", "to": ["owner"]}],
        },
        status=400,
    )
    assert "unknown channel" in res.json["errors"][0]["detail"]


def test_webhook_posts_the_record(api, receiver, dbsession):
    admin = api("admin")
    r = rule(admin, actions=[{"type": "webhook", "url": receiver.url("/hook?x=1")}])
    before = len(receiver.calls)
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "hooked", "amount": 3}, status=201).json
    path, headers, body = receiver.calls[before]
    assert path == "/hook?x=1"
    doc = json.loads(body)
    assert doc["record"]["name"] == "hooked" and doc["record"]["amount"] == 3
    assert doc["rule"] == {"id": r["id"], "name": "io"} and doc["event"] == "created"
    assert headers["Idempotency-Key"] == f"kyklos-run-{doc['run_id']}-0"
    with dbsession() as db:
        run = db.execute(
            select(AutomationRun).where(AutomationRun.record_id == t["id"])
        ).scalar_one()
        assert run.outcome == "done" and run.results[0]["status"] == 200


@pytest.mark.parametrize(
    "path, host",
    [
        ("/redirect", "127.0.0.1"),  # a redirect (to the metadata service) is not followed
        ("/fail", "127.0.0.1"),  # an error status fails the action (and the job retries)
        ("/hook", "127.0.0.2"),  # loopback outside the allowed network
    ],
)
def test_webhook_failures_fail_the_run(api, receiver, dbsession, path, host):
    admin = api("admin")
    rule(admin, actions=[{"type": "webhook", "url": receiver.url(path, host)}])
    before = len(receiver.calls)
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "x"}, status=201).json
    with dbsession() as db:
        run = db.execute(
            select(AutomationRun).where(AutomationRun.record_id == t["id"])
        ).scalar_one()
        job = db.get(Job, run.job_id)
        assert run.outcome == "fired" and job.state == "retrying"
        assert "Webhook" in job.error
    if host == "127.0.0.2":
        assert len(receiver.calls) == before  # refused before connecting
    log = admin.get(f"/api/v1/tickets/{t['id']}/automation-runs").json["items"]
    # the run log says what happens next: it failed and the job will try again
    assert log[0]["outcome"] == "retrying"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/_stats",
        "ftp://example.com/x",
        "http://user:secret@example.com/",
        "http://127.0.0.1/",
        "http://localhost/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://10.1.2.3/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://exa mple.com/",
        "http:///nohost",
        "javascript:alert(1)",
    ],
)
def test_ssrf_targets_are_refused_before_connecting(url):
    with pytest.raises(webhooks.WebhookRefused):
        scheme, host, port, _path = webhooks.check_url(url)
        webhooks.resolve(host, port)


def test_public_address_passes_the_check():
    assert webhooks._public(__import__("ipaddress").ip_address("93.184.216.34"))
    assert webhooks.check_url("https://example.com:8443/a?b=c") == (
        "https",
        "example.com",
        8443,
        "/a?b=c",
    )

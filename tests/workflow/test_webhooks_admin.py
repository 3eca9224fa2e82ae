"""Webhooks an administrator keeps (issue #17, item 7): list with an empty state,
create (the secret shown once), edit, "send a test", delete; events picked from the
record types and their events in words; deliveries to a real HTTP server the test
starts, signed with the secret, with the exact error when the receiver fails; the same
through the API."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import re
import threading

import pytest
from sqlalchemy import select

from kyklos.workflow.models import WebhookDelivery, WebhookSubscription


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


@pytest.fixture
def kyklos_settings():
    # the receiver runs on this machine: allow loopback for these tests only
    return {"kyklos.webhooks.allow_networks": "127.0.0.0/8"}


class Receiver:
    def __init__(self):
        self.requests = []
        self.fail_with = None
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server API
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), body))
                status = outer.fail_with or 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"receiver is down" if outer.fail_with else b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def _form(page):
    return page.forms["webhook-form"]


def _signed(secret, body, header):
    return header == "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_the_admin_pages_make_test_and_deliver_a_webhook(client, api, receiver, dbsession):
    app = client("admin")
    admin_index = app.get("/admin")
    assert "/admin/webhooks" in admin_index.text
    page = app.get("/admin/webhooks")
    assert page.html.select_one("#webhooks-empty")
    page = app.get("/admin/webhooks/new")
    # events are offered in words, grouped by record type, never as raw keys
    options = {o["value"]: o.text for o in page.html.select("#wh-events option")}
    assert options["ticket:created"].endswith(": created")
    assert "ticket:created" not in "".join(options.values())
    form = _form(page)
    form["name"] = ""
    form["url"] = "ftp://example.com/x"
    res = form.submit("action", value="save", status=400)
    errors = res.html.select_one("#webhook-errors").text
    assert "Give the webhook a name." in errors and "only http and https" in errors
    assert "Choose at least one event." in errors
    with dbsession() as db:
        assert db.execute(select(WebhookSubscription)).first() is None
    form = _form(res)
    form["name"] = "ERP"
    form["url"] = receiver.url
    form["events"].force_value(["ticket:created", "ticket:deleted"])
    page = form.submit("action", value="save").follow()
    secret = page.html.select_one("#webhook-secret-value").text
    assert secret.startswith("whsec_")
    # shown once: the next visit does not show it
    hook_url = page.request.path
    assert "webhook-secret" not in app.get(hook_url).text
    assert page.html.select_one("#webhook-no-deliveries")

    # send a test: delivered, signed
    page = app.get(hook_url)
    page = page.forms["webhook-test-form"].submit("action", value="test").follow()
    assert "The test was delivered." in page.text
    path, headers, body = receiver.requests[-1]
    assert path == "/hook" and json.loads(body)["event"] == "test"
    assert _signed(secret, body, headers["X-Kyklos-Signature"])
    assert page.html.select(".k-deliveries .k-delivery-ok")

    # a real event: a ticket created through the API reaches the receiver
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "Broken printer"}, status=201).json
    event = [json.loads(b) for _p, _h, b in receiver.requests if b"ticket:created" in b]
    assert len(event) == 1 and event[0]["id"] == t["id"]
    assert event[0]["record"]["name"] == "Broken printer"
    # an event not subscribed to is not sent
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"name": "Fixed printer"}, status=200)
    assert not [b for _p, _h, b in receiver.requests if b"ticket:updated" in b]

    # the receiver fails: the exact error is shown, the test says so
    receiver.fail_with = 500
    page = app.get(hook_url).forms["webhook-test-form"].submit("action", value="test").follow()
    assert "The test failed" in page.text
    error = page.html.select_one(".k-delivery-failed .k-delivery-error").text
    assert "answered 500: receiver is down" in error
    failed = page.html.select_one(".k-delivery-failed").text
    assert "500" in failed
    # list: last delivery failed
    listing = app.get("/admin/webhooks")
    assert "ERP" in listing.text and "failed" in listing.text

    # edit: switch it off; then no event is sent
    form = _form(app.get(hook_url))
    form["active"] = False
    form.submit("action", value="save").follow()
    receiver.fail_with = None
    count = len(receiver.requests)
    u.post_json("/api/v1/tickets", {"name": "Quiet"}, status=201)
    assert len(receiver.requests) == count

    # delete
    app.get(hook_url).forms["webhook-delete-form"].submit("action", value="delete").follow()
    with dbsession() as db:
        assert db.execute(select(WebhookSubscription)).first() is None
        assert db.execute(select(WebhookDelivery)).first() is None
    assert app.get("/admin/webhooks").html.select_one("#webhooks-empty")


def test_failed_event_delivery_is_logged_with_its_reason(api, receiver, dbsession):
    admin = api("admin")
    receiver.fail_with = 503
    hook = admin.post_json(
        "/api/v1/_webhooks",
        {"name": "Flaky", "url": receiver.url, "events": ["ticket:created"]},
        status=201,
    ).json
    api("ticketeer").post_json("/api/v1/tickets", {"name": "x"}, status=201)
    items = admin.get(f"/api/v1/_webhooks/{hook['id']}/deliveries").json["items"]
    assert len(items) == 1 and not items[0]["ok"] and items[0]["http_status"] == 503
    assert "answered 503" in items[0]["error"] and "retried later" in items[0]["error"]


def test_the_api_does_the_same(api, receiver, dbsession):
    admin = api("admin")
    assert admin.get("/api/v1/_webhooks").json["items"] == []
    events = admin.get("/api/v1/_webhooks/_events").json["items"]
    keys = {e["key"] for g in events for e in g["events"]}
    assert {"ticket:created", "ticket:updated", "ticket:deleted"} <= keys
    bad = admin.post_json(
        "/api/v1/_webhooks",
        {
            "name": "x",
            "url": "http://user:pw@example.com/",
            "events": ["nope:created"],
            "colour": "red",
        },
        status=400,
    )
    assert bad.headers["Content-Type"].startswith("application/problem+json")
    assert {e["field"] for e in bad.json["errors"]} == {"url", "events", "colour"}
    # a private address is refused unless allowed by the deployment
    made = admin.post_json(
        "/api/v1/_webhooks",
        {"name": "ERP", "url": receiver.url, "events": ["ticket:updated"]},
        status=201,
    ).json
    assert made["secret"].startswith("whsec_")
    hid = made["id"]
    assert "secret" not in admin.get(f"/api/v1/_webhooks/{hid}").json
    with dbsession() as db:  # kept encrypted at rest, never as given
        stored = db.execute(
            select(WebhookSubscription.secret).where(WebhookSubscription.id == hid)
        ).scalar_one()
    assert made["secret"] not in stored and stored.startswith("gAAAAA")
    assert admin.patch_json(f"/api/v1/_webhooks/{hid}", {"active": False}).json["active"] is False
    admin.patch_json(f"/api/v1/_webhooks/{hid}", {"active": "no"}, status=400)
    test = admin.post_json(f"/api/v1/_webhooks/{hid}/test", {}).json
    assert test["ok"] is True and test["http_status"] == 200
    _path, headers, body = receiver.requests[-1]
    assert _signed(made["secret"], body, headers["X-Kyklos-Signature"])
    # a manager may keep webhooks; a sales user may not
    api("ticketeer").get("/api/v1/_webhooks", status=403)
    admin.delete(f"/api/v1/_webhooks/{hid}", status=204)
    admin.get(f"/api/v1/_webhooks/{hid}", status=404)


class TestWithoutTheAllowance:
    @pytest.fixture
    def kyklos_settings(self):
        return {}

    def test_a_loopback_receiver_is_refused_with_the_reason(self, api, receiver):
        admin = api("admin")
        hook = admin.post_json(
            "/api/v1/_webhooks",
            {"name": "Local", "url": receiver.url, "events": ["ticket:created"]},
            status=201,
        ).json
        test = admin.post_json(f"/api/v1/_webhooks/{hook['id']}/test", {}).json
        assert test["ok"] is False and re.search(
            r"inside a private network \(127\.0\.0\.1\)", test["error"]
        )
        assert receiver.requests == []


def test_a_refused_address_is_explained_in_the_users_language(api):
    """The reason comes from the SSRF check itself, translated: not an English engine
    message inside a Greek sentence."""
    admin = api("admin")
    res = admin.post_json(
        "/api/v1/_webhooks",
        {"name": "FTP", "url": "ftp://example.com/drop", "events": ["ticket:created"]},
        headers={"Accept-Language": "el"},
        status=400,
    ).json
    detail = " ".join(str(e) for e in res.get("errors", [res]))
    assert "επιτρέπονται μόνο διευθύνσεις http και https" in detail, res
    assert "only http" not in detail

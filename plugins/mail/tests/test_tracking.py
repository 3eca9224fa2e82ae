"""Tracking of opens and clicks (issue 22, GDPR): off on a site unless
``kyklos.mail.tracking`` allows it, and even then only for a message whose writer asks;
a tracked message carries a signed pixel and signed links, counted without login, and
nothing unsigned is followed."""

from __future__ import annotations

import re

import pytest
import webtest

from .test_mail import errors_of
from .test_mail import new_mailbox as _new_mailbox


def _box(app, imap, smtp_server):
    dovecot, user, password = imap
    return _new_mailbox(
        app,
        dovecot,
        user,
        password,
        smtp_host="127.0.0.1",
        smtp_port=smtp_server.port,
        smtp_security="none",
    )


HTML = '<p>Our offer: <a href="https://shop.example/offer?id=7&amp;x=1">see it</a></p>'


def _send(app, box, **extra):
    return app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@acme.example"],
            "subject": "Offer",
            "body_html": HTML,
            **extra,
        },
        status=extra.pop("status", 201),
    )


def _html_part(sent) -> str:
    return sent.get_body(preferencelist=("html",)).get_content()


def test_tracking_is_off_unless_the_site_allows_it(api, client, imap, smtp_server):
    """The default site: no checkbox, nothing in the message, and asking is refused."""
    app = api("sales")
    box = _box(app, imap, smtp_server)
    res = _send(app, box).json
    sent = smtp_server.wait(1)[0]
    html = _html_part(sent)
    assert "/mail/t/" not in sent.as_string() and "<img" not in html
    assert 'href="https://shop.example/offer?id=7&amp;x=1"' in html
    msg = app.get(f"/api/v1/mail-messages/{res['id']}").json
    assert msg["opens"] == 0 and msg["opened_at"] is None and "track_key" not in msg
    bad = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@acme.example"],
            "subject": "Offer",
            "body": "x",
            "track": True,
        },
        status=400,
    )
    assert set(errors_of(bad)) == {"track"}
    assert len(smtp_server.messages) == 1


class TestAllowed:
    @pytest.fixture
    def kyklos_settings(self, kyklos_settings):
        return {**kyklos_settings, "kyklos.mail.tracking": "true"}

    def test_an_untracked_message_carries_nothing_by_default(self, client, imap, smtp_server):
        web = client("sales")
        from kyklos_sdk.testing import csrf_of

        token = csrf_of(web)
        dovecot, user, password = imap
        web.post_json(
            "/api/v1/mailboxes",
            {
                "name": "Mine",
                "address": "me@example.com",
                "imap_host": dovecot.host,
                "imap_port": dovecot.port,
                "imap_security": "none",
                "username": user,
                "smtp_host": "127.0.0.1",
                "smtp_port": smtp_server.port,
                "smtp_security": "none",
            },
            headers={"X-CSRF-Token": token},
            status=201,
        )
        box_id = web.get("/api/v1/mailboxes").json["items"][0]["id"]
        web.put_json(
            f"/api/v1/mailboxes/{box_id}/password",
            {"password": password},
            headers={"X-CSRF-Token": token},
            status=204,
        )
        page = web.get("/mail/compose")
        box = page.html.select_one("input#track")
        assert box is not None and not box.has_attr("checked")  # offered, not ticked
        form = page.forms["k-compose"]
        form["other"] = "anna@acme.example"
        form["subject"] = "Hello"
        form["body"] = "See https://shop.example/"
        form.submit(status=303)
        sent = smtp_server.wait(1)[0]
        assert "/mail/t/" not in sent.as_string()
        # ticked on the form: an HTML twin carries the pixel
        form = web.get("/mail/compose").forms["k-compose"]
        form["other"] = "anna@acme.example"
        form["subject"] = "Tracked"
        form["body"] = "Hi"
        form["track"] = True
        form.submit(status=303)
        assert "/mail/t/o/" in _html_part(smtp_server.wait(2)[1])

    def test_a_tracked_message_counts_opens_and_clicks_without_login(
        self, api, kyklos_app, imap, smtp_server
    ):
        app = api("sales")
        box = _box(app, imap, smtp_server)
        res = _send(app, box, track=True).json
        sent = smtp_server.wait(1)[0]
        html = _html_part(sent)
        pixel = re.search(r'<img src="http://[^/]+(/mail/t/o/[^"]+)"', html).group(1)
        click = re.search(r'href="http://[^/]+(/mail/t/c/[^"]+)"', html).group(1)
        # the text part keeps the link as written
        assert "https://shop.example/offer?id=7&x=1" in sent.get_body(("plain",)).get_content()
        stored = app.get(f"/api/v1/mail-messages/{res['id']}").json
        assert "/mail/t/" not in stored["body_html"]  # the copy in Kyklos tracks nothing
        outside = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        img = outside.get(pixel, status=200)
        assert img.content_type == "image/gif" and "no-store" in img.headers["Cache-Control"]
        outside.get(pixel, status=200)
        msg = app.get(f"/api/v1/mail-messages/{res['id']}").json
        assert msg["opens"] == 2 and msg["opened_at"] and msg["clicks"] == 0
        went = outside.get(click, status=302)
        assert went.location == "https://shop.example/offer?id=7&x=1"
        msg = app.get(f"/api/v1/mail-messages/{res['id']}").json
        assert msg["clicks"] == 1 and msg["clicked_at"]
        # a token not signed by this site leads nowhere and counts nothing
        forged = click[:-3] + ("AAA" if not click.endswith("AAA") else "BBB")
        outside.get(forged, status=404)
        outside.get("/mail/t/c/not-a-token", status=404)
        assert app.get(f"/api/v1/mail-messages/{res['id']}").json["clicks"] == 1
        # the message's page says it in words
        detail = app.get(f"/mail-messages/{res['id']}", status=200)
        assert "k-mail-tracking" in detail.text

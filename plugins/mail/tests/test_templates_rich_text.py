"""Mail templates' body is the core's ``richtext`` field with an "HTML source" view, and
the compose page writes in the same editor: an XSS corpus is sanitised when a template
is saved (API and form), merge fields survive the sanitiser and the editor's no-break
spaces, and a condition written with ``>`` still fills in."""

from __future__ import annotations

import re

from kyklos_sdk.testing import csrf_of

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "<svg><script>alert(1)</script></svg>",
    '<p style="position:fixed;background-image:url(http://x)" onmouseover="alert(1)">x</p>',
    "<style>*{display:none}</style>",
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<iframe src="https://evil.example"></iframe>',
]
BAD = ("<script", "onerror", "javascript", "data:", "<svg", "style", "onmouseover", "<iframe")


def _mailbox(web, smtp_port):
    web.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": 143,
            "imap_security": "none",
            "username": "me",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
        },
        headers={"X-CSRF-Token": csrf_of(web)},
        status=201,
    )
    # a mailbox is one to send from once its password is set
    box_id = web.get("/api/v1/mailboxes").json["items"][0]["id"]
    form = web.get(f"/mail/mailboxes/{box_id}/password").forms["k-mail-password"]
    form["password"] = "secret"
    form.submit(status=303)


def new_template(app, status=201, **values):
    body = {"name": "T", "language": "en", "subject": "S", "body": "<p>B</p>", **values}
    return app.post_json("/api/v1/mail-templates", body, status=status)


def _clean(html: str) -> None:
    for b in BAD:
        assert b not in html.lower(), (b, html)


def test_the_body_is_sanitised_when_saved_and_merge_fields_survive(api, make_record):
    admin = api("mailadmin", "sales")
    anna = make_record("person", first_name="Άννα", last_name="Παππά")
    for i, attack in enumerate(ATTACKS):
        t = new_template(
            admin,
            name=f"X{i}",
            body=f'<p>Dear {{{{ first_name or "customer" }}}},</p>{attack}'
            '<p><a href="https://example.com/o">offer</a></p>',
        ).json
        _clean(t["body"])
        assert '<p>Dear {{ first_name or "customer" }},</p>' in t["body"]
        stored = admin.get(f"/api/v1/mail-templates/{t['id']}").json["body"]
        assert stored == t["body"]
        out = admin.get(
            f"/api/v1/mail-templates/{t['id']}/render", {"about": f"person:{anna}"}
        ).json
        assert "<p>Dear Άννα,</p>" in out["html"]
        _clean(out["html"])


def test_the_editors_no_break_spaces_and_escaped_comparisons_fill_in(api, make_record):
    admin = api("mailadmin", "sales")
    anna = make_record("person", first_name="Άννα", last_name="Παππά")
    # what the editor submits: spaces as &nbsp;, ">" escaped inside a statement
    t = new_template(
        admin,
        body="<p>Dear&nbsp;{{&nbsp;first_name&nbsp;}},</p>"
        "<p>{% if 2 &gt; 1 %}<strong>yes</strong>{% endif %}</p>",
    ).json
    assert "{{ first_name }}" in t["body"]
    out = admin.get(f"/api/v1/mail-templates/{t['id']}/render", {"about": f"person:{anna}"}).json
    assert "Άννα," in out["html"] and "<strong>yes</strong>" in out["html"]
    assert "yes" in out["text"]


def test_a_designed_email_keeps_its_tables_in_the_source_view(api):
    admin = api("mailadmin", "sales")
    t = new_template(
        admin,
        body='<table width="600"><tr><td align="center" style="color:red">'
        '<img src="https://example.com/logo.png" alt="Logo"><img src="data:image/png;base64,AA">'
        "</td></tr></table>",
    ).json
    # the layout's inline style stays (e-mails are designed with them)
    assert '<table width="600"><tbody><tr><td align="center" style="color:red">' in t["body"]
    assert '<img src="https://example.com/logo.png" alt="Logo">' in t["body"]
    assert "data:" not in t["body"]


def test_the_template_form_and_compose_page_use_the_editor(client, api, make_record, smtp_server):
    web = client("mailadmin", "sales")
    _mailbox(web, smtp_server.port)
    page = web.get("/mail-templates/new")
    assert re.search(r'<div class="k-richtext"[^>]*data-k-source="1"', page.text)
    assert '<textarea data-k-richtext="1" name="body"' in page.text
    form = page.forms["k-record-form"]
    form["name"] = "From the form"
    form["subject"] = "Hello {{ first_name }}"
    form["body"] = "<h2>Hi {{ first_name }}</h2><script>alert(1)</script><p onclick=x>ok</p>"
    form.submit(status=303)
    admin = api("mailadmin", "sales")
    saved = [
        t for t in admin.get("/api/v1/mail-templates").json["items"] if t["name"] == "From the form"
    ]
    assert saved[0]["body"] == "<h2>Hi {{ first_name }}</h2><p>ok</p>"
    anna = make_record("person", first_name="Άννα", last_name="Παππά", email="a@example.com")
    compose = web.get(f"/mail/compose?about=person:{anna}")
    assert '<textarea data-k-richtext="1" name="body_html"' in compose.text
    assert "k-compose" in compose.forms


def test_a_message_written_in_the_editor_is_sent_formatted_and_clean(
    client, make_record, smtp_server
):
    web = client("sales")
    _mailbox(web, smtp_server.port)
    anna = make_record("person", first_name="Άννα", last_name="Παππά", email="anna@example.com")
    form = web.get(f"/mail/compose?about=person:{anna}").forms["k-compose"]
    form["subject"] = "Η προσφορά"
    form["body_html"] = (
        "<p>Καλημέρα <strong>Άννα</strong>,</p><ul><li>ένα</li><li>δύο</li></ul>"
        '<script>steal()</script><img src=x onerror="steal()">'
    )
    form.submit(status=303)
    sent = smtp_server.wait(1)[0]
    text, html = (p.get_content() for p in sent.iter_parts())
    assert "<strong>Άννα</strong>" in html and "<li>δύο</li>" in html
    assert "steal" not in html and "onerror" not in html
    assert "Καλημέρα Άννα," in text and "<" not in text

"""Campaign e-mail templates' body is the core's ``richtext`` field with an "HTML
source" view: sanitised when saved (API and form), merge fields (in text and in a
link's address) surviving the sanitiser, formatting kept through the preview."""

from __future__ import annotations

import re

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<svg onload="alert(1)"></svg>',
    '<p style="background:url(x)">x</p>',
    "<style>p{}</style>",
]


def test_the_body_is_sanitised_and_merge_fields_survive(boss, make_record):
    maria = make_record("person", first_name="Maria", last_name="Papadaki")
    for i, attack in enumerate(ATTACKS):
        t = boss.post_json(
            "/api/v1/campaign-templates",
            {
                "name": f"Spring {i}",
                "language": "en",
                "subject": "News",
                "body_html": '<h2>Hello {{ first_name | default("customer") }}</h2>'
                "<ul><li><strong>New</strong> range</li></ul>"
                + attack
                + '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>',
            },
            status=201,
        ).json
        body = t["body_html"]
        for bad in ("<script", "onerror", "javascript", "data:", "<svg", "style", "onload"):
            assert bad not in body, (bad, body)
        assert body.startswith('<h2>Hello {{ first_name | default("customer") }}</h2>')
        assert '<a href="{{ unsubscribe_url }}"' in body
        out = boss.post_json(
            f"/api/v1/campaign-templates/{t['id']}/preview", {"person_id": maria}
        ).json
        assert "<h2>Hello Maria</h2>" in out["html"]
        assert "<li><strong>New</strong> range</li>" in out["html"]
        assert "New range" in out["text"] and "<" not in out["text"]
        assert "alert" not in out["html"]


def test_the_form_offers_the_editor_with_the_source_view(client, boss):
    web = client("campaignmanager")
    page = web.get("/campaign-templates/new")
    assert re.search(r'<div class="k-richtext"[^>]*data-k-source="1"', page.text)
    form = page.forms["k-record-form"]
    form["name"] = "Form"
    form["subject"] = "News"
    form["body_html"] = (
        "<p>Hi {% if first_name %}{{ first_name }}{% endif %}</p><script>x()</script>"
    )
    form.submit(status=303)
    saved = [t for t in boss.get("/api/v1/campaign-templates").json["items"] if t["name"] == "Form"]
    assert saved[0]["body_html"] == "<p>Hi {% if first_name %}{{ first_name }}{% endif %}</p>"

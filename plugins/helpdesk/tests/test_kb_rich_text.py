"""Knowledge-base articles' cause and solution are rich text (the core's ``richtext``
field type): an XSS corpus is sanitised on the API and on the record form alike, the
formatting round-trips, the detail and portal pages show it as HTML, lists, exports,
history and the search index as plain text, and helpdesk_0009 turns existing plain text
into escaped paragraphs."""

from __future__ import annotations

import re

import pytest
from helpdesk_helpers import csrf_of
from sqlalchemy import create_engine, text

from kyklos_sdk.testing import run_cli, write_ini

#: (what an attacker sends, what must not be in what is stored or shown)
XSS = [
    ("<script>alert(1)</script><p>ok</p>", ("<script", "alert(1)")),
    ('<img src=x onerror="alert(1)"><p>ok</p>', ("<img", "onerror")),
    ('<p><a href="javascript:alert(1)">ok</a></p>', ("javascript:",)),
    ('<p><a href="JaVaScRiPt:alert(1)">ok</a></p>', ("javascript:", "JaVaScRiPt")),
    ('<p><a href="jav&#x61;script:alert(1)">ok</a></p>', ("script:", "&#x61;")),
    ('<p><a href=" &#14; javascript:alert(1)">ok</a></p>', ("javascript",)),
    (
        '<p><a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">ok</a></p>',
        ("data:",),
    ),
    ('<svg onload="alert(1)"><p>ok</p></svg>', ("<svg", "onload")),
    ("<style>p { color: red }</style><p>ok</p>", ("<style", "color")),
    ('<p style="background:url(javascript:alert(1))">ok</p>', ("style=", "javascript")),
    ('<p onclick="alert(1)" onmouseover="alert(1)">ok</p>', ("onclick", "onmouseover")),
    ('<iframe src="https://evil.example"></iframe><p>ok</p>', ("<iframe",)),
    ("&lt;script&gt;alert(1)&lt;/script&gt;<p>ok</p>", ("<script",)),
    ("<scr<script>ipt>alert(1)</scr</script>ipt><p>ok</p>", ("<script",)),
    (
        "<p>ok</p><math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></math>",
        ("<img", "onerror", "<math"),
    ),
    ('<form action="https://evil.example"><input name="x"></form><p>ok</p>', ("<form", "<input")),
]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _clean(value: str, bad) -> None:
    for b in bad:
        assert b.lower() not in value.lower(), (b, value)


def test_an_xss_corpus_is_sanitised_on_the_api_and_shown_harmless(admin):
    for attack, bad in XSS:
        res = admin.post_json(
            "/api/v1/kb-articles",
            {"title": "XSS", "cause": attack, "solution": attack, "status": "published"},
            status=201,
        ).json
        for name in ("cause", "solution"):
            _clean(res[name], bad)
            assert "ok" in res[name]
        stored = admin.get(f"/api/v1/kb-articles/{res['id']}").json
        assert stored["solution"] == res["solution"]
        page = admin.get(f"/kb-articles/{res['id']}").text
        body = page.split('k-field-solution">', 1)[1].split("</dd>", 1)[0]
        _clean(body, bad)
        # and an update is sanitised as a create is
        upd = admin.patch_json(
            f"/api/v1/kb-articles/{res['id']}",
            {"cause": "<p>fine</p>" + attack, "version": stored["version"]},
        ).json
        _clean(upd["cause"], bad)
        assert upd["cause"].startswith("<p>fine</p>")


def test_a_link_keeps_only_safe_schemes(admin):
    res = admin.post_json(
        "/api/v1/kb-articles",
        {
            "title": "Links",
            "solution": '<p><a href="https://example.com/fix" onclick="x()">fix</a> or '
            '<a href="mailto:help@example.com">mail</a> or <a href="ftp://x/y">ftp</a></p>',
        },
        status=201,
    ).json
    html = res["solution"]
    assert '<a href="https://example.com/fix" rel="noopener noreferrer">fix</a>' in html
    assert 'href="mailto:help@example.com"' in html
    assert "ftp:" not in html and "onclick" not in html


def test_bad_rich_text_is_a_problem_naming_the_field_and_nothing_is_written(admin):
    before = admin.get("/api/v1/kb-articles").json["items"]
    res = admin.post_json(
        "/api/v1/kb-articles",
        {"title": "Bad", "cause": 42, "solution": "<p>x\x00y</p>"},
        status=400,
    )
    assert res.content_type == "application/problem+json"
    fields = {e["field"] for e in res.json["errors"]}
    assert {"cause", "solution"} <= fields
    assert admin.get("/api/v1/kb-articles").json["items"] == before


def test_formatting_round_trips_and_reads_as_plain_text_off_the_page(admin):
    html = (
        "<h2>Before you start</h2><p>Switch the <strong>printer</strong> off, <em>wait</em>."
        "</p><ol><li>Open the cover</li><li>Take out the toner</li></ol>"
        '<ul><li>Gloves</li></ul><p>See <a href="https://example.com/e05">the manual</a>.</p>'
    )
    a = admin.post_json(
        "/api/v1/kb-articles",
        {"title": "E05 in depth", "solution": html, "status": "published"},
        status=201,
    ).json
    assert a["solution"] == html.replace(
        'href="https://example.com/e05"', 'href="https://example.com/e05" rel="noopener noreferrer"'
    )
    # the detail page shows it formatted
    page = admin.get(f"/kb-articles/{a['id']}").text
    assert "<strong>printer</strong>" in page and "<ol><li>Open the cover</li>" in page
    # the list's cell, the export and the history read as words
    listing = admin.get("/kb-articles/?columns=title,solution").text
    assert "<strong>printer" not in listing
    export = admin.get("/api/v1/kb-articles/_export?format=csv&variant=human").text
    assert "Switch the printer off, wait." in export and "1. Open the cover" in export
    assert "<strong>" not in export and "&lt;strong" not in export
    version = a["version"]
    admin.patch_json(
        f"/api/v1/kb-articles/{a['id']}",
        {"solution": "<p>Just <b>restart</b>.</p>", "version": version},
    )
    # the timeline's change reads as words ("Just restart."); the field shows the bold
    page = admin.get(f"/kb-articles/{a['id']}").text
    assert "Just restart." in page and "Just <b>restart</b>." in page
    assert "&lt;b&gt;" not in page and "&lt;p&gt;" not in page
    # the search index holds the words, not the tags
    found = admin.get("/api/v1/_search?q=restart").json["groups"]
    assert any(i["id"] == a["id"] for g in found if g["type"] == "kbarticle" for i in g["items"])
    assert not any(
        g["type"] == "kbarticle" for g in admin.get("/api/v1/_search?q=strong").json["groups"]
    )


def test_the_record_form_sanitises_what_it_saves(client, admin):
    web = client("admin")
    form_page = web.get("/kb-articles/new")
    assert 'data-k-richtext="1"' in form_page.text and 'name="solution"' in form_page.text
    # the toolbar's words are in the user's language
    assert 'data-k-bold="Bold"' in form_page.text
    for attack, bad in XSS[:6]:
        res = web.post(
            "/kb-articles/new",
            {
                "csrf_token": csrf_of(form_page),
                "title": "Form XSS",
                "language": "en",
                "visibility": "internal",
                "status": "draft",
                "solution": "<p><b>bold</b></p>" + attack,
            },
            status=303,
        )
        rid = int(res.location.rstrip("/").rsplit("/", 1)[1])
        stored = admin.get(f"/api/v1/kb-articles/{rid}").json["solution"]
        _clean(stored, bad)
        assert stored.startswith("<p><b>bold</b></p>")
        # the edit form shows the stored HTML escaped inside its textarea
        edit = web.get(f"/kb-articles/{rid}/edit").text
        area = re.search(
            r'<textarea data-k-richtext="1" name="solution"[^>]*>(.*?)</textarea>', edit, re.S
        )
        assert area and "&lt;p&gt;&lt;b&gt;bold" in area.group(1)


def test_the_editors_words_are_in_the_users_language(make_user, login, kyklos_app):
    import webtest

    make_user(email="eleni.kb@example.com", locale="el", roles=("admin",))
    web = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(web, "eleni.kb@example.com")
    page = web.get("/kb-articles/new").text
    assert re.search(r'data-k-bold="([^"]+)"', page).group(1) == "Έντονα"
    assert re.search(r'data-k-bullet="([^"]+)"', page).group(1) == "Λίστα με κουκκίδες"


def test_the_portal_article_shows_the_formatting_and_no_script(admin, portal_login):
    a = admin.post_json(
        "/api/v1/kb-articles",
        {
            "title": "Rich portal article",
            "visibility": "portal",
            "status": "published",
            "cause": "<p>The <em>fuser</em> is cold.</p>",
            "solution": "<ul><li>Switch <strong>off</strong></li></ul>"
            '<script>alert(1)</script><img src=x onerror="alert(2)">',
        },
        status=201,
    ).json
    account = admin.post_json("/api/v1/accounts", {"name": "Πελάτης ΑΕ"}).json["id"]
    web = portal_login(account, "rich@client.example")
    page = web.get(f"/portal/helpdesk/kb/{a['id']}").text
    assert "<em>fuser</em>" in page and "<li>Switch <strong>off</strong></li>" in page
    assert "alert(" not in page and "onerror" not in page


def test_helpdesk_0009_turns_plain_text_into_escaped_paragraphs(tmp_path, db_url, scratch_db_url):
    ini = write_ini(tmp_path, "contacts activities catalog helpdesk", url=scratch_db_url)
    run_cli("migrate", ini, check=True)
    run_cli("migrate", ini, "--branch", "helpdesk", "--to", "helpdesk_0008", check=True)
    engine = create_engine(scratch_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO helpdesk_kbarticle (title, symptom, cause, solution, language,"
                    " visibility, status, helpful_yes, helpful_no, version, custom, created_at,"
                    " updated_at) VALUES ('E05', 'No print', :cause, :solution, 'en', 'portal',"
                    " 'published', 0, 0, 1, '{}', '2026-01-01', '2026-01-01')"
                ),
                {
                    "cause": "Cold <fuser> & co",
                    "solution": "Switch off.\nUnplug.\n\nWait <b>ten</b> minutes.",
                },
            )
        run_cli("migrate", ini, check=True)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT cause, solution FROM helpdesk_kbarticle")).one()
        assert row.cause == "<p>Cold &lt;fuser&gt; &amp; co</p>"
        assert row.solution == (
            "<p>Switch off.<br>Unplug.</p><p>Wait &lt;b&gt;ten&lt;/b&gt; minutes.</p>"
        )
        # down again: the plain text it was
        run_cli("migrate", ini, "--branch", "helpdesk", "--to", "helpdesk_0008", check=True)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT cause, solution FROM helpdesk_kbarticle")).one()
        assert row.cause == "Cold <fuser> & co"
        assert row.solution == "Switch off.\nUnplug.\n\nWait <b>ten</b> minutes."
    finally:
        engine.dispose()

"""The richtext field type's pure parts: the plain text of rich text (lists, links,
paragraphs), plain text as escaped paragraphs, the template source of merge fields,
and the sanitiser's allow-lists with and without the HTML source view."""

from __future__ import annotations

from kyklos_sdk import (
    rich_text_from_plain,
    rich_text_merge_source,
    rich_text_to_plain,
    sanitise_rich_text,
)


def test_plain_text_reads_paragraphs_lists_and_links():
    html = (
        "<h2>Steps</h2><p>Switch <strong>off</strong>.<br>Unplug.</p>"
        "<ol><li>Open</li><li>Clean</li></ol><ul><li>Gloves</li></ul>"
        '<p>See <a href="https://example.com/m">the manual</a> &amp; '
        '<a href="mailto:a@b.c">us</a>.</p>'
        "<script>alert(1)</script>"
    )
    assert rich_text_to_plain(html) == (
        "Steps\n\nSwitch off.\nUnplug.\n\n1. Open\n2. Clean\n\n• Gloves\n\n"
        "See the manual (https://example.com/m) & us."
    )
    assert rich_text_to_plain("") == "" and rich_text_to_plain(None) == ""


def test_plain_text_becomes_escaped_paragraphs_and_back():
    text = "a < b & c\nnext line\n\n<b>not bold</b>"
    html = rich_text_from_plain(text)
    assert html == "<p>a &lt; b &amp; c<br>next line</p><p>&lt;b&gt;not bold&lt;/b&gt;</p>"
    assert rich_text_to_plain(html) == text
    assert sanitise_rich_text(html) == html


def test_merge_fields_survive_and_read_as_jinja():
    clean = sanitise_rich_text("<p>Hi&nbsp;{{\xa0first_name }}{% if n > 1 %}s{% endif %}</p>")
    assert clean == "<p>Hi&nbsp;{{ first_name }}{% if n &gt; 1 %}s{% endif %}</p>"
    assert (
        rich_text_merge_source(clean) == "<p>Hi&nbsp;{{ first_name }}{% if n > 1 %}s{% endif %}</p>"
    )


def test_the_source_view_keeps_tables_and_http_images_only():
    html = (
        '<table border="1"><tr><td style="color:red" onclick="x()">a</td></tr></table>'
        '<img src="https://example.com/a.png" alt="A"><img src="data:image/png;base64,AA">'
        '<img src="javascript:alert(1)">'
    )
    assert sanitise_rich_text(html) == "a"  # the editor's own tags only
    src = sanitise_rich_text(html, source=True)
    # an e-mail's layout styles stay; what could position or load is dropped
    assert '<table border="1"><tbody><tr><td style="color:red">a</td></tr></tbody></table>' in src
    styled = sanitise_rich_text(
        '<p style="position:fixed;color:#123;background-image:url(http://x)">p</p>', source=True
    )
    assert styled == '<p style="color:#123">p</p>'
    assert sanitise_rich_text('<p style="color:#123">p</p>') == "<p>p</p>"  # not in the editor
    assert '<img src="https://example.com/a.png" alt="A">' in src
    assert "data:" not in src and "javascript" not in src and src.count("<img") == 3
    # nothing but empty paragraphs is empty
    assert sanitise_rich_text("<p><br></p><p> </p>") == ""

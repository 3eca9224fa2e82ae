"""Rich text: the ``richtext`` field type's one sanitiser and its plain-text form.

A ``richtext`` value is an HTML fragment (paragraphs, headings, bold, italic, lists,
links, quotes). Every write path (the API, record forms, imports, bulk edits) parses it
with :func:`sanitise` through :mod:`kyklos.entities.values`, so what is stored is
already clean: only the tags and attributes of :data:`TAGS` and :data:`ATTRIBUTES`,
links only to ``http``, ``https`` and ``mailto``, no ``style`` (but the layout
properties of :data:`SOURCE_STYLES` in an ``html_source`` field, as e-mails are
designed), no script, no event handler. Detail pages show the stored HTML (sanitised
once more on the way out, so a row written before the field became rich text cannot
bring markup in); lists, exports, the search index and history show :func:`to_text`.

Merge fields (``{{ first_name }}``, ``{% if ... %}``) are text to the sanitiser and the
editor and survive both; :func:`merge_source` gives a template engine back the
characters the HTML escaping changed inside them (``&gt;`` in ``{% if n > 1 %}``).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import nh3

#: what the editor makes, and what mail clients show alike
TAGS = frozenset(
    {
        "p",
        "br",
        "h1",
        "h2",
        "h3",
        "h4",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "ul",
        "ol",
        "li",
        "a",
        "blockquote",
        "pre",
        "code",
    }
)
ATTRIBUTES = {"a": {"href", "title"}}
#: what a field with an "HTML source" view (``html_source``) also keeps: the tables
#: and images of designed e-mails (images from http(s) addresses only, never ``data:``)
SOURCE_TAGS = TAGS | {
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "td",
    "th",
    "caption",
    "div",
    "span",
    "img",
    "hr",
    "center",
}
SOURCE_ATTRIBUTES = {
    **ATTRIBUTES,
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign", "width"},
    "th": {"colspan", "rowspan", "align", "valign", "width"},
    "table": {"width", "align", "border", "cellpadding", "cellspacing"},
    "p": {"align"},
    "div": {"align"},
}
#: the CSS a designed e-mail is laid out with, kept in ``style`` attributes of an
#: ``html_source`` field (mail clients drop <style> blocks; inline styles are how
#: e-mails are designed). Nothing that positions over the page or loads a URL
#: (``position``, ``background-image``, the ``background`` shorthand) is among them.
SOURCE_STYLES = frozenset(
    {
        "color",
        "background-color",
        "font-family",
        "font-size",
        "font-weight",
        "font-style",
        "line-height",
        "letter-spacing",
        "text-align",
        "text-decoration",
        "text-transform",
        "vertical-align",
        "width",
        "max-width",
        "min-width",
        "height",
        "padding",
        "padding-top",
        "padding-right",
        "padding-bottom",
        "padding-left",
        "margin",
        "margin-top",
        "margin-right",
        "margin-bottom",
        "margin-left",
        "border",
        "border-top",
        "border-right",
        "border-bottom",
        "border-left",
        "border-color",
        "border-width",
        "border-style",
        "border-radius",
        "border-collapse",
        "display",
    }
)
URL_SCHEMES = frozenset({"http", "https", "mailto"})
#: the tags whose content goes with them (their text is no text a person wrote)
DROP_CONTENT = frozenset({"script", "style"})

_EMPTY_STYLE = re.compile(r'\s+style=""')
#: a merge field or a template statement
_MERGE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)


def _merge_spaces(match: re.Match) -> str:
    # an editor writes the spaces it shows as no-break spaces; in a merge field they
    # would be part of a name ("{{\xa0first_name }}") the template engine cannot read
    return match.group(0).replace("&nbsp;", " ").replace("\xa0", " ")


def sanitise(value: str, source: bool = False) -> str:
    """``value`` with only the allowed tags, attributes and URL schemes (with
    ``source``, those of :data:`SOURCE_TAGS` too), or ``""`` when nothing but empty
    paragraphs is left (an editor's "empty" is ``<p><br></p>``)."""
    if not value:
        return ""
    attributes = {k: set(v) for k, v in (SOURCE_ATTRIBUTES if source else ATTRIBUTES).items()}
    styles = None
    if source:
        for tag in SOURCE_TAGS:
            attributes.setdefault(tag, set()).add("style")
        styles = set(SOURCE_STYLES)
    clean = nh3.clean(
        value,
        tags=set(SOURCE_TAGS if source else TAGS),
        clean_content_tags=set(DROP_CONTENT),
        attributes=attributes,
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
        filter_style_properties=styles,
    )
    if source:
        clean = _EMPTY_STYLE.sub("", clean)  # a style with no allowed property left
    clean = _MERGE.sub(_merge_spaces, clean).strip()
    return clean if to_text(clean) or "<img" in clean else ""


def merge_source(value: str) -> str:
    """``value`` as a template source: the entities inside merge fields and statements
    unescaped (``{% if n &gt; 1 %}`` reads ``{% if n > 1 %}``). What a merge field puts
    out is escaped by the (autoescaping) template engine."""
    return _MERGE.sub(lambda m: html.unescape(m.group(0)), value or "")


#: block elements: each starts a line of the plain text
_BLOCKS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "div", "hr"})


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.lists: list[list] = []  # per open list: [ordered, next number]
        self.skip = 0
        self.links: list[str | None] = []

    def _newline(self, blank: bool) -> None:
        text = "".join(self.out).rstrip(" ")
        if not text:
            self.out = []
            return
        stripped = text.rstrip("\n")
        # never fewer line breaks than are there: a list after a paragraph keeps its gap
        have = len(text) - len(stripped)
        self.out = [stripped + "\n" * max(have, 2 if blank else 1)]

    def handle_starttag(self, tag, attrs):
        if tag in DROP_CONTENT:
            self.skip += 1
        elif tag in ("ul", "ol"):
            self._newline(blank=not self.lists)
            self.lists.append([tag == "ol", 1])
        elif tag == "li":
            self._newline(blank=False)
            depth = max(len(self.lists) - 1, 0)
            if self.lists and self.lists[-1][0]:
                marker = f"{self.lists[-1][1]}. "
                self.lists[-1][1] += 1
            else:
                marker = "• "
            self.out.append("  " * depth + marker)
        elif tag == "br":
            self.out.append("\n")
        elif tag in _BLOCKS:
            self._newline(blank=True)
        if tag == "a":
            self.links.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in DROP_CONTENT:
            self.skip = max(self.skip - 1, 0)
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self._newline(blank=not self.lists)
        elif tag in _BLOCKS:
            self._newline(blank=True)
        elif tag == "a" and self.links:
            href = self.links.pop()
            # the address of a link whose words are not the address: a reader of the
            # plain text (an e-mail's text part) still has where it goes
            text = "".join(self.out)
            if href and href.startswith(("http:", "https:")) and not text.endswith(href):
                self.out.append(f" ({href})")

    def handle_data(self, data):
        if not self.skip:
            self.out.append(re.sub(r"[ \t\r\n]+", " ", data))


def to_text(value: str | None) -> str:
    """The plain text of a rich-text value: paragraphs apart by an empty line, list
    items on lines of their own ("• ", "1. "), a link's address after its words."""
    if not value:
        return ""
    parser = _Text()
    parser.feed(str(value))
    parser.close()
    text = "".join(parser.out).replace("\xa0", " ")
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def from_text(value: str | None) -> str:
    """Plain text as rich text: each paragraph (apart by an empty line) a ``<p>``, its
    single line breaks ``<br>``, every character escaped."""
    paragraphs = re.split(r"\n\s*\n", (value or "").replace("\r\n", "\n").strip())
    return "".join(
        "<p>" + "<br>".join(html.escape(line, quote=False) for line in p.split("\n")) + "</p>"
        for p in paragraphs
        if p.strip()
    )

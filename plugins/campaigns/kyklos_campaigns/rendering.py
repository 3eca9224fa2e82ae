"""E-mail templates (MKT-02): merge fields through Jinja2's sandbox, HTML sanitised with
nh3 (on save and again after merging: a merge value cannot bring a script), CSS inlined
with css-inline (mail clients drop <style>), links turned into signed click links and an
open pixel added per recipient, and a plain-text part.

Merge fields are the person's ``first_name``, ``last_name``, ``full_name``,
``salutation``, ``email``, ``account`` and ``unsubscribe_url``; an empty value is left
undefined so that ``{{ first_name | default("customer") }}`` gives the fallback.
"""

from __future__ import annotations

import functools
import html
import re

import css_inline
import nh3
from jinja2 import TemplateSyntaxError, Undefined
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from . import _

#: tags a campaign e-mail may use: text, tables for layout, images; no scripts, forms,
#: frames or embedded objects
TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "center",
    "code",
    "col",
    "colgroup",
    "div",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "u",
    "ul",
    "style",
}
GENERIC = {
    "style",
    "class",
    "align",
    "width",
    "height",
    "bgcolor",
    "border",
    "dir",
    "lang",
    "title",
    "valign",
    "cellpadding",
    "cellspacing",
    "color",
}
ATTRIBUTES = {
    "*": GENERIC,
    "a": {"href", "name", "target"},
    "img": {"src", "alt"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
    "font": {"face", "size"},
}
URL_SCHEMES = {"http", "https", "mailto", "tel"}
MERGE_FIELDS = ("first_name", "last_name", "full_name", "salutation", "email", "account")


class TemplateError(ValueError):
    """A template that does not compile or render; ``field`` names the part."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def _env(autoescape: bool) -> SandboxedEnvironment:
    return SandboxedEnvironment(autoescape=autoescape, undefined=Undefined)


HTML_ENV = _env(True)
TEXT_ENV = _env(False)


def sanitise(source: str, link=None) -> str:
    """``source`` with only the allowed tags, attributes and URL schemes; ``link``
    (``url -> url``) rewrites every ``<a href>``."""

    def attribute_filter(tag, attr, value):
        if (
            link is not None
            and tag == "a"
            and attr == "href"
            and value.startswith(("http:", "https:"))
        ):
            return link(value)
        return value

    return nh3.clean(
        source or "",
        tags=TAGS,
        clean_content_tags={"script"},
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
        attribute_filter=attribute_filter,
        strip_comments=True,
    )


def check_template(subject: str, body_html: str, body_text: str | None) -> dict:
    """Errors by field for a template that does not compile: ``{field: message}``."""
    errors = {}
    for field, env, source in (
        ("subject", TEXT_ENV, subject),
        ("body_html", HTML_ENV, body_html),
        ("body_text", TEXT_ENV, body_text),
    ):
        if not source:
            continue
        try:
            env.from_string(source)
        except TemplateSyntaxError as exc:
            errors[field] = _(
                "The merge fields do not read: ${error} (line ${line}).",
                mapping={"error": exc.message or "", "line": exc.lineno},
            )
    return errors


def merge_values(person, account_name: str | None = None, extra: dict | None = None) -> dict:
    """The merge fields of a person; empty ones are left out (so ``default`` applies)."""
    values = {
        "first_name": getattr(person, "first_name", None),
        "last_name": getattr(person, "last_name", None),
        "full_name": getattr(person, "full_name", None),
        "salutation": getattr(person, "salutation", None),
        "email": getattr(person, "email", None),
        "account": account_name,
    }
    out = {k: v for k, v in values.items() if v not in (None, "")}
    out.update(extra or {})
    return out


class AccountValue(str):
    """The ``account`` merge field: reads as the account's name (``{{ account }}``, as
    e-mail templates always wrote it) and has the account's readable fields as
    attributes (``{{ account.name }}``, ``{{ account.city }}``, as letters write it)."""

    def __new__(cls, name: str, fields: dict):
        obj = super().__new__(cls, name)
        obj.__dict__.update(fields)
        return obj


#: the account's fields a merge field may read (``account.<field>``)
ACCOUNT_FIELDS = ("name", "city", "country", "website", "phone", "email")
#: person merge field -> the person's fields it shows: each must be readable
PERSON_SOURCES = {
    "first_name": ("first_name",),
    "last_name": ("last_name",),
    "full_name": ("first_name", "last_name"),
    "salutation": ("salutation",),
    "email": ("email",),
    "account": ("account_id",),
}


def merge_context(request, person, extra: dict | None = None) -> dict:
    """The merge fields of ``person`` as the user may read them: a field the user's
    roles hide (field permissions, the same on every path) is left out, so that the
    template's fallback applies, as for an empty value. E-mail and letters both merge
    this."""
    from kyklos_sdk import field_access, get_entity_type

    readable, _w = field_access(request, get_entity_type(request, "person"))
    values = merge_values(person)
    out = {
        k: v for k, v in values.items() if all(f in readable for f in PERSON_SOURCES.get(k, (k,)))
    }
    account_id = getattr(person, "account_id", None)
    if account_id and "account_id" in readable:
        et = get_entity_type(request, "account")
        account = request.dbsession.get(et.model, account_id)
        can_read, _w = field_access(request, et)
        if account is not None and "name" in can_read:
            fields = {
                f: getattr(account, f, None)
                for f in ACCOUNT_FIELDS
                if f in can_read and getattr(account, f, None) not in (None, "")
            }
            out["account"] = AccountValue(account.name, fields)
    out.update(extra or {})
    return out


@functools.lru_cache(maxsize=256)
def _compiled(env, source: str):
    # a campaign renders one template for every recipient: compiling it once per run
    # instead of once per message (a compiled template is safe to share between threads)
    return env.from_string(source)


def _render(env, field, source, values) -> str:
    try:
        return _compiled(env, source or "").render(**values)
    except TemplateSyntaxError as exc:
        raise TemplateError(field, exc.message or str(exc)) from None
    except (SecurityError, UndefinedError, TypeError, ValueError) as exc:
        raise TemplateError(field, str(exc)) from None


def text_of_html(markup: str) -> str:
    """A readable plain-text version of HTML: block ends become line breaks, links
    keep their address."""
    text = re.sub(r"(?is)<(style|head)[^>]*>.*?</\1>", "", markup)
    text = re.sub(r'(?is)<a\s[^>]*href="([^"]+)"[^>]*>(.*?)</a>', r"\2 (\1)", text)
    text = re.sub(r"(?i)<br\s*/?>", "\n", text)
    text = re.sub(r"(?i)</(p|div|h[1-6]|li|tr|table)>", "\n\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = html.unescape(text)
    text = re.sub(r"[ \t]+", " ", text)
    return re.sub(r"\n\s*\n\s*\n+", "\n\n", text).strip() + "\n"


def render(template, values: dict, link=None, pixel_url: str | None = None) -> dict:
    """``{"subject", "html", "text"}`` of ``template`` for ``values``. ``link``
    rewrites links (click tracking), ``pixel_url`` adds the open pixel."""
    subject = " ".join(_render(TEXT_ENV, "subject", template.subject, values).split())
    merged = _render(HTML_ENV, "body_html", template.body_html, values)
    body = sanitise(merged, link)
    if pixel_url:
        body += f'<img src="{html.escape(pixel_url)}" width="1" height="1" alt="">'
    inlined = css_inline.inline(f"<html><body>{body}</body></html>")
    if template.body_text:
        text = _render(TEXT_ENV, "body_text", template.body_text, values)
    else:
        text = text_of_html(sanitise(merged))
    return {"subject": subject, "html": inlined, "text": text}

"""E-mail templates' merge fields: Jinja (``{{ first_name or "customer" }}``) in a
sandbox, filled from the record one writes from, read through the same field
permissions as the API (a field the writer may not read is empty, never leaked), and
from the writer (``my_name``, ``my_email``). A name that is no field of the record
types one writes from, or a syntax error, is refused when the template is saved,
naming the field, so a customer never reads a broken template.

The body is HTML: values are escaped as they are merged, and the result goes through
the sanitiser incoming messages use, so neither a template nor a value can smuggle a
script into a customer's mailbox. A plain-text version is derived for the
``multipart/alternative`` message."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from jinja2 import TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import or_

from kyklos_sdk import (
    display_text,
    get_entity_type,
    record_titles,
    reference_titles,
    serialize,
    visible_select,
)

from . import _
from .models import Template
from .parse import sanitise

#: the record types whose fields a template may name (those that are installed)
MERGE_TYPES = ("person", "account", "opportunity", "case")
#: names every template may use besides the record's own fields
EXTRA = ("name", "account_name", "my_name", "my_email")
MAX_SUBJECT = 900


class MergeError(ValueError):
    """A template that cannot be filled (it was valid when saved, but e.g. a sandbox
    limit was reached)."""


#: what a merge needs; anything else (loops, macros, calls) could only burn the server
FILTERS = frozenset(
    {"default", "d", "upper", "lower", "title", "capitalize", "trim", "truncate", "replace"}
)
FORBIDDEN = (
    nodes.Getattr,
    nodes.Getitem,
    nodes.For,
    nodes.Macro,
    nodes.CallBlock,
    nodes.FilterBlock,
    nodes.Call,
    nodes.Import,
    nodes.FromImport,
    nodes.Include,
    nodes.Extends,
    nodes.Block,
)
MAX_REPEAT = 10_000
#: how the refused constructs look in a template, for the error message
SYNTAX = {
    nodes.Getattr: "field.attribute",
    nodes.Getitem: "field[...]",
    nodes.Call: "field(...)",
    nodes.For: "{% for %}",
}


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox (no attribute escapes) with no globals and bounded ``*``/``**``,
    so a template can neither reach Python nor allocate without limit."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and (abs(_num(right)) > 64 or abs(_num(left)) > 10**6):
            raise SecurityError("number too large")
        if operator == "*" and (
            (isinstance(left, str | list) and _num(right) * len(left) > MAX_REPEAT)
            or (isinstance(right, str | list) and _num(left) * len(right) > MAX_REPEAT)
        ):
            raise SecurityError("text too long")
        return super().call_binop(context, operator, left, right)


def _num(value) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def _env(html: bool) -> SandboxedEnvironment:
    # the subject is a header (plain text), the body HTML: only the body escapes values
    env = _Sandbox(autoescape=html, trim_blocks=True, lstrip_blocks=True)
    env.globals.clear()
    env.filters = {k: v for k, v in env.filters.items() if k in FILTERS | {"e", "escape"}}
    return env


def _refused(ast) -> str | None:
    """What ``ast`` uses that a merge template may not: a tag or a filter."""
    for node in ast.find_all(FORBIDDEN):
        return SYNTAX.get(type(node), "{% " + type(node).__name__.lower() + " %}")
    for node in ast.find_all(nodes.Filter):
        if node.name not in FILTERS:
            return "| " + node.name
    return None


def merge_types(request) -> list[str]:
    """The installed types a template merges from: people, accounts and every type one
    can write from (:mod:`.recipients`: opportunities, cases, leads, quotes...)."""
    from .recipients import mailable_types

    names = [n for n in MERGE_TYPES if n in request.registry.kyklos_entities]
    return names + [n for n in mailable_types(request) if n not in names]


def _types(request) -> list:
    out = []
    for name in merge_types(request):
        try:
            out.append(get_entity_type(request, name))
        except HTTPNotFound:
            continue  # that plugin is not enabled here
    return out


def known_fields(request) -> set[str]:
    names = set(EXTRA)
    for et in _types(request):
        names.update(et.fields)
    return names


def _check(request, source: str, html: bool) -> str | None:
    """The reason ``source`` cannot be a template, or ``None``."""
    env = _env(html)
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        return _(
            "Line ${line}: ${problem}",
            mapping={"line": exc.lineno, "problem": exc.message or ""},
        )
    refused = _refused(ast)
    if refused is not None:
        return _(
            "Only merge fields, conditions (if) and the filters ${filters} may be used, "
            "not ${what}.",
            mapping={"filters": ", ".join(sorted(FILTERS)), "what": refused},
        )
    known = known_fields(request)
    unknown = sorted(meta.find_undeclared_variables(ast) - known)
    if unknown:
        return _(
            "Unknown merge fields: ${names}",
            mapping={"names": ", ".join("{{ " + u + " }}" for u in unknown)},
        )
    try:
        # one trial with every field empty catches what only filling reveals
        _fill(source, dict.fromkeys(known, ""), html)
    except MergeError as exc:
        return _("Cannot fill in: ${e}", mapping={"e": str(exc)[:300]})
    return None


def validate_template(request, record, data, errors) -> None:
    for key, html in (("subject", False), ("body", True)):
        value = data.get(key)
        if value is not None:
            problem = _check(request, str(value), html)
            if problem is not None:
                errors[key] = problem
    subject = data.get("subject")
    if subject is not None and any(ord(c) < 32 for c in subject):
        errors["subject"] = _("A subject is one line of at most 900 characters.")
    parent = data.get("translation_of_id")
    if parent not in (None, ""):
        main = None
        if str(parent).isdigit():
            # only a template the writer may read can be translated
            et = get_entity_type(request, "mailtemplate")
            main = request.dbsession.execute(
                visible_select(request, et).where(Template.id == int(parent))
            ).scalar()
        if main is None:
            errors["translation_of_id"] = _("No such template.")
        elif main.translation_of_id is not None:
            errors["translation_of_id"] = _(
                "Choose the template in its default language, not another translation."
            )
        elif record is not None and main.id == record.id:
            errors["translation_of_id"] = _("A template is no translation of itself.")


def values_for(request, entity: str | None, record) -> dict[str, str]:
    """Every name a template may use, as text in the writer's language; a field of
    the record the writer may not read stays empty (``serialize`` leaves it out)."""
    user = request.identity.user
    out = dict.fromkeys(known_fields(request), "")
    out["my_name"], out["my_email"] = user.name or "", user.email or ""
    if record is None or entity is None:
        return out
    et = get_entity_type(request, entity)
    readable = {
        k: v
        for k, v in serialize(request, et, record).items()
        if k in et.fields and k not in ("id", "version") and v is not None
    }
    refs = [k for k in readable if et.fields[k].type == "reference"]
    # a referenced record the writer may not see gives no title (not "restricted")
    titles = reference_titles(request, et, [record], refs) if refs else {}
    for name, value in readable.items():
        if name in refs:
            out[name] = (titles.get(name, {}).get(value) or ("", None))[0] or ""
        else:
            out[name] = display_text(request, et, name, value)
    out["name"] = record_titles(request, et, [record]).get(record.id, "")
    if entity == "account":
        out["account_name"] = out["name"]
    elif getattr(record, "account_id", None) and "account_id" in out and out["account_id"]:
        # the reference as people read it is the account's name (when it may be read)
        out["account_name"] = out["account_id"]
    if entity not in ("person", "account"):
        # "Dear {{ first_name }}" from an opportunity or a case: the person it names
        # (its contact, its requester) fills what the record itself has not
        for name in refs:
            target = et.fields[name].reference
            if target not in ("person", "account") or not readable.get(name):
                continue
            row = request.dbsession.execute(
                visible_select(request, get_entity_type(request, target)).where(
                    get_entity_type(request, target).model.id == int(readable[name])
                )
            ).scalar()
            if row is None:
                continue
            for key, value in values_for(request, target, row).items():
                if value and not out.get(key) and key not in ("name", "my_name", "my_email"):
                    out[key] = value
    return out


def _fill(source: str, values: dict, html: bool) -> str:
    env = _env(html)
    try:
        ast = env.parse(source or "")
        if _refused(ast) is not None:
            raise MergeError("not a merge template")
        return env.from_string(ast).render(values)
    except TemplateError as exc:
        raise MergeError(str(exc)) from None


class _Text(HTMLParser):
    """HTML to the plain text of the alternative part: blocks on their own lines, a
    link's address after its words."""

    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "ul", "ol", "table"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.href: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag == "br":
            self.out.append("\n")
        elif tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "a":
            self.href.append(dict(attrs).get("href"))

    def handle_endtag(self, tag):
        if tag in self.BLOCKS:
            self.out.append("\n\n")
        elif tag == "a" and self.href:
            href = self.href.pop()
            if href and not href.startswith("mailto:"):
                self.out.append(f" ({href})")

    def handle_data(self, data):
        self.out.append(re.sub(r"[ \t\r\n]+", " ", data))


def html_to_text(html: str) -> str:
    parser = _Text()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.out)
    lines = [line.strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def offered(request) -> list[Template]:
    """Active templates the user may read, each once (in its default language)."""
    et = get_entity_type(request, "mailtemplate")
    return list(
        request.dbsession.execute(
            visible_select(request, et)
            .where(Template.active.is_(True), Template.translation_of_id.is_(None))
            .order_by(Template.name)
        )
        .scalars()
        .all()
    )


def version_for(request, template: Template, language: str | None) -> Template:
    """The version of ``template`` in ``language`` the user may read, else the
    template in its default language."""
    main = template
    if template.translation_of_id is not None:
        main = request.dbsession.get(Template, template.translation_of_id) or template
    if not language or main.language == language:
        return main
    et = get_entity_type(request, "mailtemplate")
    found = (
        request.dbsession.execute(
            visible_select(request, et)
            .where(
                Template.active.is_(True),
                Template.language == language,
                or_(Template.translation_of_id == main.id, Template.id == main.id),
            )
            .order_by(Template.id)
            .limit(1)
        )
        .scalars()
        .first()
    )
    return found or main


def rendered(request, template: Template, entity: str | None, record) -> dict:
    """Subject, sanitised HTML and its plain text, filled from ``record``."""
    values = values_for(request, entity, record)
    subject = " ".join(_fill(template.subject, values, html=False).split())[:MAX_SUBJECT]
    html = sanitise(_fill(template.body, values, html=True))
    return {
        "template_id": template.id,
        "subject": subject,
        "html": html,
        "text": html_to_text(html),
        "language": template.language,
    }

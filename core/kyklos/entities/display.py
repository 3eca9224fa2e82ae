"""Showing field values to people: one function per field type, used by detail pages,
lists, history, the timeline, exports' human variant, notifications and PDFs.

:func:`display_value` (HTML) and :func:`display_text` (plain text) render any value of
any field: references as the referenced record's title (a link; a neutral word for a
record the user may not see, never its id), choices and booleans as translated words,
numbers and money per locale, dates and times in the user's zone. JSON values are shown
by a *display kind* (``config.add_display_kind``) named by the field's ``display``, or
else as plain words: a person never reads JSON.

Pages never look up a referenced record per row: :func:`reference_titles` loads the
titles of every referenced id of a page in one query per target type, through the
target's visibility filter. Titles of lookup records (activity types, stages...) are
shown in the user's language (:func:`record_titles`).
"""

from __future__ import annotations

import datetime as dt
import decimal
import string
from dataclasses import dataclass

from babel import numbers as babel_numbers
from markupsafe import Markup, escape
from sqlalchemy import select

from kyklos.entities import values
from kyklos.i18n import LANGUAGES, _, babel_locale
from kyklos.security.models import User

#: shown instead of a record the user may not see (or that no longer exists)
RESTRICTED = _("Restricted")
EMPTY = "—"


@dataclass
class Cell:
    """A displayable value: ``text`` (plain, escaped by the template), an optional link
    and, for values shown by a display kind, ``html`` (safe markup). Templates that
    print ``cell.markup`` get links and widgets; ``text`` stays readable on its own."""

    text: str
    url: str | None = None
    css: str = ""
    html: Markup | None = None

    @property
    def markup(self) -> Markup:
        if self.html is not None:
            return self.html
        if self.url:
            return Markup('<a href="{}">{}</a>').format(self.url, self.text)
        return escape(self.text)

    def __html__(self) -> str:
        return str(self.markup)

    def __str__(self) -> str:
        return self.text


# --- display kinds ----------------------------------------------------------------------


def add_display_kind(config, name: str, render) -> None:
    """Directive ``config.add_display_kind(name, render)``: how people read a JSON value
    of a field declared with ``display=name``. ``render(request, field, value)`` returns
    :class:`markupsafe.Markup` (escape what you insert); it is called for non-empty
    values only. Plain text (exports, e-mails, history) is its markup without tags."""
    if not callable(render):
        raise TypeError("add_display_kind: render must be callable")
    intr = config.introspectable("kyklos display kinds", name, name, "kyklos display kind")
    intr["render"] = render

    def register():
        config.registry.kyklos_display_kinds[name] = render

    config.action(("kyklos.display_kind", name), register, introspectables=(intr,))


def display_badge(request, text) -> Markup:
    """A small grey badge (e.g. "primary") for display kinds."""
    return Markup(' <span class="badge text-bg-light border">{}</span>').format(_tr(request, text))


def display_list(items) -> Markup:
    """Items (markup) one per line; a single item stays inline. Spans, not a list
    element: the value sits inside other lists (the timeline) without taking their
    looks."""
    items = [i for i in items if i]
    if len(items) == 1:
        return escape(items[0])  # markup stays as it is, plain text is escaped
    return Markup('<span class="d-block k-display-list">{}</span>').format(
        Markup("").join(Markup('<span class="d-block">{}</span>').format(i) for i in items)
    )


def _tr(request, msg) -> str:
    return request.localizer.translate(msg) if msg is not None else ""


def _text_of(markup: Markup) -> str:
    """Plain text of markup: the lines of a :func:`display_list` on their own lines,
    tags dropped."""
    html = str(markup).replace('</span><span class="d-block">', '</span>\n<span class="d-block">')
    # noqa: S704 below - the lines are markup already; only their text is kept
    return "\n".join(Markup(line).striptags() for line in html.split("\n")).strip()  # noqa: S704


# --- the one function -------------------------------------------------------------------


def _entity_type(request, entity_type):
    if isinstance(entity_type, str):
        return request.registry.kyklos_entities[entity_type]
    return entity_type


def _field(et, field):
    return et.fields[field] if isinstance(field, str) else field


def display_value(request, entity_type, field, value, refs=None) -> Markup:
    """``value`` of ``field`` as people read it, as safe HTML.

    ``entity_type`` is an :class:`EntityType` or its name, ``field`` a
    :class:`FieldInfo` or its name, ``value`` the Python value or its JSON form. A
    reference is looked up (one query) unless ``refs`` - ``{id: (title, url)}`` for this
    field, or :func:`reference_titles`' whole answer - already holds it."""
    et = _entity_type(request, entity_type)
    f = _field(et, field)
    return format_value(request, f, value, _refs_for(request, f, value, refs)).markup


def display_text(request, entity_type, field, value, refs=None) -> str:
    """``value`` of ``field`` as plain text (exports, e-mails, PDFs, history)."""
    et = _entity_type(request, entity_type)
    f = _field(et, field)
    return format_value(request, f, value, _refs_for(request, f, value, refs)).text


def _refs_for(request, f, value, refs):
    if f.type != "reference":
        return None
    if isinstance(refs, dict) and f.name in refs and isinstance(refs[f.name], dict):
        return refs[f.name]
    if refs is not None:
        return refs
    if isinstance(value, int) and not isinstance(value, bool):
        return titles_by_id(request, f.reference, {value})
    return {}


def cell(request, et, field, record, refs=None) -> Cell:
    """The value of ``field`` on ``record`` for a page (the title of a lookup value in
    the user's language)."""
    if et.lookup and field.name == et.title_field:
        return Cell(record_title(request, et, record))
    value = values.read_value(et, field, record)
    if field.type == "decimal" and field.currency_field and value is not None:
        # an amount in a currency another column of the record names (a quote's net,
        # tax and total all in its one currency): "€17,255.00", not a bare number
        currency = getattr(record, field.currency_field, None)
        if currency:
            return Cell(request.format_money(value, currency), css="text-end text-nowrap")
    return format_value(request, field, value, (refs or {}).get(field.name))


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def format_value(request, field, value, refs=None) -> Cell:
    """The :class:`Cell` of ``value`` (Python or JSON form) of ``field``; ``refs`` is
    ``{id: (title, url or None)}`` for a reference field."""
    if _empty(value):
        return Cell("")
    t = field.type
    display = getattr(field, "display", "")
    if display:
        render = getattr(request.registry, "kyklos_display_kinds", {}).get(display)
        if render is not None:
            # a renderer's Markup as it is; plain text it returned is escaped
            html = escape(render(request, field, value))
            return Cell(_text_of(html), html=html)
    if t == "richtext":
        from kyklos.entities import richtext

        # sanitised when written; once more here, so a row stored before its field
        # became rich text (or written around the API) shows no markup of its own
        source = getattr(field, "html_source", False)
        html = Markup(richtext.sanitise(str(value), source=source))  # noqa: S704
        return Cell(
            richtext.to_text(str(value)), html=Markup('<div class="k-rich">{}</div>').format(html)
        )
    if t == "reference":
        if not isinstance(value, int) or isinstance(value, bool):
            return Cell(_tr(request, RESTRICTED), css="text-muted")
        title, url = (refs or {}).get(value, (None, None))
        if title is None:
            return Cell(_tr(request, RESTRICTED), css="text-muted")
        return Cell(title, url)
    if t == "boolean":
        return Cell(_tr(request, _("Yes") if value else _("No")))
    if t == "date":
        value = _as(field, value, dt.date)
        if value is None:
            return Cell("")
        return Cell(date_text(request, field, value), css="text-nowrap")
    if t == "datetime":
        value = _as(field, value, dt.datetime)
        if value is None:
            return Cell("")
        return Cell(request.format_datetime(value, "short"), css="text-nowrap")
    if t in ("integer", "decimal"):
        return Cell(
            format_number(request, value, getattr(field, "grouping", True)),
            css="text-end text-nowrap",
        )
    if t == "money":
        value = _as(field, value, values.m.Money)
        if value is None:
            return Cell("")
        return Cell(request.format_money(value.amount, value.currency), css="text-end text-nowrap")
    if t in ("choice", "multichoice"):
        titles = {str(v): title for v, title in field.choices or ()}
        items = value if isinstance(value, list | tuple | set | frozenset) else [value]
        words = [_tr(request, titles[str(v)]) if str(v) in titles else _humanize(v) for v in items]
        return Cell(", ".join(words))
    if t == "email":
        return Cell(str(value), f"mailto:{value}")
    if t == "phone":
        text = format_phone(str(value))
        return Cell(text, "tel:" + str(value).replace(" ", ""), css="text-nowrap")
    if t == "url":
        text = str(value)
        return Cell(text, text if text.lower().startswith(("http://", "https://")) else None)
    if t == "json" or isinstance(value, dict | list):
        return _plain_json(request, value)
    return Cell(str(value))


def _as(field, value, kind):
    """A JSON form (history keeps ISO strings and ``{"amount", "currency"}``) as the
    Python value."""
    if isinstance(value, kind):
        return value
    return values.from_json(field, value) if isinstance(value, str | dict) else None


def date_text(request, field, value: dt.date) -> str:
    """A date as people read it: "3 February" (no year, no placeholder) for a date of a
    ``year_optional`` field whose year is unknown, else the locale's medium date."""
    if field is not None and field.year_optional and values.year_unknown(value):
        # every language Kyklos speaks writes the day first; MMMM is the month's
        # "format" form (Greek and Polish genitive: "3 Φεβρουαρίου", "3 lutego")
        return request.format_date(value, "d MMMM")
    return request.format_date(value)


def format_number(request, value, grouping: bool = True) -> str:
    """A number per locale; ``grouping=False`` for years and codes ("2026")."""
    if isinstance(value, str):
        try:
            value = decimal.Decimal(value)
        except decimal.InvalidOperation:
            return value
    if isinstance(value, bool) or not isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if grouping:
        return request.format_number(value)
    return babel_numbers.format_decimal(value, locale=babel_locale(request), group_separator=False)


def format_phone(number: str) -> str:
    """``+302101234567`` as ``+30 21 0123 4567``; anything unparseable as given."""
    import phonenumbers

    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return number
    if not phonenumbers.is_possible_number(parsed):
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def _humanize(code) -> str:
    text = str(code).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _scalar_text(value) -> str:
    if value is True:
        return "✓"
    if value is False:
        return "✗"
    return str(value)


def _plain_json(request, value) -> Cell:
    """A JSON value without a display kind, as words: a list of scalars comma-joined,
    an object as "Key: value" pairs, a list of objects one per line."""

    def one(v) -> str:
        if isinstance(v, dict):
            parts = []
            for k, x in v.items():
                if _empty(x):
                    continue
                if isinstance(x, dict | list):
                    x = one(x)
                parts.append(f"{_humanize(k)}: {_scalar_text(x)}")
            return "; ".join(parts)
        if isinstance(v, list):
            return ", ".join(one(x) for x in v if not _empty(x))
        return _scalar_text(v)

    if isinstance(value, list) and any(isinstance(v, dict) for v in value):
        lines = [one(v) for v in value if not _empty(v)]
        html = display_list([escape(line) for line in lines])
        return Cell("\n".join(lines), html=html)
    text = one(value)
    if len(text) > 500:
        text = text[:499] + "…"
    return Cell(text)


# --- core display kinds -----------------------------------------------------------------

#: the type words of typed phone and e-mail lists (lower case: they follow the number
#: like the "primary" badge, and stay apart from the catalog's "Home" page)
KIND_WORDS = {
    "mobile": _("mobile"),
    "work": _("work"),
    "home": _("home"),
    "fax": _("fax"),
    "landline": _("landline"),
    "pager": _("pager"),
    "private": _("private"),
    "other": _("other"),
}
PRIMARY = _("primary")


def _kind_word(request, kind) -> str:
    if not kind:
        return ""
    word = KIND_WORDS.get(str(kind))
    return _tr(request, word) if word is not None else _humanize(kind)


def _typed_items(value, key):
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        return []
    out = []
    for item in value:
        if isinstance(item, str):
            item = {key: item}
        if isinstance(item, dict) and item.get(key):
            out.append(item)
    # the primary one first, as people expect to read it
    return sorted(out, key=lambda i: not i.get("primary"))


def render_phones(request, field, value) -> Markup:
    """``[{"type": "mobile", "number": "+30...", "primary": true}]`` as formatted
    numbers (tel: links) with their translated type and a "primary" badge."""
    items = []
    for item in _typed_items(value, "number"):
        number = str(item["number"])
        html = Markup('<a href="tel:{}" class="text-nowrap">{}</a>').format(
            number.replace(" ", ""), format_phone(number)
        )
        word = _kind_word(request, item.get("type"))
        if word:
            html += Markup(' <span class="text-muted small">{}</span>').format(word)
        if item.get("primary"):
            html += display_badge(request, PRIMARY)
        items.append(html)
    return display_list(items)


def render_emails(request, field, value) -> Markup:
    """``[{"type": "work", "email": "...", "primary": true}]`` as mailto: links with their
    translated type and a "primary" badge."""
    items = []
    for item in _typed_items(value, "email"):
        email = str(item["email"])
        html = Markup('<a href="mailto:{}" class="text-break">{}</a>').format(email, email)
        word = _kind_word(request, item.get("type"))
        if word:
            html += Markup(' <span class="text-muted small">{}</span>').format(word)
        if item.get("primary"):
            html += display_badge(request, PRIMARY)
        items.append(html)
    return display_list(items)


def render_title_translations(request, field, value) -> Markup:
    """``{"el": "Τηλεφώνημα", ...}`` as "Ελληνικά: Τηλεφώνημα" lines."""
    if not isinstance(value, dict):
        return escape(str(value))
    items = [
        Markup('<span class="text-muted">{}:</span> {}').format(LANGUAGES.get(k, k), v)
        for k, v in value.items()
        if v
    ]
    return display_list(items)


def render_text_translations(request, field, value) -> Markup:
    """``{"el": "Ελαιόλαδο από...\n..."}``: each language's name, then its text with its
    line breaks kept."""
    if not isinstance(value, dict):
        return escape(str(value))
    items = [
        Markup(
            '<span class="d-block"><span class="text-muted">{}:</span></span>'
            '<span class="d-block k-pre mb-1">{}</span>'
        ).format(LANGUAGES.get(k, k), v)
        for k, v in value.items()
        if v
    ]
    return Markup("").join(items)


# --- record titles ----------------------------------------------------------------------


def record_titles(request, et, records) -> dict[int, str]:
    """``{id: title}`` of ``records`` in the user's language: for a lookup type (activity
    types, stages...) an administrator's title for the user's language, else the
    plugin's catalog (the stored title is the msgid), else the stored title. One query
    for the whole list. A type with ``title_translations`` (a product's names) shows the
    reader's language's title when the record has one."""
    et = _entity_type(request, et)
    records = [r for r in records if r is not None]
    out = {r.id: et.record_title(r) for r in records}
    if et.title_translations and out:
        from kyklos.entities.translations import in_language

        lang = request.locale_name
        for r in records:
            own = in_language(getattr(r, et.title_translations, None), lang)
            if own:
                out[r.id] = own
    if not et.lookup or not out:
        return out
    from kyklos.entities import translations

    own = translations.titles_for(request, et, list(out), request.locale_name)
    domain = catalog_domain(et)
    localizer = request.localizer
    for rid, title in out.items():
        if own.get(rid):
            out[rid] = own[rid]
        elif title and not title.startswith("#"):
            out[rid] = localizer.translate(_ts(title, domain))
    return out


def catalog_domain(et) -> str:
    """The translation domain of the plugin that declares ``et``."""
    return "kyklos" if et.plugin in ("kyklos", "core") else f"kyklos_{et.plugin}"


def _ts(title: str, domain: str):
    from pyramid.i18n import TranslationString

    # A stored "${x}" must stay as typed: no mapping, so nothing is interpolated.
    return TranslationString(title, domain=domain)


def record_title(request, et, record) -> str:
    """The title of one record in the user's language (see :func:`record_titles`)."""
    if record is None:
        return ""
    return record_titles(request, et, [record])[record.id]


def titles_by_id(request, target: str, ids) -> dict[int, tuple[str, str | None]]:
    """``{id: (title, url or None)}`` of the records of type ``target`` (an entity type
    name or ``"user"``) among ``ids`` that the user may see; one query."""
    from kyklos.entities import service

    ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not ids:
        return {}
    db = request.dbsession
    if target == "user":
        rows = db.execute(select(User.id, User.name, User.email).where(User.id.in_(ids)))
        return {uid: (name or email, None) for uid, name, email in rows}
    tet = request.registry.kyklos_entities.get(target)
    if tet is None or not request.has_permission(tet.permission("read")):
        return {}
    stmt = service.visible_select(request, tet).where(tet.model.id.in_(ids))
    rows = list(db.execute(stmt).scalars())
    titles = record_titles(request, tet, rows)
    return {
        r.id: (titles[r.id], request.route_url("entity.detail", slug=tet.slug, id=r.id))
        for r in rows
    }


def reference_titles(request, et, records, names) -> dict[str, dict[int, tuple[str, str | None]]]:
    """``{field name: {id: (title, url or None)}}`` for the reference fields ``names`` of
    ``records``; one query per referenced type."""
    et = _entity_type(request, et)
    wanted: dict[str, set[int]] = {}
    fields = [et.fields[n] for n in names if n in et.fields and et.fields[n].type == "reference"]
    for f in fields:
        ids = {values.read_value(et, f, r) for r in records}
        wanted.setdefault(f.reference, set()).update(i for i in ids if isinstance(i, int))
    by_target = {target: titles_by_id(request, target, ids) for target, ids in wanted.items()}
    return {f.name: by_target.get(f.reference, {}) for f in fields}


# --- sentences (history, timeline) ------------------------------------------------------


def sentence(request, msg, **parts) -> Markup:
    """A translated message whose ``${name}`` parts are markup (links, formatted values):
    the message is escaped, then the parts are put in."""
    template = escape(request.localizer.translate(msg))
    safe = {k: (v if isinstance(v, Markup) else escape(str(v))) for k, v in parts.items()}
    # the message and every part are escaped above
    return Markup(string.Template(str(template)).safe_substitute(safe))  # noqa: S704


def flash(request, msg, queue: str = "info") -> None:
    """A message for the next page, translated now: the session stores plain text (a
    translation string's mapping would not survive being stored)."""
    request.session.flash(request.localizer.translate(msg), queue)


def parse_form_value(field, text: str, tz=None):
    """A string typed into a plain input, as the JSON value the service expects, or
    ``None`` when empty. Raises ``ValueError`` on a value that does not parse.

    A date-time without an offset is the user's wall-clock time: read in ``tz`` (by
    default the current request's zone), never taken as UTC. ``YYYY-MM-DD HH:MM`` and
    ``YYYY-MM-DDTHH:MM`` are accepted; a date is ``YYYY-MM-DD`` and never shifts."""
    text = text.strip()
    if text == "":
        return None
    t = field.type
    if t in ("integer", "reference"):
        return int(text)
    if t == "boolean":
        if text.lower() in ("1", "true", "yes", "on"):
            return True
        if text.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(text)
    if t == "money":
        amount, _sep, currency = text.partition(" ")
        return {"amount": amount, "currency": currency.strip().upper()}
    if t == "multichoice":
        return [v.strip() for v in text.split(",") if v.strip()]
    if t == "date":
        if field.year_optional and values.no_year_date(text) is not None:
            return values.date_json(values.no_year_date(text))
        return dt.date.fromisoformat(text[:10]).isoformat()
    if t == "datetime":
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            if tz is None:
                from pyramid.threadlocal import get_current_request

                request = get_current_request()
                tz = request.timezone if request is not None else dt.UTC
            value = value.replace(tzinfo=tz)
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return text


def includeme(config):
    config.registry.kyklos_display_kinds = {}
    config.add_directive("add_display_kind", add_display_kind)
    config.add_display_kind("phones", render_phones)
    config.add_display_kind("emails", render_emails)
    config.add_display_kind("title_translations", render_title_translations)
    config.add_display_kind("text_translations", render_text_translations)
    from kyklos.entities import translations

    translations.setup(config)

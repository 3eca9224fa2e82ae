"""Form inputs people use instead of ids, JSON and UTC: the core's deform widgets.

- :class:`PickerWidget`: a reference field as a ``<select data-k-picker="<lookup url>">``
  whose chosen option carries the record's title; ``kyklos.js`` turns it into a
  searchable Tom Select picker (search as you type through the ``entity.lookup``
  route). Without JavaScript it is a plain select that still submits the id.
- :class:`DateTimeWidget` / :class:`DateWidget`: native ``<input type="date">`` and
  ``<input type="time">`` (no inline script: deform's pickadate widgets carry one the
  CSP blocks). A date-time is read and shown in the user's time zone; the server
  parses it, so nothing depends on the browser's clock.
- :class:`RichTextWidget`: a ``richtext`` field as a textarea of HTML that
  ``richtext.js`` turns into a Quill editor (the vendored ``static/vendor/quill``).
- :class:`RowsWidget` and :func:`add_input_kind`: typed JSON lists (phones, e-mails)
  edited as rows with a type drop-down, never typed as JSON.

Widgets are chosen by field type in :func:`kyklos.entities.uirecord.build_form`, for
the generated schema and for a plugin's own ``schema`` alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import colander
import deform.widget
from markupsafe import Markup
from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy import select

from kyklos.i18n import _

#: where the core's deform templates live (searched before deform's own)
TEMPLATE_DIR = "kyklos:web/templates/deform"


# --- pickers ------------------------------------------------------------------------------


class PickerWidget(deform.widget.SelectWidget):
    """A select enhanced into a search-as-you-type picker by ``kyklos.js``.

    ``values`` are ``(id, title)`` pairs or ``(id, title, subtitle)`` triples (the
    subtitle is the picker's second line, e.g. a person's account). ``lookup_url`` is
    where the picker searches (``?q=``); ``create_url`` (optional) the API collection a
    new record may be POSTed to with ``create_field`` set to the typed text."""

    template = "k_picker"
    lookup_url = ""
    create_url = ""
    create_field = ""
    null_value = ""

    def __init__(self, **kw):
        items = kw.pop("values", ())
        # deform's select takes (value, title) pairs: the subtitles are kept aside
        self.subtitles = {str(i[0]): i[2] for i in items if len(i) > 2 and i[2]}
        super().__init__(values=[(str(i[0]), i[1]) for i in items], **kw)

    def get_select_value(self, cstruct, value):
        if self.multiple:
            return value in (cstruct or ())
        return value == cstruct

    def option_rows(self) -> list[tuple[str, str, str]]:
        return [(str(v), t, self.subtitles.get(str(v), "")) for v, t in self.values]


class LookupSelectWidget(deform.widget.SelectWidget):
    """A plain drop-down of a lookup list's values (types, statuses, stages...)."""

    null_value = ""


# --- dates and times ----------------------------------------------------------------------


class DateWidget(deform.widget.Widget):
    """``<input type="date">``: the value is ISO (``YYYY-MM-DD``) both ways, so a date
    never shifts with a time zone."""

    template = "k_date"
    readonly_template = "readonly/textinput"
    type_name = "date"

    def serialize(self, field, cstruct, **kw):
        if cstruct in (colander.null, None):
            cstruct = ""
        readonly = kw.get("readonly", self.readonly)
        values = self.get_template_values(field, str(cstruct)[:10], kw)
        return field.renderer(self.readonly_template if readonly else self.template, **values)

    def deserialize(self, field, pstruct):
        if pstruct in ("", colander.null, None):
            return colander.null
        if not isinstance(pstruct, str):
            raise colander.Invalid(field.schema, _("Not a date."), pstruct)
        text = pstruct.strip()
        if not text:
            return colander.null
        try:
            return dt.date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise colander.Invalid(field.schema, _("Not a date."), pstruct) from None


class DayMonthYearWidget(deform.widget.Widget):
    """A date whose year may be unknown (a ``year_optional`` field, e.g. a birthday):
    a day drop-down, a month drop-down (month names in the user's language) and a year
    box that may stay empty, as address books ask for a birthday. The value is ISO both
    ways, the year :data:`kyklos.entities.values.NO_YEAR` standing for "unknown"."""

    template = "k_daymonthyear"
    readonly_template = "readonly/textinput"
    type_name = "date"

    @staticmethod
    def parts(cstruct) -> tuple[str, str, str]:
        from kyklos.entities.values import NO_YEAR

        if isinstance(cstruct, dict):  # re-rendered after a failed validation
            return tuple(str(cstruct.get(k) or "") for k in ("day", "month", "year"))
        try:
            day = dt.date.fromisoformat(str(cstruct)[:10])
        except ValueError:
            return "", "", ""
        return str(day.day), str(day.month), "" if day.year == NO_YEAR else str(day.year)

    @staticmethod
    def month_names() -> list[tuple[str, str]]:
        from babel.dates import get_month_names
        from pyramid.threadlocal import get_current_request

        from kyklos.i18n import babel_locale

        # the stand-alone form: a month named on its own (Greek "Φεβρουάριος")
        names = get_month_names("wide", "stand-alone", babel_locale(get_current_request()))
        return [(str(m), names[m]) for m in range(1, 13)]

    def serialize(self, field, cstruct, **kw):
        readonly = kw.get("readonly", self.readonly)
        day, month, year = self.parts(cstruct if cstruct not in (colander.null, None) else "")
        kw.setdefault("day", day)
        kw.setdefault("month", month)
        kw.setdefault("year", year)
        kw.setdefault("months", self.month_names())
        values = self.get_template_values(field, cstruct, kw)
        if readonly:
            names = dict(values["months"])
            values["cstruct"] = " ".join(p for p in (day, names.get(month, ""), year) if p)
            return field.renderer(self.readonly_template, **values)
        return field.renderer(self.template, **values)

    def deserialize(self, field, pstruct):
        from kyklos.entities.values import NO_YEAR

        if pstruct in (colander.null, None, ""):
            return colander.null
        if not isinstance(pstruct, dict):
            raise colander.Invalid(field.schema, _("Not a date."), pstruct)
        parts = {k: pstruct.get(k) for k in ("day", "month", "year")}
        if not all(isinstance(v, str | None) for v in parts.values()):
            raise colander.Invalid(field.schema, _("Not a date."), pstruct)
        day, month, year = ((parts[k] or "").strip() for k in ("day", "month", "year"))
        if not (day or month or year):
            return colander.null
        if not (day and month):
            raise colander.Invalid(field.schema, _("Choose the day and the month."), pstruct)
        try:
            y = int(year) if year else NO_YEAR
            if not 1 <= y <= 9999 or (year and y == NO_YEAR):
                raise ValueError(year)
            return dt.date(y, int(month), int(day)).isoformat()
        except ValueError:
            raise colander.Invalid(field.schema, _("Not a date."), pstruct) from None


class DateTimeWidget(deform.widget.Widget):
    """A native date input and a time input, read and shown in ``tz`` (the user's
    zone): 11:00 typed in Athens in winter is 09:00 UTC, and shows 11:00 again.

    The cstruct handed to colander carries the offset, so ``colander.DateTime`` keeps
    the instant whatever its ``default_tzinfo``."""

    template = "k_datetime"
    readonly_template = "readonly/textinput"
    type_name = "datetime"
    tz = dt.UTC

    def parts(self, cstruct) -> tuple[str, str]:
        if cstruct in (colander.null, None, ""):
            return "", ""
        value = cstruct
        if isinstance(value, str):
            try:
                value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                return "", ""
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=dt.UTC)  # stored values are UTC
            local = value.astimezone(self.tz)
            return local.date().isoformat(), local.strftime("%H:%M")
        if isinstance(value, dt.date):
            return value.isoformat(), ""
        return "", ""

    def serialize(self, field, cstruct, **kw):
        readonly = kw.get("readonly", self.readonly)
        if isinstance(cstruct, dict):  # re-rendered after a failed validation
            date, time = cstruct.get("date", ""), cstruct.get("time", "")
        else:
            date, time = self.parts(cstruct)
        kw.setdefault("date", date)
        kw.setdefault("time", time)
        values = self.get_template_values(field, cstruct, kw)
        if readonly:
            values["cstruct"] = f"{date} {time}".strip()
            return field.renderer(self.readonly_template, **values)
        return field.renderer(self.template, **values)

    def deserialize(self, field, pstruct):
        if pstruct in (colander.null, None, ""):
            return colander.null
        if not isinstance(pstruct, dict):
            raise colander.Invalid(field.schema, _("Not a date and time."), pstruct)
        date = (pstruct.get("date") or "").strip()
        time = (pstruct.get("time") or "").strip()
        if not date and not time:
            return colander.null
        if not date:
            raise colander.Invalid(field.schema, _("Give the date too."), pstruct)
        if not time:
            raise colander.Invalid(field.schema, _("Give the time too."), pstruct)
        try:
            day = dt.date.fromisoformat(date)
            clock = dt.time.fromisoformat(time)
        except ValueError:
            raise colander.Invalid(field.schema, _("Not a date and time."), pstruct) from None
        return local_to_utc(day, clock, self.tz).isoformat()


def local_to_utc(day: dt.date, clock: dt.time, tz) -> dt.datetime:
    """The UTC instant of a wall-clock time in ``tz``. A time skipped by a DST change
    (02:30 on the spring-forward night) counts as the zone's offset before the change,
    one repeated (autumn) as its first occurrence, as calendars do."""
    naive = dt.datetime.combine(day, clock.replace(tzinfo=None))
    return naive.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)


# --- repeatable rows (typed JSON lists) ---------------------------------------------------


@dataclass
class RowColumn:
    """A column of a rows input: ``kind`` is ``select`` (with ``choices``), ``text``,
    ``email``, ``tel``, ``time`` (a native time input, "HH:MM") or ``primary`` (one
    radio for the whole list)."""

    key: str
    title: object
    kind: str = "text"
    choices: tuple = ()
    required: bool = False


class Rows(colander.SchemaType):
    """A list of dicts with the columns' keys; blank rows are dropped."""

    def __init__(self, columns):
        self.columns = columns

    def serialize(self, node, appstruct):
        if appstruct in (colander.null, None):
            return []
        return [dict(r) for r in appstruct if isinstance(r, dict)]

    def deserialize(self, node, cstruct):
        if cstruct in (colander.null, None):
            return colander.null
        out = []
        for row in cstruct:
            clean = {}
            for c in self.columns:
                v = row.get(c.key)
                if c.kind == "primary":
                    clean[c.key] = bool(v)
                else:
                    clean[c.key] = v.strip() if isinstance(v, str) and v.strip() else None
            value_keys = [c.key for c in self.columns if c.required]
            if value_keys and not any(clean.get(k) for k in value_keys):
                continue  # a blank row
            out.append(clean)
        return out


# --- rich text -----------------------------------------------------------------------------


#: the editor's words, each a ``data-k-<key>`` attribute ``richtext.js`` reads
RICH_TEXT_LABELS = {
    "h2": _("Heading"),
    "h3": _("Subheading"),
    "bold": _("Bold"),
    "italic": _("Italic"),
    "underline": _("Underline"),
    "ordered": _("Numbered list"),
    "bullet": _("Bulleted list"),
    "blockquote": _("Quote"),
    "link": _("Link"),
    "clean": _("Remove formatting"),
    "source-label": _("HTML source"),
    "visit": _("Open:"),
    "edit": _("Edit"),
    "remove-link": _("Remove"),
    "enter-link": _("Link address:"),
}


def rich_text_input(
    request,
    name: str,
    value: str = "",
    *,
    input_id: str | None = None,
    source: bool = False,
    rows: int = 8,
    invalid: bool = False,
) -> Markup:
    """The rich-text input of a form: a ``<textarea data-k-richtext>`` holding the HTML
    (what is submitted as ``name``), which ``kyklos.js`` turns into the editor with its
    toolbar in the user's language; ``source`` adds the "HTML source" view. For a
    plugin's own forms; record forms get it from the ``richtext`` field type."""
    tr = request.localizer.translate
    labels = Markup(" ").join(
        Markup('data-k-{}="{}"').format(k, tr(v)) for k, v in RICH_TEXT_LABELS.items()
    )
    return Markup(
        '<div class="k-richtext" {}{}>'
        '<textarea data-k-richtext="1" name="{}" id="{}" rows="{}" '
        'class="form-control font-monospace{}">{}</textarea></div>'
    ).format(
        labels,
        Markup(' data-k-source="1"') if source else "",
        name,
        input_id or name,
        rows,
        " is-invalid" if invalid else "",
        value or "",
    )


class RichTextWidget(deform.widget.TextAreaWidget):
    """The ``richtext`` field's input (:func:`rich_text_input`): a textarea of HTML
    that ``richtext.js`` turns into a Quill editor (headings, bold, italic, lists,
    links; with ``source``, an "HTML source" view as well). The textarea is what is
    submitted, so without JavaScript one still writes (HTML) and the server sanitises
    it all the same."""

    readonly_template = "readonly/textarea"
    rows = 8
    source = False

    def serialize(self, field, cstruct, **kw):
        from pyramid.threadlocal import get_current_request

        if cstruct in (colander.null, None):
            cstruct = ""
        if kw.get("readonly", self.readonly):
            return super().serialize(field, cstruct, **kw)
        return rich_text_input(
            get_current_request(),
            field.name,
            cstruct,
            input_id=field.oid,
            source=self.source,
            rows=self.rows,
            invalid=bool(field.error),
        )


class RowsWidget(deform.widget.Widget):
    """Rows of inputs (one per column), existing rows plus ``blank_rows`` empty ones;
    ``kyklos.js`` adds an "Add" button that clones a blank row. Works without script."""

    template = "k_rows"
    readonly_template = "k_rows"
    blank_rows = 2
    columns: list = []

    def serialize(self, field, cstruct, **kw):
        rows = [dict(r) for r in (cstruct or []) if isinstance(r, dict)]
        blank = {c.key: "" for c in self.columns}
        for c in self.columns:
            if c.kind == "select" and c.choices:
                blank[c.key] = str(c.choices[0][0])
            if c.kind == "primary":
                blank[c.key] = False
        rows += [dict(blank) for _i in range(self.blank_rows)]
        values = self.get_template_values(field, cstruct, kw)
        values["rows"] = rows
        values["columns"] = [_shown(c) for c in self.columns]
        values["primary_key"] = next((c.key for c in self.columns if c.kind == "primary"), "")
        return field.renderer(self.template, **values)

    def deserialize(self, field, pstruct):
        if pstruct in (colander.null, None, ""):
            return []
        if not isinstance(pstruct, dict):
            raise colander.Invalid(field.schema, _("Invalid rows."), pstruct)
        # one radio group per list: a form may hold phones and e-mails
        chosen = pstruct.get(f"{field.name}-primary")
        # inputs are named r<index>-<key>: a row cloned by kyklos.js takes the next index
        n = 0
        for key in pstruct:
            head = key.split("-", 1)[0]
            if head[:1] == "r" and head[1:].isdigit():
                n = max(n, int(head[1:]) + 1)
        rows = []
        for i in range(min(n, 100)):
            row = {}
            for c in self.columns:
                if c.kind == "primary":
                    row[c.key] = chosen == str(i)
                else:
                    v = pstruct.get(f"r{i}-{c.key}", "")
                    row[c.key] = v if isinstance(v, str) else ""
            rows.append(row)
        return rows


def _word(msg) -> str:
    """``msg`` translated, first letter capitalised: the display's lower-case words
    ("mobile") head a column or fill a drop-down ("Mobile")."""
    from pyramid.threadlocal import get_current_request

    request = get_current_request()
    text = request.localizer.translate(msg) if request is not None else str(msg)
    return text[:1].upper() + text[1:]


def _shown(c: RowColumn) -> RowColumn:
    return RowColumn(
        c.key, _word(c.title), c.kind, tuple((v, _word(t)) for v, t in c.choices), c.required
    )


def rows_input(columns, blank_rows: int = 2):
    """An input kind factory: ``factory(request, field) -> colander node`` editing a
    typed list as rows of ``columns`` (:class:`RowColumn`)."""

    def factory(request, field):
        return colander.SchemaNode(
            Rows(columns),
            name=field.name,
            title=field.title,
            description="",
            missing=[] if not field.required else colander.required,
            widget=RowsWidget(columns=columns, blank_rows=blank_rows),
        )

    return factory


def _kinds(*codes):
    # the display's words ("mobile", "work"...): one translation for reading and editing
    from kyklos.entities.display import KIND_WORDS

    return tuple((c, KIND_WORDS[c]) for c in codes)


PHONE_TYPES = _kinds("mobile", "work", "home", "fax", "other")
EMAIL_TYPES = _kinds("work", "home", "other")


PRIMARY = _("primary")
PHONES = rows_input(
    [
        RowColumn("type", _("Type"), "select", PHONE_TYPES),
        RowColumn("number", _("Number"), "tel", required=True),
        RowColumn("primary", PRIMARY, "primary"),
    ]
)
EMAILS = rows_input(
    [
        RowColumn("type", _("Type"), "select", EMAIL_TYPES),
        RowColumn("email", _("E-mail"), "email", required=True),
        RowColumn("primary", PRIMARY, "primary"),
    ]
)


def add_input_kind(config, name: str, factory) -> None:
    """``config.add_input_kind(name, factory)``: record forms edit a field declared
    with ``display=name`` through ``factory(request, field) -> colander.SchemaNode``
    (e.g. :func:`rows_input`). A later registration of the same name replaces an
    earlier one (a plugin may refine the core's ``phones`` and ``emails``)."""
    config.registry.kyklos_input_kinds[name] = factory


def input_node(request, field):
    """The form node of ``field`` from its registered input kind, or ``None``."""
    factory = getattr(request.registry, "kyklos_input_kinds", {}).get(field.display or "")
    return factory(request, field) if factory is not None and field.display else None


# --- the user picker's look-up --------------------------------------------------------------


def user_lookup_view(request):
    """``[{"id", "title", "subtitle"}]`` of active users whose name or e-mail contains
    ``q`` (``?id=`` resolves titles). Any signed-in user: forms offer the same list."""
    from kyklos.db import ci_contains
    from kyklos.security.models import User

    if getattr(request, "identity", None) is None:
        raise HTTPForbidden()
    # customers' portal logins are user rows too, but never anyone staff pick
    stmt = select(User.id, User.name, User.email).where(
        User.is_active.is_(True), User.is_portal.is_(False)
    )
    ids = [int(i) for i in request.GET.getall("id") if i.isdigit() and len(i) < 10][:100]
    if ids:
        stmt = stmt.where(User.id.in_(ids))
    else:
        for word in request.GET.get("q", "").split()[:5]:
            stmt = stmt.where(
                ci_contains(User.name, word[:100]) | ci_contains(User.email, word[:100])
            )
    rows = request.dbsession.execute(stmt.order_by(User.name, User.email).limit(20))
    return [{"id": i, "title": n or e, "subtitle": e if n else ""} for i, n, e in rows]


def includeme(config):
    config.registry.kyklos_input_kinds = {}
    config.add_directive("add_input_kind", add_input_kind)
    add_input_kind(config, "phones", PHONES)
    add_input_kind(config, "emails", EMAILS)
    config.add_route("user.lookup", "/_lookup/users", request_method="GET")
    config.add_view(user_lookup_view, route_name="user.lookup", renderer="json")

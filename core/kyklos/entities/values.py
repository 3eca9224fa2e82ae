"""Field values by type: checking what clients send, colander nodes for forms, JSON out.

One place knows each field type, so the API, forms, filters and history agree on what
a valid ``integer`` or ``money`` value is. Checks are strict about JSON types (a string
field takes a string, an integer field an integer) and about what the databases would
otherwise refuse with an error: NUL characters, lone surrogates, over-long strings,
integers beyond the column's range, decimals beyond its precision.
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import unicodedata
from decimal import Decimal
from urllib.parse import urlsplit

import colander
import deform.widget
from sqlalchemy import BigInteger, Numeric, String

from kyklos.entities import FieldInfo
from kyklos.entities import money as m
from kyklos.i18n import _

INT32 = 2**31 - 1
INT64 = 2**63 - 1
TEXT_TYPES = frozenset({"string", "text", "email", "phone", "url", "choice"})
ORDERED_TYPES = frozenset({"integer", "decimal", "money", "date", "datetime"})
#: longest string accepted where the column sets no limit
TEXT_LIMIT = 100_000


class Invalid(ValueError):
    """A value does not fit its field; ``msg`` is a translatable message."""

    def __init__(self, msg):
        super().__init__(str(msg))
        self.msg = msg


def column_of(et, field: FieldInfo):
    """The table column behind a built-in field, or ``None`` for a custom or virtual one."""
    if field.custom or getattr(field, "virtual", False):
        return None
    return et.model.__table__.c.get(field.name)


#: C0 control characters other than tab, line feed and carriage return: no one types
#: them, XML (and so XLSX, ODS, vCard XML) cannot hold them, and one such value would
#: otherwise make an export fail for every user who includes the record
_C0 = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"}
#: embedding, override and isolate controls: they reorder what a name shows
#: ("Trojan Source"); a name never needs them (plain text keeps the implicit marks)
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_text(value: str, max_length: int | None = None) -> str:
    if "\x00" in value:
        raise Invalid(_("Text may not contain NUL characters."))
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise Invalid(_("Text is not valid Unicode.")) from None
    limit = max_length or TEXT_LIMIT
    if len(value) > limit:
        raise Invalid(_("At most ${n} characters.", mapping={"n": limit}))
    return value


def check_stored_text(value: str, name: bool = False) -> str:
    """``value`` if an export and a reader can hold it as well as the database: no
    control characters but tab and line breaks; with ``name``, nothing that makes a name
    invisible or reorders it. (Search text is not stored and skips this.)"""
    if not _C0.isdisjoint(value):
        raise Invalid(_("Text may not contain control characters."))
    if name and value:
        if not _BIDI.isdisjoint(value):
            raise Invalid(_("A name may not contain text direction override characters."))
        if all(c.isspace() or unicodedata.category(c) == "Cf" for c in value) and any(
            unicodedata.category(c) == "Cf" for c in value
        ):
            raise Invalid(_("A name may not consist of invisible characters only."))
    return value


def is_name(field: FieldInfo) -> bool:
    """Whether a field holds a name people pick and read records by (a record's title,
    a person's first or last name, a subject)."""
    n = field.name
    return field.type == "string" and (n in ("name", "title", "subject") or n.endswith("_name"))


def _int_limit(column) -> int:
    return INT64 if column is not None and isinstance(column.type, BigInteger) else INT32


def id_limit(et) -> int:
    """The largest id the type's table can hold (larger ones cannot exist)."""
    return _int_limit(et.model.__table__.c.get("id"))


def _numeric_shape(column) -> tuple[int | None, int | None]:
    if column is not None and isinstance(column.type, Numeric):
        return column.type.precision, column.type.scale
    return None, None


def parse_int(value, column=None) -> int:
    if isinstance(value, float) and value.is_integer() and abs(value) <= INT64:
        value = int(value)  # JSON Schema's integer: 3.0 is 3
    if isinstance(value, bool) or not isinstance(value, int):
        raise Invalid(_("Not an integer."))
    if abs(value) > _int_limit(column):
        raise Invalid(_("The number is too large."))
    return value


def parse_decimal(value, column=None) -> Decimal:
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise Invalid(_("Not a number."))
        value = Decimal(repr(value))
    precision, scale = _numeric_shape(column)
    try:
        return m.parse_amount(value, precision, scale)
    except m.MoneyError as exc:
        raise Invalid(exc.args[0]) from None


#: the year a date of a ``year_optional`` field is stored with when its year is unknown:
#: a leap year (29 February fits) that no living person was born in, as Apple's address
#: book writes it. Never shown, exported or answered: those read "--MM-DD" or "3 February".
NO_YEAR = 1604
_NO_YEAR_TEXT = re.compile(r"--(\d{2})-?(\d{2})")


def year_unknown(value) -> bool:
    """Whether a date (or its JSON form) is one whose year is unknown."""
    if isinstance(value, str):
        return bool(_NO_YEAR_TEXT.fullmatch(value))
    return (
        isinstance(value, dt.date) and not isinstance(value, dt.datetime) and value.year == NO_YEAR
    )


def no_year_date(text: str) -> dt.date | None:
    """``--02-03`` / ``--0203`` (ISO 8601:2000, vCard) as the stored date; ``None`` for
    any other text; raises ValueError for a day that no year has (``--02-30``)."""
    m = _NO_YEAR_TEXT.fullmatch(text.strip()) if isinstance(text, str) else None
    if m is None:
        return None
    return dt.date(NO_YEAR, int(m.group(1)), int(m.group(2)))


def date_json(value: dt.date) -> str:
    """A date's JSON form: ISO, or ``--MM-DD`` when its year is unknown."""
    return f"--{value:%m-%d}" if value.year == NO_YEAR else value.isoformat()


def parse_date(value, year_optional: bool = False) -> dt.date:
    if isinstance(value, dt.datetime):
        raise Invalid(_("Not a date (YYYY-MM-DD)."))
    if isinstance(value, dt.date):
        return value
    if year_optional and isinstance(value, str) and value.startswith("--"):
        try:
            day = no_year_date(value)
        except ValueError:
            day = None
        if day is None:
            raise Invalid(_("Not a date (YYYY-MM-DD, or --MM-DD when the year is unknown)."))
        return day
    if not isinstance(value, str) or len(value) != 10:
        raise Invalid(_("Not a date (YYYY-MM-DD)."))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise Invalid(_("Not a date (YYYY-MM-DD).")) from None


def parse_datetime(value) -> dt.datetime:
    if isinstance(value, str) and 10 < len(value) <= 40:
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise Invalid(_("Not a date and time (ISO 8601).")) from None
    if not isinstance(value, dt.datetime):
        raise Invalid(_("Not a date and time (ISO 8601)."))
    if value.tzinfo is None or value.utcoffset() is None:
        raise Invalid(_("Give a time zone, e.g. 2026-01-31T09:00:00Z."))
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:
        raise Invalid(_("Not a date and time (ISO 8601).")) from None


def _choice_values(field: FieldInfo) -> set[str]:
    return {str(v) for v, _t in field.choices or ()}


def parser(field: FieldInfo, column=None):
    """:func:`parse_value` for one field, as a function of the value: what depends only
    on the field (its limits, whether it is a name, its choices) worked out once, for a
    caller that parses many values of it (an import's column)."""
    if field.type in TEXT_TYPES:
        return _text_parser(field)
    if field.type == "richtext":
        return _richtext_parser(field)
    return lambda value: parse_value(field, value, column)


def _text_parser(field: FieldInfo):
    t = field.type
    limit, name = field.max_length, is_name(field)
    email, url = t == "email", t == "url"
    allowed = _choice_values(field) if t == "choice" and field.choices is not None else None

    def parse(value):
        if not isinstance(value, str):
            raise Invalid(_("Not a string."))
        check_text(value, limit)
        check_stored_text(value, name=name)
        if email and value and not _is_email(value):
            raise Invalid(_("Not a valid e-mail address."))
        if url and value and not _is_url(value):
            raise Invalid(_("Not a valid http(s) URL."))
        if allowed is not None and value not in allowed:
            raise Invalid(_("Not one of the allowed values."))
        return value

    return parse


def _richtext_parser(field: FieldInfo):
    from kyklos.entities import richtext

    limit, source = field.max_length, field.html_source

    def parse(value):
        if not isinstance(value, str):
            raise Invalid(_("Not a string."))
        check_text(value, limit)
        check_stored_text(value)
        # sanitised on every write path: what is stored is safe to show as HTML
        clean = richtext.sanitise(value, source=source)
        # the limit holds for what is stored (the sanitiser may add rel="noopener")
        return check_text(clean, limit)

    return parse


def parse_value(field: FieldInfo, value, column=None):
    """The Python value for ``value`` sent for ``field`` (never ``None``: callers
    handle nulls). Raises :class:`Invalid`."""
    t = field.type
    if t in TEXT_TYPES:
        return _text_parser(field)(value)
    if t == "richtext":
        return _richtext_parser(field)(value)
    if t in ("integer", "reference"):
        return parse_int(value, column)
    if t == "decimal":
        return parse_decimal(value, column)
    if t == "money":
        precision, scale = _numeric_shape(column)
        try:
            return m.parse_money(value, precision, scale)
        except m.MoneyError as exc:
            raise Invalid(exc.args[0]) from None
    if t == "boolean":
        if not isinstance(value, bool):
            raise Invalid(_("Not true or false."))
        return value
    if t == "date":
        return parse_date(value, field.year_optional)
    if t == "datetime":
        return parse_datetime(value)
    if t == "multichoice":
        if not isinstance(value, list | tuple | set | frozenset) or len(value) > 1000:
            raise Invalid(_("Not a list of values."))
        allowed = _choice_values(field)
        out = []
        for v in value:
            if not isinstance(v, str) or (field.choices is not None and v not in allowed):
                raise Invalid(_("Not one of the allowed values."))
            out.append(v)
        return sorted(set(out))
    if t == "json":
        if not isinstance(value, dict | list):
            raise Invalid(_("Not a JSON object or array."))
        if field.display in ("title_translations", "text_translations"):
            from kyklos.entities import translations

            try:
                return translations.clean(value, field.display)
            except ValueError as exc:
                raise Invalid(exc.args[0]) from None
        return value
    raise Invalid(_("This field cannot be written."))


def _is_email(value: str) -> bool:
    # A deliberately simple, linear check (no backtracking regex): one "@", a dot in the
    # domain, no spaces. Deliverability is the mail server's business.
    if len(value) > 254 or any(c.isspace() for c in value) or value.count("@") != 1:
        return False
    local, domain = value.split("@")
    return bool(local) and "." in domain.strip(".") and not domain.startswith(".")


def _is_url(value: str) -> bool:
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def to_json(field: FieldInfo, value):
    """A JSON-safe form of a Python value of ``field``."""
    if value is None:
        return None
    if isinstance(value, m.Money):
        return value.to_json()
    if isinstance(value, Decimal):
        return str(value)
    if (
        field is not None
        and field.type == "decimal"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
    ):
        # a column default (0) not yet read back from the database: still a decimal
        # string, as every read of the record answers
        return str(Decimal(repr(value)) if isinstance(value, float) else Decimal(value))
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.date):
        if field is not None and field.year_optional:
            return date_json(value)
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return sorted(value)
    return value


def from_json(field: FieldInfo, value):
    """The Python value of a JSON-stored value (custom fields, history)."""
    if value is None:
        return None
    try:
        if field.type == "date":
            return no_year_date(value) or dt.date.fromisoformat(value)
        if field.type == "datetime":
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if field.type == "decimal":
            return Decimal(value)
        if field.type == "money":
            return m.Money(Decimal(value["amount"]), value["currency"])
    except (TypeError, ValueError, KeyError, decimal.InvalidOperation):
        return None
    return value


def read_value(et, field: FieldInfo, record):
    """The Python value of ``field`` on ``record`` (money joined from its two columns)."""
    if field.custom:
        return from_json(field, (record.custom or {}).get(field.name))
    value = getattr(record, field.name)
    if field.type == "money":
        if value is None:
            return None
        return m.Money(Decimal(value), getattr(record, field.currency_field))
    return value


def write_value(et, field: FieldInfo, record, value) -> None:
    if field.custom:
        doc = dict(record.custom or {})
        doc[field.name] = to_json(field, value)
        record.custom = doc  # a new dict: JSON columns do not track in-place changes
        return
    if field.type == "money":
        setattr(record, field.name, value.amount if value is not None else None)
        setattr(record, field.currency_field, value.currency if value is not None else None)
        return
    setattr(record, field.name, value)


# --- colander nodes (forms) -----------------------------------------------------------


class MoneyMapping(colander.Mapping):
    """A colander mapping {amount, currency} that deserializes to :class:`Money`."""

    def deserialize(self, node, cstruct):
        value = super().deserialize(node, cstruct)
        if value is colander.null or value.get("amount") in (None, colander.null):
            return colander.null
        return m.Money(value["amount"], value["currency"])

    def serialize(self, node, appstruct):
        if isinstance(appstruct, m.Money):
            appstruct = {"amount": appstruct.amount, "currency": appstruct.currency}
        return super().serialize(node, appstruct)


def _length(field):
    return colander.Length(max=field.max_length) if field.max_length else None


def field_node(field: FieldInfo, column=None, required: bool | None = None):
    """A colander node for ``field`` (deform widgets chosen for its type)."""
    required = field.required if required is None else required
    kw = {
        "name": field.name,
        "title": field.title,
        "description": field.description or "",
        "missing": colander.required if required else None,
    }
    t = field.type
    if t == "money":
        precision, scale = _numeric_shape(column)
        node = colander.SchemaNode(MoneyMapping(), **kw)
        node.add(
            colander.SchemaNode(
                colander.Decimal(quant=f"1e-{scale}" if scale else None),
                name="amount",
                title=_("Amount"),
                missing=colander.required if required else None,
            )
        )
        node.add(
            colander.SchemaNode(
                colander.String(),
                name="currency",
                title=_("Currency"),
                validator=colander.OneOf(sorted(m.currencies())),
                widget=deform.widget.SelectWidget(values=[(c, c) for c in sorted(m.currencies())]),
                missing=colander.required if required else None,
            )
        )
        return node
    if t in ("string", "email", "phone", "url", "text"):
        validators = [v for v in (_length(field),) if v]
        if t == "email":
            validators.append(colander.Function(_is_email, _("Not a valid e-mail address.")))
        if t == "url":
            validators.append(colander.Function(_is_url, _("Not a valid http(s) URL.")))
        widget = deform.widget.TextAreaWidget(rows=4) if t == "text" else None
        return colander.SchemaNode(
            colander.String(),
            validator=colander.All(*validators) if validators else None,
            widget=widget,
            **kw,
        )
    if t == "richtext":
        from kyklos.entities.widgets import RichTextWidget

        return colander.SchemaNode(
            colander.String(),
            validator=_length(field),
            widget=RichTextWidget(source=field.html_source),
            **kw,
        )
    if t == "choice":
        values = [(str(v), title) for v, title in field.choices or ()]
        return colander.SchemaNode(
            colander.String(),
            validator=colander.OneOf([v for v, _t in values]),
            widget=deform.widget.SelectWidget(values=[("", "")] + values),
            **kw,
        )
    if t == "multichoice":
        values = [(str(v), title) for v, title in field.choices or ()]
        kw["missing"] = [] if not required else colander.required
        return colander.SchemaNode(
            colander.Set(), widget=deform.widget.CheckboxChoiceWidget(values=values), **kw
        )
    if t in ("integer", "reference"):
        limit = _int_limit(column)
        return colander.SchemaNode(
            colander.Integer(strict=True), validator=colander.Range(-limit, limit), **kw
        )
    if t == "decimal":
        return colander.SchemaNode(colander.Decimal(), **kw)
    if t == "boolean":
        kw["missing"] = False
        return colander.SchemaNode(colander.Boolean(), widget=deform.widget.CheckboxWidget(), **kw)
    if t == "date" and field.year_optional:
        from kyklos.entities.widgets import DayMonthYearWidget

        return colander.SchemaNode(colander.Date(), widget=DayMonthYearWidget(), **kw)
    if t == "date":
        return colander.SchemaNode(colander.Date(), **kw)
    if t == "datetime":
        return colander.SchemaNode(colander.DateTime(default_tzinfo=dt.UTC), **kw)
    if t == "json" and field.display == "title_translations":
        return _title_translations_node(field, kw)
    if t == "json" and field.display == "text_translations":
        return _text_translations_node(field, kw)
    return None


def _title_translations_node(field: FieldInfo, kw: dict):
    """One input per language, "Title (Ελληνικά)", for the titles of a lookup value."""
    from kyklos.i18n import LANGUAGES

    kw["missing"] = {}
    node = colander.SchemaNode(colander.Mapping(unknown="ignore"), **kw)
    for code, name in LANGUAGES.items():
        node.add(
            colander.SchemaNode(
                colander.String(),
                name=code,
                title=_("Title (${language})", mapping={"language": name}),
                missing="",
                validator=colander.Length(max=300),
            )
        )
    return node


def _text_translations_node(field: FieldInfo, kw: dict):
    """A text area per language, "Ελληνικά", for a longer text given per language (a
    product's description): the multi-line sibling of the titles above."""
    from kyklos.entities.translations import KINDS
    from kyklos.i18n import LANGUAGES

    kw["missing"] = {}
    node = colander.SchemaNode(colander.Mapping(unknown="ignore"), **kw)
    for code, name in LANGUAGES.items():
        node.add(
            colander.SchemaNode(
                colander.String(),
                name=code,
                title=name,
                missing="",
                validator=colander.Length(max=KINDS["text_translations"]),
                widget=deform.widget.TextAreaWidget(rows=3),
            )
        )
    return node


def max_length_of(column) -> int | None:
    return column.type.length if column is not None and isinstance(column.type, String) else None

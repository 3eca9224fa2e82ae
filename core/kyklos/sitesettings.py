"""Settings an administrator changes at run time (company details, currencies, country,
time zone, public URL...), kept in the database; the .ini gives only their defaults.

The table is one row per key with a JSON value, so a plugin adds a setting without a
migration. A key without a row takes its value from the .ini (see :data:`SPECS`); a
PATCH of ``null`` deletes the row, so the .ini default applies again.

Reading: :func:`get` (the SDK's ``site_setting``) loads every row once per request (one
query, rows are small) and keeps them on the request; the logo's bytes are a row of
their own (``company.logo.data``) that only :func:`company_logo` reads. Writing:
:func:`validate` checks a whole change set and :func:`save` writes it only when every
value is valid, so an API call or a form never half-applies.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit
from zoneinfo import available_timezones

from sqlalchemy import ForeignKey, Integer, String, delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column
from transaction.interfaces import NoTransaction

from kyklos import authcache
from kyklos.db import Base, JSONType, UTCDateTime
from kyklos.i18n import LANGUAGES, _


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SiteSetting(Base):
    __tablename__ = "kyklos_site_setting"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSONType, nullable=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, nullable=False, default=_now)
    updated_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


MANAGE = "kyklos.settings.manage"
LOGO = "company.logo"
#: the row holding the logo's bytes (base64): never loaded with the other settings
LOGO_DATA = "company.logo.data"
LOGO_MAX_BYTES = 1024 * 1024
#: images a document or a page may embed (SVG is refused: it can carry scripts)
LOGO_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp")
_CACHE = "_kyklos_site_settings"


@dataclass(frozen=True)
class Spec:
    """One setting: its kind (how it is checked and shown), the .ini key giving its
    default, the default when the .ini has none, its section on the page, title and
    what it affects."""

    key: str
    kind: str  # text, multiline, email, url, currency, currencies, country, timezone,
    #            languages, integer, logo
    ini: str | None
    default: object
    section: str
    title: object
    description: object = ""
    max_length: int = 200
    minimum: int = 0
    maximum: int = 0


SECTIONS = (
    ("company", _("Company")),
    # its own message id: "Money" elsewhere is a field type ("amount"), not a section
    ("money", _("settings-section-money", default="Money")),
    ("region", _("Region")),
    ("site", _("Site")),
)

_SPECS = (
    Spec(
        "company.name",
        "text",
        "kyklos.company.name",
        "",
        "company",
        _("Company name"),
        _("Shown as the seller on quotes, PDFs and e-mails."),
    ),
    Spec(
        "company.vat_number",
        "text",
        "kyklos.company.vat_number",
        "",
        "company",
        _("VAT number"),
        _("Printed on quotes and invoices."),
        max_length=50,
    ),
    Spec(
        "company.email",
        "email",
        "kyklos.company.email",
        "",
        "company",
        _("E-mail"),
        _("The company's contact address on documents."),
        max_length=254,
    ),
    Spec(
        "company.phone",
        "text",
        "kyklos.company.phone",
        "",
        "company",
        _("Phone"),
        _("The company's phone number on documents."),
        max_length=50,
    ),
    Spec(
        "company.website",
        "url",
        "kyklos.company.website",
        "",
        "company",
        _("Website"),
        _("The company's web address on documents."),
        max_length=500,
    ),
    Spec(
        LOGO,
        "logo",
        None,
        None,
        "company",
        _("Logo"),
        _("A PNG, JPEG, GIF or WebP image of at most 1 MB, printed at the top of documents."),
    ),
    Spec(
        "company.address",
        "multiline",
        "kyklos.company.address",
        "",
        "company",
        _("Address"),
        _("The postal address printed under the company name on documents."),
        max_length=1000,
    ),
    Spec(
        "company.bank_details",
        "multiline",
        "kyklos.company.bank_details",
        "",
        "company",
        _("Bank details"),
        _("Bank, IBAN and BIC printed at the foot of quotes and invoices."),
        max_length=1000,
    ),
    Spec(
        "currency.default",
        "currency",
        "kyklos.currency",
        "EUR",
        "money",
        _("Default currency"),
        _("New amounts (opportunities, quotes, every money field) start in this currency."),
    ),
    Spec(
        "currency.in_use",
        "currencies",
        "kyklos.currencies",
        "",
        "money",
        _("Currencies in use"),
        _("Currency lists offer these first; the default currency is always one of them."),
    ),
    Spec(
        "rates.max_age_days",
        "integer",
        "kyklos.rates.max_age_days",
        "7",
        "money",
        _("Warn when an exchange rate is older than (days)"),
        _("Totals converted with an older rate say so, and this page lists such rates."),
        minimum=1,
        maximum=3650,
    ),
    Spec(
        "rates.source_url",
        "url",
        "kyklos.rates.source_url",
        "",
        "money",
        _("Exchange rate source"),
        _(
            "A public address publishing daily rates, e.g. the European Central Bank's "
            "https://www.ecb.europa.eu/stats/eurofxref/eurofxref-daily.xml; rates are "
            "fetched from it once a day. Leave empty to enter rates by hand."
        ),
        max_length=500,
    ),
    Spec(
        "country.default",
        "country",
        "kyklos.country",
        "",
        "region",
        _("Default country"),
        _(
            "Phone numbers typed without a country code are read as numbers of this "
            "country; new addresses start with it."
        ),
    ),
    Spec(
        "timezone.default",
        "timezone",
        "kyklos.timezone",
        "UTC",
        "region",
        _("Default time zone"),
        _("Times are shown in it to users who have not chosen their own time zone."),
    ),
    Spec(
        "base_url",
        "url",
        "kyklos.base_url",
        "",
        "site",
        _("Public address"),
        _(
            "The address users open Kyklos at, e.g. https://crm.example.com. Links in "
            "e-mails (password resets, notifications, approvals) start with it."
        ),
        max_length=500,
    ),
    Spec(
        "languages",
        "languages",
        "kyklos.available_languages",
        "en el ro pl",
        "site",
        _("Languages offered"),
        _("The language selector offers only these; users of another language see the first."),
    ),
)
SPECS: dict[str, Spec] = {s.key: s for s in _SPECS}
#: keys the API's PATCH and the page's form write (the logo is an upload of its own)
WRITABLE = tuple(k for k, s in SPECS.items() if s.kind != "logo")


# --- choices ---------------------------------------------------------------------------


@lru_cache(maxsize=1)
def timezones() -> tuple[str, ...]:
    return tuple(sorted(z for z in available_timezones() if "/" in z or z == "UTC"))


#: CLDR territories that are not countries (regions, groupings, private use)
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}


@lru_cache(maxsize=1)
def countries() -> frozenset[str]:
    """ISO 3166-1 alpha-2 codes (as CLDR knows them, through babel)."""
    from babel import Locale

    return frozenset(
        c
        for c in Locale.parse("en").territories
        if len(c) == 2 and c.isalpha() and c.isupper() and c not in _NOT_COUNTRIES
    )


def country_names(locale_name: str) -> list[tuple[str, str]]:
    """``[(code, name)]`` sorted by name in ``locale_name``."""
    from babel import Locale, UnknownLocaleError

    try:
        names = Locale.parse(locale_name).territories
    except (UnknownLocaleError, ValueError):
        names = Locale.parse("en").territories
    out = [(c, names.get(c, c)) for c in countries()]
    return sorted(out, key=lambda p: p[1].casefold())


def currency_names(locale_name: str, codes=None) -> list[tuple[str, str]]:
    """``[(code, "EUR — Euro")]`` in ``locale_name`` (sorted by code)."""
    from babel.numbers import get_currency_name

    from kyklos.entities import money

    out = []
    for code in sorted(codes if codes is not None else money.currencies()):
        try:
            name = get_currency_name(code, locale=locale_name)
        except ValueError:
            name = code
        out.append((code, f"{code} — {name}" if name != code else code))
    return out


def language_codes() -> tuple[str, ...]:
    """Languages the application has catalogs and a name for."""
    return tuple(LANGUAGES)


# --- reading ---------------------------------------------------------------------------


def ini_default(settings, key: str):
    """The value of ``key`` when the database has none: the .ini, else the built-in."""
    spec = SPECS[key]
    raw = spec.default
    if spec.ini:
        configured = (settings or {}).get(spec.ini)
        if configured not in (None, ""):
            raw = configured
    return _coerce(spec, raw)


def _coerce(spec: Spec, raw):
    """A .ini string as the setting's value type (lists split on spaces and commas)."""
    from kyklos.settings import aslist

    if spec.kind in ("currencies", "languages"):
        return [v.strip() for v in aslist(raw)] if not isinstance(raw, list) else raw
    if spec.kind == "integer":
        try:
            return int(raw)
        except (TypeError, ValueError):
            return int(spec.default)
    if spec.kind in ("currency", "country"):
        return str(raw or "").strip().upper()
    if spec.kind == "logo":
        return raw
    return "" if raw is None else str(raw)


def _rows(request) -> dict:
    """Every stored setting but the logo's bytes, read once per request, and kept by
    the process under the authorisation counter (:mod:`kyklos.authcache` watches this
    table too: any write to it counts on the next request of every process)."""
    cache = request.__dict__.get(_CACHE)
    if cache is not None:
        return cache
    rows: dict = {}
    try:
        db = getattr(request, "dbsession", None)
        if db is not None:
            with db.no_autoflush:
                ck = authcache.key(db)
                kept = authcache.get(ck, _CACHE, None)
                if kept is None:
                    kept = dict(
                        db.execute(
                            select(SiteSetting.key, SiteSetting.value).where(
                                SiteSetting.key != LOGO_DATA
                            )
                        ).all()
                    )
                    authcache.put(ck, _CACHE, None, kept)
                # a copy: a request may not change what other requests read
                rows = copy.deepcopy(kept)
    except (SQLAlchemyError, NoTransaction):
        # A failed transaction (an error page being rendered) or none at all (a page
        # rendered outside a request's transaction) must not fail here: the .ini
        # defaults serve this request.
        rows = {}
    request.__dict__[_CACHE] = rows
    return rows


def forget(request) -> None:
    """Drop the request's cached settings (after a write)."""
    request.__dict__.pop(_CACHE, None)


def _finish(key: str, value, request):
    spec = SPECS.get(key)
    if spec is None:
        return value
    if spec.kind == "currencies":
        # The default currency is always in use, first.
        default = get(request, "currency.default")
        value = [default] + [c for c in (value or []) if c != default]
    elif spec.kind == "languages":
        value = [v for v in (value or []) if v in LANGUAGES] or ["en"]
    elif spec.kind == "currency":
        from kyklos.entities import money

        if not money.is_currency(value):
            value = "EUR"
    elif spec.kind == "timezone" and value not in timezones():
        value = "UTC"
    return value


def get(request, key: str, default=None):
    """The value of setting ``key``: the database's, else the .ini's, else ``default``
    (for keys that are not declared in :data:`SPECS`, e.g. a plugin's own)."""
    rows = _rows(request)
    if key in rows and rows[key] is not None:
        value = rows[key]
    elif key in SPECS:
        value = ini_default(request.registry.settings, key)
    else:
        return default
    if key in SPECS:
        value = _finish(key, value, request)
    if value in (None, "", []) and default is not None:
        return default
    return value


def all_values(request) -> dict:
    """Every declared setting's current value (the logo as its description)."""
    return {key: get(request, key) for key in SPECS}


def company_logo(request):
    """``(bytes, content_type)`` of the company logo, or ``None``."""
    meta = get(request, LOGO)
    if not isinstance(meta, dict):
        return None
    data = request.dbsession.execute(
        select(SiteSetting.value).where(SiteSetting.key == LOGO_DATA)
    ).scalar_one_or_none()
    if not isinstance(data, str):
        return None
    try:
        return base64.b64decode(data), meta.get("content_type") or "application/octet-stream"
    except ValueError:
        return None


def public_base_url(request) -> str:
    """The address links in e-mails start with (no trailing slash): the setting, else the
    address of the current request."""
    return (get(request, "base_url") or request.application_url).rstrip("/")


def available_languages(request) -> list[str]:
    return get(request, "languages")


def default_currency(request) -> str:
    return get(request, "currency.default")


def currencies_in_use(request) -> list[str]:
    return get(request, "currency.in_use")


# --- checking and writing ---------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Invalid(ValueError):
    def __init__(self, msg):
        super().__init__(str(msg))
        self.msg = msg


def _check_text(spec: Spec, value) -> str:
    if not isinstance(value, str):
        raise Invalid(_("Send text."))
    if "\x00" in value:
        raise Invalid(_("Invalid characters."))
    value = value.strip()
    if spec.kind != "multiline" and ("\n" in value or "\r" in value):
        raise Invalid(_("One line only."))
    if len(value) > spec.max_length:
        raise Invalid(_("At most ${n} characters.", mapping={"n": spec.max_length}))
    return value.replace("\r\n", "\n")


def _check_url(value: str) -> str:
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(_("Enter an address starting with http:// or https://."))
    if any(c.isspace() for c in value):
        raise Invalid(_("An address has no spaces."))
    return value


def check(key: str, value):
    """The clean value of ``key`` or :class:`Invalid` (``None`` resets to the .ini)."""
    from kyklos.entities import money

    spec = SPECS.get(key)
    if spec is None or spec.kind == "logo":
        raise Invalid(_("Unknown setting."))
    if value is None:
        return None
    kind = spec.kind
    if kind in ("text", "multiline", "email", "url"):
        value = _check_text(spec, value)
        if kind == "email" and value and not _EMAIL.match(value):
            raise Invalid(_("Not a valid e-mail address."))
        if kind == "url":
            value = _check_url(value)
            if key == "base_url":
                parts = urlsplit(value)
                if parts.query or parts.fragment:
                    raise Invalid(_("The address may not have a query or a fragment."))
                value = value.rstrip("/")
        return value
    if kind == "currency":
        if not money.is_currency(value):
            raise Invalid(_("Not an ISO 4217 currency code."))
        return value
    if kind == "currencies":
        if not isinstance(value, list) or len(value) > 50:
            raise Invalid(_("Send a list of at most 50 ISO 4217 currency codes."))
        bad = [c for c in value if not money.is_currency(c)]
        if bad:
            raise Invalid(
                _("Not ISO 4217 currency codes: ${codes}.", mapping={"codes": _codes(bad)})
            )
        return list(dict.fromkeys(value))
    if kind == "country":
        if value == "":
            return ""
        if not isinstance(value, str) or value not in countries():
            raise Invalid(_("Not an ISO 3166 country code (two capital letters)."))
        return value
    if kind == "timezone":
        if not isinstance(value, str) or value not in timezones():
            raise Invalid(_("Not an IANA time zone such as Europe/Athens."))
        return value
    if kind == "languages":
        have = language_codes()
        if not isinstance(value, list) or not value:
            raise Invalid(_("Choose at least one language."))
        bad = [v for v in value if not isinstance(v, str) or v not in have]
        if bad:
            raise Invalid(
                _(
                    "Not a language of this application: ${codes} (offered: ${have}).",
                    mapping={"codes": _codes(bad), "have": ", ".join(have)},
                )
            )
        return list(dict.fromkeys(value))
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise Invalid(_("Send a whole number."))
        if not spec.minimum <= value <= spec.maximum:
            raise Invalid(
                _(
                    "Between ${lo} and ${hi}.",
                    mapping={"lo": spec.minimum, "hi": spec.maximum},
                )
            )
        return value
    raise Invalid(_("Unknown setting."))


def _codes(values) -> str:
    return ", ".join(str(v)[:20] for v in values[:10])


def validate(changes: dict) -> tuple[dict, dict]:
    """``(clean, errors)`` of a change set ``{key: value}``; ``errors`` names each bad key."""
    clean, errors = {}, {}
    for key, value in changes.items():
        try:
            clean[key] = check(key, value)
        except Invalid as exc:
            errors[str(key)[:100]] = exc.msg
    return clean, errors


def _user_id(request):
    ident = getattr(request, "identity", None)
    return ident.user.id if ident is not None else None


def _put(request, key: str, value) -> None:
    db = request.dbsession
    row = db.get(SiteSetting, key)
    if value is None:
        if row is not None:
            db.delete(row)
        return
    if row is None:
        db.add(SiteSetting(key=key, value=value, updated_by_id=_user_id(request)))
    else:
        row.value = value
        row.updated_at = _now()
        row.updated_by_id = _user_id(request)


def save(request, clean: dict) -> list[str]:
    """Write checked values (``None`` deletes the row); returns the keys that changed."""
    current = _rows(request)
    changed = []
    for key, value in clean.items():
        if current.get(key) == value and (value is not None or key not in current):
            continue
        _put(request, key, value)
        changed.append(key)
    request.dbsession.flush()
    forget(request)
    if changed:
        from kyklos.security.audit import log_event

        log_event(request, "settings.changed", keys=changed)
    return changed


def check_logo(filename: str, data: bytes) -> str:
    """The sniffed content type of an uploaded logo, or :class:`Invalid`."""
    from kyklos.entities.attachments import classify
    from kyklos.problem import Problem

    if not data:
        raise Invalid(_("The file is empty."))
    if len(data) > LOGO_MAX_BYTES:
        raise Invalid(_("The logo is larger than 1 MB."))
    try:
        _name, ctype = classify(filename or "logo", data[:8192])
    except Problem as exc:
        raise Invalid(exc.detail or exc.title) from None
    if ctype not in LOGO_TYPES:
        raise Invalid(_("A logo must be a PNG, JPEG, GIF or WebP image."))
    return ctype


def save_logo(request, filename: str, data: bytes) -> None:
    ctype = check_logo(filename, data)
    meta = {
        "content_type": ctype,
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    _put(request, LOGO_DATA, base64.b64encode(data).decode("ascii"))
    _put(request, LOGO, meta)
    request.dbsession.flush()
    forget(request)
    from kyklos.security.audit import log_event

    log_event(request, "settings.changed", keys=[LOGO])


def delete_logo(request) -> None:
    _put(request, LOGO_DATA, None)
    _put(request, LOGO, None)
    request.dbsession.flush()
    forget(request)
    from kyklos.security.audit import log_event

    log_event(request, "settings.changed", keys=[LOGO])


def remove_all(dbsession) -> None:
    """Forget every stored setting (tests; ``kyklos`` maintenance)."""
    dbsession.execute(delete(SiteSetting))


def base_url_of(registry) -> str:
    """The public address for work done outside a web request (jobs, the CLI): the
    setting, else the .ini's ``kyklos.base_url``, else ``http://localhost``."""
    stored = None
    factory = registry.get("dbsession_factory") if hasattr(registry, "get") else None
    if factory is not None:
        try:
            with factory() as db:
                stored = db.execute(
                    select(SiteSetting.value).where(SiteSetting.key == "base_url")
                ).scalar_one_or_none()
        except SQLAlchemyError:
            stored = None
    base = stored or registry.settings.get("kyklos.base_url") or "http://localhost"
    return str(base).rstrip("/")

"""Translation machinery: one domain per distribution, locale chosen per user, and
locale-aware formatting of numbers, dates and money.

Domains: ``kyklos`` for the core, ``kyklos_<id>`` for each plugin, plus deform's and
colander's own. Catalogs live in ``<package>/locale/<lang>/LC_MESSAGES/<domain>.po``;
the compiled ``.mo`` files are build products (``python tools/i18n.py compile``,
``dev.py setup`` and the test suite's pytest plugin compile stale ones).
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import tempfile
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from pyramid.i18n import TranslationStringFactory, get_localizer, make_localizer
from pyramid.interfaces import ITranslationDirectories

_ = TranslationStringFactory("kyklos")

LANGUAGES = {"en": "English", "el": "Ελληνικά", "ro": "Română", "pl": "Polski"}

#: titles of the columns every entity has; other derived titles are made from column
#: names at run time, which no extraction finds (plugins give their fields titles)
FIELD_TITLES = {
    "id": _("ID"),
    "version": _("Version"),
    "owner_id": _("Owner"),
    "created_by_id": _("Created by"),
    "updated_by_id": _("Updated by"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
    "deleted_at": _("Deleted"),
}


def locale_negotiator(request):
    """The user's own choice, then an explicit ``_LOCALE_`` cookie or parameter, then the
    browser's Accept-Language among the available languages, then the default."""
    settings = request.registry.settings
    available = available_languages(request)
    ident = getattr(request, "identity", None) if _has_policy(request) else None
    if ident is not None and ident.user.locale in available:
        return ident.user.locale
    chosen = request.params.get("_LOCALE_") or request.cookies.get("_LOCALE_")
    if chosen in available:
        return chosen
    match = request.accept_language.best_match(available) if request.accept_language else None
    default = settings.get("pyramid.default_locale_name", "en")
    return match or (default if default in available or not available else available[0])


def available_languages(request) -> list[str]:
    """The languages offered: the administrator's choice (site settings), else the .ini's
    ``kyklos.available_languages``."""
    if _has_policy(request):
        from kyklos import sitesettings

        return list(sitesettings.get(request, "languages"))
    return request.registry.settings.get("kyklos.available_languages", "en").split()


def _site_setting(request, key: str, ini_key: str):
    """A site setting (the administrator's value, else the .ini's) where a database is
    at hand; the .ini's value otherwise."""
    if _has_policy(request):
        from kyklos import sitesettings

        return sitesettings.get(request, key)
    return request.registry.settings.get(ini_key)


def _has_policy(request) -> bool:
    # The negotiator may run while the security policy itself translates (error pages);
    # guard against recursion by checking that a dbsession can be built.
    return "dbsession_factory" in request.registry


def translate(request, msg, mapping=None):
    """``msg`` (a TranslationString or plain text) in the request's language."""
    return get_localizer(request).translate(msg, mapping=mapping)


def translate_for(request, msg, locale_name: str | None, mapping=None):
    """``msg`` in ``locale_name`` (another user's language: a notification is written
    in its recipient's language, not its sender's); the request's language when the
    locale is unknown or not offered."""
    available = available_languages(request)
    if not locale_name or locale_name not in available or locale_name == request.locale_name:
        return translate(request, msg, mapping)
    cache = request.registry.__dict__.setdefault("_kyklos_localizers", {})
    localizer = cache.get(locale_name)
    if localizer is None:
        dirs = request.registry.queryUtility(ITranslationDirectories, default=[])
        localizer = cache[locale_name] = make_localizer(locale_name, dirs)
    return localizer.translate(msg, mapping=mapping)


# --- formatting ------------------------------------------------------------------------


def babel_locale(request, locale_name: str | None = None) -> Locale:
    """``locale_name``'s locale when given (text written for another person, e.g. a task
    in its assignee's language), else the request's; English when unknown."""
    for name in (locale_name, request.locale_name):
        if not name:
            continue
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError, TypeError):
            continue
    return Locale.parse("en")


def timezone_of(request) -> ZoneInfo:
    """The user's time zone, else the ``kyklos.timezone`` setting, else UTC."""
    ident = getattr(request, "identity", None) if _has_policy(request) else None
    names = [ident.user.timezone if ident is not None else None]
    names.append(_site_setting(request, "timezone.default", "kyklos.timezone"))
    for name in names:
        if name:
            try:
                return ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
    return ZoneInfo("UTC")


def format_number(request, value, digits: int | None = None) -> str:
    """``1234.5`` -> ``1,234.5`` (en), ``1.234,5`` (el), ``1 234,5`` (pl).

    ``digits`` fixes the number of decimals (rounded half-even, like money)."""
    if value is None or value == "":
        return ""
    loc = babel_locale(request)
    if digits is None:
        return babel_numbers.format_decimal(value, locale=loc)
    pattern = "#,##0" + ("." + "0" * digits if digits else "")
    return babel_numbers.format_decimal(
        decimal.Decimal(str(value)), format=pattern, locale=loc, decimal_quantization=True
    )


def format_money(request, amount, currency: str | None = None) -> str:
    """``1234.56, "EUR"`` -> ``€1,234.56`` (en), ``1.234,56 €`` (el), ``1 234,56 €`` (pl).

    ``currency`` defaults to the ``kyklos.currency`` setting (EUR)."""
    if amount is None or amount == "":
        return ""
    currency = currency or _site_setting(request, "currency.default", "kyklos.currency") or "EUR"
    return babel_numbers.format_currency(
        decimal.Decimal(str(amount)), currency, locale=babel_locale(request)
    )


def format_date(request, value, format: str = "medium", locale: str | None = None) -> str:
    """A date (or the date of a datetime, in the user's time zone) per locale: the
    request's, or ``locale`` for text written in another person's language (with
    ``translate_for``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _aware(value).astimezone(timezone_of(request)).date()
    return babel_dates.format_date(value, format=format, locale=babel_locale(request, locale))


def format_month(request, value, width: str = "short") -> str:
    """A month in words, in the user's language: ``date(2026, 1, 1)`` or ``"2026-01"`` ->
    ``Jan 2026`` (en), ``Ιαν 2026`` (el); ``width="long"`` -> ``January 2026``. Charts and
    tables label months with it, never with the ``2026-01`` key."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.date(int(value[:4]), int(value[5:7]), 1)
    elif isinstance(value, dt.datetime):
        value = _aware(value).astimezone(timezone_of(request)).date()
    skeleton = "yMMMM" if width == "long" else "yMMM"
    return babel_dates.format_skeleton(skeleton, value, locale=babel_locale(request))


def format_datetime(
    request, value, format: str = "medium", locale: str | None = None, tz=None
) -> str:
    """An aware datetime shown in the user's time zone (or ``tz``, a zone name or
    ``ZoneInfo``: another person's), per the request's locale or ``locale``."""
    if value is None:
        return ""
    zone = timezone_of(request) if not tz else (ZoneInfo(tz) if isinstance(tz, str) else tz)
    return babel_dates.format_datetime(
        _aware(value), format=format, tzinfo=zone, locale=babel_locale(request, locale)
    )


def format_time(request, value, format: str = "short") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = _aware(value).astimezone(timezone_of(request))
    return babel_dates.format_time(value, format=format, locale=babel_locale(request))


def _aware(value: dt.datetime) -> dt.datetime:
    # The database hands back aware UTC datetimes; a naive one is taken to be UTC too.
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


# --- catalogs --------------------------------------------------------------------------


def locale_dir(package: str) -> Path | None:
    """``<package>/locale`` if the package ships translations."""
    try:
        path = Path(str(resources.files(package))) / "locale"
    except (ModuleNotFoundError, TypeError):
        return None
    return path if path.is_dir() else None


def compile_catalogs(directory: Path, force: bool = False) -> list[Path]:
    """Compile every ``*.po`` under ``directory`` whose ``.mo`` is missing or older.

    Writes through a temporary file and ``os.replace`` so that parallel test workers
    never read a half-written catalog. Returns the ``.mo`` files written.
    """
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if not force and mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as f:
            catalog = read_po(f, locale=po.parent.parent.name, domain=po.stem)
        fd, tmp = tempfile.mkstemp(dir=po.parent, suffix=".mo.tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                write_mo(f, catalog, use_fuzzy=False)
            os.replace(tmp, mo)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(mo)
    return written


def translation_dirs(registry) -> list[str]:
    """deform and colander first, then the core, each enabled plugin and the theme
    chain: later entries win, so a theme may re-word any message."""
    specs = ["colander:locale/", "deform:locale/", "kyklos:locale/"]
    packages = [p.package for p in getattr(registry, "kyklos_plugins", ())]
    packages += [t.package for t in getattr(registry, "kyklos_theme_chain", ())]
    for pkg in packages:
        if pkg and locale_dir(pkg) is not None:
            specs.append(f"{pkg}:locale/")
    return specs


def includeme(config):
    config.set_locale_negotiator(locale_negotiator)
    config.add_translation_dirs(*translation_dirs(config.registry))
    for fn in (format_number, format_money, format_date, format_datetime, format_time):
        config.add_request_method(fn, fn.__name__)
    config.add_request_method(timezone_of, "timezone", reify=True)
    config.add_request_method(translate, "translate")

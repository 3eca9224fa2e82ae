"""Translation machinery: one domain per distribution, locale chosen per user."""

from __future__ import annotations

from pyramid.i18n import TranslationStringFactory, get_localizer

_ = TranslationStringFactory("kyklos")

LANGUAGES = {"en": "English", "el": "Ελληνικά", "ro": "Română", "pl": "Polski"}


def locale_negotiator(request):
    """The user's own choice, then an explicit ``_LOCALE_`` cookie or parameter, then the
    browser's Accept-Language among the available languages, then the default."""
    settings = request.registry.settings
    available = settings.get("kyklos.available_languages", "en").split()
    ident = getattr(request, "identity", None) if _has_policy(request) else None
    if ident is not None and ident.user.locale in available:
        return ident.user.locale
    chosen = request.params.get("_LOCALE_") or request.cookies.get("_LOCALE_")
    if chosen in available:
        return chosen
    match = request.accept_language.best_match(available) if request.accept_language else None
    return match or settings.get("pyramid.default_locale_name", "en")


def _has_policy(request) -> bool:
    # The negotiator may run while the security policy itself translates (error pages);
    # guard against recursion by checking that a dbsession can be built.
    return "dbsession_factory" in request.registry


def translate(request, msg, mapping=None):
    return get_localizer(request).translate(msg, mapping=mapping)


def includeme(config):
    config.set_locale_negotiator(locale_negotiator)
    config.add_translation_dirs("colander:locale/", "deform:locale/", "kyklos:locale/")

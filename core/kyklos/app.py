"""Start-up: settings -> discover and check plugins -> order -> core -> each plugin's
includeme -> theme last -> commit (conflicts surface) -> hooks checked -> migrations
checked -> app."""

from __future__ import annotations

import logging

import pluggy
from pyramid.config import Configurator

from kyklos import migrate, sitesettings  # noqa: F401 - its model joins the metadata
from kyklos.errors import MigrationError, PluginError
from kyklos.hooks import make_plugin_manager
from kyklos.plugins import THEME_GROUP, discover, resolve, theme_chain
from kyklos.settings import asbool, aslist, normalize

log = logging.getLogger("kyklos")


class Root:
    """Traversal root; authorization is by permission names, not ACLs."""

    __name__ = ""
    __parent__ = None

    def __init__(self, request):
        self.request = request


def load_plugins(settings, installed=None, themes=None):
    """Check and order the enabled plugins and the theme chain. Raises PluginError."""
    installed = discover() if installed is None else installed
    themes = discover(THEME_GROUP) if themes is None else themes
    plugins = resolve(aslist(settings.get("kyklos.plugins")), installed)
    chain = theme_chain(settings.get("kyklos.theme") or "default", themes)
    return installed, plugins, themes, chain


def make_configurator(
    settings: dict,
    global_config=None,
    installed=None,
    themes=None,
    check_migrations: bool | None = None,
) -> Configurator:
    settings = normalize(settings)
    installed, plugins, themes, chain = load_plugins(settings, installed, themes)
    for p in plugins:
        for key, value in (p.manifest.settings or {}).items():
            settings.setdefault(f"kyklos.{p.id}.{key}", value)

    config = Configurator(settings=settings, root_factory=Root)
    reg = config.registry
    reg.kyklos_pm = make_plugin_manager()
    reg.kyklos_installed = installed
    reg.kyklos_plugins = plugins
    reg.kyklos_themes = themes
    reg.kyklos_theme_chain = chain

    config.include("pyramid_chameleon")
    config.include("kyklos.db")
    config.include("kyklos.directives")
    config.include("kyklos.hooks")
    config.include("kyklos.i18n")
    config.include("kyklos.security")
    config.include("kyklos.web")
    config.include("kyklos.entities")
    config.include("kyklos.jobs")
    config.include("kyklos.notifications")
    config.include("kyklos.workflow")
    config.include("kyklos.portal")
    config.include("kyklos.api")
    config.commit()

    for p in plugins:
        config.include(p.module)
        config.commit()  # a conflict names the plugin that caused it
    for t in chain:
        # Each theme's static folder is served under /_themes/<id>/ (logo, images, CSS).
        config.add_static_view(f"_themes/{t.id}", f"{t.package}:static/", cache_max_age=3600)
        config.include(t.module)
    config.commit()

    try:
        reg.kyklos_pm.check_pending()
    except pluggy.PluginValidationError as exc:
        # A misspelt hook name would otherwise never be called, silently.
        name = reg.kyklos_pm.get_name(exc.plugin) or repr(exc.plugin)
        raise PluginError(f"plugin '{name}' has an unknown hook: {exc}") from exc

    if check_migrations is None:
        check_migrations = asbool(settings.get("kyklos.check_migrations", "true"))
    if check_migrations:
        late = migrate.pending(reg["dbengine"], migrate.branches_for(plugins))
        if late:
            names = ", ".join(
                f"{r['branch']} ({r['current'] or 'empty'} -> {r['head']})" for r in late
            )
            raise MigrationError(f"the database needs migrating: {names}; run 'kyklos migrate INI'")
    from kyklos.security.encryption import check_keys

    check_keys(config)  # refuses to start without an encryption key (docs/deployment.md)
    return config

"""Administration: the plugins page (installed, enabled and available plugins and
themes), listed on the administration index through ``kyklos_admin_items``."""

from __future__ import annotations

from dataclasses import dataclass

from kyklos import __version__
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.web import MenuItem


@dataclass
class PluginRow:
    id: str
    title: object
    version: str
    distribution: str
    status: str  # "enabled", "available" or "broken"
    depends: tuple = ()
    requires_core: str = ""
    description: object = ""
    error: str | None = None


def plugin_rows(registry) -> list[PluginRow]:
    """Every installed plugin: enabled ones first in load order, then the others."""
    enabled = {p.id for p in registry.kyklos_plugins}
    rows = []
    for pid, p in sorted(registry.kyklos_installed.items()):
        m = p.manifest
        status = "broken" if p.error else "enabled" if pid in enabled else "available"
        rows.append(
            PluginRow(
                id=pid,
                title=m.title if m else pid,
                version=p.version,
                distribution=p.distribution,
                status=status,
                depends=tuple(m.depends) if m else (),
                requires_core=m.requires_core if m else "",
                description=m.description if m else "",
                error=p.error,
            )
        )
    order = {p.id: i for i, p in enumerate(registry.kyklos_plugins)}
    rows.sort(key=lambda r: (r.status != "enabled", order.get(r.id, 0), r.id))
    return rows


def plugins_view(request):
    reg = request.registry
    return {
        "title": _("Plugins"),
        "core_version": __version__,
        "rows": plugin_rows(reg),
        "themes": [
            (t.id, t.manifest.title if t.manifest else t.id, t.version, t in reg.kyklos_theme_chain)
            for t in sorted(reg.kyklos_themes.values(), key=lambda t: t.id)
        ],
    }


class AdminHooks:
    @hookimpl
    def kyklos_admin_items(self, request):
        return [
            MenuItem(
                _("Plugins"),
                request.route_url("admin.plugins"),
                "kyklos.admin",
                "plug",
                order=900,
            ),
            MenuItem(
                _("Settings"),
                request.route_url("settings"),
                "kyklos.settings.manage",
                "gear",
                order=5,
            ),
        ]


def includeme(config):
    config.add_hooks(AdminHooks(), name="kyklos.web.admin")
    config.include(".settings_views")
    config.include(".search_admin")
    config.add_route("admin.plugins", "/admin/plugins", request_method="GET")
    config.add_view(
        plugins_view,
        route_name="admin.plugins",
        renderer="kyklos:web/templates/admin_plugins.pt",
        permission="kyklos.admin",
    )

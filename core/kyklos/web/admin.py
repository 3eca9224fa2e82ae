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


def admin_entries(request) -> list[MenuItem]:
    """The administration pages the user may open (``request.kyklos_admin_entries``):
    the menu offers "Administration" to whoever has at least one, not only to full
    administrators (a manager who keeps users, roles or workflows)."""
    if request.identity is None:
        return []
    from kyklos.security.admin import admin_items

    return admin_items(request)


def _has_route(request, name: str) -> bool:
    from pyramid.interfaces import IRoutesMapper

    mapper = request.registry.queryUtility(IRoutesMapper)
    return mapper is not None and mapper.get_route(name) is not None


def _duplicate_items(request) -> list[MenuItem]:
    """One entry per entity type that has duplicate rules ("Duplicates: People")."""
    rules = getattr(request.registry, "kyklos_duplicate_rules", {})
    if not _has_route(request, "duplicates"):
        return []
    out = []
    for name in sorted(rules):
        et = request.registry.kyklos_entities.get(name)
        if et is None or not rules[name]:
            continue
        title = _(
            "Duplicates: ${types}",
            mapping={"types": request.localizer.translate(et.plural)},
        )
        out.append(
            MenuItem(
                title,
                request.route_url("duplicates", entity=name),
                # merging deletes the loser: the page is for those who may delete
                et.permission("delete"),
                "copy",
                order=700,
            )
        )
    return out


class AdminHooks:
    @hookimpl
    def kyklos_admin_items(self, request):
        items = []
        # the core's other administration pages, so that each is one click away
        if _has_route(request, "workflows"):
            items += [
                MenuItem(
                    _("Workflows"),
                    request.route_url("workflows"),
                    "kyklos.workflow.manage",
                    "diagram-2",
                    order=200,
                ),
                MenuItem(
                    _("Automation rules"),
                    request.route_url("automation.rules"),
                    "kyklos.workflow.manage",
                    "lightning",
                    order=210,
                ),
            ]
        if _has_route(request, "webhooks"):
            items.append(
                MenuItem(
                    _("Webhooks"),
                    request.route_url("webhooks"),
                    "kyklos.workflow.manage",
                    "broadcast",
                    order=220,
                )
            )
        if _has_route(request, "jobs"):
            items.append(
                MenuItem(
                    _("Background jobs"),
                    request.route_url("jobs", _query={"all": "1"}),
                    "kyklos.admin",
                    "hourglass-split",
                    order=800,
                )
            )
        items += _duplicate_items(request)
        return items + [
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
    config.add_request_method(admin_entries, "kyklos_admin_entries", reify=True)
    config.include(".settings_views")
    config.include(".search_admin")
    config.add_route("admin.plugins", "/admin/plugins", request_method="GET")
    config.add_view(
        plugins_view,
        route_name="admin.plugins",
        renderer="kyklos:web/templates/admin_plugins.pt",
        permission="kyklos.admin",
    )

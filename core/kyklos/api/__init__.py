"""Core API endpoints that are not per entity type: introspection of plugins."""

from __future__ import annotations

from kyklos import __version__


def meta_plugins(request):
    """Loaded plugins with their versions, hooks and registrations (admins only)."""
    reg = request.registry
    introspector = reg.introspector
    pm = reg.kyklos_pm
    by_plugin: dict[str, dict] = {}
    for p in reg.kyklos_plugins:
        by_plugin[p.id] = {
            "id": p.id,
            "title": request.localizer.translate(p.manifest.title),
            "version": p.version,
            "distribution": p.distribution,
            "depends": list(p.manifest.depends),
            "hooks": [],
            "registrations": [],
        }
    for name, impl in pm.list_name_plugin():
        owner = name.split(".")[0].removeprefix("kyklos_")
        if owner in by_plugin:
            by_plugin[owner]["hooks"].extend(sorted(h.name for h in pm.get_hookcallers(impl) or []))
    for category in (
        "kyklos entity types",
        "kyklos permissions",
        "kyklos roles",
        "kyklos workflows",
        "routes",
        "views",
    ):
        for item in introspector.get_category(category) or []:
            intr = item["introspectable"]
            owner = _owner(intr)
            if owner in by_plugin:
                by_plugin[owner]["registrations"].append(
                    {
                        "category": category,
                        "name": str(
                            intr.discriminator[-1]
                            if isinstance(intr.discriminator, tuple)
                            else intr.discriminator
                        ),
                    }
                )
    return {
        "core": {"version": __version__},
        "theme": [t.id for t in reg.kyklos_theme_chain],
        "plugins": list(by_plugin.values()),
        "installed": sorted(reg.kyklos_installed),
    }


def _owner(intr) -> str | None:
    """The plugin id whose package made a registration (from the action's source)."""
    info = getattr(intr, "action_info", None)
    path = getattr(info, "file", "") or ""
    for part in path.replace("\\", "/").split("/"):
        if part.startswith("kyklos_") and not part.startswith("kyklos_sdk"):
            return part[len("kyklos_") :]
    return None


def openapi_paths(request) -> dict:
    from kyklos.entities import openapi as o

    plugin = o.obj(
        {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "version": {"type": ["string", "null"]},
            "distribution": {"type": ["string", "null"]},
            "depends": o.array({"type": "string"}),
            "hooks": o.array({"type": "string"}),
            "registrations": o.array(
                o.obj(
                    {"category": {"type": "string"}, "name": {"type": "string"}},
                    ["category", "name"],
                )
            ),
        },
        ["id", "version", "depends", "hooks", "registrations"],
    )
    body = o.obj(
        {
            "core": o.obj({"version": {"type": "string"}}, ["version"]),
            "theme": o.array({"type": "string"}),
            "plugins": o.array(plugin),
            "installed": o.array({"type": "string"}),
        },
        ["core", "theme", "plugins", "installed"],
    )
    return {
        "/api/v1/_meta/plugins": {
            "get": o.operation(
                "Meta",
                "meta_plugins",
                {"200": o.json_ok(body), **o.problems("401", "403")},
                summary="Loaded plugins: versions, hooks and registrations (administrators)",
            )
        }
    }


def includeme(config):
    config.add_openapi_paths(openapi_paths)
    config.add_route("api.meta.plugins", "/api/v1/_meta/plugins", request_method="GET")
    config.add_view(
        meta_plugins, route_name="api.meta.plugins", renderer="json", permission="kyklos.admin"
    )

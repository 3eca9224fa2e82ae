"""Plugin manifests, discovery through entry points, and the ordering of the enabled set.

Installed is not enabled: every distribution that declares a ``kyklos.plugins`` entry point
is *installed*; only the ids listed in ``kyklos.plugins`` are *enabled* and loaded.
"""

from __future__ import annotations

import functools
import logging
import re
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata, resources
from pathlib import Path
from types import ModuleType

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version
from stevedore import ExtensionManager

from kyklos import __version__ as core_version
from kyklos.errors import PluginError

log = logging.getLogger(__name__)

PLUGIN_GROUP = "kyklos.plugins"
THEME_GROUP = "kyklos.themes"
# Ids become table prefixes ("sfa_lead") and migration version tables, so no "_" in them:
# with "sfa" and "sfa_x" both allowed, "sfa_x_lead" would be ambiguous.
ID_RE = re.compile(r"^[a-z][a-z0-9]{1,30}$")


@dataclass(frozen=True)
class Plugin:
    """What a plugin says about itself. Exposed by its package as ``plugin``.

    Entity types, permissions and workflows are *not* listed here: the plugin registers
    them with directives in ``includeme`` so that introspection is the one source of truth.
    """

    id: str
    title: str
    description: str = ""
    requires_core: str = ""
    #: the hook contract versions (:data:`kyklos.hookspecs.HOOK_CONTRACT`) the plugin was
    #: written for, e.g. ``">=1.0,<2"``; empty: not declared (not checked)
    requires_hooks: str = ""
    depends: tuple[str, ...] = ()
    #: migrations live in ``<package>/migrations`` unless this names another folder
    migrations: str | None = "migrations"
    #: ``callable(env, size)`` that writes demo data; env is a :class:`kyklos.cli.Env`
    demo_data: Callable | None = None
    #: default values for ``kyklos.<id>.*`` settings
    settings: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Theme:
    """A white-label theme: template and asset overrides plus brand settings."""

    id: str
    title: str
    parent: str | None = None
    brand_name: str | None = None
    #: CSS custom properties (``--k-primary``: ``#0d6efd``) emitted in every page's <head>
    css_vars: dict = field(default_factory=dict)
    #: asset spec of a logo under the theme's static folder, e.g. ``static/logo.svg``
    logo: str | None = None


@dataclass
class InstalledPlugin:
    """A discovered plugin: its manifest, module, and distribution metadata."""

    id: str
    module: ModuleType | None
    manifest: Plugin | None
    version: str
    distribution: str
    error: str | None = None

    @property
    def package(self) -> str:
        return self.module.__name__ if self.module else ""

    @property
    def migrations_path(self) -> Path | None:
        if not self.manifest or not self.manifest.migrations or not self.module:
            return None
        path = Path(str(resources.files(self.package))) / self.manifest.migrations
        return path if path.is_dir() else None


@functools.lru_cache(maxsize=4)
def _packages_distributions(path: tuple[str, ...]) -> dict[str, list[str]]:
    """``importlib.metadata.packages_distributions()`` once per ``sys.path``: it reads
    the file list of every installed distribution (about a second here), and
    stevedore's cached entry points carry no distribution, so it ran for every plugin
    each time an app was built (a quarter of the test suite's time)."""
    return metadata.packages_distributions()


def _dist_info(ext) -> tuple[str, str]:
    dist = getattr(ext.entry_point, "dist", None)
    if dist is None:
        # Some installers (and stevedore's entry-point cache) leave the entry point
        # without its distribution: find it from the package the entry point names.
        top = ext.entry_point.value.split(":")[0].split(".")[0]
        names = _packages_distributions(tuple(sys.path)).get(top) or []
        if not names:
            return "?", "0"
        dist = metadata.distribution(names[0])
    return dist.metadata["Name"], dist.version


def discover(group: str = PLUGIN_GROUP) -> dict[str, InstalledPlugin]:
    """Find every installed plugin (or theme, by ``group``). Import failures are recorded,
    not raised, so one broken distribution does not take the others down."""
    failures: dict[str, str] = {}

    def on_failure(manager, entrypoint, exc):
        failures[entrypoint.name] = f"{type(exc).__name__}: {exc}"
        # Reported when the plugin is enabled (start-up fails) and by `kyklos plugins list`;
        # an installed-but-disabled broken plugin must not disturb the others.
        log.debug("plugin %s failed to import: %s", entrypoint.name, exc)

    mgr = ExtensionManager(
        namespace=group, invoke_on_load=False, on_load_failure_callback=on_failure
    )
    found: dict[str, InstalledPlugin] = {}
    attr = "plugin" if group == PLUGIN_GROUP else "theme"
    for ext in mgr.extensions:
        name, version = _dist_info(ext)
        module = ext.plugin
        manifest = getattr(module, attr, None)
        err = None
        if not isinstance(manifest, Plugin | Theme):
            err = f"its package {module.__name__} has no '{attr}' manifest object"
            manifest = None
        elif manifest.id != ext.name:
            err = f"its manifest id '{manifest.id}' differs from its entry point name"
        elif not callable(getattr(module, "includeme", None)):
            err = f"its package {module.__name__} has no includeme(config)"
        found[ext.name] = InstalledPlugin(ext.name, module, manifest, version, name, err)
    for name, err in failures.items():
        found[name] = InstalledPlugin(name, None, None, "?", "?", err)
    return found


def check_core_version(p: InstalledPlugin) -> None:
    spec = p.manifest.requires_core if p.manifest else ""
    if not spec:
        return
    try:
        ok = Version(core_version) in SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise PluginError(f"plugin '{p.id}' declares an invalid requires_core {spec!r}") from exc
    if not ok:
        raise PluginError(
            f"plugin '{p.id}' {p.version} needs kyklos {spec}, "
            f"but kyklos {core_version} is installed"
        )


def check_hook_contract(p: InstalledPlugin) -> None:
    from kyklos.hookspecs import HOOK_CONTRACT

    spec = getattr(p.manifest, "requires_hooks", "") if p.manifest else ""
    if not spec:
        return
    try:
        ok = Version(HOOK_CONTRACT) in SpecifierSet(spec)
    except InvalidSpecifier as exc:
        raise PluginError(f"plugin '{p.id}' declares an invalid requires_hooks {spec!r}") from exc
    if not ok:
        raise PluginError(
            f"plugin '{p.id}' {p.version} was written for kyklos hook contract {spec}, "
            f"but this kyklos {core_version} calls hooks by contract {HOOK_CONTRACT}: "
            f"upgrade the plugin or use a kyklos whose contract it admits"
        )


def resolve(enabled: Iterable[str], installed: dict[str, InstalledPlugin]) -> list[InstalledPlugin]:
    """Check the enabled ids and order them so each comes after what it depends on.

    Ties keep the order the integrator listed. Raises :class:`PluginError` with one line
    naming the first problem found.
    """
    wanted = list(dict.fromkeys(enabled))
    for pid in wanted:
        if not ID_RE.match(pid):
            raise PluginError(f"'{pid}' in kyklos.plugins is not a valid plugin id")
        if pid not in installed:
            known = ", ".join(sorted(installed)) or "none"
            raise PluginError(
                f"plugin '{pid}' is enabled in kyklos.plugins but not installed "
                f"(installed: {known})"
            )
        p = installed[pid]
        if p.error:
            raise PluginError(f"plugin '{pid}' cannot load: {p.error}")
        check_core_version(p)
        check_hook_contract(p)
        for dep in p.manifest.depends:
            if dep not in wanted:
                hint = "installed" if dep in installed else "not installed"
                raise PluginError(
                    f"plugin '{pid}' depends on '{dep}', which is not enabled ({hint}); "
                    f"add it to kyklos.plugins"
                )
    ordered: list[str] = []
    remaining = list(wanted)
    while remaining:
        ready = [
            pid for pid in remaining if all(d in ordered for d in installed[pid].manifest.depends)
        ]
        if not ready:
            raise PluginError(f"plugins form a dependency cycle: {_cycle(remaining, installed)}")
        ordered.append(ready[0])
        remaining.remove(ready[0])
    return [installed[pid] for pid in ordered]


def _cycle(ids: list[str], installed: dict[str, InstalledPlugin]) -> str:
    """Name one cycle among ``ids`` as 'a -> b -> a' for the error message."""
    path: list[str] = []
    node = ids[0]
    while node not in path:
        path.append(node)
        node = next(d for d in installed[node].manifest.depends if d in ids)
    loop = path[path.index(node) :] + [node]
    return " -> ".join(loop)


def theme_chain(theme_id: str, themes: dict[str, InstalledPlugin]) -> list[InstalledPlugin]:
    """The theme and its ancestors, root first, so that a child's overrides win."""
    chain: list[InstalledPlugin] = []
    current: str | None = theme_id
    while current:
        if current not in themes:
            known = ", ".join(sorted(themes)) or "none"
            raise PluginError(f"theme '{current}' is not installed (installed: {known})")
        t = themes[current]
        if t.error:
            raise PluginError(f"theme '{current}' cannot load: {t.error}")
        if t in chain:
            raise PluginError(f"theme '{theme_id}' inherits from itself")
        chain.append(t)
        current = t.manifest.parent
    return list(reversed(chain))

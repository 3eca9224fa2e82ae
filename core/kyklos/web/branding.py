"""The active theme's brand for everything Kyklos renders: pages, e-mails and PDFs.

E-mail and PDF producers render through :func:`render_branded`, never with a template
engine of their own, so that a theme's asset overrides and colours reach them too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from pyramid.renderers import get_renderer, render

EMAIL_LAYOUT = "kyklos:web/templates/branding/email.pt"
PDF_LAYOUT = "kyklos:web/templates/branding/pdf.pt"

#: colours a theme should set; e-mail and PDF layouts fall back to these
DEFAULT_COLOURS = {
    "--k-primary": "#0d6efd",
    "--k-navbar-bg": "#1f2937",
    "--k-navbar-fg": "#f9fafb",
    "--k-body-bg": "#f8fafc",
}


@dataclass
class Branding:
    """What a theme chain says about the brand; ``request.branding``."""

    brand_name: str
    logo_url: str | None
    css_vars: dict = field(default_factory=dict)
    stylesheets: list = field(default_factory=list)
    theme_id: str = "default"

    def colour(self, name: str) -> str:
        """A CSS custom property's value, e.g. ``colour("--k-primary")``."""
        return self.css_vars.get(name) or DEFAULT_COLOURS.get(name, "")

    @property
    def email_macro(self):
        return get_renderer(EMAIL_LAYOUT).implementation().macros["email"]

    @property
    def pdf_macro(self):
        return get_renderer(PDF_LAYOUT).implementation().macros["document"]


def branding(request) -> Branding:
    """The brand of the theme chain: the last theme that sets a value wins."""
    chain = request.registry.kyklos_theme_chain
    settings = request.registry.settings
    brand, css, sheets = None, dict(DEFAULT_COLOURS), []
    logo = None
    for t in chain:
        m = t.manifest
        brand = m.brand_name or brand
        css.update(m.css_vars or {})
        if m.logo:
            # Absolute: e-mails and PDFs are read away from the site.
            logo = request.static_url(f"{t.package}:{m.logo}")
        if _has_file(t.package, "static/theme.css"):
            sheets.append(request.static_url(f"{t.package}:static/theme.css"))
    return Branding(
        brand_name=brand or settings.get("kyklos.site_name", "Kyklos"),
        logo_url=logo,
        css_vars=css,
        stylesheets=sheets,
        theme_id=chain[-1].id if chain else "default",
    )


def render_branded(request, template: str, **values) -> str:
    """Render ``template`` (an asset spec) with ``branding`` among its values.

    Use it for every e-mail body and PDF document. The template usually fills the
    ``content`` slot of ``branding.email_macro`` or ``branding.pdf_macro``; a theme
    can override either layout, or the template itself, with ``config.override_asset``.
    """
    values.setdefault("branding", request.branding)
    return render(template, values, request=request)


def _has_file(package: str, relpath: str) -> bool:
    try:
        return (Path(str(resources.files(package))) / relpath).is_file()
    except ModuleNotFoundError:
        return False


def add_theme_overrides(config, folder: str = "overrides"):
    """Directive ``config.add_theme_overrides("overrides")`` for a theme's ``includeme``.

    ``<theme package>/<folder>/<package>/<path>`` replaces ``<package>:<path>`` for
    every file found, e.g. ``overrides/kyklos/web/templates/login.pt`` replaces the
    core's login page and ``overrides/kyklos_contacts/templates/x.pt`` a plugin's
    template. Files of packages that are neither the core, an enabled plugin nor a
    theme of the chain are skipped, so one theme serves deployments with any plugins.
    """
    pkg = config.package_name
    root = Path(str(resources.files(pkg))) / folder
    if not root.is_dir():
        return
    reg = config.registry
    known = {"kyklos"}
    known |= {p.package for p in getattr(reg, "kyklos_plugins", ())}
    known |= {t.package for t in getattr(reg, "kyklos_theme_chain", ())}
    for target in sorted(p for p in root.iterdir() if p.is_dir()):
        if target.name not in known:
            continue
        for path in sorted(target.rglob("*")):
            if not path.is_file() or path.suffix in (".pyc", ".pyo"):
                continue
            rel = path.relative_to(target).as_posix()
            config.override_asset(
                to_override=f"{target.name}:{rel}",
                override_with=f"{pkg}:{folder}/{target.name}/{rel}",
            )


def includeme(config):
    config.add_request_method(branding, "branding", reify=True)
    config.add_directive("add_theme_overrides", add_theme_overrides, action_wrap=False)

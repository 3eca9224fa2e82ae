"""The web UI shell: layout, static assets, security headers, error pages, home page."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound, HTTPSeeOther
from pyramid.renderers import get_renderer
from pyramid.security import NO_PERMISSION_REQUIRED
from pyramid.tweens import INGRESS

from kyklos.i18n import LANGUAGES, _, available_languages
from kyklos.problem import Problem, http_exception_problem, problem_view


@dataclass
class MenuItem:
    """An entry of the main menu (see the ``kyklos_menu_items`` hook)."""

    title: object
    url: str
    permission: str | None = None
    icon: str = ""
    group: str = ""
    order: int = 100


@dataclass
class Action:
    """A button on a record page (see the ``kyklos_record_actions`` hook)."""

    title: object
    url: str
    method: str = "get"
    style: str = "secondary"
    permission: str | None = None


@dataclass
class Panel:
    """A panel on a record's 360° page or beside its form (see the
    ``kyklos_record_panels`` and ``kyklos_record_form_panels`` hooks).

    ``html`` is markup the plugin rendered with its own template (already escaped);
    ``items`` is a list of ``(title, url, detail)`` the core renders for it. ``id`` is
    the panel's element id (prefix it with the plugin id); ``permission`` hides the
    panel from users who do not hold it; ``hidden`` draws it hidden (``d-none``) for a
    script of the plugin to show once it has something to say.
    """

    title: object
    html: str | None = None
    items: list = field(default_factory=list)
    count: int | None = None
    order: int = 100
    id: str = ""
    permission: str | None = None
    hidden: bool = False


@dataclass
class TimelineItem:
    """One entry of a record's timeline (see the ``kyklos_timeline_items`` hook)."""

    when: object
    title: object
    detail: str = ""
    url: str | None = None
    who: str = ""
    kind: str = "note"


def safe_redirect_target(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: ``//evil``, ``\\\\evil``, absolute URLs are refused."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 32 for c in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def _offered_languages(request) -> dict:
    """The language selector's entries: those the administrator offers (site settings)."""
    offered = available_languages(request)
    return {code: name for code, name in LANGUAGES.items() if code in offered} or LANGUAGES


class Layout:
    """What every page's shell needs; ``request.layout`` in templates."""

    def __init__(self, request):
        self.request = request
        settings = request.registry.settings
        chain = request.registry.kyklos_theme_chain
        brand = None
        for t in chain:
            brand = t.manifest.brand_name or brand
        self.site_name = brand or settings.get("kyklos.site_name", "Kyklos")
        self.theme = chain[-1].manifest if chain else None
        self.languages = _offered_languages(request)

    @property
    def macro(self):
        # get_renderer honours asset overrides, so a theme can replace the layout.
        return get_renderer("kyklos:web/templates/layout.pt").implementation().macros["layout"]

    @property
    def user(self):
        ident = self.request.identity
        return ident.user if ident else None

    def menu(self) -> list[MenuItem]:
        """Every menu entry the user may see; an entry without a ``group`` is put in the
        group of the plugin that contributed it."""
        if "_menu" in self.__dict__:
            return self._menu
        request = self.request
        items: list[MenuItem] = []
        if request.identity is not None:
            items = list(request.registry.kyklos_entity_menu(request))
            pm = request.registry.kyklos_pm
            for impl in pm.hook.kyklos_menu_items.get_hookimpls():
                plugin = impl.plugin_name.split(".")[0].removeprefix("kyklos_")
                kwargs = {"request": request}
                for item in impl.function(*[kwargs[a] for a in impl.argnames]) or ():
                    item.group = item.group or plugin
                    items.append(item)
        visible = [i for i in items if not i.permission or request.has_permission(i.permission)]
        self._menu = sorted(visible, key=lambda i: (i.order, str(i.title)))
        return self._menu

    def menu_groups(self) -> list[tuple[object, list[MenuItem]]]:
        """The menu as ``(title, items)`` per group, ordered by their first entry: a
        dropdown per plugin keeps the bar short however many plugins are enabled."""
        titles = {p.id: p.manifest.title for p in self.request.registry.kyklos_plugins}
        titles["kyklos"] = _("Tools")  # entries the core itself contributes
        groups: dict[str, list[MenuItem]] = {}
        for item in self.menu():
            groups.setdefault(item.group or "kyklos", []).append(item)
        return [(titles.get(g, g), entries) for g, entries in groups.items()]

    def flashes(self):
        session = self.request.session
        return [
            (q, m) for q in ("success", "info", "warning", "danger") for m in session.pop_flash(q)
        ]

    def has_route(self, name: str) -> bool:
        """Whether a route exists (a link to an optional feature, e.g. notifications)."""
        from pyramid.interfaces import IRoutesMapper

        mapper = self.request.registry.queryUtility(IRoutesMapper)
        return mapper is not None and mapper.get_route(name) is not None

    def csrf_token(self):
        return self.request.session.get_csrf_token()

    @property
    def logo_url(self):
        for t in reversed(self.request.registry.kyklos_theme_chain):
            if t.manifest.logo:
                return self.request.static_url(f"{t.package}:{t.manifest.logo}")
        return None


def security_headers_tween_factory(handler, registry):
    """Security headers on every response (ASVS 3.4): CSP with a per-request nonce for
    our own inline scripts, nosniff, no framing, a strict referrer policy."""

    def tween(request):
        request.csp_nonce = secrets.token_urlsafe(16)
        response = handler(request)
        h = response.headers
        h.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
            f"script-src 'self' 'nonce-{request.csp_nonce}'; object-src 'none'; "
            "frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
        )
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "same-origin")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        # The session's user id, not request.identity: the transaction has ended here,
        # and a request that never asked for the identity must not query for it now.
        if request.path.startswith("/api/") or getattr(request.session, "user_id", None):
            h.setdefault("Cache-Control", "no-store")
        return response

    return tween


def wants_json(request) -> bool:
    if request.path.startswith("/api/"):
        return True
    accept = request.accept
    return (
        bool(accept) and accept.best_match(["text/html", "application/json"]) == "application/json"
    )


def not_found_view(exc, request):
    if wants_json(request):
        return http_exception_problem(HTTPNotFound(), request)
    request.response.status = 404
    return {"title": _("Page not found"), "message": _("There is nothing at this address.")}


def forbidden_view(exc, request):
    if request.identity is None:
        if wants_json(request):
            return http_exception_problem(HTTPUnauthorizedProblem(), request)
        return HTTPSeeOther(request.route_url("login", _query={"came_from": request.path_qs}))
    if wants_json(request):
        return http_exception_problem(HTTPForbidden(), request)
    request.response.status = 403
    return {"title": _("Access denied"), "message": _("You do not have permission to do this.")}


class HTTPUnauthorizedProblem(HTTPForbidden):
    code = 401
    title = "Unauthorized"
    explanation = ""
    detail = "Log in or send an API token as 'Authorization: Bearer <token>'."


def home(request):
    from kyklos.dashboard import home_values

    return home_values(request)


def set_language(request):
    lang = request.params.get("lang", "")
    target = safe_redirect_target(request.referer and urlsplit(request.referer).path)
    resp = HTTPSeeOther(target)
    if lang in available_languages(request):
        resp.set_cookie("_LOCALE_", lang, max_age=365 * 86400, samesite="Lax", httponly=True)
        ident = request.identity
        if ident is not None:
            ident.user.locale = lang
    return resp


def theme_css(request):
    """The active theme chain's CSS custom properties as a stylesheet (a file, not an
    inline <style>, so the CSP can forbid inline styles)."""
    values: dict[str, str] = {}
    for t in request.registry.kyklos_theme_chain:
        values.update(t.manifest.css_vars or {})
    lines = [":root {"]
    for name, value in values.items():
        # Both come from installed theme code, but keep the sheet well-formed anyway.
        if name.startswith("--") and all(c.isalnum() or c in "-_" for c in name[2:]):
            safe = "".join(c for c in str(value) if c not in "{};<>")
            lines.append(f"  {name}: {safe};")
    lines.append("}")
    resp = request.response
    resp.content_type = "text/css"
    resp.text = "\n".join(lines) + "\n"
    resp.cache_control.max_age = 300
    return resp


def includeme(config):
    config.add_route("theme_css", "/_theme.css")
    config.add_view(theme_css, route_name="theme_css", permission=NO_PERMISSION_REQUIRED)
    config.add_request_method(Layout, "layout", reify=True)
    config.include(".branding")
    config.add_static_view("static", "kyklos:web/static/", cache_max_age=3600)
    config.add_static_view("deform_static", "deform:static/", cache_max_age=86400)
    config.add_tween("kyklos.web.security_headers_tween_factory")
    # outermost (right under the ingress, so above pyramid_tm too, which asks for the
    # user and so reads the session and the path): nothing below reads an unreadable
    # request; its own answer carries the headers it needs
    config.add_tween("kyklos.web.sanity.sanity_tween_factory", under=INGRESS)
    from .sanity import add_lenient_form_path

    config.add_directive("add_lenient_form_path", add_lenient_form_path)
    config.include("kyklos.home")  # the home page's sections and recent records
    config.add_route("home", "/")
    config.add_view(
        home, route_name="home", renderer="kyklos:web/templates/home.pt", permission="authenticated"
    )
    config.add_route("set_language", "/language", request_method="POST")
    config.add_view(set_language, route_name="set_language", permission=NO_PERMISSION_REQUIRED)
    config.include(".admin")
    config.add_notfound_view(not_found_view, renderer="kyklos:web/templates/error.pt")
    config.add_forbidden_view(forbidden_view, renderer="kyklos:web/templates/error.pt")
    config.add_exception_view(problem_view, context=Problem)
    config.include(".dberrors")

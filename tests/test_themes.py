"""Themes: brand, logo, colours, stylesheets, template and static overrides (core, plugin
and parent-theme assets), inheritance, and branded e-mails and PDFs."""

from __future__ import annotations

import re

import pytest
import webtest
from pyramid.request import Request
from pyramid.scripting import prepare

from kyklos.plugins import THEME_GROUP, discover, theme_chain
from kyklos.web.branding import EMAIL_LAYOUT, render_branded
from kyklos_sdk.testing import build_app


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    """One app per theme over the same plugins, each on its own database."""
    built = {}
    for theme in ("default", "aurora", "samplet"):
        db = tmp_path_factory.mktemp(f"theme-{theme}") / "kyklos.sqlite"
        built[theme] = build_app(f"sqlite:///{db}", ["samplepage"], theme=theme)
    yield built
    for app in built.values():
        app.registry["dbengine"].dispose()


def _get(app, url, **kw):
    return webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"}).get(url, **kw)


def _brand(html: str) -> str:
    return re.search(r'class="navbar-brand k-brand".*?<span>(.*?)</span>', html, re.S).group(1)


def test_themes_are_discovered_and_chained_root_first():
    themes = discover(THEME_GROUP)
    assert {"default", "aurora", "samplet"} <= set(themes)
    assert [t.id for t in theme_chain("samplet", themes)] == ["default", "aurora", "samplet"]
    aurora = themes["aurora"]
    assert aurora.distribution == "kyklos-theme-aurora"
    assert aurora.manifest.parent == "default"


def test_brand_name_and_logo_differ(apps):
    default = _get(apps["default"], "/login").text
    aurora = _get(apps["aurora"], "/login").text
    assert _brand(default) == "Kyklos"
    assert _brand(aurora) == "Aurora CRM"
    assert "<title>Log in · Aurora CRM</title>" in aurora
    assert 'src="http://localhost/_themes/default/logo.svg"' in default
    assert 'src="http://localhost/_themes/aurora/logo.svg"' in aurora
    logo = _get(apps["aurora"], "/_themes/aurora/logo.svg")
    assert logo.content_type == "image/svg+xml"
    assert b"<svg" in logo.body


def test_colours_are_css_custom_properties(apps):
    default = _get(apps["default"], "/_theme.css")
    aurora = _get(apps["aurora"], "/_theme.css")
    assert default.content_type == "text/css"
    assert "--k-navbar-bg: #1f2937;" in default.text
    assert "--k-navbar-bg: #3b0764;" in aurora.text
    assert "--k-primary: #c026d3;" in aurora.text
    # A child inherits what it does not set and overrides what it does.
    samplet = _get(apps["samplet"], "/_theme.css").text
    assert "--k-primary: #0f766e;" in samplet
    assert "--k-navbar-bg: #3b0764;" in samplet
    assert "--k-navbar-fg: #fdf4ff;" in samplet


def test_theme_stylesheet_is_linked_and_served(apps):
    aurora = _get(apps["aurora"], "/login").text
    assert 'href="http://localhost/_themes/aurora/theme.css"' in aurora
    assert ".k-aurora-hero" in _get(apps["aurora"], "/_themes/aurora/theme.css").text
    assert "_themes/aurora/theme.css" not in _get(apps["default"], "/login").text


def test_theme_overrides_a_core_template(apps):
    default = _get(apps["default"], "/login").text
    aurora = _get(apps["aurora"], "/login").text
    assert "k-aurora-login" in aurora
    assert "k-aurora-login" not in default


@pytest.fixture
def kyklos_theme():
    return "aurora"


def test_the_overridden_login_page_still_logs_people_in(client):
    # client() logs in through the page: aurora's form keeps the fields and CSRF token.
    home = client().get("/", status=200)
    assert "Aurora CRM" in home.text


def test_templates_a_theme_does_not_override_come_from_its_parent_or_the_core(apps):
    # samplet overrides error.pt but not login.pt, which it inherits from aurora.
    login = _get(apps["samplet"], "/login").text
    assert "k-aurora-login" in login
    missing = _get(apps["samplet"], "/no-such-page", status=404).text
    assert "k-samplet-error" in missing
    assert "k-samplet-error" not in _get(apps["aurora"], "/no-such-page", status=404).text


def test_theme_overrides_a_plugin_template(apps):
    assert "k-samplepage-original" in _get(apps["default"], "/samplepage").text
    themed = _get(apps["samplet"], "/samplepage").text
    assert "k-samplepage-themed" in themed
    assert "k-samplepage-original" not in themed


def test_theme_overrides_a_static_asset_of_its_parent(apps):
    css = _get(apps["samplet"], "/_themes/aurora/theme.css").text
    assert ".k-samplet-marker" in css
    assert ".k-aurora-hero" not in css
    assert ".k-aurora-hero" in _get(apps["aurora"], "/_themes/aurora/theme.css").text


def test_overrides_of_packages_not_enabled_are_skipped(tmp_path):
    # samplet overrides a template of samplepage; without that plugin it still loads.
    app = build_app(f"sqlite:///{tmp_path}/k.sqlite", [], theme="samplet")
    assert "k-samplet-error" in _get(app, "/nowhere", status=404).text
    app.registry["dbengine"].dispose()


def _render(app, template, **values):
    env = prepare(registry=app.registry, request=Request.blank("/", base_url="https://crm.example"))
    try:
        return render_branded(env["request"], template, **values)
    finally:
        env["closer"]()


EMAIL = """<metal:m use-macro="branding.email_macro">
<metal:c fill-slot="content"><p class="body">Hello ${name}</p></metal:c>
</metal:m>"""
PDF = """<metal:m use-macro="branding.pdf_macro">
<metal:c fill-slot="content"><h1>Quote ${number}</h1></metal:c>
</metal:m>"""


def test_branded_email_follows_the_theme(apps, tmp_path):
    template = tmp_path / "welcome.pt"
    template.write_text(EMAIL)
    default = _render(apps["default"], str(template), name="Ana")
    aurora = _render(apps["aurora"], str(template), name="Ana")
    assert "Hello Ana" in default and "Hello Ana" in aurora
    assert "<strong" in default and ">Kyklos</strong>" in default
    assert ">Aurora CRM</strong>" in aurora
    assert "background:#1f2937" in default
    assert "#3b0764" in aurora  # the theme's colour, inlined for mail clients
    assert "https://crm.example/_themes/aurora/logo.svg" in aurora  # absolute
    # aurora overrides the e-mail layout itself
    assert "k-aurora-email" in aurora and "k-aurora-email" not in default
    assert "Sent by Aurora CRM." in aurora


def test_branded_pdf_document_follows_the_theme(apps, tmp_path):
    template = tmp_path / "quote.pt"
    template.write_text(PDF)
    default = _render(apps["default"], str(template), number="Q-7")
    samplet = _render(apps["samplet"], str(template), number="Q-7")
    assert "Quote Q-7" in default
    assert "border-bottom: 3px solid #0d6efd" in default
    assert "border-bottom: 3px solid #0f766e" in samplet
    assert 'class="k-doc-brand">Aurora CRM<' in samplet


def test_core_email_layout_is_the_fallback(apps):
    html = _render(apps["default"], EMAIL_LAYOUT)
    assert html.lstrip().startswith("<!DOCTYPE html>")
    assert "Sent by Kyklos." in html


def test_theme_requires_an_installed_parent(tmp_path):
    from kyklos.errors import PluginError

    themes = discover(THEME_GROUP)
    del themes["aurora"]
    with pytest.raises(PluginError, match="theme 'aurora' is not installed"):
        theme_chain("samplet", themes)

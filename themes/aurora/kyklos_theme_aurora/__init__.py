"""Aurora: the white-label example. It inherits everything from the default theme and
changes the brand, the logo, the colours, one extra stylesheet, the login page and the
e-mail layout. Copy it to start a partner theme (docs/theme-authors/README.md)."""

from kyklos_sdk import Theme

theme = Theme(
    id="aurora",
    title="Aurora",
    parent="default",
    brand_name="Aurora CRM",
    logo="static/logo.svg",
    css_vars={
        "--k-primary": "#c026d3",
        "--k-navbar-bg": "#3b0764",
        "--k-navbar-fg": "#fdf4ff",
        "--k-body-bg": "#faf5ff",
        "--k-font": '"Trebuchet MS", "Segoe UI", system-ui, sans-serif',
    },
)


def includeme(config):
    # overrides/<package>/<path> replaces <package>:<path>: here the core's login page
    # and e-mail layout. static/theme.css is linked on every page automatically.
    config.add_theme_overrides("overrides")

"""The default theme: Kyklos's own colours and logo. A white-label theme can inherit
from it (``parent="default"``) and override only what differs."""

from kyklos_sdk import Theme

theme = Theme(
    id="default",
    title="Kyklos",
    brand_name="Kyklos",
    logo="static/logo.svg",
    css_vars={
        "--k-primary": "#0d6efd",
        "--k-navbar-bg": "#1f2937",
        "--k-navbar-fg": "#f9fafb",
        "--k-body-bg": "#f8fafc",
    },
)


def includeme(config):
    """Nothing to override: the core's templates are the default look."""

"""A sample theme three deep (default -> aurora -> samplet): overrides a plugin template,
a core template and its parent theme's static asset, and changes one colour only."""

from kyklos_sdk import Theme

theme = Theme(
    id="samplet",
    title="Sample theme",
    parent="aurora",
    css_vars={"--k-primary": "#0f766e"},
)


def includeme(config):
    config.add_theme_overrides("overrides")

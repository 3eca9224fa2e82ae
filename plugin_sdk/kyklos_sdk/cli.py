"""``kyklos-sdk``: tools for plugin authors."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Kyklos plugin-author tools."""


@main.command("new-plugin")
@click.argument("plugin_id")
@click.option("--title", help="Human title, e.g. 'Fleet'. Default: the id capitalised.")
@click.option("--entity", help="Name of the plugin's first entity type. Default: <id>item.")
@click.option(
    "--directory",
    "-d",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="Where to write kyklos-<id>/.",
)
def new_plugin_cmd(plugin_id, title, entity, directory):
    """Write a complete plugin distribution kyklos-PLUGIN_ID/ that installs, enables,
    migrates and passes its own tests unchanged."""
    from kyklos_sdk.newplugin import new_plugin

    try:
        dest = new_plugin(plugin_id, directory, title=title, entity=entity)
    except (ValueError, FileExistsError) as exc:
        click.echo(f"kyklos-sdk: error: {exc}", err=True)
        sys.exit(2)
    click.echo(f"Wrote {dest}/. Next:")
    click.echo(f"  pip install -e {dest}")
    click.echo(f"  add '{plugin_id}' to kyklos.plugins in your .ini and run: kyklos migrate INI")
    click.echo(f"  cd {dest} && python -m pytest")


@main.command("check")
@click.argument("plugin_id")
def check_cmd(plugin_id):
    """Validate an installed plugin: entry point, manifest, migrations up and down,
    templates, permissions and hook names."""
    from kyklos_sdk.testing import check_plugin

    problems = check_plugin(plugin_id, raises=False)
    for p in problems:
        click.echo(f"- {p}", err=True)
    if problems:
        click.echo(f"kyklos-sdk: plugin '{plugin_id}' has {len(problems)} problem(s)", err=True)
        sys.exit(1)
    click.echo(f"plugin '{plugin_id}': OK")


if __name__ == "__main__":
    main()

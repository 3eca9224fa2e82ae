"""``kyklos-sdk``: tools for plugin authors."""

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main():
    """Kyklos plugin-author tools."""

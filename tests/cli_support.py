"""Running the ``kyklos`` command in tests, with the sample plugins installed."""

from pathlib import Path

SAMPLES = Path(__file__).parent / "sample_plugins"


def run(*args, **kw):
    """``kyklos ARGS`` in a subprocess that can see the sample plugins."""
    from kyklos_sdk.testing import run_cli

    return run_cli(*args, pythonpath=[SAMPLES], **kw)

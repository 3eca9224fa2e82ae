"""The plugin loads the way the core loads it: manifest, migrations up and down,
templates, permissions (kyklos_sdk.testing.check_plugin)."""

from kyklos_sdk.testing import check_plugin


def test_check_plugin():
    assert check_plugin("sfa") == []

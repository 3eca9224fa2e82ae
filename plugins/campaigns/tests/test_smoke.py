from kyklos_sdk.testing import check_plugin


def test_plugin_is_sound():
    assert check_plugin("campaigns", raises=False) == []

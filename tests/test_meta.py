"""GET /api/v1/_meta/plugins: what is loaded, for administrators."""

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "sampleb"]


def test_admin_sees_plugins_hooks_and_registrations(api):
    body = api("admin").get("/api/v1/_meta/plugins").json
    assert body["core"]["version"] == "0.1.0"
    assert body["theme"] == ["default"]
    plugins = {p["id"]: p for p in body["plugins"]}
    assert list(plugins) == ["samplea", "sampleb"]
    assert plugins["sampleb"]["depends"] == ["samplea"]
    assert plugins["samplea"]["version"] == "0.1.0"
    assert "kyklos_record_validate" in plugins["samplea"]["hooks"]
    assert "kyklos_menu_items" in plugins["sampleb"]["hooks"]
    regs = {(r["category"], r["name"]) for r in plugins["samplea"]["registrations"]}
    assert ("kyklos entity types", "thing") in regs
    assert ("kyklos permissions", "samplea.thing.read") in regs
    assert "cyclex" in body["installed"]


def test_non_admin_is_refused_and_anonymous_is_401(api, testapp):
    api("thingsreader").get("/api/v1/_meta/plugins", status=403)
    res = testapp.get("/api/v1/_meta/plugins", status=401)
    assert res.content_type == "application/problem+json"
    assert res.json["status"] == 401


def test_hook_tracing_logs_every_call(api, caplog, monkeypatch, registry):
    import logging

    from kyklos.hooks import make_plugin_manager

    pm = make_plugin_manager(trace=True)

    class Impl:
        from kyklos_sdk import hookimpl

        @hookimpl
        def kyklos_menu_items(self, request):
            return []

    pm.register(Impl(), name="traced")
    with caplog.at_level(logging.INFO, logger="kyklos.hooks"):
        pm.hook.kyklos_menu_items(request=None)
    assert "hook kyklos_menu_items -> ['traced']" in caplog.text

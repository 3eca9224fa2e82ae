"""Start-up checks: which plugins load, in which order, and the one-line errors."""

import pytest
from cli_support import run

from kyklos.errors import PluginError
from kyklos.plugins import discover, resolve
from kyklos_sdk.testing import write_ini


@pytest.fixture(scope="module")
def installed():
    return discover()


def test_discovers_first_party_and_sample_plugins(installed):
    assert "contacts" in installed
    assert installed["contacts"].distribution == "kyklos-contacts"
    assert installed["contacts"].version == "0.1.0"
    assert installed["samplea"].manifest.title == "Sample A"
    assert installed["broken"].error and "on purpose" in installed["broken"].error


def test_orders_by_depends_and_keeps_listed_order_for_ties(installed):
    ordered = [p.id for p in resolve(["sampleb", "contacts", "samplea"], installed)]
    assert ordered == ["contacts", "samplea", "sampleb"]
    assert [p.id for p in resolve(["samplea", "contacts"], installed)] == ["samplea", "contacts"]


@pytest.mark.parametrize(
    "enabled, message",
    [
        (["nosuch"], "plugin 'nosuch' is enabled in kyklos.plugins but not installed"),
        (["sampleb"], "plugin 'sampleb' depends on 'samplea', which is not enabled (installed)"),
        (["cyclex", "cycley"], "plugins form a dependency cycle: cyclex -> cycley -> cyclex"),
        (["future"], "plugin 'future' 0.1.0 needs kyklos >=99.0, but kyklos 0.1.0 is installed"),
        (["broken"], "plugin 'broken' cannot load: ImportError: this sample plugin fails"),
        (["Bad_Id"], "'Bad_Id' in kyklos.plugins is not a valid plugin id"),
    ],
)
def test_resolve_refuses_with_one_readable_line(installed, enabled, message):
    with pytest.raises(PluginError) as err:
        resolve(enabled, installed)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(
    "plugins, message",
    [
        ("nosuch", "plugin 'nosuch' is enabled in kyklos.plugins but not installed"),
        ("sampleb", "depends on 'samplea', which is not enabled"),
        ("cyclex cycley", "dependency cycle: cyclex -> cycley -> cyclex"),
        ("future", "needs kyklos >=99.0"),
        ("broken", "plugin 'broken' cannot load"),
        ("misspelt", "plugin 'kyklos_misspelt.hooks' has an unknown hook"),
    ],
)
def test_plugins_check_fails_without_traceback(tmp_path, plugins, message):
    ini = write_ini(tmp_path, plugins)
    proc = run("plugins", "check", ini)
    assert proc.returncode == 1
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0, proc.stderr


def test_plugins_check_refuses_pending_migrations_then_passes(tmp_path):
    ini = write_ini(tmp_path, "contacts samplea")
    proc = run("plugins", "check", ini)
    assert proc.returncode == 1
    assert "the database needs migrating" in proc.stderr
    assert "samplea (empty -> samplea_0001)" in proc.stderr
    run("migrate", ini, check=True)
    proc = run("plugins", "check", ini, check=True)
    assert "ok: plugins contacts, samplea; theme default" in proc.stdout


def test_unknown_theme_is_refused(tmp_path):
    proc = run("plugins", "check", write_ini(tmp_path, "", theme="nosuch"))
    assert proc.returncode == 1
    assert "theme 'nosuch' is not installed" in proc.stderr


def test_installed_is_not_enabled(kyklos_app, registry):
    # The samples are installed (on sys.path) but only what the test names loads.
    assert [p.id for p in registry.kyklos_plugins] == []
    assert "samplea" in registry.kyklos_installed
    assert "thing" not in registry.kyklos_entities

"""The hook contract is versioned; a plugin's declared range is checked at start-up
with one readable line, as ``requires_core`` is, and the scaffold declares it."""

from __future__ import annotations

from pathlib import Path

import pytest

import kyklos_sdk
from kyklos.hookspecs import HOOK_CONTRACT
from kyklos.plugins import InstalledPlugin, Plugin, PluginError, resolve


def _installed(requires_hooks: str) -> dict:
    manifest = Plugin(id="old", title="Old", requires_hooks=requires_hooks)
    return {"old": InstalledPlugin("old", None, manifest, "0.3.0", "kyklos-old")}


def test_contract_is_a_version_the_sdk_exports():
    from packaging.version import Version

    assert kyklos_sdk.HOOK_CONTRACT == HOOK_CONTRACT
    assert Version(HOOK_CONTRACT).major >= 1


@pytest.mark.parametrize("spec", ["", f">={HOOK_CONTRACT}", f">={HOOK_CONTRACT},<99"])
def test_a_range_admitting_the_contract_loads(spec):
    assert [p.id for p in resolve(["old"], _installed(spec))] == ["old"]


def test_a_range_excluding_the_contract_is_refused_with_both_versions():
    with pytest.raises(PluginError) as info:
        resolve(["old"], _installed("<1.0"))
    message = str(info.value)
    assert "plugin 'old' 0.3.0" in message and "<1.0" in message
    assert HOOK_CONTRACT in message and "\n" not in message


def test_an_invalid_range_is_named():
    with pytest.raises(PluginError, match="invalid requires_hooks"):
        resolve(["old"], _installed("one point oh"))


def test_the_scaffold_declares_the_contract(tmp_path):
    from kyklos_sdk.newplugin import variables

    major = int(HOOK_CONTRACT.split(".")[0])
    assert variables("fleet")["hooks_spec"] == f">={HOOK_CONTRACT},<{major + 1}"
    template = (
        Path(kyklos_sdk.__file__).parent / "scaffold/plugin/kyklos___id__/__init__.py.tmpl"
    ).read_text()
    assert 'requires_hooks="{{hooks_spec}}"' in template

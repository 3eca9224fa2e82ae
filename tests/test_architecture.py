"""The architecture rules, enforced: import boundaries (import-linter) and lint (ruff)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def first_party_plugins() -> list[str]:
    return sorted(p.parent.name for p in ROOT.glob("plugins/*/setup.cfg"))


def plugin_depends(pid: str) -> list[str]:
    from kyklos.plugins import discover

    p = discover().get(pid)
    return list(p.manifest.depends) if p and p.manifest else []


def test_import_boundaries(tmp_path):
    """The core never imports a plugin; a plugin imports only kyklos_sdk and the plugins
    it depends on — never kyklos.* internals (indirectly through the SDK is the point)."""
    plugins = first_party_plugins()
    themes = sorted(p.parent.name for p in ROOT.glob("themes/*/setup.cfg"))
    pkgs = [f"kyklos_{p}" for p in plugins] + [f"kyklos_theme_{t}" for t in themes]
    lines = [
        "[importlinter]",
        "root_packages =",
        "    kyklos",
        "    kyklos_sdk",
        *[f"    {p}" for p in pkgs],
        "include_external_packages = True",
        "",
    ]
    lines += [
        "[importlinter:contract:core-knows-no-plugin]",
        "name = The core imports no plugin, theme or the SDK",
        "type = forbidden",
        "source_modules =",
        "    kyklos",
        "forbidden_modules =",
        "    kyklos_sdk",
        *[f"    {p}" for p in pkgs],
        "",
    ]
    for pid in plugins:
        allowed = {f"kyklos_{d}" for d in plugin_depends(pid)}
        others = [p for p in pkgs if p != f"kyklos_{pid}" and p not in allowed]
        lines += [
            f"[importlinter:contract:plugin-{pid}]",
            f"name = Plugin {pid} imports only kyklos_sdk and what it depends on",
            "type = forbidden",
            "source_modules =",
            f"    kyklos_{pid}",
            "forbidden_modules =",
            "    kyklos",
            *[f"    {o}" for o in others],
            "allow_indirect_imports = True",
            "",
        ]
    for t in themes:
        lines += [
            f"[importlinter:contract:theme-{t}]",
            f"name = Theme {t} imports only the SDK",
            "type = forbidden",
            "source_modules =",
            f"    kyklos_theme_{t}",
            "forbidden_modules =",
            "    kyklos",
            "allow_indirect_imports = True",
            "",
        ]
    cfg = tmp_path / "importlinter.ini"
    cfg.write_text("\n".join(lines))
    proc = subprocess.run(
        [sys.executable, "-m", "importlinter.cli", "--config", str(cfg), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode != 0 and "No module named importlinter.cli" in proc.stderr:
        proc = subprocess.run(
            [str(Path(sys.executable).parent / "lint-imports"), "--config", str(cfg), "--no-cache"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "BROKEN" not in proc.stdout


def test_ruff_clean():
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_plugin_has_the_same_shape():
    """Learning one plugin teaches all (STYLE.md): the same files in every plugin."""
    required = ["__init__.py", "models.py", "views.py", "migrations"]
    for pid in first_party_plugins():
        pkg = ROOT / "plugins" / pid / f"kyklos_{pid}"
        # A module may grow into a package of the same name (models.py -> models/).
        missing = [
            r
            for r in required
            if not (pkg / r).exists() and not (pkg / r.removesuffix(".py") / "__init__.py").exists()
        ]
        assert not missing, f"plugin {pid} lacks {missing}"
        assert (ROOT / "plugins" / pid / "tests").is_dir(), f"plugin {pid} has no tests/"

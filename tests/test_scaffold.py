"""``kyklos-sdk new-plugin`` writes a plugin that pip-installs, enables, migrates and
passes its own tests unchanged."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def run(*cmd, cwd=None, env=None, timeout=180):
    proc = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    return proc


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """The plugin "fleet" generated and pip-installed (editable) into a throwaway venv
    that sees this environment's packages (so kyklos is not reinstalled)."""
    root = tmp_path_factory.mktemp("scaffold")
    gen = run(
        sys.executable, "-m", "kyklos_sdk.cli", "new-plugin", "fleet", "--title", "Fleet",
        "--entity", "vehicle", "-d", root,
    )
    assert gen.returncode == 0, gen.stderr
    venv = root / "venv"
    made = run(sys.executable, "-m", "venv", "--without-pip", venv)
    assert made.returncode == 0, made.stderr
    python = venv / "bin" / "python"
    purelib = run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    # A .pth that adds this environment's site-packages (and runs its .pth files, which
    # hold the editable installs of kyklos and kyklos-sdk).
    here = sysconfig.get_paths()["purelib"]
    Path(purelib.stdout.strip(), "_kyklos_parent.pth").write_text(
        f"import site; site.addsitedir({here!r})\n"
    )
    # The README's own command, word for word: its [test] extra brings pytest and
    # webtest (found here in the parent environment, so nothing is downloaded).
    readme = (root / "kyklos-fleet" / "README.md").read_text()
    command = re.search(r"^\s*(pip install [^#\n]+?)\s*#", readme, re.M).group(1)
    assert command == "pip install -e '.[test]'", command
    install = run(
        sys.executable, "-m", "pip", "--python", python, "install", "-q",
        "--disable-pip-version-check", "-e", ".[test]",
        cwd=root / "kyklos-fleet",
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return root / "kyklos-fleet", python


def test_scaffold_writes_a_complete_distribution(scaffolded):
    dist, _python = scaffolded
    pkg = dist / "kyklos_fleet"
    expected = [
        "setup.cfg",
        "pyproject.toml",
        "README.md",
        "tests/test_fleet.py",
        "kyklos_fleet/__init__.py",
        "kyklos_fleet/models.py",
        "kyklos_fleet/schemas.py",
        "kyklos_fleet/views.py",
        "kyklos_fleet/hooks.py",
        "kyklos_fleet/templates/summary.pt",
        "kyklos_fleet/static/fleet.css",
        "kyklos_fleet/migrations/fleet_0001_initial.py",
        "kyklos_fleet/locale/kyklos_fleet.pot",
    ]
    po = "kyklos_fleet/locale/{}/LC_MESSAGES/kyklos_fleet.po"
    expected += [po.format(lang) for lang in ("en", "el", "ro", "pl")]
    missing = [p for p in expected if not (dist / p).is_file()]
    assert not missing
    assert "fleet = kyklos_fleet" in (dist / "setup.cfg").read_text()
    models = (pkg / "models.py").read_text()
    assert "class Vehicle(EntityMixin, SoftDeleteMixin, Base):" in models
    assert '__tablename__ = "fleet_vehicle"' in models
    assert not re.search(r"\{\{\w+\}\}", "".join(p.read_text() for p in dist.rglob("*.py")))
    greek = (pkg / "locale/el/LC_MESSAGES/kyklos_fleet.po").read_text()
    assert 'msgstr "Προθεσμία"' in greek


def test_generated_code_is_lint_clean(scaffolded):
    dist, _python = scaffolded
    proc = run(sys.executable, "-m", "ruff", "check", "--no-cache", ".", cwd=dist)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_installed_plugin_is_discovered(scaffolded):
    _dist, python = scaffolded
    proc = run(
        python, "-c",
        "from kyklos.plugins import discover; p = discover()['fleet']; "
        "print(p.distribution, p.version, p.error)",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["kyklos-fleet", "0.1.0", "None"]


def test_generated_tests_pass_unchanged(scaffolded):
    dist, python = scaffolded
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("PYTHONPATH", None)
    proc = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=dist, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    passed = re.search(r"(\d+) passed", out)
    assert passed and int(passed.group(1)) >= 6, out
    assert "failed" not in out and "error" not in out.lower().replace("errors=", "")


def test_the_plugin_enables_and_migrates_in_a_deployment(scaffolded, tmp_path):
    _dist, python = scaffolded
    ini = tmp_path / "site.ini"
    ini.write_text(
        "[app:main]\nuse = egg:kyklos\nkyklos.plugins = fleet\n"
        f"sqlalchemy.url = sqlite:///{tmp_path}/site.sqlite\nkyklos.files_dir = {tmp_path}/files\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "KYKLOS_DATABASE_URL"}
    migrate = run(python, "-m", "kyklos.cli", "migrate", ini, env=env)
    assert migrate.returncode == 0, migrate.stderr
    status = run(python, "-m", "kyklos.cli", "migrate", ini, "--status", env=env)
    assert "fleet" in status.stdout and "fleet_0001" in status.stdout, status.stdout
    check = run(python, "-m", "kyklos.cli", "plugins", "check", ini, env=env)
    assert check.returncode == 0, check.stderr


def test_an_invalid_id_is_explained_with_a_suggestion(tmp_path):
    gen = run(sys.executable, "-m", "kyklos_sdk.cli", "new-plugin", "bars_demo", "-d", tmp_path)
    assert gen.returncode != 0
    assert "'barsdemo'" in gen.stderr and "tables" in gen.stderr, gen.stderr
    assert not list(tmp_path.iterdir())  # nothing half-written

#!/usr/bin/env python3
"""The two commands of the README.

    python3 dev.py serve   set up everything (venv, packages, database, admin, demo data)
                           and serve http://127.0.0.1:6543
    python3 dev.py test    run the whole test suite (SQLite; PostgreSQL too when
                           TEST_DATABASE_URL is set)

Only the Python standard library is used here, so it runs on a fresh machine.
"""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("KYKLOS_VENV", ROOT / ".venv"))
BIN = VENV / "bin"
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "kyklos-admin-2026"  # noqa: S105 - development database only; printed below

# Editable installs of every distribution in this repository, core first.
DISTRIBUTIONS = [".[test,postgresql,redis]", "plugin_sdk"]


def _with_test_extra(cfg: Path) -> str:
    """A plugin's or theme's folder, with ``[test]`` when it declares test-only needs."""
    folder = str(cfg.parent.relative_to(ROOT))
    parser = configparser.ConfigParser()
    parser.read(cfg)
    section = "options.extras_require"
    has_test = parser.has_section(section) and "test" in parser[section]
    return f"{folder}[test]" if has_test else folder


DISTRIBUTIONS += sorted(_with_test_extra(p) for p in ROOT.glob("plugins/*/setup.cfg"))
DISTRIBUTIONS += sorted(_with_test_extra(p) for p in ROOT.glob("themes/*/setup.cfg"))


def sh(*cmd, **kw):
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, **kw)


def install_fingerprint() -> str:
    """What the installs depend on: the list of distributions and their metadata files.
    Editable installs pick up code changes by themselves; only a change here (a new
    dependency, entry point, plugin or theme) needs pip again."""
    import hashlib

    digest = hashlib.sha256(" ".join(DISTRIBUTIONS).encode())
    digest.update(sys.version.encode())
    for dist in DISTRIBUTIONS:
        folder = ROOT / dist.split("[")[0]
        for name in ("setup.cfg", "pyproject.toml", "setup.py"):
            if (folder / name).exists():
                digest.update(name.encode() + (folder / name).read_bytes())
    return digest.hexdigest()


def setup() -> None:
    if not (BIN / "python").exists():
        sh(sys.executable, "-m", "venv", VENV)
    stamp = VENV / ".kyklos-installed"
    fingerprint = install_fingerprint()
    if not stamp.exists() or stamp.read_text().strip() != fingerprint:
        args = [BIN / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        for dist in DISTRIBUTIONS:
            args += ["-e", dist]
        sh(*args)
        stamp.write_text(fingerprint + "\n")
    else:
        print("Installed packages are up to date.", flush=True)
    compile_catalogs()


def compile_catalogs() -> None:
    """Compile every .po catalog to .mo (the .mo files are build products, not in git)."""
    code = (
        "import sys, pathlib\n"
        "from babel.messages.mofile import write_mo\n"
        "from babel.messages.pofile import read_po\n"
        "pos = [p for top in ('core', 'plugins', 'themes', 'plugin_sdk')\n"
        "       for p in pathlib.Path(top).glob('**/locale/*/LC_MESSAGES/*.po')]\n"
        "for po in pos:\n"
        "    mo = po.with_suffix('.mo')\n"
        "    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime: continue\n"
        "    with po.open('rb') as f: cat = read_po(f)\n"
        "    with mo.open('wb') as f: write_mo(f, cat)\n"
    )
    subprocess.run([str(BIN / "python"), "-c", code], cwd=ROOT, check=True)


def serve() -> None:
    setup()
    ini = ROOT / "development.ini"
    kyklos = BIN / "kyklos"
    fresh = not (ROOT / "var" / "kyklos.sqlite").exists()
    (ROOT / "var").mkdir(exist_ok=True)
    sh(kyklos, "init", ini, "--admin-email", ADMIN_EMAIL, "--admin-password", ADMIN_PASSWORD)
    if fresh:
        sh(kyklos, "demo-data", ini, "--size", "200")
    print(
        f"\nKyklos: http://127.0.0.1:6543  (log in as {ADMIN_EMAIL} / {ADMIN_PASSWORD})\n",
        flush=True,
    )
    os.execv(str(BIN / "pserve"), [str(BIN / "pserve"), str(ini)])


def test(extra: list[str]) -> int:
    setup()
    workers = os.environ.get("KYKLOS_TEST_WORKERS", "2")
    cmd = [BIN / "python", "-m", "pytest", "-p", "no:cacheprovider", "-n", workers, *extra]
    # Every test app compiles the page templates it renders again (Chameleon keeps them
    # per app): a quarter of the suite's time. Compiled once into this directory (keyed
    # by each template's source), the apps and workers after the first load them.
    cache = ROOT / ".venv" / "chameleon-cache"
    cache.mkdir(parents=True, exist_ok=True)
    env = {**os.environ}
    env.setdefault("CHAMELEON_CACHE", str(cache))
    print("+", " ".join(map(str, cmd)), flush=True)
    return subprocess.run([str(c) for c in cmd], cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("serve", "test", "setup"):
        print(__doc__)
        return 2
    if argv[0] == "serve":
        serve()
    elif argv[0] == "setup":
        setup()
    else:
        return test(argv[1:])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

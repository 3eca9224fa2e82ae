#!/usr/bin/env python3
"""Translation catalogs: extract, update, compile and check.

    python tools/i18n.py extract [DOMAIN...]   source -> <package>/locale/<domain>.pot
    python tools/i18n.py update  [DOMAIN...]   merge each .pot into en/el/ro/pl .po files
    python tools/i18n.py compile [--force]     .po -> .mo (the .mo files are not in git)
    python tools/i18n.py check   [DOMAIN...]   list untranslated or fuzzy messages; exit 1

One domain per distribution: ``kyklos`` (core/kyklos), ``kyklos_<id>`` for each plugin
in plugins/, ``kyklos_theme_<id>`` for each theme in themes/. Extraction uses lingua
(``pot-create``): ``_()`` calls in Python, ``i18n:translate``/``i18n:attributes`` in
Chameleon templates of that domain.

deform and colander ship catalogs of their own, but not every language (deform has no
Romanian) nor every message; the core fills the gaps in
``core/kyklos/locale/<lang>/LC_MESSAGES/{deform,colander}.po``, which Pyramid merges over
the libraries' catalogs. ``update`` keeps those files to exactly the missing messages.

See docs/translations.md.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "el", "ro", "pl")
VENDORS = ("deform", "colander")
#: messages libraries use internally, never shown to users
VENDOR_SKIP = {"language-code"}


@dataclass(frozen=True)
class Domain:
    name: str
    package_dir: Path  # the source extracted

    @property
    def locale_dir(self) -> Path:
        return self.package_dir / "locale"

    @property
    def pot(self) -> Path:
        return self.locale_dir / f"{self.name}.pot"

    def po(self, lang: str) -> Path:
        return self.locale_dir / lang / "LC_MESSAGES" / f"{self.name}.po"


def domains() -> list[Domain]:
    out = [Domain("kyklos", ROOT / "core" / "kyklos")]
    for setup in sorted(ROOT.glob("plugins/*/setup.cfg")):
        pid = setup.parent.name
        out.append(Domain(f"kyklos_{pid}", setup.parent / f"kyklos_{pid}"))
    for setup in sorted(ROOT.glob("themes/*/setup.cfg")):
        tid = setup.parent.name
        out.append(Domain(f"kyklos_theme_{tid}", setup.parent / f"kyklos_theme_{tid}"))
    return out


def select(names: list[str]) -> list[Domain]:
    found = domains()
    if not names:
        return found
    unknown = set(names) - {d.name for d in found}
    if unknown:
        sys.exit(f"i18n: unknown domain(s) {sorted(unknown)}; known: {[d.name for d in found]}")
    return [d for d in found if d.name in names]


def _read(path: Path, **kw) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, **kw)


def _write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        write_po(f, catalog, width=100, sort_output=True, include_previous=False)


def pot_create() -> str:
    found = shutil.which("pot-create") or str(Path(sys.executable).parent / "pot-create")
    if not Path(found).exists():
        sys.exit("i18n: pot-create not found: pip install lingua")
    return found


def extract(domain: Domain, output: Path | None = None) -> int:
    """Write ``<domain>.pot`` (or ``output``) from the source; returns the number of
    messages (0, and no file, when the source has none)."""
    output = output or domain.pot
    output.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(  # noqa: S603 - our own arguments, no shell
        [
            pot_create(),
            "--domain",
            domain.name,
            "--no-linenumbers",
            # request.localizer.pluralize(singular, plural, n, ...) holds two messages
            "--keyword",
            "pluralize:1,2",
            "--sort-output",
            "--package-name",
            domain.name,
            "--output",
            str(output),
            str(domain.package_dir.relative_to(ROOT)),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        if "No translatable strings" in proc.stdout + proc.stderr:
            output.unlink(missing_ok=True)
            if not any(output.parent.iterdir()):
                output.parent.rmdir()
            return 0
        sys.exit(f"i18n: pot-create failed for {domain.name}:\n{proc.stderr}")
    return len([m for m in _read(output) if m.id])


def update(domain: Domain) -> dict[str, int]:
    """Merge the .pot into each language's .po; English gets msgstr = msgid.

    Messages gone from the source are dropped (not kept as obsolete) so the catalogs
    stay the list of what the product shows.
    """
    counts = {}
    for lang in LANGUAGES:
        # Read afresh per language: Catalog.update adopts the template's Message objects.
        template = _read(domain.pot)
        path = domain.po(lang)
        if path.exists():
            cat = _read(path, locale=lang, domain=domain.name)
        else:
            cat = Catalog(locale=lang, domain=domain.name, project=domain.name, fuzzy=False)
        cat.update(template, no_fuzzy_matching=True)
        cat.obsolete.clear()
        if lang == "en":
            for m in cat:
                if m.id and not _filled(m):
                    m.string = m.id
        _write(path, cat)
        counts[lang] = len([m for m in cat if m.id])
    return counts


def _filled(m) -> bool:
    """A translation in every form (a plural message holds one per plural form)."""
    return all(m.string) if isinstance(m.string, tuple) else bool(m.string)


def vendor_pot(vendor: str) -> Catalog:
    return _read(Path(str(resources.files(vendor))) / "locale" / f"{vendor}.pot")


def vendor_catalog(vendor: str, lang: str) -> Catalog | None:
    path = Path(str(resources.files(vendor))) / "locale" / lang / "LC_MESSAGES" / f"{vendor}.po"
    return _read(path, locale=lang) if path.exists() else None


def vendor_missing(vendor: str, lang: str) -> list[str]:
    """The vendor's messages its own ``lang`` catalog does not translate."""
    own = vendor_catalog(vendor, lang)
    out = []
    for m in vendor_pot(vendor):
        if not m.id or m.id in VENDOR_SKIP:
            continue
        theirs = own.get(m.id) if own else None
        if theirs is None or not theirs.string or theirs.fuzzy:
            out.append(m.id)
    return out


def update_vendors() -> None:
    core = Domain("kyklos", ROOT / "core" / "kyklos")
    for vendor in VENDORS:
        for lang in LANGUAGES[1:]:
            missing = vendor_missing(vendor, lang)
            path = core.locale_dir / lang / "LC_MESSAGES" / f"{vendor}.po"
            old = _read(path, locale=lang) if path.exists() else None
            if not missing and old is None:
                continue
            cat = Catalog(locale=lang, domain=vendor, project=f"kyklos ({vendor} gaps)")
            for msgid in missing:
                prev = old.get(msgid) if old else None
                cat.add(msgid, prev.string if prev else "")
            _write(path, cat)


def compile_all(force: bool = False) -> list[Path]:
    sys.path.insert(0, str(ROOT / "core"))
    from kyklos.i18n import compile_catalogs

    written = []
    for d in domains():
        if d.locale_dir.is_dir():
            written += compile_catalogs(d.locale_dir, force=force)
    return written


def problems(selected: list[Domain]) -> list[str]:
    """Untranslated or fuzzy messages, and .pot messages missing from a .po."""
    out = []
    for d in selected:
        if not d.pot.exists():
            continue
        ids = [m.id for m in _read(d.pot) if m.id]
        for lang in LANGUAGES:
            path = d.po(lang)
            cat = _read(path, locale=lang) if path.exists() else None
            for msgid in ids:
                m = cat.get(msgid) if cat else None
                if m is None or not _filled(m) or m.fuzzy:
                    out.append(f"{d.name} [{lang}]: untranslated {msgid!r}")
    for vendor in VENDORS:
        for lang in LANGUAGES[1:]:
            path = ROOT / "core/kyklos/locale" / lang / "LC_MESSAGES" / f"{vendor}.po"
            ours = _read(path, locale=lang) if path.exists() else None
            for msgid in vendor_missing(vendor, lang):
                m = ours.get(msgid) if ours else None
                if m is None or not m.string:
                    out.append(f"{vendor} [{lang}]: untranslated {msgid!r}")
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["extract", "update", "compile", "check"])
    parser.add_argument("domains", nargs="*")
    parser.add_argument("--force", action="store_true", help="compile: rewrite every .mo")
    args = parser.parse_args(argv)
    if args.command == "extract":
        for d in select(args.domains):
            n = extract(d)
            print(f"{d.name}: {n} messages" + (f" -> {d.pot.relative_to(ROOT)}" if n else ""))
    elif args.command == "update":
        for d in select(args.domains):
            if not d.pot.exists() and not extract(d):
                continue
            print(f"{d.name}: {update(d)}")
        if not args.domains:
            update_vendors()
    elif args.command == "compile":
        for mo in compile_all(args.force):
            print(f"compiled {mo.relative_to(ROOT)}")
    else:
        found = problems(select(args.domains))
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)")
        return 1 if found else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""``kyklos-sdk new-plugin``: write a complete plugin distribution from the templates in
``kyklos_sdk/scaffold/plugin/`` (package data).

Templates end in ``.tmpl`` so that neither Python tools nor pytest treat them as code;
``{{name}}`` placeholders are replaced, ``__id__`` in file names becomes the plugin id.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

import kyklos
from kyklos.plugins import ID_RE

LANGUAGES = ("en", "el", "ro", "pl")
ENTITY_RE = re.compile(r"^[a-z][a-z0-9]{1,40}$")

#: the scaffold's messages and their translations; ``{title}``/``{entity}`` are filled in
#: (a plugin title is a name and stays as the author wrote it)
MESSAGES: dict[str, dict[str, str]] = {
    "{title}": {"el": "{title}", "ro": "{title}", "pl": "{title}"},
    "{title} records": {
        "el": "Εγγραφές {title}",
        "ro": "Înregistrări {title}",
        "pl": "Rekordy {title}",
    },
    "{title} user": {
        "el": "Χρήστης {title}",
        "ro": "Utilizator {title}",
        "pl": "Użytkownik {title}",
    },
    "{title} manager": {
        "el": "Διαχειριστής {title}",
        "ro": "Manager {title}",
        "pl": "Kierownik {title}",
    },
    "{title} summary": {
        "el": "{title}: σύνοψη",
        "ro": "{title}: rezumat",
        "pl": "{title}: podsumowanie",
    },
    "{entity_title}": {"el": "{entity_title}", "ro": "{entity_title}", "pl": "{entity_title}"},
    "{entity_plural}": {"el": "{entity_plural}", "ro": "{entity_plural}", "pl": "{entity_plural}"},
    "Open": {"el": "Ανοιχτό", "ro": "Deschis", "pl": "Otwarte"},
    "Done": {"el": "Ολοκληρωμένο", "ro": "Finalizat", "pl": "Zakończone"},
    "Name": {"el": "Όνομα", "ro": "Nume", "pl": "Nazwa"},
    "Status": {"el": "Κατάσταση", "ro": "Stare", "pl": "Status"},
    "Due date": {"el": "Προθεσμία", "ro": "Termen", "pl": "Termin"},
    "Notes": {"el": "Σημειώσεις", "ro": "Note", "pl": "Notatki"},
    "Count": {"el": "Πλήθος", "ro": "Număr", "pl": "Liczba"},
    "Due next": {
        "el": "Επόμενες προθεσμίες",
        "ro": "Următoarele termene",
        "pl": "Najbliższe terminy",
    },
    "Nothing is due.": {
        "el": "Δεν υπάρχει τίποτα με προθεσμία.",
        "ro": "Nu există nimic cu termen.",
        "pl": "Brak terminów.",
    },
    "${count} records in total.": {
        "el": "${count} εγγραφές συνολικά.",
        "ro": "${count} înregistrări în total.",
        "pl": "Łącznie rekordów: ${count}.",
    },
    "A new record cannot be due in the past.": {
        "el": "Μια νέα εγγραφή δεν μπορεί να έχει προθεσμία στο παρελθόν.",
        "ro": "O înregistrare nouă nu poate avea termenul în trecut.",
        "pl": "Nowy rekord nie może mieć terminu w przeszłości.",
    },
}


def camel(name: str) -> str:
    return "".join(part.capitalize() for part in re.split(r"[^a-z0-9]+", name) if part)


def variables(plugin_id: str, title: str | None = None, entity: str | None = None) -> dict:
    if not ID_RE.match(plugin_id):
        suggestion = re.sub(r"[^a-z0-9]", "", plugin_id.lower())
        hint = f" (for example '{suggestion}')" if ID_RE.match(suggestion) else ""
        raise ValueError(
            f"'{plugin_id}' is not a valid plugin id: 2-31 lower-case letters and digits, "
            f"starting with a letter{hint}. The id prefixes the plugin's tables, "
            "permissions and migration branch ('{id}_<entity>'), so an '_' in it would "
            "make 'bars' and 'bars_demo' claim each other's tables; the title may be "
            "anything"
        )
    entity = entity or f"{plugin_id}item"
    if not ENTITY_RE.match(entity):
        raise ValueError(f"'{entity}' is not a valid entity name (lower-case letters, digits)")
    title = (title or plugin_id.capitalize()).strip()
    if not title or any(c in title for c in '"\\{}$\n'):
        raise ValueError("a title must not be empty nor contain quotes, backslashes, {, } or $")
    entity_title = camel(entity) if entity != f"{plugin_id}item" else f"{title} item"
    major, minor = (int(x) for x in kyklos.__version__.split(".")[:2])
    from kyklos_sdk import HOOK_CONTRACT, SDK_VERSION

    hooks_major = int(HOOK_CONTRACT.split(".")[0])

    return {
        "id": plugin_id,
        "title": title,
        "entity": entity,
        "Entity": camel(entity),
        "entity_title": entity_title,
        "entity_title_lower": entity_title.lower(),
        "entity_plural": f"{entity_title}s",
        "entity_plural_lower": f"{entity_title}s".lower(),
        "slug": f"{entity}s",
        "sdk_version": SDK_VERSION,
        "core_spec": f">={major}.{minor},<{major + 1}" if major else f">={major}.{minor},<1",
        "hooks_spec": f">={HOOK_CONTRACT},<{hooks_major + 1}",
    }


def _fill(text: str, values: dict) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    leftover = re.search(r"\{\{\w+\}\}", text)
    if leftover:
        raise ValueError(f"scaffold template has an unknown placeholder {leftover.group(0)}")
    return text


def _fmt(text: str, values: dict) -> str:
    # Not str.format: Chameleon's msgids hold ``${name}`` placeholders of their own.
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


def write_catalogs(locale_dir: Path, values: dict) -> None:
    """The domain's .pot and one .po per language, translated where the scaffold knows."""
    domain = f"kyklos_{values['id']}"
    fmt = {k: values[k] for k in ("title", "entity_title", "entity_plural")}
    pot = Catalog(project=f"kyklos-{values['id']}", domain=domain, fuzzy=False)
    for msgid in MESSAGES:
        pot.add(_fmt(msgid, fmt))
    locale_dir.mkdir(parents=True, exist_ok=True)
    with (locale_dir / f"{domain}.pot").open("wb") as f:
        write_po(f, pot, omit_header=False)
    for lang in LANGUAGES:
        cat = Catalog(locale=lang, project=f"kyklos-{values['id']}", domain=domain, fuzzy=False)
        for msgid, tr in MESSAGES.items():
            text = _fmt(msgid, fmt)
            cat.add(text, text if lang == "en" else _fmt(tr[lang], fmt))
        out = locale_dir / lang / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        with (out / f"{domain}.po").open("wb") as f:
            write_po(f, cat)


def new_plugin(
    plugin_id: str, target: Path, title: str | None = None, entity: str | None = None
) -> Path:
    """Write the distribution ``kyklos-<id>/`` under ``target``; return its path."""
    values = variables(plugin_id, title, entity)
    dest = Path(target) / f"kyklos-{plugin_id}"
    if dest.exists():
        raise FileExistsError(f"{dest} already exists")
    source = Path(str(resources.files("kyklos_sdk"))) / "scaffold" / "plugin"
    for path in sorted(source.rglob("*.tmpl")):
        rel = path.relative_to(source).as_posix()[: -len(".tmpl")].replace("__id__", plugin_id)
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(_fill(path.read_text(encoding="utf-8"), values), encoding="utf-8")
    write_catalogs(dest / f"kyklos_{plugin_id}" / "locale", values)
    return dest

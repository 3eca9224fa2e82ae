"""Translations: complete catalogs for en/el/ro/pl, the locale chosen per user, deform's
and colander's messages translated, numbers, dates and money formatted per locale."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest
import transaction
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from pyramid.i18n import TranslationString, make_localizer
from pyramid.interfaces import ITranslationDirectories
from pyramid.request import Request
from pyramid.scripting import prepare

from kyklos.i18n import FIELD_TITLES, LANGUAGES

ROOT = Path(__file__).resolve().parent.parent
LANGS = ("el", "ro", "pl")


def _tool():
    spec = importlib.util.spec_from_file_location("kyklos_i18n_tool", ROOT / "tools" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


tool = _tool()


def _read(path: Path, lang=None):
    with path.open("rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """Every domain extracted afresh from the current source (not the committed .pot)."""
    out = {}
    tmp = tmp_path_factory.mktemp("pot")
    for d in tool.domains():
        pot = tmp / f"{d.name}.pot"
        if tool.extract(d, output=pot):
            out[d] = [m.id for m in _read(pot) if m.id]
    return out


def test_core_and_contacts_are_extracted(extracted):
    names = {d.name: ids for d, ids in extracted.items()}
    assert "Log in" in names["kyklos"]
    assert "Administer Kyklos" in names["kyklos"]  # a _() in Python code
    assert "Accounts" in names["kyklos_contacts"]
    # request.localizer.pluralize(...) is extracted with both forms
    assert ("${n} record", "${n} records") in names["kyklos"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_message_of_the_source_is_translated(extracted, lang):
    missing = []
    for d, ids in extracted.items():
        path = d.po(lang)
        cat = _read(path, lang) if path.exists() else None
        for msgid in ids:
            m = cat.get(msgid) if cat else None
            filled = (
                all(m.string)
                if m is not None and isinstance(m.string, tuple)
                else (m is not None and bool(m.string))
            )  # a plural message needs every one of its forms
            if not filled or m.fuzzy:
                missing.append(f"{d.name}: {msgid!r}")
    assert not missing, f"{len(missing)} untranslated in {lang}; run tools/i18n.py update:\n" + (
        "\n".join(missing[:50])
    )


#: where the project's own catalogs live; a virtual environment inside the clone (the
#: README's ``.venv``) holds third-party catalogs that are not ours to check
OWN_ROOTS = ("core", "plugins", "themes", "plugin_sdk")


def own_catalogs(lang: str = "*"):
    for top in OWN_ROOTS:
        for po in (ROOT / top).glob(f"**/locale/{lang}/LC_MESSAGES/*.po"):
            rel = po.relative_to(ROOT).parts
            if not any(part.startswith(".") or "venv" in part for part in rel):
                yield po


def test_translations_keep_their_placeholders():
    wrong = []
    for po in own_catalogs():
        for m in _read(po, po.parent.parent.name):
            if m.id and m.string:
                # a plural entry holds (singular, plural) and one string per form
                ids = m.id if isinstance(m.id, tuple) else (m.id,)
                want = sorted(set(re.findall(r"\$\{[^}]+\}", " ".join(ids))))
                strings = m.string if isinstance(m.string, tuple) else (m.string,)
                for text in strings:
                    if text and sorted(set(re.findall(r"\$\{[^}]+\}", text))) != want:
                        wrong.append(f"{po.relative_to(ROOT)}: {m.id!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


def test_plural_messages_are_literals_the_extractor_can_see():
    """pluralize(singular, plural, ...) is extracted from its own arguments only: a message
    passed in a variable never reaches the catalogs and stays English on every page."""
    import ast

    hidden = []
    for d in tool.domains():
        for path in sorted(d.package_dir.rglob("*.py")):
            if ".venv" in path.parts or "tests" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "pluralize"
                    and not all(
                        isinstance(a, ast.Constant) and isinstance(a.value, str)
                        for a in node.args[:2]
                    )
                ):
                    hidden.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not hidden, "pluralize() with non-literal messages:\n" + "\n".join(hidden)


def test_romanian_uses_comma_below_not_cedilla():
    # ş/ţ (cedilla) are the legacy look-alikes of the correct ș/ț (comma below).
    bad = []
    for po in own_catalogs("ro"):
        for m in _read(po, "ro"):
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            bad += [t for t in strings if t and re.search("[şţŞŢ]", t)]
    assert not bad, bad


def test_catalogs_compile():
    for po in own_catalogs():
        buf = io.BytesIO()
        write_mo(buf, _read(po, po.parent.parent.name))
        assert len(buf.getvalue()) > 28, po  # more than the .mo header


def test_vendor_gaps_are_filled():
    """deform has no Romanian catalog of its own; ours fills it, and the gaps of
    deform's and colander's other catalogs (checked by tools/i18n.py check)."""
    assert tool.vendor_catalog("deform", "ro") is None
    assert tool.problems([]) == []


# --- the running application -------------------------------------------------------------


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def _localizer(registry, lang):
    return make_localizer(lang, registry.queryUtility(ITranslationDirectories))


def test_login_page_in_greek_by_cookie(testapp):
    testapp.set_cookie("_LOCALE_", "el")
    page = testapp.get("/login")
    assert '<html lang="el"' in page.text
    assert "Σύνδεση" in page.text  # "Log in"
    assert "Κωδικός πρόσβασης" in page.text  # "Password"
    assert "Log in" not in page.text


def test_pages_follow_the_users_own_language(make_user, login, kyklos_app):
    import webtest

    make_user(email="eleni@example.com", locale="el", roles=("sales",))
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(app, "eleni@example.com")
    home = app.get("/")
    assert "Αποσύνδεση" in home.text  # "Log out"
    assert "Καλώς ήρθατε" in home.text  # "Welcome, ${name}"
    # TranslationStrings built in Python (the contacts plugin's entity plurals in the
    # menu) are translated where the template prints them.
    assert "Λογαριασμοί" in home.text  # "Accounts"
    # a plural message: the list's record count ("${n} record" / "${n} records")
    listing = app.get("/accounts/")
    assert "0 εγγραφές" in listing.text and " records" not in listing.text


#: words that are the same in Greek (language names are written in their own language)
SAME_IN_GREEK = {"E-mail", "SMS", "Kyklos", "PDF", *LANGUAGES.values()}


def test_every_declared_title_is_translated(registry):
    """Entity types, their fields and choices, roles and menu entries are _() strings
    built at start-up, not in templates: check each against the Greek catalogs."""
    el = _localizer(registry, "el")
    titles = []
    for et in registry.kyklos_entities.values():
        titles += [(f"entity {et.name}", et.title), (f"entity {et.name}", et.plural)]
        for f in et.fields.values():
            # Internal read-only fields (search keys) that no list shows are not checked.
            if f.readonly and f.name not in et.list_columns and f.name not in FIELD_TITLES:
                continue
            titles.append((f"field {et.name}.{f.name}", f.title))
            titles += [(f"choice {et.name}.{f.name}", t) for _v, t in f.choices or ()]
    titles += [(f"role {r.name}", r.title) for r in registry.kyklos_roles.values()]
    untranslated = [
        f"{where}: {str(t)!r}"
        for where, t in titles
        if str(t) not in SAME_IN_GREEK
        and el.translate(t) == str(t)
        and re.search("[A-Za-z]", str(t))
    ]
    assert not untranslated, "\n".join(untranslated)


def test_flash_and_python_messages_are_translated_for_the_user(make_user, testapp):
    make_user(email="piotr@example.com", locale="pl")
    testapp.extra_environ["HTTP_ACCEPT_LANGUAGE"] = "pl"
    page = testapp.get("/login")
    form = next(f for f in page.forms.values() if f.action.endswith("/login"))
    form["email"] = "piotr@example.com"
    form["password"] = "wrong password"
    res = form.submit()
    assert "Nieprawidłowy e-mail lub hasło." in res.text  # a _() message from Python


def test_flash_messages_are_shown_translated(make_user, login, kyklos_app):
    import webtest

    make_user(email="ana@example.com", locale="ro")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(app, "ana@example.com")
    token = re.search(r'name="csrf_token" value="([^"]+)"', app.get("/").text).group(1)
    page = app.post("/account/sessions/end-others", {"csrf_token": token}).follow()
    assert "Celelalte sesiuni ale dumneavoastră s-au încheiat." in page.text


@pytest.mark.parametrize(
    ("user_locale", "cookie", "accept", "expected"),
    [
        ("ro", "el", "pl", "ro"),  # the user's own setting wins
        (None, "el", "pl", "el"),  # then the cookie
        (None, None, "pl-PL,pl;q=0.9,en;q=0.5", "pl"),  # then Accept-Language
        (None, None, "de-DE", "en"),  # an unavailable language falls back to English
        (None, "xx", None, "en"),  # an unknown cookie value is ignored
    ],
)
def test_locale_choice_order(make_user, login, kyklos_app, user_locale, cookie, accept, expected):
    import webtest

    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    if user_locale:
        make_user(email=f"u-{user_locale}@example.com", locale=user_locale)
        login(app, f"u-{user_locale}@example.com")
    if cookie:
        app.set_cookie("_LOCALE_", cookie)
    headers = {"Accept-Language": accept} if accept else {}
    page = app.get("/" if user_locale else "/login", headers=headers)
    assert f'<html lang="{expected}"' in page.text


def test_language_switch_is_remembered_for_the_user(client, dbsession):
    from sqlalchemy import select

    from kyklos.security.models import User

    app = client()
    page = app.get("/")
    form = next(f for f in page.forms.values() if f.action.endswith("/language"))
    form["lang"] = "ro"
    form.submit(headers={"Referer": "http://localhost/"})
    assert '<html lang="ro"' in app.get("/").text
    with dbsession() as db:
        assert db.execute(select(User.locale).where(User.email == app.email)).scalar() == "ro"


@pytest.mark.parametrize(
    ("lang", "msgid", "domain", "expected"),
    [
        # colander's and deform's own catalogs
        ("el", "Required", "colander", "Απαραίτητο"),
        ("ro", "Required", "colander", "Necesar"),
        ("pl", "Required", "colander", "Wymagane"),
        ("el", "There was a problem with your submission", "deform", "Υπήρχουν"),
        ("pl", "There was a problem with your submission", "deform", "problem"),
        # deform ships no Romanian: these come from core/kyklos/locale/ro/.../deform.po
        ("ro", "There was a problem with your submission", "deform", "A apărut o problemă"),
        ("ro", "Errors have been highlighted below", "deform", "Erorile sunt evidențiate"),
        ("el", "Errors have been highlighted below", "deform", "Τα σφάλματα"),
        ("pl", "Incomplete time", "deform", "Niepełny czas"),
        ("pl", "Invalid time", "colander", "Nieprawidłowy czas"),
    ],
)
def test_deform_and_colander_messages_are_translated(registry, lang, msgid, domain, expected):
    text = _localizer(registry, lang).translate(TranslationString(msgid, domain=domain))
    assert expected in text


def test_colander_validation_error_is_translated(registry):
    import colander

    class Schema(colander.MappingSchema):
        email = colander.SchemaNode(colander.String(), validator=colander.Email())
        count = colander.SchemaNode(colander.Integer())

    with pytest.raises(colander.Invalid) as err:
        Schema().deserialize({"email": "not an address"})
    messages = err.value.asdict(translate=_localizer(registry, "ro").translate)
    assert messages["count"] == "Necesar"
    assert messages["email"] != "Invalid email address"
    assert "e-mail" in messages["email"].lower() or "email" in messages["email"].lower()


# --- formatting ---------------------------------------------------------------------------


@contextlib.contextmanager
def _request(registry, headers=None):
    """A real request through the app's registry (locale negotiation, security policy),
    inside a transaction like the CLI's."""
    env = prepare(registry=registry, request=Request.blank("/", headers=headers or {}))
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    try:
        with request.tm:
            yield request
    finally:
        env["closer"]()


@pytest.mark.parametrize(
    ("lang", "money", "number", "date"),
    [
        ("en", "€1,234.56", "1,234,567.891", "Mar 5, 2026"),
        ("el", "1.234,56\xa0€", "1.234.567,891", "5 Μαρ 2026"),
        ("ro", "1.234,56\xa0EUR", "1.234.567,891", "5 mar. 2026"),
        ("pl", "1\xa0234,56\xa0€", "1\xa0234\xa0567,891", "5 mar 2026"),
    ],
)
def test_numbers_dates_and_money_per_locale(registry, lang, money, number, date):
    with _request(registry, {"Accept-Language": lang}) as request:
        assert request.locale_name == lang
        assert request.format_money("1234.56", "EUR") == money
        assert request.format_number(1234567.891) == number
        assert request.format_date(dt.date(2026, 3, 5)) == date


@pytest.mark.parametrize(
    ("lang", "short", "long"),
    [("en", "Jan 2026", "January 2026"), ("el", "Ιαν 2026", "Ιανουάριος 2026"),
     ("pl", "sty 2026", "styczeń 2026")],
)
def test_months_in_words_per_locale(registry, lang, short, long):
    """Chart axes name months in the user's language, from a date or a ``2026-01`` key."""
    from kyklos.i18n import format_month

    with _request(registry, {"Accept-Language": lang}) as request:
        assert format_month(request, "2026-01") == short
        assert format_month(request, dt.date(2026, 1, 31), "long") == long
        assert format_month(request, None) == ""


def test_number_with_fixed_decimals_and_empty_values(registry):
    with _request(registry, {"Accept-Language": "el"}) as request:
        assert request.format_number(2.5, digits=2) == "2,50"
        assert request.format_number(1234, digits=0) == "1.234"
        assert request.format_number(None) == ""
        assert request.format_money(None) == ""
        assert request.format_date(None) == ""


def test_datetimes_are_shown_in_the_users_time_zone(registry, make_user, dbsession):
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    uid = make_user(email="tz@example.com", locale="pl", timezone="America/New_York")
    with dbsession() as db:
        token, _row = create_token(db, db.get(User, uid), name="t")
    when = dt.datetime(2026, 1, 15, 12, 0, tzinfo=dt.UTC)
    with _request(registry, {"Authorization": f"Bearer {token}"}) as request:
        assert request.locale_name == "pl"
        assert str(request.timezone) == "America/New_York"
        assert request.format_datetime(when, "short") == "15.01.2026, 07:00"
        assert request.format_time(when) == "07:00"
        # 03:30 UTC is still the previous day in New York.
        early = dt.datetime(2026, 1, 16, 3, 30, tzinfo=dt.UTC)
        assert request.format_date(early, "short") == "15.01.2026"
    with _request(registry, {"Accept-Language": "el"}) as anon:
        assert str(anon.timezone) == "UTC"
        assert anon.format_datetime(when, "short") == "15/1/26, 12:00\u202fμ.μ."

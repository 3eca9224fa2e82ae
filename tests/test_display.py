"""One rendering of values for people (issue 16, point 3): per field type and locale,
never JSON, a Python repr, an internal code or a bare id; display kinds for typed JSON
values (``config.add_display_kind``)."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal

import pytest
import transaction
from markupsafe import Markup
from pyramid.config import Configurator
from pyramid.request import Request
from pyramid.scripting import prepare

from kyklos.entities import FieldInfo
from kyklos.entities.display import display_text, display_value, format_value, sentence
from kyklos.entities.money import Money
from kyklos.i18n import _


@contextlib.contextmanager
def _request(registry, headers=None):
    env = prepare(registry=registry, request=Request.blank("/", headers=headers or {}))
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    try:
        with request.tm:
            yield request
    finally:
        env["closer"]()


def f(type_, **kw) -> FieldInfo:
    return FieldInfo(name=kw.pop("name", "x"), title="X", type=type_, **kw)


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


CHOICES = [("customer", _("Customer")), ("supplier", _("Supplier"))]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        (
            "en",
            {
                "int": "1,234,567",
                "year": "2026",
                "dec": "1,234.5",
                "bool": "Yes",
                "money_pln": "PLN416,415.00",
                "money_eur": "€1,234.56",
                "date": "Mar 5, 2026",
            },
        ),
        (
            "el",
            {
                "int": "1.234.567",
                "year": "2026",
                "dec": "1.234,5",
                "bool": "Ναι",
                "money_pln": "416.415,00\xa0PLN",
                "money_eur": "1.234,56\xa0€",
                "date": "5 Μαρ 2026",
            },
        ),
        (
            "pl",
            {
                "int": "1\xa0234\xa0567",
                "year": "2026",
                "dec": "1\xa0234,5",
                "bool": "Tak",
                "money_pln": "416\xa0415,00\xa0zł",
                "money_eur": "1\xa0234,56\xa0€",
                "date": "5 mar 2026",
            },
        ),
    ],
)
def test_values_per_type_and_locale(registry, lang, expected):
    with _request(registry, {"Accept-Language": lang}) as request:
        got = {
            "int": format_value(request, f("integer"), 1234567).text,
            "year": format_value(request, f("integer", grouping=False), 2026).text,
            "dec": format_value(request, f("decimal"), Decimal("1234.5")).text,
            "bool": format_value(request, f("boolean"), True).text,
            "money_pln": format_value(request, f("money"), Money(Decimal("416415"), "PLN")).text,
            # history keeps money in its JSON form: shown the same way
            "money_eur": format_value(
                request, f("money"), {"amount": "1234.56", "currency": "EUR"}
            ).text,
            "date": format_value(request, f("date"), "2026-03-05").text,
        }
    assert got == expected


def test_a_year_or_code_never_gets_a_group_separator(registry):
    with _request(registry, {"Accept-Language": "el"}) as request:
        assert format_value(request, f("integer", grouping=False), 2026).text == "2026"
        assert format_value(request, f("decimal", grouping=False), Decimal("12345.5")).text == (
            "12345,5"
        )
        assert format_value(request, f("integer"), 2026).text == "2.026"


def test_choices_and_lists_are_translated_words(registry):
    with _request(registry, {"Accept-Language": "en"}) as request:
        multi = f("multichoice", choices=CHOICES)
        assert format_value(request, multi, ["customer", "supplier"]).text == "Customer, Supplier"
        # a value no longer among the choices reads as a word, not a code
        assert format_value(request, f("choice", choices=CHOICES), "trade_show").text == (
            "Trade show"
        )
        assert format_value(request, multi, []).text == ""
        assert format_value(request, f("boolean"), False).text == "No"


def test_json_without_a_display_kind_reads_as_words(registry):
    with _request(registry) as request:
        cell = format_value(
            request,
            f("json"),
            [{"kind": "home", "city": "Patra"}, {"kind": "work", "city": "Athens"}],
        )
        assert cell.text == "Kind: home; City: Patra\nKind: work; City: Athens"
        assert "{" not in str(cell.markup) and "[" not in str(cell.markup)
        assert format_value(request, f("json"), ["a", "b"]).text == "a, b"
        assert format_value(request, f("json"), {"ok": True}).text == "Ok: ✓"


def test_phones_and_emails_display_kinds(registry):
    phones = [
        {"type": "work", "number": "+302101234567", "primary": False},
        {"type": "mobile", "number": "+48601234567", "primary": True},
    ]
    emails = [{"type": "home", "email": "a<b>@example.com", "primary": True}]
    with _request(registry, {"Accept-Language": "pl"}) as request:
        cell = format_value(request, f("json", display="phones"), phones)
        assert cell.text == "+48 601 234 567 komórkowy główny\n+30 21 0123 4567 służbowy"
        assert 'href="tel:+48601234567"' in str(cell.markup)
        mail = format_value(request, f("json", display="emails"), emails)
        # what is inserted is escaped
        assert "a&lt;b&gt;@example.com" in str(mail.markup) and "<b>" not in str(mail.markup)
        assert mail.text == "a<b>@example.com domowy główny"


def test_datetimes_are_in_the_users_zone(registry, make_user, dbsession):
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    uid = make_user(email="zone.display@example.com", locale="el", timezone="Europe/Athens")
    with dbsession() as db:
        token, _row = create_token(db, db.get(User, uid), name="t")
    with _request(registry, {"Authorization": f"Bearer {token}"}) as request:
        when = dt.datetime(2026, 3, 5, 9, 0, tzinfo=dt.UTC)
        assert format_value(request, f("datetime"), when).text == "5/3/26, 11:00\u202fπ.μ."
        # the JSON form that history keeps reads the same
        assert format_value(request, f("datetime"), "2026-03-05T09:00:00Z").text == (
            "5/3/26, 11:00\u202fπ.μ."
        )


def test_references_show_titles_and_never_an_id(registry, make_user, dbsession):
    uid = make_user(email="maria.display@example.com", name="Maria Papadopoulou")
    owner = f("reference", reference="user", name="owner_id")
    with _request(registry, {"Accept-Language": "el"}) as request:
        assert format_value(request, owner, uid, {uid: ("Maria Papadopoulou", None)}).text == (
            "Maria Papadopoulou"
        )
        # a record that is gone or hidden: a neutral word, not "#3"
        hidden = format_value(request, owner, 987654, {})
        assert hidden.text == "Περιορισμένη πρόσβαση" and "987654" not in str(hidden.markup)


def test_display_value_and_text_through_the_entity_type(registry, make_user):
    """The SDK function with an entity type and field name; a reference looked up."""
    import kyklos_sdk

    et = next(iter(registry.kyklos_entities.values()), None)
    if et is None or "owner_id" not in et.fields:
        pytest.skip("no entity type with an owner in this app")
    uid = make_user(email="andrei.display@example.com", name="Andrei <Popescu>")
    with _request(registry) as request:
        html = kyklos_sdk.display_value(request, et.name, "owner_id", uid)
        assert isinstance(html, Markup) and "Andrei &lt;Popescu&gt;" in str(html)
        assert kyklos_sdk.display_text(request, et, "owner_id", uid) == "Andrei <Popescu>"
        assert display_value(request, et, "owner_id", None) == ""
        assert display_text(request, et, "owner_id", 10**9) == "Restricted"


def test_add_display_kind_registers_a_renderer(registry):
    def plates(request, field, value):
        return Markup(", ").join(Markup("<code>{}</code>").format(p) for p in value)

    config = Configurator(registry=registry)
    config.add_display_kind("test_plates", plates)
    config.commit()
    try:
        with _request(registry) as request:
            cell = format_value(request, f("json", display="test_plates"), ["ΙΚΥ-1234", "<x>"])
        assert str(cell.markup) == "<code>ΙΚΥ-1234</code>, <code>&lt;x&gt;</code>"
        assert cell.text == "ΙΚΥ-1234, <x>"
    finally:
        registry.kyklos_display_kinds.pop("test_plates", None)


def test_sentences_escape_the_message_and_keep_markup_parts(registry):
    with _request(registry, {"Accept-Language": "el"}) as request:
        out = sentence(
            request,
            _("${who} changed ${field} from ${old} to ${new}"),
            who="<Giorgos>",
            field="Owner",
            old=Markup('<a href="/u/1">Maria</a>'),
            new="Andrei",
        )
    assert str(out) == ('&lt;Giorgos&gt; άλλαξε το «Owner» από <a href="/u/1">Maria</a> σε Andrei')

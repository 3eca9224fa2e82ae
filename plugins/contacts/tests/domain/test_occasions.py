"""Easter computus, name-day calendars and the occasions engine."""

import dataclasses
import datetime
from types import SimpleNamespace

import pytest
from kyklos_contacts.domain import namedays_data
from kyklos_contacts.domain.occasions import (
    NO_YEAR,
    Occasion,
    calendar_for_country,
    catholic_easter,
    name_days,
    names_on,
    occasion_date,
    occasions_between,
    orthodox_easter,
)
from kyklos_contacts.domain.translit import fold

D = datetime.date


# --------------------------------------------------------------------------- Easter

@pytest.mark.parametrize(
    ("year", "orthodox", "western"),
    [
        (2006, D(2006, 4, 23), D(2006, 4, 16)),
        (2011, D(2011, 4, 24), D(2011, 4, 24)),
        (2019, D(2019, 4, 28), D(2019, 4, 21)),
        (2021, D(2021, 5, 2), D(2021, 4, 4)),
        (2022, D(2022, 4, 24), D(2022, 4, 17)),
        (2023, D(2023, 4, 16), D(2023, 4, 9)),
        (2024, D(2024, 5, 5), D(2024, 3, 31)),
        (2025, D(2025, 4, 20), D(2025, 4, 20)),
        (2026, D(2026, 4, 12), D(2026, 4, 5)),
        (2027, D(2027, 5, 2), D(2027, 3, 28)),
    ],
)
def test_easter(year, orthodox, western):
    assert orthodox_easter(year) == orthodox
    assert catholic_easter(year) == western
    assert orthodox.weekday() == western.weekday() == 6  # always a Sunday


# --------------------------------------------------------------------------- St George

@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2023, D(2023, 4, 23)),  # Easter 16 Apr: 23 Apr is after Easter, stays
        (2025, D(2025, 4, 23)),  # Easter 20 Apr: Bright Wednesday, stays
        (2024, D(2024, 5, 6)),  # Easter 5 May: 23 Apr in Lent -> Easter Monday
        (2021, D(2021, 5, 3)),  # Easter 2 May: in Lent -> Easter Monday
        (2019, D(2019, 4, 29)),  # Easter 28 Apr: Holy Tuesday -> Easter Monday
        (2022, D(2022, 4, 25)),  # Easter 24 Apr: Holy Saturday -> Easter Monday
        (2006, D(2006, 4, 24)),  # Easter *on* 23 Apr -> Easter Monday
    ],
)
def test_greek_st_george_moves_to_easter_monday(year, expected):
    for name in ("Γεώργιος", "Γιώργος", "Γεωργία", "Giorgos", "Georgios", "George"):
        assert name_days(name, year, "el") == [expected], name


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2023, D(2023, 4, 25)),
        (2024, D(2024, 5, 7)),  # Bright Tuesday
        (2011, D(2011, 4, 26)),  # 25 Apr is Easter Monday (George's day) -> Tuesday
        (2006, D(2006, 4, 25)),  # 25 Apr is Bright Tuesday already: stays
    ],
)
def test_greek_st_mark_moves_to_bright_tuesday(year, expected):
    assert name_days("Μάρκος", year, "el") == [expected]


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2019, D(2019, 4, 29)),  # Holy Tuesday -> Easter Monday (Holy Synod, 2019)
        (2022, D(2022, 4, 25)),  # Holy Saturday -> Easter Monday
        (2024, D(2024, 4, 23)),  # in Lent: the Romanian church keeps 23 April
        (2023, D(2023, 4, 23)),
    ],
)
def test_romanian_st_george_moves_only_out_of_holy_week(year, expected):
    assert name_days("Gheorghe", year, "ro") == [expected]
    assert name_days("Georgiana", year, "ro") == [expected]


# --------------------------------------------------------------------------- Greek

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ιωάννης", D(2024, 1, 7)),
        ("Γιάννης", D(2024, 1, 7)),
        ("Yannis", D(2024, 1, 7)),
        ("Ioannis", D(2024, 1, 7)),
        ("Ιωάννα", D(2024, 1, 7)),
        ("Κωνσταντίνος", D(2024, 5, 21)),
        ("Kostas", D(2024, 5, 21)),
        ("Ελένη", D(2024, 5, 21)),
        ("Eleni", D(2024, 5, 21)),
        ("Μαρία", D(2024, 8, 15)),
        ("Maria", D(2024, 8, 15)),
        ("Παναγιώτης", D(2024, 8, 15)),
        ("Νικόλαος", D(2024, 12, 6)),
        ("Nikos", D(2024, 12, 6)),
        ("Δημήτριος", D(2024, 10, 26)),
        ("Dimitris", D(2024, 10, 26)),
        ("Δήμητρα", D(2024, 10, 26)),
        ("Βασίλης", D(2024, 1, 1)),
        ("Ευάγγελος", D(2024, 3, 25)),
        ("Αικατερίνη", D(2024, 11, 25)),
        ("Katerina", D(2024, 11, 25)),
        ("Σταύρος", D(2024, 9, 14)),
        ("Σπύρος", D(2024, 12, 12)),
        ("Μιχάλης", D(2024, 11, 8)),
        ("Χρήστος", D(2024, 12, 25)),
        ("Hristos", D(2024, 12, 25)),
        # Movable feasts (Orthodox Easter 2024 = 5 May)
        ("Λάζαρος", D(2024, 4, 27)),  # Saturday of Lazarus, Easter - 8
        ("Βάια", D(2024, 4, 28)),  # Palm Sunday, Easter - 7
        ("Αναστάσιος", D(2024, 5, 5)),  # Easter
        ("Λάμπρος", D(2024, 5, 5)),
        ("Ζωή", D(2024, 5, 10)),  # Life-giving Spring, Easter + 5
        ("Πηγή", D(2024, 5, 10)),
        ("Θωμάς", D(2024, 5, 12)),  # Thomas Sunday, Easter + 7
        ("Τριάδα", D(2024, 6, 24)),  # Holy Spirit Monday, Easter + 50
        ("Θεόδωρος", D(2024, 3, 23)),  # Saturday of St Theodore, Easter - 43
    ],
)
def test_greek_name_days(name, expected):
    assert name_days(name, 2024, "el") == [expected]


def test_lookup_ignores_case_accents_and_script():
    expected = [D(2023, 4, 23)]
    for spelling in ("ΓΙΩΡΓΟΣ", "γιωργος", "Γιώργος", "Yorgos", "giorgos", " Γιώργος "):
        assert name_days(spelling, 2023, "el") == expected


def test_name_with_two_feasts_returns_both_sorted():
    # Anastasia: Easter Sunday and St Anastasia on 22 December.
    assert name_days("Αναστασία", 2023, "el") == [D(2023, 4, 16), D(2023, 12, 22)]


def test_names_on_follows_the_movable_rules():
    assert "Γεώργιος" in names_on(D(2024, 5, 6), "el")
    assert "Γεώργιος" not in names_on(D(2024, 4, 23), "el")
    assert "Γεώργιος" in names_on(D(2023, 4, 23), "el")
    assert {"Κωνσταντίνος", "Ελένη"} <= set(names_on(D(2030, 5, 21), "el"))
    assert names_on(D(2024, 2, 29), "el") == []  # nothing fixed on a leap day


def test_greek_table_size_and_folded_keys():
    names = {n for _rule, _label, ns in namedays_data.GREEK for n in ns}
    assert len(names) >= 300
    assert len({fold(n) for n in names}) >= 300


# --------------------------------------------------------------------------- Romanian

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ion", D(2024, 1, 7)),
        ("Ioana", D(2024, 1, 7)),
        ("Ionuț", D(2024, 1, 7)),
        ("Ionut", D(2024, 1, 7)),
        ("Constantin", D(2024, 5, 21)),
        ("Elena", D(2024, 5, 21)),
        ("Maria", D(2024, 8, 15)),
        ("Dumitru", D(2024, 10, 26)),
        ("Nicolae", D(2024, 12, 6)),
        ("Andrei", D(2024, 11, 30)),
        ("Andreea", D(2024, 11, 30)),
        ("Mihai", D(2024, 11, 8)),
        ("Gabriela", D(2024, 11, 8)),
        ("Petru", D(2024, 6, 29)),
        ("Ilie", D(2024, 7, 20)),
        ("Ștefan", D(2024, 12, 27)),
        ("Stefan", D(2024, 12, 27)),
        ("Vasile", D(2024, 1, 1)),
        # Palm Sunday (Orthodox Easter 2024 = 5 May): flower names
        ("Florin", D(2024, 4, 28)),
        ("Florina", D(2024, 4, 28)),
        ("Viorica", D(2024, 4, 28)),
        ("Toma", D(2024, 5, 12)),  # Thomas Sunday
    ],
)
def test_romanian_name_days(name, expected):
    assert name_days(name, 2024, "ro") == [expected]


def test_romanian_palm_sunday_follows_easter():
    assert name_days("Florin", 2023, "ro") == [D(2023, 4, 9)]
    assert name_days("Florin", 2025, "ro") == [D(2025, 4, 13)]


# --------------------------------------------------------------------------- Polish

@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Wojciech", D(2024, 4, 23)),
        ("Jerzy", D(2024, 4, 23)),
        ("Jan", D(2024, 6, 24)),
        ("Anna", D(2024, 7, 26)),
        ("Józef", D(2024, 3, 19)),
        ("Jozef", D(2024, 3, 19)),
        ("Małgorzata", D(2024, 7, 13)),
        ("MALGORZATA", D(2024, 7, 13)),
        ("Andrzej", D(2024, 11, 30)),
        ("Katarzyna", D(2024, 11, 25)),
        ("Krzysztof", D(2024, 7, 25)),
        ("Mikołaj", D(2024, 12, 6)),
        ("Zofia", D(2024, 5, 15)),
        ("Barbara", D(2024, 12, 4)),
        ("Adam", D(2024, 12, 24)),
        ("Ewa", D(2024, 12, 24)),
    ],
)
def test_polish_name_days(name, expected):
    assert name_days(name, 2024, "pl") == [expected]


def test_polish_names_are_fixed_regardless_of_easter():
    assert name_days("Wojciech", 2019, "pl") == [D(2019, 4, 23)]  # Easter 21 Apr


def test_polish_table_size():
    assert len(namedays_data.POLISH) >= 300
    assert len({fold(n) for n in namedays_data.POLISH}) == len(namedays_data.POLISH)


def test_polish_names_on():
    assert {"Adam", "Ewa"} <= set(names_on(D(2024, 12, 24), "pl"))


# --------------------------------------------------------------------------- lookups

def test_compound_name_falls_back_to_first_word():
    assert name_days("Anna Maria", 2024, "pl") == [D(2024, 7, 26)]
    assert name_days("Jan-Paweł", 2024, "pl") == [D(2024, 6, 24)]
    assert name_days("Μαρία Ελένη", 2024, "el") == [D(2024, 8, 15)]


def test_unknown_name_and_calendar():
    assert name_days("Xyzzy", 2024, "el") == []
    assert name_days("", 2024, "el") == []
    with pytest.raises(ValueError, match="unknown name-day calendar"):
        name_days("Maria", 2024, "hu")
    with pytest.raises(ValueError):
        names_on(D(2024, 1, 1), "de")


def test_calendar_for_country():
    assert calendar_for_country("GR") == "el"
    assert calendar_for_country("cy") == "el"
    assert calendar_for_country("EL") == "el"
    assert calendar_for_country("RO") == "ro"
    assert calendar_for_country("MD") == "ro"
    assert calendar_for_country("PL") == "pl"
    assert calendar_for_country("DE") is None
    assert calendar_for_country(None) is None


def test_occasion_date_handles_29_february():
    leapling = D(2000, 2, 29)
    assert occasion_date(leapling, 2023) == D(2023, 2, 28)
    assert occasion_date(leapling, 2024) == D(2024, 2, 29)


# --------------------------------------------------------------------------- engine

def _kinds(occasions):
    return [(o.person_id, o.date, o.kind, o.years) for o in occasions]


def test_birthdays_and_anniversaries_with_years():
    people = [
        {"id": 1, "first_name": "Xyzzy", "birth_date": D(1980, 3, 22),
         "anniversary_date": D(2010, 6, 5)},
    ]
    result = occasions_between(people, D(2024, 1, 1), D(2024, 12, 31))
    assert _kinds(result) == [
        (1, D(2024, 3, 22), "birthday", 44),
        (1, D(2024, 6, 5), "anniversary", 14),
    ]
    assert result[0].label == "Birthday"
    assert result[1].label == "Anniversary"


def test_leap_day_birthday_in_common_and_leap_years():
    people = [{"id": "p", "first_name": "", "birth_date": D(2000, 2, 29)}]
    assert _kinds(occasions_between(people, D(2023, 2, 1), D(2023, 3, 31))) == [
        ("p", D(2023, 2, 28), "birthday", 23)]
    assert _kinds(occasions_between(people, D(2024, 2, 1), D(2024, 3, 31))) == [
        ("p", D(2024, 2, 29), "birthday", 24)]


def test_window_spanning_new_year():
    people = [
        {"id": 1, "first_name": "Ιωάννης", "country": "GR", "birth_date": D(1990, 1, 5)},
        {"id": 2, "first_name": "Βασίλης", "country": "GR", "birth_date": D(1985, 12, 28)},
        {"id": 3, "first_name": "Νίκος", "country": "GR"},  # 6 Dec: before the window
    ]
    result = occasions_between(people, D(2024, 12, 20), D(2025, 1, 10))
    assert _kinds(result) == [
        (2, D(2024, 12, 28), "birthday", 39),
        (2, D(2025, 1, 1), "name_day", None),
        (1, D(2025, 1, 5), "birthday", 35),
        (1, D(2025, 1, 7), "name_day", None),
    ]


def test_name_day_calendar_from_country_or_explicit():
    gheorghe = {"id": "ro", "first_name": "Gheorghe", "country": "RO"}
    giorgos = SimpleNamespace(id="gr", first_name="Giorgos", country="GR")
    explicit = {"id": "x", "first_name": "George", "name_day_calendar": "ro",
                "country": "GR"}
    result = occasions_between([gheorghe, giorgos, explicit],
                               D(2024, 4, 1), D(2024, 5, 31))
    assert _kinds(result) == [
        ("ro", D(2024, 4, 23), "name_day", None),
        ("x", D(2024, 4, 23), "name_day", None),  # explicit calendar beats country
        ("gr", D(2024, 5, 6), "name_day", None),
    ]
    assert result[0].label == "Name day"


def test_calendars_filter_and_fallback():
    people = [
        {"id": 1, "first_name": "Jan", "country": "PL"},
        {"id": 2, "first_name": "Ιωάννης"},  # no country: uses the fallback
        {"id": 3, "first_name": "Ion", "country": "DE"},  # unknown country, fallback
    ]
    window = (D(2024, 1, 1), D(2024, 12, 31))
    only_el = occasions_between(people, *window, calendars=["el"])
    assert _kinds(only_el) == [(2, D(2024, 1, 7), "name_day", None)]  # Ion is not Greek
    ro_first = occasions_between(people, *window, calendars=("ro", "pl"))
    assert _kinds(ro_first) == [
        (3, D(2024, 1, 7), "name_day", None),
        (1, D(2024, 6, 24), "name_day", None),
    ]
    no_filter = occasions_between(people, *window)
    assert _kinds(no_filter) == [(1, D(2024, 6, 24), "name_day", None)]
    single = occasions_between(people, *window, calendars="el")
    assert single == only_el


def test_unknown_year_gives_no_age():
    people = [{"id": 7, "first_name": None, "birth_date": D(NO_YEAR, 2, 3)}]
    assert _kinds(occasions_between(people, D(2024, 1, 1), D(2024, 12, 31))) == [
        (7, D(2024, 2, 3), "birthday", None)]


def test_no_occasion_before_the_event():
    people = [{"id": 1, "first_name": None, "birth_date": D(2024, 6, 1),
               "anniversary_date": datetime.datetime(2025, 6, 1, 12, 0)}]
    assert occasions_between(people, D(2024, 1, 1), D(2025, 12, 31)) == [
        Occasion(1, D(2025, 6, 1), "birthday", "Birthday", 1)]


def test_empty_and_reversed_windows():
    people = [{"id": 1, "first_name": "Maria", "country": "GR",
               "birth_date": D(1990, 8, 15)}]
    assert occasions_between(people, D(2024, 8, 16), D(2024, 8, 14)) == []
    one_day = occasions_between(people, D(2024, 8, 15), D(2024, 8, 15))
    assert [o.kind for o in one_day] == ["birthday", "name_day"]  # inclusive bounds


def test_occasion_is_frozen():
    occasion = Occasion(1, D(2024, 1, 1), "birthday", "Birthday", 30)
    with pytest.raises(dataclasses.FrozenInstanceError):
        occasion.years = 31  # type: ignore[misc]

"""Tax / company / personal id validation (python-stdnum behind one exception type)."""

import datetime

import pytest
from kyklos_contacts.domain.taxids import (
    InvalidTaxNumber,
    personal_id_birth_date,
    validate_company_id,
    validate_personal_id,
    validate_tax_number,
    validate_vat,
)

# Valid sample numbers: stdnum's documented examples or computed with its check digits.
AFM = "094259216"
CUI = "18547290"
CNP_1963 = "1630615123457"
CNP_2001 = "5010101123455"
CNP_LEAP_2000 = "6000229123455"
NIP = "8567346215"
REGON_9 = "192598184"
REGON_14 = "12345678512347"
PESEL_1944 = "44051401359"
PESEL_2002 = "02270803624"
AMKA = "01013099997"


class TestTaxNumber:
    @pytest.mark.parametrize(
        ("country", "number", "expected"),
        [
            ("GR", AFM, AFM),
            ("GR", "EL 094 259 216", AFM),
            ("gr", "GR094259216", AFM),
            ("EL", AFM, AFM),  # the VAT prefix is accepted as a country too
            ("RO", "RO18547290", CUI),
            ("RO", " 185 472 90 ", CUI),
            ("RO", CNP_1963, CNP_1963),  # persons: 13 digits -> CNP
            ("PL", "PL 856-734-62-15", NIP),
            ("DE", "DE 136,695 976", "136695976"),  # other EU: national VAT part
        ],
    )
    def test_valid_numbers_are_compacted(self, country, number, expected):
        assert validate_tax_number(country, number) == expected

    @pytest.mark.parametrize(
        ("country", "number", "reason"),
        [
            ("GR", "094259217", "checksum"),
            ("GR", "0942592160", "length"),
            ("RO", "18547291", "checksum"),
            ("RO", "1630615123458", "checksum"),  # CNP with a wrong check digit
            ("PL", "8567346216", "checksum"),
            ("PL", "85673462", "length"),
            ("DE", "136695977", "checksum"),
        ],
    )
    def test_invalid_numbers_raise(self, country, number, reason):
        with pytest.raises(InvalidTaxNumber) as info:
            validate_tax_number(country, number)
        assert info.value.msgid == "invalid_tax_number"
        assert info.value.field == "tax_number"
        assert info.value.reason == reason
        assert isinstance(info.value, ValueError)
        assert str(info.value) == f"Invalid tax identification number ({reason})"

    def test_unknown_country_returns_stripped_number_unchanged(self):
        assert validate_tax_number("US", "  12-3456789 ") == "12-3456789"
        assert validate_tax_number(None, " abc ") == "abc"

    @pytest.mark.parametrize("number", ["", "   "])
    def test_empty_is_invalid_for_known_countries(self, number):
        with pytest.raises(InvalidTaxNumber) as info:
            validate_tax_number("GR", number)
        assert info.value.reason == "empty"


class TestVat:
    @pytest.mark.parametrize(
        ("country", "number", "expected"),
        [
            ("GR", AFM, "EL094259216"),
            ("GR", "EL094259216", "EL094259216"),
            ("GR", "GR 094 259 216", "EL094259216"),  # Greece is always EL for VIES
            ("CY", "EL094259216", "EL094259216"),  # an explicit prefix wins
            ("RO", CUI, "RO18547290"),
            ("RO", "ro 18547290", "RO18547290"),
            ("PL", NIP, "PL8567346215"),
            (None, "NL004495445B01", "NL004495445B01"),
            ("DE", "136695976", "DE136695976"),
        ],
    )
    def test_valid(self, country, number, expected):
        assert validate_vat(country, number) == expected

    def test_invalid_checksum(self):
        with pytest.raises(InvalidTaxNumber) as info:
            validate_vat("GR", "EL094259217")
        assert (info.value.msgid, info.value.field, info.value.reason) == (
            "invalid_vat", "vat", "checksum")

    def test_prefix_decides_which_country_validates(self):
        # A valid Greek AFM is not a valid Romanian CUI.
        with pytest.raises(InvalidTaxNumber):
            validate_vat("GR", "RO094259216")

    def test_non_eu_country_with_stdnum_module(self):
        assert validate_vat("GB", "GB 980 7806 84") == "GB980780684"
        with pytest.raises(InvalidTaxNumber):
            validate_vat("GB", "980780685")

    def test_country_without_validator(self):
        assert validate_vat("US", " 123 ") == "123"

    def test_empty(self):
        with pytest.raises(InvalidTaxNumber) as info:
            validate_vat("GR", "")
        assert info.value.reason == "empty"


class TestCompanyId:
    @pytest.mark.parametrize(
        ("country", "number", "expected"),
        [
            ("PL", REGON_9, REGON_9),
            ("PL", "1234567-85-12347", REGON_14),
            ("RO", "RO 185 472 90", CUI),
            ("GR", "EL094259216", AFM),
        ],
    )
    def test_valid(self, country, number, expected):
        assert validate_company_id(country, number) == expected

    @pytest.mark.parametrize(
        ("country", "number"),
        [("PL", "192598183"), ("PL", "12345678512348"), ("RO", "18547291")],
    )
    def test_invalid(self, country, number):
        with pytest.raises(InvalidTaxNumber) as info:
            validate_company_id(country, number)
        assert info.value.msgid == "invalid_company_id"
        assert info.value.field == "company_id"

    def test_other_countries_pass_through(self):
        assert validate_company_id("FR", " 552 100 554 ") == "552 100 554"


class TestPersonalId:
    @pytest.mark.parametrize(
        ("country", "number"),
        [("PL", PESEL_1944), ("PL", PESEL_2002), ("RO", CNP_1963), ("RO", CNP_2001),
         ("GR", AMKA)],
    )
    def test_valid(self, country, number):
        assert validate_personal_id(country, number) == number

    @pytest.mark.parametrize(
        ("country", "number"),
        [("PL", "44051401358"), ("RO", "1630615123458"), ("GR", "01013099998"),
         ("RO", "1631315123456")],  # month 13
    )
    def test_invalid(self, country, number):
        with pytest.raises(InvalidTaxNumber) as info:
            validate_personal_id(country, number)
        assert info.value.msgid == "invalid_personal_id"
        assert info.value.field == "personal_id"

    def test_other_countries_pass_through(self):
        assert validate_personal_id("DE", " X123 ") == "X123"


class TestBirthDate:
    @pytest.mark.parametrize(
        ("country", "number", "expected"),
        [
            ("PL", PESEL_1944, datetime.date(1944, 5, 14)),
            ("PL", PESEL_2002, datetime.date(2002, 7, 8)),  # month + 20 = 2000s
            ("RO", CNP_1963, datetime.date(1963, 6, 15)),
            ("RO", CNP_2001, datetime.date(2001, 1, 1)),  # sex digit 5 = 2000s
            ("RO", CNP_LEAP_2000, datetime.date(2000, 2, 29)),
            ("GR", AMKA, datetime.date(1930, 1, 1)),
        ],
    )
    def test_decoded(self, country, number, expected):
        assert personal_id_birth_date(country, number) == expected

    def test_countries_without_dates(self):
        assert personal_id_birth_date("DE", "123") is None
        assert personal_id_birth_date(None, "123") is None

    def test_invalid_number_raises_instead_of_guessing(self):
        with pytest.raises(InvalidTaxNumber):
            personal_id_birth_date("PL", "02270803628")

"""Phone normalisation, formatting and type guessing (phonenumbers)."""

import pytest
from kyklos_contacts.domain.phones import (
    InvalidPhone,
    format_phone,
    normalize_phone,
    phone_type_guess,
)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        # National formats in the three home markets
        ("210 1234567", "GR", "+302101234567"),
        ("210-123-4567", "GR", "+302101234567"),
        ("691 234 5678", "GR", "+306912345678"),
        ("0721 123 456", "RO", "+40721123456"),
        ("021 312 3456", "RO", "+40213123456"),
        ("601 234 567", "PL", "+48601234567"),
        ("22 123 45 67", "PL", "+48221234567"),
        # Region aliases and case
        ("210 1234567", "el", "+302101234567"),
        # International forms ignore (or need no) region
        ("+30 691 234 5678", None, "+306912345678"),
        ("0030 210 1234567", None, "+302101234567"),
        ("0040 721 123 456", "GR", "+40721123456"),
        ("+48 601-234-567", "RO", "+48601234567"),
        ("tel:+1-418-656-9254;ext=102", None, "+14186569254"),
    ],
)
def test_normalize(raw, region, expected):
    assert normalize_phone(raw, region) == expected


@pytest.mark.parametrize(
    ("raw", "region", "msgid"),
    [
        ("123", "GR", "invalid_phone"),
        ("210 123456", "GR", "invalid_phone"),  # one digit short
        ("abc", "GR", "invalid_phone"),
        ("", "GR", "invalid_phone"),
        ("210 1234567", None, "phone_needs_country"),
        ("+30 999 999 9999", None, "invalid_phone"),  # possible length, unassigned range
    ],
)
def test_invalid(raw, region, msgid):
    with pytest.raises(InvalidPhone) as info:
        normalize_phone(raw, region)
    assert info.value.msgid == msgid
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("e164", "international", "national"),
    [
        ("+302101234567", "+30 21 0123 4567", "21 0123 4567"),
        ("+40721123456", "+40 721 123 456", "0721 123 456"),
        ("+48601234567", "+48 601 234 567", "601 234 567"),
    ],
)
def test_format(e164, international, national):
    assert format_phone(e164) == international
    assert format_phone(e164, "international") == international
    assert format_phone(e164, "national") == national
    assert format_phone(e164, "e164") == e164


def test_format_rejects_unknown_style():
    with pytest.raises(ValueError, match="unknown phone style"):
        format_phone("+302101234567", "fancy")


@pytest.mark.parametrize(
    ("e164", "kind"),
    [
        ("+306912345678", "mobile"),
        ("+302101234567", "landline"),
        ("+40721123456", "mobile"),
        ("+40213123456", "landline"),
        ("+48601234567", "mobile"),
        ("+48221234567", "landline"),
        ("+12125551234", "other"),  # NANP: fixed and mobile are indistinguishable
        ("+308001234567", "other"),  # Greek toll-free
    ],
)
def test_type_guess(e164, kind):
    assert phone_type_guess(e164) == kind

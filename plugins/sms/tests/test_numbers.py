"""Recipients in E.164 for many countries, read in the person's or the site's country;
landlines and invalid numbers refused with the reason."""

from __future__ import annotations

import pytest

from kyklos_sms.numbers import BadNumber, normalise


@pytest.mark.parametrize(
    "raw, countries, e164",
    [
        ("6912345678", ("GR",), "+306912345678"),
        ("691 234 5678", ("EL",), "+306912345678"),
        ("0030 691 234 5678", (None,), "+306912345678"),
        ("0721 123 456", ("RO",), "+40721123456"),
        ("601 234 567", ("PL",), "+48601234567"),
        ("07400 123456", ("GB",), "+447400123456"),
        ("0151 23456789", ("DE",), "+4915123456789"),
        ("+33 6 12 34 56 78", ("GR",), "+33612345678"),
        ("(201) 555-0123", ("US",), "+12015550123"),
        # the person's country first, the site's default after
        ("6912345678", (None, "GR"), "+306912345678"),
    ],
)
def test_mobile_numbers_in_e164(raw, countries, e164):
    assert normalise(raw, *countries) == e164


@pytest.mark.parametrize(
    "raw, countries, words",
    [
        ("210 1234567", ("GR",), "not a mobile"),
        ("+302101234567", (), "not a mobile"),
        ("6912345678", (), "no country code"),
        ("12", ("GR",), "not a valid"),
        ("hello", ("GR",), "not a phone number"),
        ("", ("GR",), "Give a mobile number"),
    ],
)
def test_refused_with_a_reason(raw, countries, words):
    with pytest.raises(BadNumber) as exc:
        normalise(raw, *countries)
    assert words in str(exc.value.reason.interpolate())

"""GSM-7 or UCS-2 and the number of parts, counted before sending: examples at the
limits and properties over any text (hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kyklos_sms.encoding import (
    GSM_BASIC,
    GSM_EXTENDED,
    MULTI,
    SINGLE,
    count,
    decode,
    gsm7_bytes,
    split,
    ucs2_hex,
)

gsm_text = st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENDED), max_size=700)
any_text = st.text(max_size=500)


def units(text, encoding):
    if encoding == "gsm7":
        return sum(2 if c in GSM_EXTENDED else 1 for c in text)
    return len(text.encode("utf-16-be")) // 2


def test_limits_gsm7():
    assert count("").parts == 1
    assert count("a" * 160) == count("a" * 160)
    assert (count("a" * 160).parts, count("a" * 160).remaining) == (1, 0)
    assert count("a" * 161).parts == 2
    assert count("a" * 306).parts == 2
    assert count("a" * 307).parts == 3
    # an extension character costs two septets
    assert count("€" * 80).units == 160 and count("€" * 80).parts == 1
    assert count("a" + "€" * 80).parts == 2
    # an escape pair is never split: 152 septets, then "€" moves whole to part two
    parts = split("a" * 152 + "€" + "b" * 10)
    assert parts[0] == "a" * 152 and parts[1].startswith("€")


def test_limits_ucs2_and_greek():
    greek = "Χρόνια πολλά για τη γιορτή σας!"
    c = count(greek)
    assert c.encoding == "ucs2" and c.parts == 1 and c.units == len(greek)
    assert "ρ" in c.unicode_chars
    assert count("α" * 70).parts == 1
    assert count("α" * 71).parts == 2
    assert count("α" * 134).parts == 2
    assert count("α" * 135).parts == 3
    # an emoji is two UTF-16 units, and its pair is not split
    assert count("😀" * 35).units == 70 and count("😀" * 35).parts == 1
    parts = split("a" * 66 + "😀" + "b" * 5)
    assert parts[0] == "a" * 66 and parts[1] == "😀bbbbb"
    # the capital letters GSM has (Δ, Σ...) alone stay GSM-7
    assert count("ΔΣ ΩΠ").encoding == "gsm7"
    assert ucs2_hex("Γεια") == "Γεια".encode("utf-16-be").hex()


@settings(max_examples=300, deadline=None)
@given(any_text)
def test_parts_rebuild_the_text_within_their_limits(text):
    c = count(text)
    parts = split(text)
    assert "".join(parts) == text
    assert len(parts) == c.parts >= 1
    assert c.units == units(text, c.encoding)
    limit = SINGLE[c.encoding] if c.parts == 1 else MULTI[c.encoding]
    for p in parts:
        assert units(p, c.encoding) <= limit
    assert 0 <= c.remaining <= limit
    # no part could have taken the next part's first character
    for a, b in zip(parts, parts[1:], strict=False):
        assert units(a + b[0], c.encoding) > limit


@settings(max_examples=200, deadline=None)
@given(gsm_text)
def test_gsm_text_stays_gsm7_and_round_trips(text):
    c = count(text)
    assert c.encoding == "gsm7"
    assert decode(gsm7_bytes(text), 0) == text
    assert len(gsm7_bytes(text)) == c.units


@settings(max_examples=200, deadline=None)
@given(gsm_text, st.sampled_from("αβγδεζηθικλμνξοπρστυφχψωάέήίόύώ😀ăâîșțąćęłńóśźż"))
def test_one_foreign_character_makes_ucs2(text, odd):
    c = count(text + odd)
    assert c.encoding == "ucs2"
    assert odd in c.unicode_chars
    # more parts than GSM-7 would need, never fewer
    assert c.parts >= count(text).parts
    assert decode(bytes.fromhex(ucs2_hex(text + odd)), 8) == text + odd

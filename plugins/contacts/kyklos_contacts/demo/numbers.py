"""Valid tax and personal numbers for demo data: a sequence number plus the check digit
of each country's algorithm (python-stdnum's), so every number passes validation."""

from __future__ import annotations

import datetime as dt

from stdnum import luhn
from stdnum.gr import vat as gr_vat
from stdnum.pl import pesel as pl_pesel
from stdnum.pl import regon as pl_regon
from stdnum.ro import cnp as ro_cnp
from stdnum.ro import cui as ro_cui


def afm(seq: int) -> str:
    """A Greek AFM (9 digits)."""
    base = f"{(10_000_000 + seq * 7) % 100_000_000:08d}"
    return base + gr_vat.calc_check_digit(base)


def cui(seq: int) -> str:
    """A Romanian CUI (8 digits here)."""
    base = f"{1_000_000 + seq % 8_999_999:07d}"
    return base + ro_cui.calc_check_digit(base)


def nip(seq: int) -> str:
    """A Polish NIP (10 digits); sequence numbers whose check would be 10 are skipped."""
    n = seq
    while True:
        base = f"{(520_000_000 + n * 13) % 1_000_000_000:09d}"
        check = sum(w * int(d) for w, d in zip((6, 5, 7, 2, 3, 4, 5, 6, 7), base, strict=True)) % 11
        if check < 10 and base[:3] != "000":
            return base + str(check)
        n += 1_000_003


def regon(seq: int) -> str:
    """A Polish REGON (9 digits)."""
    base = f"{(10_000_000 + seq * 11) % 100_000_000:08d}"
    return base + pl_regon.calc_check_digit(base)


def gb_vat(seq: int) -> str:
    """A UK VAT number (9 digits, modulus 97)."""
    base = f"{(1_000_000 + seq * 3) % 10_000_000:07d}"
    total = sum(w * int(d) for w, d in zip((8, 7, 6, 5, 4, 3, 2), base, strict=True))
    return base + f"{(-total) % 97:02d}"


def pesel(born: dt.date, gender: str, serial: int) -> str:
    """A PESEL encoding ``born`` and ``gender`` (even 10th digit for women)."""
    month = born.month + (20 if born.year >= 2000 else 0)
    sex = (serial % 5) * 2 + (1 if gender == "male" else 0)
    base = f"{born.year % 100:02d}{month:02d}{born.day:02d}{serial % 1000:03d}{sex}"
    return base + pl_pesel.calc_check_digit(base)


def cnp(born: dt.date, gender: str, county: int, serial: int) -> str:
    """A CNP: sex/century digit, birth date, county code 01-46, serial, check digit."""
    first = (1 if gender == "male" else 2) + (4 if born.year >= 2000 else 0)
    base = f"{first}{born.year % 100:02d}{born.month:02d}{born.day:02d}{county:02d}{serial:03d}"
    return base + ro_cnp.calc_check_digit(base)


def amka(born: dt.date, gender: str, serial: int) -> str:
    """A Greek AMKA: DDMMYY, four digits (the last odd for men), Luhn check digit."""
    sex = (serial % 5) * 2 + (1 if gender == "male" else 0)
    base = f"{born.day:02d}{born.month:02d}{born.year % 100:02d}{serial % 1000:03d}{sex}"
    return base + luhn.calc_check_digit(base)

"""SQLite's period buckets computed in SQL (the zone's offset changes as CASEs) give
exactly the answer of the Python ``kyklos_bucket`` (zoneinfo), moment by moment, around
every daylight-saving change, in zones with odd offsets and outside the tabulated
years."""

from __future__ import annotations

import datetime as dt
import random
import sqlite3

import pytest
from sqlalchemy import Column, DateTime, MetaData, String, Table, select
from sqlalchemy.dialects import sqlite

from kyklos.reports import engine

ZONES = (
    "Europe/Athens",
    "America/New_York",
    "Australia/Lord_Howe",  # a 30-minute daylight-saving shift
    "Asia/Kathmandu",  # +05:45, no daylight saving
    "America/Santiago",  # southern hemisphere
    "UTC",
)
UNITS = engine.BUCKETS
STORED = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime on SQLite


def _moments(tz: str) -> list[dt.datetime]:
    """Moments a second either side of each offset change of 2023-2027, random ones
    over a century and a half, and some past the tabulated years (UTC, naive)."""
    _first, changes = engine.utc_offsets(tz)
    out = []
    for moment, _o in changes:
        at = dt.datetime.fromisoformat(moment)
        if 2023 <= at.year <= 2027:
            out += [at - dt.timedelta(seconds=1), at, at + dt.timedelta(seconds=1)]
            out += [at - dt.timedelta(hours=3), at + dt.timedelta(hours=3)]
    r = random.Random(tz)
    start = dt.datetime(1890, 1, 1)
    out += [start + dt.timedelta(seconds=r.randrange(160 * 365 * 86400)) for _ in range(1500)]
    out += [dt.datetime(2100, 1, 1) - dt.timedelta(seconds=1), dt.datetime(2100, 1, 1)]
    out += [dt.datetime(2150, 6, 30, 21, 30), dt.datetime(1899, 12, 31, 23, 59)]
    return out


@pytest.mark.parametrize("tz", ZONES)
def test_sql_buckets_match_zoneinfo(tz):
    table = Table("t", MetaData(), Column("v", DateTime), Column("s", String))
    conn = sqlite3.connect(":memory:")
    conn.create_function("kyklos_bucket", 4, engine.sqlite_bucket, deterministic=True)
    conn.execute("CREATE TABLE t (v TEXT, s TEXT)")
    moments = _moments(tz)
    conn.executemany(
        "INSERT INTO t VALUES (?, ?)",
        [(m.strftime(STORED), m.strftime("%Y-%m-%dT%H:%M:%S") + "Z") for m in moments],
    )
    conn.executemany("INSERT INTO t VALUES (NULL, NULL)", [()])
    dialect = sqlite.dialect()
    for unit in UNITS:
        for col, stored in ((table.c.v, True), (table.c.s, False)):
            expr = engine.sqlite_bucket_expr(col, unit, tz, True, stored=stored)
            sql = str(
                select(col, expr).compile(dialect=dialect, compile_kwargs={"literal_binds": True})
            )
            got = conn.execute(sql).fetchall()
            assert len(got) == len(moments) + 1
            for value, bucket in got:
                assert bucket == engine.sqlite_bucket(value, unit, tz, 1), (unit, value)


def test_a_date_field_is_bucketed_without_a_zone():
    table = Table("d", MetaData(), Column("v", String))
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE d (v TEXT)")
    days = [dt.date(2026, 1, 1) + dt.timedelta(days=i) for i in range(0, 800, 3)]
    conn.executemany("INSERT INTO d VALUES (?)", [(d.isoformat(),) for d in days])
    for unit in UNITS:
        expr = engine.sqlite_bucket_expr(table.c.v, unit, "Europe/Athens", False, stored=True)
        sql = str(
            select(table.c.v, expr).compile(
                dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True}
            )
        )
        for value, bucket in conn.execute(sql):
            assert bucket == engine.sqlite_bucket(value, unit, "Europe/Athens", 0), (unit, value)


def test_the_offsets_of_athens():
    first, changes = engine.utc_offsets("Europe/Athens")
    by_moment = dict(changes)
    # 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC
    assert by_moment["2026-03-29 01:00:00"] == 3 * 3600
    assert by_moment["2026-10-25 01:00:00"] == 2 * 3600
    assert first == 2 * 3600  # 1970 (the first tabulated year) began in winter time
    assert len(changes) == 2 * (2100 - 1975)  # summer time since 1975: two changes a year

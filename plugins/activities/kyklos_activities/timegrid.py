"""The hour grid of the day and week views: where each event sits and how tall it is.

Each day column is a CSS grid of 96 quarter-hour rows and 12 columns; an event is placed
with classes (``k-r-<row> k-s-<span> k-c-<column> k-w-<width>``), never with inline
styles, which the site's Content-Security-Policy (``style-src 'self'``) refuses. Twelve
columns divide evenly into 1, 2, 3, 4, 6 and 12 side-by-side lanes, so events that
overlap share the width of their cluster only, and an event alone takes the full width.

All-day events, tasks that only have a due date and pieces of an event covering a whole
day go to the row above the grid instead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

QUARTERS = 96  # rows per day
SLOT_MINUTES = 30  # drop targets and shading
COLUMNS = 12
LANE_COUNTS = (1, 2, 3, 4, 6, 12)
#: a point-in-time event (a call logged at 10:00) still gets a clickable half hour
MIN_QUARTERS = 2


@dataclass
class Placed:
    item: dict
    start: int  # minutes after local midnight
    end: int
    lane: int = 0
    lanes: int = 1

    @property
    def classes(self) -> str:
        row = min(self.start // 15, QUARTERS - 1)
        span = max(MIN_QUARTERS, -(-(self.end - self.start) // 15))
        span = min(span, QUARTERS - row)
        lanes = next((n for n in LANE_COUNTS if n >= self.lanes), COLUMNS)
        width = COLUMNS // lanes
        col = min(self.lane, lanes - 1) * width
        return f"k-r-{row + 1} k-s-{span} k-c-{col + 1} k-w-{width}"


@dataclass
class Day:
    date: dt.date
    allday: list = field(default_factory=list)
    timed: list = field(default_factory=list)


def split(day_starts: dict, start: dt.datetime, end: dt.datetime):
    """``(day, from_minute, to_minute, whole_day)`` of each local day ``[start, end)``
    touches; ``day_starts`` maps each shown day to its local midnight (aware)."""
    for day, midnight in day_starts.items():
        nxt = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=midnight.tzinfo)
        lo, hi = max(start, midnight), min(end, nxt)
        if end > start and hi <= lo:
            continue
        if end <= start and not midnight <= start < nxt:
            continue
        whole = lo <= midnight and hi >= nxt
        a = _minutes(lo, midnight)
        b = 24 * 60 if hi >= nxt else _minutes(hi, midnight)
        yield day, a, b, whole


def _minutes(when: dt.datetime, midnight: dt.datetime) -> int:
    """Wall-clock minutes of ``when`` on its local day (a day with a DST change still
    shows 09:00 in the 09:00 row)."""
    local = when.astimezone(midnight.tzinfo)
    return local.hour * 60 + local.minute


def lay_out(placed: list[Placed]) -> list[Placed]:
    """Give overlapping events side-by-side lanes: sorted by start, each takes the first
    free lane of its cluster (events linked by overlaps); a cluster's lane count is what
    its widest moment needs."""
    placed.sort(key=lambda p: (p.start, -(p.end - p.start)))
    cluster: list[Placed] = []
    lane_ends: list[int] = []
    cluster_end = -1
    for p in placed + [None]:
        if p is None or (cluster and p.start >= cluster_end):
            for q in cluster:
                q.lanes = len(lane_ends)
            cluster, lane_ends, cluster_end = [], [], -1
        if p is None:
            break
        end = max(p.end, p.start + MIN_QUARTERS * 15)
        free = next((i for i, e in enumerate(lane_ends) if e <= p.start), None)
        if free is None:
            p.lane = len(lane_ends)
            lane_ends.append(end)
        else:
            p.lane, lane_ends[free] = free, end
        cluster.append(p)
        cluster_end = max(cluster_end, end)
    return placed


def build(days: list[dt.date], tz, entries) -> list[Day]:
    """Days with their all-day row and placed events. ``entries``: ``(item, start, end,
    all_day)`` where ``all_day`` also marks a task with only a due date."""
    day_starts = {d: dt.datetime.combine(d, dt.time(0), tzinfo=tz) for d in days}
    out = {d: Day(d) for d in days}
    for item, start, end, all_day in entries:
        if all_day:
            for day, _a, _b, _w in split(day_starts, start, max(end, start)):
                out[day].allday.append(item)
            continue
        for day, a, b, whole in split(day_starts, start, end):
            if whole:
                out[day].allday.append(item)
            else:
                out[day].timed.append(Placed(item, a, b))
    for day in out.values():
        lay_out(day.timed)
    return list(out.values())


def slots(day: dt.date, working) -> list[dict]:
    """The half-hour cells of a day: drop targets, hour lines, working hours shaded."""
    working_day = working is not None and working.is_working_day(day)
    out = []
    for i in range(24 * 60 // SLOT_MINUTES):
        minute = i * SLOT_MINUTES
        at = dt.time(minute // 60, minute % 60)
        out.append({
            "time": at.strftime("%H:%M"),
            "classes": " ".join(filter(None, (
                f"k-r-{minute // 15 + 1} k-s-{SLOT_MINUTES // 15}",
                "k-hour" if at.minute == 0 else "",
                "k-work" if working_day and working.start <= at < working.end else "",
            ))),
        })
    return out

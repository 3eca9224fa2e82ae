"""Shared helpers of the activities tests."""

import datetime as dt


def iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def future(days=7, hour=10, minute=0) -> dt.datetime:
    """A weekday ``days`` ahead at ``hour`` UTC."""
    day = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=dt.UTC)


def meeting(types, start, minutes=60, **extra) -> dict:
    data = {
        "type_id": types["meeting"],
        "subject": extra.pop("subject", "Project meeting"),
        "starts_at": iso(start),
        "ends_at": iso(start + dt.timedelta(minutes=minutes)),
    }
    data.update(extra)
    return data


def error_fields(res) -> dict:
    """``{field: detail}`` of a problem+json response."""
    assert res.content_type == "application/problem+json", res.content_type
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}

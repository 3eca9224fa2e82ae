"""Floating times (no TZID, no ``Z``) in an .ics file read by the common importer are
wall-clock times of the organisation: the zone on the Settings page, not the .ini's
(issue: the .ini zone was used even after an administrator changed the setting)."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kyklos_sdk.testing import run_cli, write_ini

FLOATING = b"""BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//Floating//EN
BEGIN:VEVENT
UID:floating-1@example.org
DTSTAMP:20260101T000000Z
DTSTART:20300715T090000
DTEND:20300715T100000
SUMMARY:Floating meeting
END:VEVENT
END:VCALENDAR
"""


def _starts(dbsession):
    from kyklos_activities.models import Activity

    with dbsession() as db:
        row = db.execute(
            select(Activity.starts_at, Activity.timezone).where(
                Activity.external_uid == "floating-1@example.org"
            )
        ).one()
    start = row.starts_at if row.starts_at.tzinfo else row.starts_at.replace(tzinfo=dt.UTC)
    return start, row.timezone


def _expected(zone: str) -> dt.datetime:
    return dt.datetime(2030, 7, 15, 9, tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)


def test_api_import_takes_floating_times_in_the_settings_zone(api, types, dbsession):
    api("admin").patch_json("/api/v1/_settings", {"timezone.default": "America/Chicago"})
    rep = api("sales")
    opts = {"key": "external_uid", "on_duplicate": "update"}
    res = rep.post(
        "/api/v1/activities/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "floating.ics", FLOATING)],
        status=202,
    )
    run = rep.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["created"] == 1, run
    start, zone = _starts(dbsession)
    assert start == _expected("America/Chicago")  # 14:00 UTC, not 09:00 (the .ini's UTC)
    assert zone == "America/Chicago"
    # The administrator changes the zone: the next import reads it at once.
    api("admin").patch_json("/api/v1/_settings", {"timezone.default": "Europe/Athens"})
    res = rep.post(
        "/api/v1/activities/_import",
        {"options": json.dumps(opts)},
        upload_files=[("file", "floating.ics", FLOATING)],
        status=202,
    )
    run = rep.get(res.headers["Location"]).json
    assert run["state"] == "done" and run["updated"] == 1, run
    assert _starts(dbsession)[0] == _expected("Europe/Athens")


def test_cli_import_takes_floating_times_in_the_settings_zone(
    api, types, dbsession, db_url, tmp_path
):
    api("admin", email="boss@example.com").patch_json(
        "/api/v1/_settings", {"timezone.default": "Asia/Tokyo"}
    )
    ini = write_ini(tmp_path, plugins="contacts activities", url=db_url)
    path = tmp_path / "floating.ics"
    path.write_bytes(FLOATING)
    proc = run_cli("import", ini, "activity", path, "--key", "external_uid")
    assert proc.returncode == 0, proc.stderr
    assert _starts(dbsession) == (_expected("Asia/Tokyo"), "Asia/Tokyo")

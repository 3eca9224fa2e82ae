"""SFA-13: "rep activity" counts activities in the month they happened (completed,
else started or due), not the month their records were created: 139 calls typed in on
1 December belong to November."""

from __future__ import annotations

import datetime as dt

UTC = dt.UTC


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def test_rep_activity_counts_when_activities_happened(admin, api, dbsession):
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import Activity

    rep = api("sales")
    with dbsession() as db:
        call = next(iter(ensure_defaults(db).values()))
        title = call.title
        rows = (
            # (created, completed, starts, due): in November 2030?
            (at(2030, 12, 1, 9), at(2030, 11, 20, 10), None, None),  # done in November
            (at(2030, 12, 1, 9), None, at(2030, 11, 5, 10), None),  # a November meeting
            (at(2030, 12, 1, 9), None, None, at(2030, 11, 30, 23)),  # due in November
            (at(2030, 11, 10, 9), at(2030, 12, 2, 9), None, None),  # done in December
            (at(2030, 11, 10, 9), None, None, at(2030, 12, 3, 9)),  # due in December
            (at(2030, 11, 11, 9), None, None, None),  # no date: when it was recorded
        )
        for i, (created, completed, starts, due) in enumerate(rows):
            db.add(
                Activity(
                    type_id=call.id,
                    subject=f"call {i}",
                    owner_id=rep.user_id,
                    created_at=created,
                    completed_at=completed,
                    starts_at=starts,
                    ends_at=starts + dt.timedelta(hours=1) if starts else None,
                    due_at=due,
                )
            )
    nov = admin.get("/api/v1/sfa/kpi/rep_activity?from=2030-11-01&to=2030-11-30").json
    assert {s["label"]: s["values"] for s in nov["series"]}[title] == [4]
    dec = admin.get("/api/v1/sfa/kpi/rep_activity?from=2030-12-01&to=2030-12-31").json
    assert {s["label"]: s["values"] for s in dec["series"]}[title] == [2]

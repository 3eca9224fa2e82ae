"""The renewal task is written for the contract's owner: its subject shows the end date
in the owner's language and date format (not an ISO date), whatever the language of the
request that runs the job."""

from __future__ import annotations

import datetime as dt

from babel.dates import format_date as babel_format_date


def test_renewal_subject_shows_the_date_in_the_owners_locale(admin, registry, dbsession, make_user):
    from kyklos import jobs
    from kyklos_activities.models import Activity
    from sqlalchemy import select

    from kyklos_helpdesk.contracts import RENEWAL_JOB

    today = dt.date.today()
    ends = today + dt.timedelta(days=20)
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos"}, status=201).json
    for email, locale, name in (
        ("el@example.com", "el", "Σύμβαση"),
        ("pl@example.com", "pl", "Umowa"),
        ("en@example.com", "en", "Contract"),
    ):
        owner = make_user(email=email, roles=("helpdeskmanager",), locale=locale)
        body = {
            "name": name,
            "account_id": acc["id"],
            "starts_on": (today - dt.timedelta(days=30)).isoformat(),
            "ends_on": ends.isoformat(),
            "quantity": "10",
            "owner_id": owner,
        }
        admin.post_json("/api/v1/support-contracts", body, status=201)

    with jobs.job_request(registry) as request:
        jobs.enqueue(request, RENEWAL_JOB, args={"now": today.isoformat()})
    with dbsession() as db:
        subjects = (
            db.execute(select(Activity.subject).where(Activity.about_type == "supportcontract"))
            .scalars()
            .all()
        )
    assert len(subjects) == 3, subjects
    for locale, name in (("el", "Σύμβαση"), ("pl", "Umowa"), ("en", "Contract")):
        (subject,) = [s for s in subjects if f"{name}" in s]
        assert babel_format_date(ends, format="medium", locale=locale) in subject, subject
        assert ends.isoformat() not in subject

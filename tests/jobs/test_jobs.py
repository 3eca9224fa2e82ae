"""Jobs in process (the ``immediate`` back end): enqueued only after commit, idempotency
keys, retries with backoff, duplicate deliveries skipped, the sweeper recovering jobs of
dead workers, periodic jobs once per slot, and status for people (API and /jobs)."""

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, update

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.jobs.models import Job
from kyklos.jobs.runner import claim, run_every, run_job, sweep, tick


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


def tickets(dbsession, prefix):
    from kyklos_sampleflow import Ticket

    with dbsession() as db:
        return sorted(
            db.execute(select(Ticket.name).where(Ticket.name.like(f"{prefix}%"))).scalars()
        )


def job(dbsession, job_id) -> Job:
    with dbsession() as db:
        j = db.get(Job, job_id)
        db.expunge(j)
        return j


def test_a_job_runs_only_after_its_transaction_commits(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "after-commit"})
        assert tickets(dbsession, "after-commit") == []  # not yet: nothing committed
    assert tickets(dbsession, "after-commit") == ["after-commit"]
    j = job(dbsession, job_id)
    assert (j.state, j.attempts, j.progress) == ("done", 1, 100)
    assert j.result == {"job": job_id}


def test_a_rolled_back_transaction_enqueues_nothing(registry, dbsession):
    with pytest.raises(RuntimeError):
        with jobs.job_request(registry) as request:
            jobs.enqueue(request, "sampleflow.mark", args={"tag": "rolled-back"})
            raise RuntimeError("abort the transaction")
    assert tickets(dbsession, "rolled-back") == []
    with dbsession() as db:
        assert db.execute(select(func.count(Job.id))).scalar_one() == 0


def test_unknown_job_and_unserialisable_args_fail_at_once(registry):
    with pytest.raises(ValueError, match="unknown job"):
        with jobs.job_request(registry) as request:
            jobs.enqueue(request, "no.such.job")
    with pytest.raises(TypeError):
        with jobs.job_request(registry) as request:
            jobs.enqueue(request, "sampleflow.mark", args={"tag": object()})


def test_idempotency_key_gives_one_job(registry, dbsession):
    with jobs.job_request(registry) as request:
        a = jobs.enqueue(request, "sampleflow.mark", args={"tag": "keyed"}, key="k-1")
        b = jobs.enqueue(request, "sampleflow.mark", args={"tag": "keyed"}, key="k-1")
    with jobs.job_request(registry) as request:
        c = jobs.enqueue(request, "sampleflow.mark", args={"tag": "keyed"}, key="k-1")
    assert a == b == c
    assert tickets(dbsession, "keyed") == ["keyed"]


def test_a_second_delivery_of_a_done_job_is_skipped(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "twice"})
    assert run_job(registry, job_id) == "skipped"
    assert run_job(registry, job_id) == "skipped"
    assert tickets(dbsession, "twice") == ["twice"]


def test_retries_with_backoff_then_success(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.flaky", args={"tag": "flaky", "fail_times": 1})
    j = job(dbsession, job_id)
    assert j.state == "retrying" and "failing on purpose" in j.error
    assert j.run_at > utcnow()  # retry_delay 2 s for the first retry
    # Not due yet: an early delivery changes nothing.
    assert run_job(registry, job_id) == "skipped"
    ran = jobs.run_scheduled(registry, until=utcnow() + dt.timedelta(seconds=5))
    assert ran == 1
    j = job(dbsession, job_id)
    assert (j.state, j.attempts) == ("done", 2)
    # The failed attempt's writes rolled back with it.
    assert tickets(dbsession, "flaky") == ["flaky-attempt-2"]


def test_retries_exhausted_marks_failed_and_backs_off(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.flaky", args={"tag": "doomed", "fail_times": 9})
    delays = []
    for _ in range(2):
        j = job(dbsession, job_id)
        assert j.state == "retrying"
        delays.append((j.run_at - utcnow()).total_seconds())
        jobs.run_scheduled(registry, until=utcnow() + dt.timedelta(seconds=10))
    j = job(dbsession, job_id)
    assert (j.state, j.attempts) == ("failed", 3)  # retries=2: three attempts in all
    assert "attempt 3" in j.error
    assert delays[1] > delays[0] * 1.5  # the delay doubles
    assert tickets(dbsession, "doomed") == []


def test_sweeper_reruns_the_job_of_a_dead_worker(registry, dbsession):
    """A worker claimed the job and died (its lease ran out): the sweeper hands the job
    out again and it runs once."""
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(
            request, "sampleflow.mark", args={"tag": "orphan"}, delay=3600
        )  # parked: not run now
    engine = registry["dbengine"]
    assert (
        claim(engine, job_id, "dead-worker", lease=60, now=utcnow() + dt.timedelta(hours=2))
        is not None
    )
    assert sweep(registry) == {"resent": [], "failed": []}  # lease still valid
    with engine.begin() as conn:
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(locked_until=utcnow() - dt.timedelta(seconds=1))
        )
    result = sweep(registry)
    assert result["resent"] == [job_id]
    j = job(dbsession, job_id)
    assert (j.state, j.attempts) == ("done", 2)
    assert tickets(dbsession, "orphan") == ["orphan"]


def test_sweeper_gives_up_after_max_attempts(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "crashy"}, delay=3600)
    engine = registry["dbengine"]
    with engine.begin() as conn:
        conn.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(state="running", attempts=4, worker="w", locked_until=utcnow())
        )
    assert sweep(registry)["failed"] == [job_id]
    assert job(dbsession, job_id).state == "failed"


def test_sweeper_resends_waiting_jobs_the_queue_lost(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "lost"}, delay=3600)
    engine = registry["dbengine"]
    with engine.begin() as conn:  # due long ago, never delivered
        past = utcnow() - dt.timedelta(hours=1)
        conn.execute(update(Job).where(Job.id == job_id).values(run_at=past, enqueued_at=past))
    assert sweep(registry)["resent"] == [job_id]
    assert tickets(dbsession, "lost") == ["lost"]


def test_periodic_jobs_once_per_slot(registry, dbsession):
    at = dt.datetime(2026, 3, 1, 3, 17, 5, tzinfo=dt.UTC)
    first = tick(registry, at)
    again = tick(registry, at.replace(second=40))
    assert first and first == again  # the nightly purge, once for 03:17
    assert tick(registry, at.replace(minute=18)) == []
    with dbsession() as db:
        assert (
            db.execute(
                select(func.count(Job.id)).where(Job.name == "kyklos.jobs.purge")
            ).scalar_one()
            == 1
        )
    # every=N jobs: one per slot however many workers ask
    now = utcnow()
    a, b = run_every(registry, now), run_every(registry, now)
    assert a == b and len(a) == 1


def test_cancel_a_waiting_job(registry, dbsession):
    with jobs.job_request(registry) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "cancelled"}, delay=60)
    with jobs.job_request(registry) as request:
        assert jobs.cancel(request, job_id)
    jobs.run_scheduled(registry, until=utcnow() + dt.timedelta(minutes=5))
    assert job(dbsession, job_id).state == "cancelled"
    assert tickets(dbsession, "cancelled") == []


def test_jobs_api_shows_own_jobs_only(api, registry):
    owner = api("ticketeer")
    other = api("ticketeer")
    admin = api("admin")
    with jobs.job_request(registry, owner.user_id) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "mine"})
    items = owner.get("/api/v1/_jobs").json["items"]
    assert [i["id"] for i in items] == [job_id]
    assert items[0]["state"] == "done" and items[0]["user_id"] == owner.user_id
    assert owner.get(f"/api/v1/_jobs/{job_id}").json["progress"] == 100
    assert other.get("/api/v1/_jobs").json["items"] == []
    other.get(f"/api/v1/_jobs/{job_id}", status=404)
    assert admin.get("/api/v1/_jobs").json["items"] == []
    assert [i["id"] for i in admin.get("/api/v1/_jobs?all=1").json["items"]] == [job_id]
    owner.get("/api/v1/_jobs?state=bogus", status=400)
    owner.post_json(f"/api/v1/_jobs/{job_id}/cancel", {}, status=409)


def test_live_progress_of_a_running_job(api, registry, dbsession):
    from kyklos.jobs.runner import put_progress

    owner = api("ticketeer")
    with jobs.job_request(registry, owner.user_id) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "p"}, delay=3600)
    with registry["dbengine"].begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(state="running"))
    put_progress(registry, job_id, 42, "42 of 100")
    res = owner.get(f"/api/v1/_jobs/{job_id}").json
    assert (res["progress"], res["message"]) == (42, "42 of 100")


def test_jobs_page_has_progress_bars(client, registry, dbsession):
    from kyklos.security import find_user

    app = client("ticketeer")
    with dbsession() as db:
        uid = find_user(db, app.email).id
    with jobs.job_request(registry, uid) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "page"})
    page = app.get("/jobs")
    row = page.html.select_one(f'tr[data-job-id="{job_id}"]')
    assert row["data-job-state"] == "done"
    bar = row.select_one(".progress-bar")
    assert "k-w-100" in bar["class"] and bar.text.strip() == "100%"
    assert row["data-job-url"].endswith(f"/api/v1/_jobs/{job_id}")
    assert page.html.select_one('script[src*="jobs.js"]') is not None
    # people read the job's title, its state in words and the time in their zone
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[0] == "Mark a ticket" and "sampleflow" not in page.text
    assert cells[1] == "Done"
    assert not re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", cells[3]), cells[3]
    greek = app.get("/jobs", headers={"Accept-Language": "el"})
    grow = greek.html.select_one(f'tr[data-job-id="{job_id}"]')
    assert grow.select("td")[1].get_text(strip=True) == "Ολοκληρώθηκε"
    api = app.get(f"/api/v1/_jobs/{job_id}").json
    assert (api["state"], api["state_title"], api["title"]) == ("done", "Done", "Mark a ticket")

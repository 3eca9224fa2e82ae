"""The /jobs page in real Chromium: progress bars move while a job runs and settle when
it is done, by polling the job's API (the page itself works without JavaScript)."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from kyklos import jobs
from kyklos.jobs.models import Job
from kyklos.jobs.runner import put_progress


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


@pytest.mark.browser
def test_progress_bar_follows_the_running_job(live_server, page, make_user, registry):
    from kyklos_sdk.testing import PASSWORD

    uid = make_user(email="runner@example.com", roles=("ticketeer",))
    with jobs.job_request(registry, uid) as request:
        job_id = jobs.enqueue(request, "sampleflow.mark", args={"tag": "b"}, delay=3600)
    engine = registry["dbengine"]
    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(state="running"))
    put_progress(registry, job_id, 30, "3 of 10")

    page.goto(f"{live_server}/login")
    page.fill("input[name=email]", "runner@example.com")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("form:has(input[name=password]) button[type=submit]")
    page.goto(f"{live_server}/jobs")
    bar = page.locator(f'tr[data-job-id="{job_id}"] .progress-bar')
    assert bar.inner_text() == "30%"
    assert "k-w-30" in bar.get_attribute("class")

    put_progress(registry, job_id, 80, "8 of 10")
    expect(bar).to_have_text("80%", timeout=10000)
    row = page.locator(f'tr[data-job-id="{job_id}"]')
    expect(row.locator(".k-job-message")).to_have_text("8 of 10")

    with engine.begin() as conn:
        conn.execute(update(Job).where(Job.id == job_id).values(state="done", progress=100))
    expect(row).to_have_attribute("data-job-state", "done", timeout=10000)
    # the refreshed row says the state in words, as the page drew it
    expect(row.locator(".k-job-state")).to_have_text("Done")
    assert "k-w-100" in bar.get_attribute("class") and "bg-success" in bar.get_attribute("class")

"""The response page and the letters' live progress in real Chromium, in English and
Greek: a recipient opens their signed link, answers "interested" with a message and
sees the thank-you; the campaign manager's letters page shows the running job's
progress bar moving, then the letters made."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "question": "Maria Papadaki, what is your answer?",
        "interested": "Interested",
        "send": "Send my answer",
        "thanks": "Thank you, your answer is recorded.",
        "message": "I will come with a colleague.",
        "made": "Letters made",
        "letters": "3 of 8 letters",
    },
    "el": {
        "question": "Maria Papadaki, ποια είναι η απάντησή σας;",
        "interested": "Ενδιαφέρεται",
        "send": "Αποστολή της απάντησής μου",
        "thanks": "Ευχαριστούμε, η απάντησή σας καταχωρίστηκε.",
        "message": "Θα έρθω με έναν συνάδελφο.",
        "made": "Επιστολές που δημιουργήθηκαν",
        "letters": "3 από 8 επιστολές",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.secret": "campaign-browser-secret"}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_recipient_answers_on_the_response_page(
    page, live_server, api, make_record, dbsession, registry, lang
):
    from kyklos_campaigns.models import Recipient
    from kyklos_campaigns.tracking import response_url, sign

    boss = api("campaignmanager")
    c = boss.post_json(
        "/api/v1/campaigns", {"name": "Open day 2026", "channel": "email"}, status=201
    ).json
    pid = make_record("person", first_name="Maria", last_name="Papadaki")
    with dbsession() as db:
        rec = Recipient(
            campaign_id=c["id"],
            person_id=pid,
            address="maria@example.gr",
            name="Maria Papadaki",
            state="sent",
            attempts=1,
            custom={},
        )
        db.add(rec)
        db.flush()
        rid = rec.id
    assert response_url  # the merge field's link is this page's address
    w = WORDS[lang]
    page.set_extra_http_headers({"Accept-Language": lang})
    page.set_viewport_size({"width": 1000, "height": 800})
    page.goto(f"{live_server}/t/r/{sign(registry, 'r', rid)}")
    expect(page.locator("#cmp-respond-form legend")).to_have_text(w["question"])
    page.get_by_label(w["interested"], exact=True).check()
    page.locator("#cmp-respond-message").fill(w["message"])
    save_screenshot(page, f"campaigns-respond-{lang}")
    page.get_by_role("button", name=w["send"]).click()
    expect(page.locator("#cmp-respond-done")).to_have_text(w["thanks"])
    save_screenshot(page, f"campaigns-respond-done-{lang}")
    got = boss.get(f"/api/v1/campaign-recipients/{rid}").json
    assert (got["response"], got["response_message"]) == ("interested", w["message"])


@pytest.mark.parametrize("lang", ["en", "el"])
def test_the_letters_page_shows_the_job_progress_live(
    page, live_server, api, make_user, dbsession, registry, lang
):
    """A run being made: the bar follows the job's live progress from the jobs API, and
    the page shows the letters once the job is done."""
    from kyklos.jobs.models import Job
    from kyklos.jobs.runner import put_progress

    from kyklos_campaigns.letters import JOB
    from kyklos_campaigns.models import Campaign, LetterRun
    from kyklos_sdk import utcnow

    w = WORDS[lang]
    boss = api("campaignmanager")
    c = boss.post_json(
        "/api/v1/campaigns", {"name": "Letters", "channel": "letter"}, status=201
    ).json
    email = f"progress-{lang}@example.com"
    uid = make_user(email=email, roles=("campaignmanager",), locale=lang)
    job_id = f"job-progress-{lang}"
    with dbsession() as db:
        db.get(Campaign, c["id"]).status = "scheduled"
        db.add(Job(id=job_id, name=JOB, state="running", user_id=uid, args={}))
        db.add(LetterRun(campaign_id=c["id"], job_id=job_id, created_at=utcnow()))
    put_progress(registry, job_id, 10, "")
    page.set_viewport_size({"width": 1100, "height": 700})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/campaigns/{c['id']}/letters")
    bar = page.locator("#cmp-letters-progress .progress-bar")
    expect(bar).to_have_text("10%")
    # the job goes on: the page shows it without a reload
    put_progress(registry, job_id, 37, w["letters"])
    expect(bar).to_have_text("37%")
    expect(page.locator("#cmp-letters-progress .k-job-message")).to_have_text(w["letters"])
    expect(bar).to_have_class("progress-bar progress-bar-striped progress-bar-animated k-w-35")
    save_screenshot(page, f"campaigns-letters-progress-{lang}")
    with dbsession() as db:
        db.get(Job, job_id).state = "done"
        db.get(Job, job_id).progress = 100
        run = db.query(LetterRun).filter_by(job_id=job_id).one()
        run.finished_at = utcnow()
        run.documents = run.recipients = 8
        db.get(Campaign, c["id"]).status = "sent"
    expect(page.locator("#cmp-letters-made")).to_be_visible()
    expect(page.locator("#cmp-letters-progress")).to_have_count(0)
    expect(page.locator("#cmp-letters-summary")).to_contain_text(w["made"])


def test_another_manager_sees_the_letters_once_made(
    page, live_server, api, make_user, dbsession, registry
):
    """The jobs API answers only the job's owner: another campaign manager's page
    follows the campaign's letters instead and shows them once made."""
    from kyklos.jobs.models import Job

    from kyklos_campaigns.letters import JOB
    from kyklos_campaigns.models import Campaign, LetterRun
    from kyklos_sdk import utcnow

    boss = api("campaignmanager")
    c = boss.post_json(
        "/api/v1/campaigns", {"name": "Letters", "channel": "letter"}, status=201
    ).json
    make_user(email="other@example.com", roles=("campaignmanager",), locale="en")
    with dbsession() as db:
        db.get(Campaign, c["id"]).status = "scheduled"
        db.add(Job(id="job-other", name=JOB, state="running", user_id=boss.user_id, args={}))
        db.add(LetterRun(campaign_id=c["id"], job_id="job-other", created_at=utcnow()))
    page.goto(f"{live_server}/login")
    page.fill("#email", "other@example.com")
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/campaigns/{c['id']}/letters")
    expect(page.locator("#cmp-letters-progress")).to_be_visible()
    with dbsession() as db:
        run = db.query(LetterRun).filter_by(job_id="job-other").one()
        run.finished_at = utcnow()
        run.documents = run.recipients = 2
        db.get(Campaign, c["id"]).status = "sent"
    expect(page.locator("#cmp-letters-made")).to_contain_text("2 recipients")
    expect(page.locator("#cmp-letters-progress")).to_have_count(0)

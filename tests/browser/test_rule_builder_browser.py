"""The rule builder in real Chromium, in English and in Greek: the manager makes the
rule "one day after a meeting ends, create a follow-up task for its owner", the worker
runs the time rules, and the task appears on the person's timeline."""

from __future__ import annotations

import datetime as dt

import pytest
from playwright.sync_api import expect

from kyklos import jobs
from kyklos.db import utcnow
from kyklos.workflow import automation
from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "new": "New rule",
        "saved": "Rule created.",
        "when": "When",
        "summary": "1 day after “Ends” of a “Activity” record",
    },
    "el": {
        "new": "Νέος κανόνας",
        "saved": "Ο κανόνας δημιουργήθηκε.",
        "when": "Πότε",
        "summary": "1 ημέρα μετά",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


@pytest.fixture
def types(dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


def iso(value):
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize("lang", ["en", "el"])
def test_manager_builds_a_follow_up_rule(page, live_server, make_user, api, registry, types, lang):
    w = WORDS[lang]
    email = f"rules-{lang}@example.com"
    make_user(email=email, roles=("admin",), name="Maria Manager", locale=lang)
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Manager")

    page.goto(f"{live_server}/admin/automation")
    page.get_by_role("link", name=w["new"]).click()
    # the form submits itself when the entity changes once its script has run
    page.wait_for_load_state("load")
    page.fill("#k-name", "Follow up meetings")
    with page.expect_navigation():
        page.select_option("#k-entity", "activity")  # the page redraws for activities
    expect(page.locator("#k-entity")).to_have_value("activity")
    with page.expect_navigation():
        page.select_option("#k-trigger", "time")
    expect(page.locator("#k-tdate")).to_be_visible()
    page.fill("#k-toffset", "1")
    page.select_option("#k-tunit", "days")
    page.select_option("#k-tdir", "after")
    page.select_option("#k-tdate", "ends_at")
    with page.expect_navigation():
        page.select_option("#cond-0-field", "type_id")
    expect(page.locator("#cond-0-value")).to_be_visible()
    page.select_option("#cond-0-value", str(types["meeting"]))
    expect(page.locator("#act-0-type")).to_have_value("create_activity")
    expect(page.locator("#act-0-subject")).to_be_visible()
    page.select_option("#act-0-activity_type", "task")
    page.fill("#act-0-subject", "Follow up: $record_title")
    page.fill("#act-0-due_in_days", "1")
    page.get_by_role("button", name="Dry run" if lang == "en" else "Δοκιμαστική εκτέλεση").click()
    expect(page.locator("#k-rule-summary")).to_contain_text(w["summary"])
    save_screenshot(page, f"rule-builder-{lang}")
    page.get_by_role("button", name="Save" if lang == "en" else "Αποθήκευση", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text(w["saved"])
    expect(page.locator("legend").first).to_have_text(w["when"])

    # a meeting about a person that ended 23 hours ago
    rep = api("admin")
    person = rep.post_json(
        "/api/v1/persons", {"first_name": "Ioana", "last_name": "Pop"}, status=201
    ).json
    ends = utcnow() - dt.timedelta(hours=23)
    rep.post_json(
        "/api/v1/activities",
        {
            "type_code": "meeting",
            "subject": f"Kick-off {lang}",
            "starts_at": iso(ends - dt.timedelta(hours=1)),
            "ends_at": iso(ends),
            "about_type": "person",
            "about_id": person["id"],
        },
        status=201,
    )
    # the worker's periodic scan, two hours on: the meeting ended a day ago
    with jobs.job_request(registry) as request:
        jobs.enqueue(
            request,
            automation.SCAN_JOB,
            args={"now": (utcnow() + dt.timedelta(hours=2)).isoformat()},
        )

    page.goto(f"{live_server}/persons/{person['id']}")
    expect(page.locator("body")).to_contain_text(f"Follow up: Kick-off {lang}")
    save_screenshot(page, f"rule-builder-timeline-{lang}")

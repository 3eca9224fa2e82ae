"""The sequence step editor in real Chromium, in English and in Greek: a campaign manager
opens a sequence's steps, adds a wait with drop-downs, sees the steps in words, starts
the sequence and sees the enrolled people with their next step and its time in their
time zone."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "steps": "Steps and results",
        "add": "Add a step",
        "kind": "Wait",
        "unit": "Days",
        "save": "Save",
        "email": "Send the e-mail “Welcome”",
        "wait": "Wait 3 days",
        "start": "Start: enrol the list and run",
        "running": "Running",
        "people": "Enrolled people",
        "active": "In progress",
    },
    "el": {
        "steps": "Βήματα και αποτελέσματα",
        "add": "Προσθήκη βήματος",
        "kind": "Αναμονή",
        "unit": "Ημέρες",
        "save": "Αποθήκευση",
        "email": "Αποστολή του e-mail «Welcome»",
        "wait": "Αναμονή 3 ημερών",
        "start": "Έναρξη: εγγραφή της λίστας και εκτέλεση",
        "running": "Σε εξέλιξη",
        "people": "Εγγεγραμμένα άτομα",
        "active": "Σε εξέλιξη",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "sequence-browser-secret"}


def _setup(api, make_record, dbsession):
    from kyklos_contacts.api import set_consent

    boss = api("campaignmanager")
    pid = make_record("person", first_name="Maria", last_name="Kritikou",
                      email="maria@example.gr", city="Rhodes")  # fmt: skip
    with dbsession() as db:
        set_consent(db, pid, "email", "opt_in")
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Rhodes",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Rhodes"}]},
        },
        status=201,
    ).json["id"]
    tl = boss.post_json(
        "/api/v1/target-lists", {"name": "Rhodes", "segment_id": seg, "kind": "dynamic"},
        status=201,
    ).json  # fmt: skip
    t = boss.post_json(
        "/api/v1/campaign-templates",
        {"name": "Welcome", "language": "en", "subject": "Hi", "body_html": "<p>Hi</p>"},
        status=201,
    ).json
    seq = boss.post_json("/api/v1/sequences", {"name": "Onboarding", "list_id": tl["id"],
                         "throttle_per_minute": 60000}, status=201).json  # fmt: skip
    boss.post_json(
        "/api/v1/sequence-steps",
        {"sequence_id": seq["id"], "kind": "email", "template_id": t["id"]},
        status=201,
    )
    boss.post_json(
        "/api/v1/sequence-steps",
        {"sequence_id": seq["id"], "kind": "call", "subject": "Welcome call", "position": 10},
        status=201,
    )
    return seq


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_edits_and_starts_a_sequence(
    page, live_server, make_user, api, make_record, dbsession, smtp_server, lang
):
    w = WORDS[lang]
    seq = _setup(api, make_record, dbsession)
    email = f"drip-{lang}@example.com"
    make_user(email=email, roles=("campaignmanager",), name="Eleni Marketing", locale=lang,
              timezone="Europe/Athens")  # fmt: skip
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/sequences/{seq['id']}")
    page.get_by_role("link", name=w["steps"]).first.click()
    expect(page.locator("#seq-steps")).to_contain_text(w["email"])
    page.locator("#seq-add-step").click()
    page.locator("select[name=kind]").select_option(label=w["kind"])
    # only the fields of a wait show
    expect(page.locator("input[name=subject]")).to_be_hidden()
    expect(page.locator("textarea[name=message]")).to_be_hidden()
    page.locator("input[name=position]").fill("2")
    page.locator("input[name=wait_amount]").fill("3")
    page.locator("select[name=wait_unit]").select_option(label=w["unit"])
    save_screenshot(page, f"campaigns-sequence-step-form-{lang}")
    page.locator("form button[type=submit]").filter(has_text=w["save"]).first.click()
    page.goto(f"{live_server}/sequences/{seq['id']}/steps")
    steps = page.locator("#seq-steps .seq-words")
    expect(steps.nth(0)).to_have_text(w["email"])
    expect(steps.nth(1)).to_have_text(w["wait"])
    save_screenshot(page, f"campaigns-sequence-steps-{lang}")
    page.locator("#seq-start").click()
    expect(page.locator("#seq-status")).to_contain_text(w["running"])
    save_screenshot(page, f"campaigns-sequence-running-{lang}")
    page.get_by_role("link", name=w["people"]).first.click()
    row = page.locator("tr", has_text="Maria Kritikou").first
    expect(row).to_contain_text(w["active"])
    # during the wait: the step after it, due in three days
    expect(row).to_contain_text("Welcome call")
    save_screenshot(page, f"campaigns-sequence-people-{lang}")

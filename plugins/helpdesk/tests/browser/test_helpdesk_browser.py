"""The helpdesk in real Chromium, in English and in Greek: an agent opens a case for a
customer picked by name, with its type, priority and channel from drop-downs; the
assignment rules give it to the team's member; the agent takes it through the workflow
and merges a duplicate into it with the case picker."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "subject": "Subject",
        "type": "Type",
        "complaint": "Complaint",
        "priority": "Priority",
        "high": "High",
        "channel": "Channel",
        "email": "E-mail",
        "save": "Save",
        "accept": "Accept",
        "assigned": "Assigned",
        "merge": "Merge into another case",
        "merge_button": "Merge",
        "closed": "Closed",
        "team": "First line",
    },
    "el": {
        "subject": "Θέμα",
        "type": "Τύπος",
        "complaint": "Παράπονο",
        "priority": "Προτεραιότητα",
        "high": "Υψηλή",
        "channel": "Κανάλι",
        "email": "E-mail",
        "save": "Αποθήκευση",
        "accept": "Ανάληψη",
        "assigned": "Ανατεθειμένη",
        "merge": "Συγχώνευση σε άλλη υπόθεση",
        "merge_button": "Συγχώνευση",
        "closed": "Κλειστή",
        "team": "First line",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


def _login(page, live_server, email):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_an_agent_opens_works_and_merges_a_case(page, live_server, make_user, api, dbsession, lang):
    from kyklos_helpdesk.service import ensure_types

    with dbsession() as db:
        ensure_types(db)
    w = WORDS[lang]
    admin = api("admin")
    email = f"agent-{lang}@example.com"
    agent = make_user(
        email=email,
        roles=("helpdeskmanager",),
        name="Eleni Agent",
        locale=lang,
        timezone="Europe/Athens",
    )
    team = admin.post_json("/api/v1/support-teams", {"name": "First line"}).json
    admin.post_json("/api/v1/support-team-members", {"team_id": team["id"], "user_id": agent})
    admin.post_json(
        "/api/v1/case-assignment-rules",
        {"name": "Greece", "country": "GR", "team_id": team["id"]},
    )
    acc = admin.post_json("/api/v1/accounts", {"name": "Hotel Knossos", "country": "GR"}).json
    older = admin.post_json(
        "/api/v1/cases",
        {"subject": "Boiler shows E42", "account_id": acc["id"], "owner_id": agent},
    ).json
    _login(page, live_server, email)
    page.goto(f"{live_server}/cases/new")
    page.get_by_label(w["subject"], exact=True).fill("Boiler error E42 again")
    page.get_by_label(w["type"], exact=True).select_option(label=w["complaint"])
    page.get_by_label(w["priority"], exact=True).select_option(label=w["high"])
    page.get_by_label(w["channel"], exact=True).select_option(label=w["email"])
    page.locator("select[name='account_id']").select_option(label="Hotel Knossos")
    save_screenshot(page, f"helpdesk-case-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Boiler error E42 again")
    main = page.locator("main")
    # the rule for Greek customers routed it to the team, whose only member got it
    expect(main).to_contain_text("First line")
    expect(main).to_contain_text("Eleni Agent")
    expect(main).to_contain_text(w["complaint"])
    expect(main).to_contain_text(w["high"])
    expect(main).to_contain_text("CS-")
    page.get_by_role("button", name=w["accept"]).click()
    expect(main).to_contain_text(w["assigned"])
    save_screenshot(page, f"helpdesk-case-{lang}")
    url = page.url
    # the older report is the same fault: merge it into this one
    page.goto(f"{live_server}/cases/{older['id']}")
    page.get_by_role("link", name=w["merge"]).click()
    new_id = int(url.rstrip("/").rsplit("/", 1)[1])
    # the case to keep is found by typing part of its subject
    page.locator("#hd-merge-form .ts-control").click()
    page.keyboard.type("again", delay=30)
    # the picker redraws its options when the search answers: wait for the answer first
    page.wait_for_load_state("networkidle")
    page.locator("#hd-merge-form .ts-dropdown .option", has_text="Boiler error E42 again").click()
    page.keyboard.press("Escape")
    # a late answer reopens a focused picker: let it arrive, then leave the picker
    page.wait_for_load_state("networkidle")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.locator("h1").click()
    expect(page.locator("#hd-merge-form .ts-dropdown")).to_be_hidden()
    save_screenshot(page, f"helpdesk-merge-{lang}")
    page.get_by_role("button", name=w["merge_button"], exact=True).click()
    expect(page.locator("h1")).to_contain_text("Boiler error E42 again")
    expect(page.locator("main")).to_contain_text("Boiler shows E42")
    got = admin.get(f"/api/v1/cases/{older['id']}").json
    assert got["status"] == "closed" and got["merged_into_id"] == new_id
    page.goto(f"{live_server}/cases")
    expect(page.locator("main")).to_contain_text(w["closed"])
    save_screenshot(page, f"helpdesk-case-list-{lang}")

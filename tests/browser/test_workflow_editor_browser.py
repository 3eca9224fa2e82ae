"""The workflow editor in real Chromium, in English and in Greek: a manager adds a state
and an approval step with drop-downs (no names, no comma syntax), saves, and moves a
record through it; then tries to save a workflow on activities that would break their
status sets and "Mark done", and reads why it was refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "archived": "Archived",
        "archive": "Archive",
        "check": "Check",
        "save": "Check and save",
        "saved": "Workflow saved.",
        "sent": "Sent for approval.",
        "requested": "Requested",
        "planned": "Planned",
        "mark_done": "Mark done",
        "not_saved": "The workflow was not saved",
    },
    "el": {
        "archived": "Αρχειοθετημένο",
        "archive": "Αρχειοθέτηση",
        "check": "Έλεγχος",
        "save": "Έλεγχος και αποθήκευση",
        "saved": None,
        "sent": None,
        "requested": "Ζητήθηκε",
        "planned": "Προγραμματισμένη",
        "mark_done": "Σήμανση ως ολοκληρωμένη",
        "not_saved": "δεν αποθηκεύτηκε",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow", "contacts", "activities"]


@pytest.fixture
def types(registry, dbsession):
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_manager_builds_an_approval_step_and_is_refused_a_breaking_one(
    page, live_server, make_user, api, types, lang
):
    w = WORDS[lang]
    email = f"wf-{lang}@example.com"
    make_user(email=email, roles=("admin",), name="Manager Person", locale=lang)
    director = api("director")
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Manager Person")

    page.goto(f"{live_server}/admin/workflows")
    page.locator("a[href$='/admin/workflows/ticket']").click()
    expect(page.locator("svg.k-wf-diagram")).to_be_visible()
    # a new state by its title, then "Check" puts it in the lists
    page.locator(".k-wf-new input[name$='_title']").first.fill(w["archived"])
    page.get_by_role("button", name=w["check"], exact=True).click()
    expect(page.locator("svg.k-wf-diagram")).to_contain_text(w["archived"])
    step = (
        page.locator(".k-wf-transitions fieldset")
        .filter(has=page.locator("input[name$='_title'][value='']"))
        .first
    )
    step.locator("input[name$='_title']").fill(w["archive"])
    step.locator("select[name$='_source']").select_option("new")
    step.locator("select[name$='_target']").select_option(label=w["archived"])
    step.locator("select[name$='_l0_approvers']").select_option("role:director")
    save_screenshot(page, f"workflow-editor-{lang}")
    page.get_by_role("button", name=w["save"], exact=True).click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("svg.k-wf-diagram")).to_contain_text(w["archive"] + " ✓")
    save_screenshot(page, f"workflow-editor-saved-{lang}")

    # the record moves through it: asked for approval, the director approves
    ticket = api("admin").post_json("/api/v1/tickets", {"name": "Old ticket"}, status=201).json
    page.goto(f"{live_server}/tickets/{ticket['id']}")
    page.get_by_role("link", name=f"{w['archive']} …").click()
    page.locator("form button[type=submit]").last.click()
    expect(page.locator(".alert").first).to_be_visible()
    waiting = director.get("/api/v1/_approvals").json
    items = waiting.get("items", waiting) if isinstance(waiting, dict) else waiting
    aid = items[0]["id"]
    director.post_json(f"/api/v1/_approvals/{aid}/approve", {})
    page.goto(f"{live_server}/tickets/{ticket['id']}")
    assert api("admin").get(f"/api/v1/tickets/{ticket['id']}").json["status"] != "new"
    save_screenshot(page, f"workflow-ticket-archived-{lang}")

    # a workflow on activities that would break them is refused, with the reasons
    page.goto(f"{live_server}/admin/workflows/activity")
    page.locator(".k-wf-new input[name$='_title']").first.fill(w["requested"])
    page.get_by_role("button", name=w["check"], exact=True).click()
    page.locator("#k-initial").select_option(label=w["requested"])
    page.get_by_role("button", name=w["save"], exact=True).click()
    problems = page.locator(".k-wf-problems")
    expect(problems).to_contain_text(w["not_saved"])
    expect(problems).to_contain_text(w["planned"])
    if lang == "en":  # the English title gives the state the status code "requested"
        expect(problems).to_contain_text(w["mark_done"])
    save_screenshot(page, f"workflow-activities-refused-{lang}")
    api("admin").get("/api/v1/_workflows/activity", status=404)

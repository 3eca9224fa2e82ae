"""The workflow editor in real Chromium, in English and in Greek (issue #17): a new
state is picked from the values the field already has (shown by their titles in the
user's language) and keeps that value's code; a state typed in Greek that names a known
value gets its code too, not a transliteration."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"check": "Check", "qualified": "Qualified", "contacted": "Contacted"},
    "el": {"check": "Έλεγχος", "qualified": "Αξιολογημένος", "contacted": None},
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_new_state_from_the_fields_values(page, live_server, make_user, lang):
    w = WORDS[lang]
    email = f"wfk-{lang}@example.com"
    make_user(email=email, roles=("admin",), name="Editor Person", locale=lang)
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Editor Person")

    page.goto(f"{live_server}/admin/workflows/lead")
    rows = page.locator("tr.k-wf-new")
    # the field's values, by their titles in the user's language
    rows.nth(0).locator("select.k-wf-known").select_option(label=w["qualified"])
    if w["contacted"]:
        rows.nth(1).locator("input[name$='_title']").fill(w["contacted"])
    else:
        # typed in Greek: the known value's code, not "epikoinonia"-like letters
        contacted = page.locator("select.k-wf-known").first.locator("option[value=contacted]")
        rows.nth(1).locator("input[name$='_title']").fill(contacted.inner_text())
    page.get_by_role("button", name=w["check"], exact=True).click()
    shown = page.locator(".k-wf-state-shown")
    expect(shown.nth(0)).to_contain_text(w["qualified"])
    expect(shown.nth(0).locator("code")).to_have_text("qualified")
    expect(shown.nth(1).locator("code")).to_have_text("contacted")
    # values already used are no longer offered
    offered = page.locator("select.k-wf-known").first.locator("option")
    expect(offered.filter(has_text=re.compile("^" + w["qualified"] + "$"))).to_have_count(0)
    save_screenshot(page, f"workflow-known-values-{lang}")

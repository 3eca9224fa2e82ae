"""The rich-text editor in real Chromium, in English and in Greek: an agent writes a
knowledge-base article's solution with bold text and a bulleted list from the toolbar
(its buttons named in their language), saves, and reads it formatted on the article's
page; the HTML the editor wrote is what the API returns."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"bold": "Bold", "bullet": "Bulleted list", "save": "Save", "title": "Title"},
    "el": {
        "bold": "Έντονα",
        "bullet": "Λίστα με κουκκίδες",
        "save": "Αποθήκευση",
        "title": "Τίτλος",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.mark.parametrize("lang", ["en", "el"])
def test_bold_text_and_a_list_typed_in_the_editor_are_saved_and_shown(
    page, live_server, make_user, api, lang
):
    w = WORDS[lang]
    email = f"rte-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Eleni Agent", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/kb-articles/new")
    page.get_by_label(w["title"], exact=True).fill("Λέβητας E42" if lang == "el" else "Boiler E42")
    box = page.locator(".k-richtext").filter(has=page.locator("textarea[name=solution]"))
    editor = box.locator(".ql-editor")
    expect(editor).to_be_visible()
    expect(box.locator("textarea[name=solution]")).to_be_hidden()
    editor.click()
    box.get_by_role("button", name=w["bold"]).click()
    page.keyboard.type("Πιέστε δυνατά" if lang == "el" else "Press hard")
    box.get_by_role("button", name=w["bold"]).click()
    page.keyboard.type(" και περιμένετε." if lang == "el" else " and wait.")
    page.keyboard.press("Enter")
    box.get_by_role("button", name=w["bullet"]).click()
    page.keyboard.type("one" if lang == "en" else "ένα")
    page.keyboard.press("Enter")
    page.keyboard.type("two" if lang == "en" else "δύο")
    expect(editor.locator("strong")).to_have_count(1)
    save_screenshot(page, f"rte-kb-form-{lang}")
    page.get_by_role("button", name=w["save"], exact=True).click()
    field = page.locator(".k-field-solution")
    strong = "Πιέστε δυνατά" if lang == "el" else "Press hard"
    expect(field.locator("strong")).to_have_text(strong)
    expect(field.locator("ul > li")).to_have_text(
        ["ένα", "δύο"] if lang == "el" else ["one", "two"]
    )
    save_screenshot(page, f"rte-kb-detail-{lang}")
    rid = page.url.rstrip("/").rsplit("/", 1)[1]
    stored = api("admin").get(f"/api/v1/kb-articles/{rid}").json["solution"]
    assert stored.startswith(f"<p><strong>{strong}</strong> ")
    assert stored.endswith(
        "<ul><li>ένα</li><li>δύο</li></ul>" if lang == "el" else "<ul><li>one</li><li>two</li></ul>"
    )
    assert "&nbsp;" not in stored and "ql-" not in stored

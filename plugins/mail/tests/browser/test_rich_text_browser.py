"""The mail template's rich-text body in real Chromium, in English and in Greek: a merge
field typed in the editor reads as typed in the "HTML source" view (no no-break
spaces), HTML edited there comes back into the editor, and the saved template shows
the formatting; a designed e-mail (a table) opens in the source view untouched."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {"source": "HTML source", "bold": "Bold", "save": "Save", "name": "Name"},
    "el": {"source": "Κώδικας HTML", "bold": "Έντονα", "save": "Αποθήκευση", "name": "Όνομα"},
}


@pytest.mark.parametrize("lang", ["en", "el"])
def test_merge_fields_and_the_source_view(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    email = f"rte-mail-{lang}@example.com"
    make_user(email=email, roles=("mailadmin", "sales"), name="Maria Rep", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 1000})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/mail-templates/new")
    page.get_by_label(w["name"], exact=True).fill("Offer")
    page.locator("input[name=subject]").fill("Offer for {{ first_name }}")
    box = page.locator(".k-richtext").filter(has=page.locator("textarea[name=body]"))
    editor = box.locator(".ql-editor")
    editor.click()
    page.keyboard.type("Dear {{ first_name }}, ")
    box.get_by_role("button", name=w["bold"]).click()
    page.keyboard.type("our offer")
    source = box.locator("textarea[name=body]")
    box.get_by_role("button", name=w["source"]).click()
    expect(source).to_be_visible()
    expect(editor).to_be_hidden()
    expect(source).to_have_value("<p>Dear {{ first_name }}, <strong>our offer</strong></p>")
    source.fill("<h2>Hello {{ first_name }}</h2>" + source.input_value())
    save_screenshot(page, f"rte-mail-source-{lang}")
    box.get_by_role("button", name=w["source"]).click()
    expect(editor.locator("h2")).to_have_text("Hello {{ first_name }}")
    save_screenshot(page, f"rte-mail-editor-{lang}")
    page.get_by_role("button", name=w["save"], exact=True).click()
    field = page.locator(".k-field-body")
    expect(field.locator("h2")).to_have_text("Hello {{ first_name }}")
    expect(field.locator("strong")).to_have_text("our offer")
    rid = page.url.rstrip("/").rsplit("/", 1)[1]
    admin = api("mailadmin", "sales")
    assert admin.get(f"/api/v1/mail-templates/{rid}").json["body"] == (
        "<h2>Hello {{ first_name }}</h2><p>Dear {{ first_name }}, <strong>our offer</strong></p>"
    )
    # a designed e-mail: its table is shown as source, never squeezed into the editor
    designed = admin.post_json(
        "/api/v1/mail-templates",
        {
            "name": "Designed",
            "language": "en",
            "subject": "News",
            "body": '<table><tr><td align="center"><p>News</p></td></tr></table>',
        },
    ).json
    page.goto(f"{live_server}/mail-templates/{designed['id']}/edit")
    box = page.locator(".k-richtext").filter(has=page.locator("textarea[name=body]"))
    expect(box.locator("textarea[name=body]")).to_be_visible()
    expect(box.locator(".ql-editor")).to_be_hidden()
    expect(box.locator("textarea[name=body]")).to_have_value(designed["body"])

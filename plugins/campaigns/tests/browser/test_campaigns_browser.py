"""Campaigns in real Chromium, in English and in Greek: a campaign manager makes a
target list from a segment chosen in a drop-down and builds it (the exclusions are
counted in words), writes a template and previews it on a person picked by name, makes
a campaign with the list and template picked by title, sends it after seeing whom it
reaches, and reads the results with their chart."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "name": "Name",
        "segment": "Segment",
        "kind": "Kind",
        "static": "Static (frozen members)",
        "save": "Save",
        "source": "HTML source",
        "build": "Build the list now",
        "excluded": "excluded: 1 no consent",
        "language": "Language",
        "english": "English",
        "subject": "Subject",
        "html": "HTML body",
        "preview": "Preview",
        "target_list": "Target list",
        "template": "E-mail template",
        "send": "Send",
        "send_button": "Send the campaign",
        "reaches": "2 recipients",
        "sent": "Messages sent",
        "opened": "Opened",
    },
    "el": {
        "name": "Όνομα",
        "segment": "Τμήμα",
        "kind": "Είδος",
        "static": "Στατική (σταθερά μέλη)",
        "save": "Αποθήκευση",
        "source": "Κώδικας HTML",
        "build": "Δημιουργία της λίστας τώρα",
        "excluded": "εξαιρέθηκαν: 1 χωρίς συγκατάθεση",
        "language": "Γλώσσα",
        "english": "Αγγλικά",
        "subject": "Θέμα",
        "html": "Σώμα HTML",
        "preview": "Προεπισκόπηση",
        "target_list": "Λίστα αποδεκτών",
        "template": "Πρότυπο e-mail",
        "send": "Αποστολή",
        "send_button": "Αποστολή της εκστρατείας",
        "reaches": "2 παραλήπτες",
        "sent": "Στάλθηκαν",
        "opened": "Άνοιξαν",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "campaign-browser-secret"}


def _login(page, live_server, email):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_builds_a_list_and_sends_a_campaign(
    page, live_server, make_user, api, make_record, dbsession, smtp_server, lang
):
    from kyklos_contacts.api import set_consent

    w = WORDS[lang]
    boss = api("campaignmanager")
    people = [
        ("Maria", "maria@example.gr"),
        ("Nikos", "nikos@example.gr"),
        ("Anna", "anna@example.gr"),
    ]
    for i, (first, email) in enumerate(people):
        pid = make_record(
            "person", first_name=first, last_name="Papadaki", email=email, city="Heraklion"
        )
        if i < 2:  # Anna never agreed
            with dbsession() as db:
                set_consent(db, pid, "email", "opt_in")
    boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Heraklion",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Heraklion"}]},
        },
        status=201,
    )
    email = f"marketing-{lang}@example.com"
    make_user(
        email=email,
        roles=("campaignmanager",),
        name="Eleni Marketing",
        locale=lang,
        timezone="Europe/Athens",
    )
    _login(page, live_server, email)
    # the target list: the segment from a drop-down, never a number
    page.goto(f"{live_server}/target-lists/new")
    page.get_by_label(w["name"], exact=True).fill("Crete customers")
    page.locator("select[name='segment_id']").select_option(index=1)
    page.locator("select[name='kind']").select_option(label=w["static"])
    save_screenshot(page, f"campaigns-list-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Crete customers")
    page.get_by_role("button", name=w["build"]).click()
    expect(page.locator("body")).to_contain_text(w["excluded"])
    expect(page.locator("main")).to_contain_text("Heraklion")
    save_screenshot(page, f"campaigns-list-{lang}")
    # the template, previewed on Maria picked by name
    page.goto(f"{live_server}/campaign-templates/new")
    page.get_by_label(w["name"], exact=True).fill("Spring")
    page.locator("select[name='language']").select_option(label=w["english"])
    page.get_by_label(w["subject"], exact=True).fill('News, {{ first_name | default("friend") }}')
    # a designed e-mail is written in the rich-text field's "HTML source" view
    box = page.locator(".k-richtext").filter(has=page.locator("textarea[name='body_html']"))
    box.get_by_role("button", name=w["source"]).click()
    page.locator("textarea[name='body_html']").fill(
        '<h1 style="color:#0a58ca">Hello {{ first_name | default("customer") }}</h1>'
        '<p>Our spring range is here.</p><a href="https://example.com/spring">See it</a>'
    )
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1").first).to_contain_text("Spring")  # the body shows its own h1
    page.get_by_role("link", name=w["preview"]).click()
    page.locator("#cmp-preview-form .ts-control").click()
    page.keyboard.type("Mari", delay=30)
    page.locator("#cmp-preview-form .ts-dropdown .option", has_text="Maria").click()
    page.locator("#cmp-preview-form button[type=submit]").click()
    expect(page.locator("#cmp-preview-subject")).to_have_text("News, Maria")
    expect(page.frame_locator("iframe").locator("h1")).to_have_text("Hello Maria")
    save_screenshot(page, f"campaigns-preview-{lang}")
    # the campaign: list and template by title
    page.goto(f"{live_server}/campaigns/new")
    page.get_by_label(w["name"], exact=True).fill("Spring 2026")
    page.locator("select[name='list_id']").select_option(label="Crete customers")
    page.locator("select[name='template_id']").select_option(label="Spring")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator("h1")).to_contain_text("Spring 2026")
    page.get_by_role("link", name=w["send"], exact=True).click()
    expect(page.locator("#cmp-reach")).to_contain_text(w["reaches"])
    save_screenshot(page, f"campaigns-send-{lang}")
    page.get_by_role("button", name=w["send_button"]).click()
    expect(page.locator("#cmp-results")).to_contain_text(w["sent"])
    assert sorted(m["To"] for m in smtp_server.wait(2)) == ["maria@example.gr", "nikos@example.gr"]
    # Maria opens the message: the results count it
    html = next(m for m in smtp_server.messages if m["To"] == "maria@example.gr")
    body = html.get_body(("html",)).get_content()
    import re

    pixel = re.search(r'src="(http[^"]+/t/o/[^"]+)"', body)[1]
    page.request.get(live_server + "/t/o/" + pixel.rsplit("/t/o/", 1)[1])
    page.reload()
    row = page.locator("#cmp-results tr", has_text=w["opened"])
    expect(row).to_contain_text("1")
    expect(page.locator("#cmp-results-chart, canvas").first).to_be_visible()
    save_screenshot(page, f"campaigns-results-{lang}")

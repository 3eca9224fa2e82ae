"""The knowledge base in real Chromium, in English and in Greek: an agent types a case's
subject and the matching article is suggested under it (clicking it opens the article);
a customer in the portal searches the knowledge base, opens an article and says it
helped, and never sees an internal or a draft article; on their case they read the
support's reply (not the internal note) and reply with a file."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "subject": "Subject",
        "may_help": "Articles that may help",
        "kb": "Knowledge base",
        "search": "Search",
        "did": "Did this help?",
        "yes": "Yes",
        "counted": "100 % found this helpful (1 of 1)",
        "locale": "en-GB",
        "send": "Send the reply",
        "sent": "Your reply was sent.",
    },
    "el": {
        "subject": "Θέμα",
        "may_help": "Άρθρα που μπορεί να βοηθήσουν",
        "kb": "Γνωσιακή βάση",
        "search": "Αναζήτηση",
        "did": "Σας βοήθησε αυτό;",
        "yes": "Ναι",
        "counted": "Το 100 % το βρήκε χρήσιμο (1 από 1)",
        "locale": "el-GR",
        "send": "Αποστολή της απάντησης",
        "sent": "Η απάντησή σας στάλθηκε.",
    },
}
CHOSEN = "a long walk on the beach 7"


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _articles(admin):
    ok = admin.post_json(
        "/api/v1/kb-articles",
        {
            "title": "Λέβητας: σφάλμα E42",
            "symptom": "Ο λέβητας σβήνει και δείχνει E42.",
            "solution": "Ελέγξτε την πίεση του νερού.\n\nΑν είναι κάτω από 1 bar, γεμίστε.",
            "language": "el",
            "status": "published",
            "visibility": "portal",
            "category": "Λέβητες",
        },
    ).json
    admin.post_json(
        "/api/v1/kb-articles",
        {"title": "Boiler E42: internal workaround", "status": "published"},
    )
    admin.post_json(
        "/api/v1/kb-articles",
        {"title": "Boiler E42: draft", "status": "draft", "visibility": "portal"},
    )
    return ok


@pytest.mark.parametrize("lang", ["en", "el"])
def test_an_agent_sees_a_suggestion_while_typing_a_case(page, live_server, make_user, api, lang):
    w = WORDS[lang]
    admin = api("admin")
    ok = _articles(admin)
    email = f"kb-agent-{lang}@example.com"
    make_user(email=email, roles=("helpdeskmanager",), name="Eleni Agent", locale=lang)
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/cases/new")
    page.get_by_label(w["subject"], exact=True).press_sequentially("Λεβητας E42", delay=20)
    box = page.locator("#kb-suggest")
    expect(box).to_be_visible()
    expect(box).to_contain_text(w["may_help"])
    expect(box).to_contain_text("Λέβητας: σφάλμα E42")
    # the internal article is suggested to staff; the draft never is
    expect(box).to_contain_text("Boiler E42: internal workaround")
    expect(box).not_to_contain_text("draft")
    save_screenshot(page, f"kb-suggest-agent-{lang}")
    link = box.get_by_role("link", name="Λέβητας: σφάλμα E42")
    assert link.get_attribute("href").endswith(f"/kb-articles/{ok['id']}")
    with page.context.expect_page() as new:
        link.click()
    article = new.value
    expect(article.locator("h1")).to_contain_text("Λέβητας: σφάλμα E42")
    expect(article.locator("main")).to_contain_text(w["did"])
    save_screenshot(article, f"kb-article-agent-{lang}")


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_customer_searches_the_kb_and_votes(browser, live_server, api, smtp_server, lang):
    w = WORDS[lang]
    admin = api("admin")
    ok = _articles(admin)
    account = admin.post_json("/api/v1/accounts", {"name": "Ξενοδοχείο Κνωσός"}).json["id"]
    email = f"kb-{lang}@knossos.example"
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ελένη", "last_name": "Παπαδάκη", "account_id": account, "email": email},
    ).json["id"]
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    body = smtp_server.wait(1)[0].get_body(("plain",)).get_content()
    token = re.search(r"/portal/welcome\?token=(\S+)", body).group(1)
    ctx = browser.new_context(locale=w["locale"])
    customer = ctx.new_page()
    try:
        customer.goto(f"{live_server}/portal/welcome?token={token}")
        customer.fill("#password", CHOSEN)
        customer.fill("#confirm", CHOSEN)
        customer.locator("form[action*='/portal/welcome'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal/login$"))
        customer.fill("#email", email)
        customer.fill("#password", CHOSEN)
        customer.locator("form[action$='/portal/login'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal$"))
        customer.locator("#k-portal-helpdesk-kb").click()
        expect(customer.locator("h1")).to_have_text(w["kb"])
        customer.fill("#kb-q", "boiler E42")
        customer.get_by_role("button", name=w["search"], exact=True).click()
        listing = customer.locator("#kb-portal-articles")
        expect(listing).to_contain_text("Λέβητας: σφάλμα E42")
        expect(customer.locator("main")).not_to_contain_text("internal workaround")
        expect(customer.locator("main")).not_to_contain_text("draft")
        save_screenshot(customer, f"kb-portal-search-{lang}")
        listing.get_by_role("link").first.click()
        expect(customer.locator("#kb-article-title")).to_have_text("Λέβητας: σφάλμα E42")
        expect(customer.locator("main")).to_contain_text("1 bar")
        customer.locator("#kb-vote-yes").click()
        expect(customer.locator("#kb-helpful")).to_have_text(w["counted"])
        expect(customer.locator("#kb-vote-yes")).to_have_attribute("aria-pressed", "true")
        save_screenshot(customer, f"kb-portal-article-{lang}")
        save_screenshot(customer, f"kb-portal-article-{lang}", phone=True)
        got = admin.get(f"/api/v1/kb-articles/{ok['id']}").json
        assert (got["helpful_yes"], got["helpful_percent"]) == (1, 100)
        # the new-case form suggests the article as the customer types
        customer.goto(f"{live_server}/portal/helpdesk/cases/new")
        customer.locator("#subject").press_sequentially("λέβητας E42", delay=20)
        expect(customer.locator("#kb-suggest")).to_contain_text("Λέβητας: σφάλμα E42")
        expect(customer.locator("#kb-suggest")).not_to_contain_text("internal")
        save_screenshot(customer, f"kb-portal-suggest-{lang}")
    finally:
        ctx.close()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_customer_replies_on_their_case_with_a_file(
    browser, live_server, api, smtp_server, tmp_path, lang
):
    w = WORDS[lang]
    admin = api("admin")
    account = admin.post_json("/api/v1/accounts", {"name": "Ξενοδοχείο Κνωσός"}).json["id"]
    email = f"reply-{lang}@knossos.example"
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ελένη", "last_name": "Παπαδάκη", "account_id": account, "email": email},
    ).json["id"]
    case = admin.post_json(
        "/api/v1/cases",
        {"subject": "Ο λέβητας σβήνει", "account_id": account, "person_id": person},
        status=201,
    ).json
    admin.post(f"/api/v1/cases/{case['id']}/transitions/wait")
    admin.post_json(
        "/api/v1/case-replies",
        {"case_id": case["id"], "body": "Τι πίεση δείχνει το μανόμετρο;", "public": True},
    )
    admin.post_json(
        "/api/v1/case-replies",
        {"case_id": case["id"], "body": "INTERNAL: check the warranty", "public": False},
    )
    # the public reply was e-mailed to the contact first; then the portal's welcome
    assert smtp_server.wait(1)[0]["Subject"].startswith(f"[{case['number']}]")
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    body = smtp_server.wait(2)[1].get_body(("plain",)).get_content()
    token = re.search(r"/portal/welcome\?token=(\S+)", body).group(1)
    photo = tmp_path / "gauge.txt"
    photo.write_text("0.5 bar")
    ctx = browser.new_context(locale=w["locale"])
    customer = ctx.new_page()
    try:
        customer.goto(f"{live_server}/portal/welcome?token={token}")
        customer.fill("#password", CHOSEN)
        customer.fill("#confirm", CHOSEN)
        customer.locator("form[action*='/portal/welcome'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal/login$"))
        customer.fill("#email", email)
        customer.fill("#password", CHOSEN)
        customer.locator("form[action$='/portal/login'] button[type=submit]").click()
        customer.wait_for_url(re.compile(r".*/portal$"))
        customer.goto(f"{live_server}/portal/helpdesk/cases/{case['id']}")
        thread = customer.locator("#hd-portal-thread")
        expect(thread).to_contain_text("Τι πίεση δείχνει το μανόμετρο;")
        expect(customer.locator("main")).not_to_contain_text("INTERNAL")
        customer.fill("#reply-body", "Δείχνει 0,5 bar.")
        customer.set_input_files("#reply-file", str(photo))
        save_screenshot(customer, f"portal-case-reply-form-{lang}")
        customer.get_by_role("button", name=w["send"]).click()
        expect(customer.locator("main")).to_contain_text(w["sent"])
        expect(thread).to_contain_text("Δείχνει 0,5 bar.")
        expect(thread.locator("a")).to_have_count(1)
        save_screenshot(customer, f"portal-case-reply-{lang}")
        save_screenshot(customer, f"portal-case-reply-{lang}", phone=True)
    finally:
        ctx.close()
    got = admin.get(f"/api/v1/cases/{case['id']}").json
    assert got["status"] == "assigned"

"""Bounces and replies in real Chromium, in English and in Greek: after a campaign went
out, one message bounced hard, one was delayed and one person replied (the hooks the
mail plugin calls, called as it calls them); the manager reads it in the results table
and chart and in the recipients list, in words in their language."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest
from playwright.sync_api import expect

from kyklos_sdk import request_as, utcnow
from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "results": "Results",
        "bounced": "Bounced",
        "hard": "Hard bounces",
        "delivered": "Delivered",
        "delayed": "Delayed (soft bounces)",
        "replied": "Replied by e-mail",
        "recipients": "Recipients and their responses",
        "sent": "Sent",
    },
    "el": {
        "results": "Αποτελέσματα",
        "bounced": "Επιστράφηκε",
        "hard": "Μόνιμες επιστροφές",
        "delivered": "Παραδόθηκαν",
        "delayed": "Καθυστέρησαν (προσωρινές επιστροφές)",
        "replied": "Απάντησε με e-mail",
        "recipients": "Παραλήπτες και οι απαντήσεις τους",
        "sent": "Στάλθηκε",
    },
}


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "campaign-browser-secret"}


def _reply(to_message) -> bytes:
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = to_message["To"], to_message["From"], "Re: A gift"
    m["Message-ID"] = make_msgid(domain="example.gr")
    m["Date"] = format_datetime(utcnow())
    m["In-Reply-To"] = m["References"] = to_message["Message-ID"]
    m.set_content("Please tell me more.")
    return m.as_bytes()


def _bounces_and_a_reply(registry, msgs):
    from kyklos_mail.parse import parse

    maria, nikos = msgs["maria@example.gr"], msgs["nikos@example.gr"]
    hook = registry.kyklos_pm.hook
    with request_as(registry, None, write=True) as request:
        hook.kyklos_mail_bounce_received(
            request=request,
            address="maria@example.gr",
            kind="bounce",
            permanent=True,
            reason="5.1.1 user unknown",
            original_message_id=maria["Message-ID"],
        )
        hook.kyklos_mail_bounce_received(
            request=request,
            address="nikos@example.gr",
            kind="bounce",
            permanent=False,
            reason="4.4.1",
            original_message_id=nikos["Message-ID"],
        )
        hook.kyklos_mail_message_filed(
            request=request, mailbox=None, message=None, parsed=parse(_reply(nikos)), filed=[]
        )


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_reads_bounces_and_replies(
    page, live_server, make_user, boss, rhodes_campaign, smtp_server, registry, lang
):
    pytest.importorskip("kyklos_mail.parse")
    w = WORDS[lang]
    c = rhodes_campaign(html="<p>Hello {{ first_name }}</p>")
    boss.post(f"/api/v1/campaigns/{c['id']}/send", status=200)
    _bounces_and_a_reply(registry, {m["To"]: m for m in smtp_server.wait(2)})
    email = f"marketing-{lang}@example.com"
    make_user(email=email, roles=("campaignmanager",), locale=lang, timezone="Europe/Athens")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()
    page.goto(f"{live_server}/campaigns/{c['id']}")
    page.get_by_role("link", name=w["results"], exact=True).first.click()
    results = page.locator("#cmp-results")
    expect(results.locator("tr", has_text=w["hard"])).to_contain_text("1")
    expect(results.locator("tr", has_text=w["delivered"])).to_contain_text("1")
    expect(results.locator("tr", has_text=w["delayed"])).to_contain_text("1")
    expect(page.locator("#cmp-responses tr", has_text=w["replied"])).to_contain_text("1")
    expect(page.locator("#cmp-results-chart, canvas").first).to_be_visible()
    save_screenshot(page, f"campaigns-bounces-results-{lang}")
    page.get_by_role("link", name=w["recipients"]).click()
    maria = page.locator("tr", has_text="maria@example.gr")
    expect(maria).to_contain_text(w["bounced"])
    nikos = page.locator("tr", has_text="nikos@example.gr")
    expect(nikos).to_contain_text(w["sent"])
    expect(nikos).to_contain_text(w["replied"])
    save_screenshot(page, f"campaigns-bounces-recipients-{lang}")

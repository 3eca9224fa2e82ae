"""An OAuth2 mailbox in real Chromium, in English and in Greek: a rep switches a mailbox
to OAuth2 on its edit form (drop-downs for the method and the provider), sets the
client secret, presses "Connect with the provider", allows Kyklos on the provider's
own page (authlib's authorization server) and comes back to a working mailbox whose
messages Dovecot gave through XOAUTH2; revoked at the provider, the next fetch shows
the mailbox failing, with the reason, and notifies the rep."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "method": "Signs in with",
        "oauth2": "OAuth2 (sign in with the provider)",
        "provider": "OAuth2 provider",
        "custom": "Another provider (its URLs below)",
        "authorize_url": "Authorization URL",
        "token_url": "Token URL",
        "client_id": "Client ID",
        "scopes": "Scopes",
        "save": "Save",
        "set_secret": "Set the client secret",
        "connect": "Connect with the provider",
        "not_connected": "Not connected to the provider yet",
        "connected": "The mailbox is connected to its provider",
        "renewed": "the access is renewed by itself",
        "working": "Working",
        "fetch": "Fetch now",
        "failing": "Failing",
        "again": "to authorize the mailbox again",
    },
    "el": {
        "method": "Τρόπος σύνδεσης",
        "oauth2": "OAuth2 (σύνδεση μέσω του παρόχου)",
        "provider": "Πάροχος OAuth2",
        "custom": "Άλλος πάροχος (οι διευθύνσεις του παρακάτω)",
        "authorize_url": "Διεύθυνση εξουσιοδότησης",
        "token_url": "Διεύθυνση διακριτικών (token URL)",
        "client_id": "Αναγνωριστικό πελάτη (client ID)",
        "scopes": "Εύρη πρόσβασης (scopes)",
        "save": "Αποθήκευση",
        "set_secret": "Ορισμός μυστικού πελάτη",
        "connect": "Σύνδεση με τον πάροχο",
        "not_connected": "Δεν έχει συνδεθεί ακόμη με τον πάροχο",
        "connected": "Το γραμματοκιβώτιο συνδέθηκε με τον πάροχό του",
        "renewed": "η πρόσβαση ανανεώνεται αυτόματα",
        "working": "Λειτουργεί",
        "fetch": "Ανάκτηση τώρα",
        "failing": "Εκτός λειτουργίας",
        "again": "για να εξουσιοδοτήσετε ξανά το γραμματοκιβώτιο",
    },
}


def _message(subject):
    m = EmailMessage()
    m["From"], m["To"], m["Subject"] = "Άννα <anna@acme.example>", "me@example.com", subject
    m.set_content("Καλημέρα")
    return m.as_bytes()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_rep_connects_a_mailbox_with_oauth2(
    page,
    live_server,
    make_user,
    dbsession,
    registry,
    oauth_provider,
    oauth_imap,
    xoauth2_smtp,
    lang,
):
    w = WORDS[lang]
    dovecot, user, password = oauth_imap
    dovecot.append(user, password, _message("Προσφορά μέσω OAuth2"))
    email = f"oauth-{lang}@example.com"
    uid = make_user(email=email, roles=("sales",), name="Maria Rep", locale=lang)
    client = oauth_provider.provider.add_client(f"{live_server}/mail/oauth/callback")
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.models import Mailbox

    with dbsession() as db:
        box = Mailbox(
            name="Workspace",
            address="me@example.com",
            kind="personal",
            imap_host=dovecot.host,
            imap_port=dovecot.port,
            imap_security="none",
            username=user,
            password_secret=encrypt(registry, "not used"),
            folder="INBOX",
            smtp_host="127.0.0.1",
            smtp_port=xoauth2_smtp.port,
            smtp_security="none",
            owner_id=uid,
            custom={},
        )
        db.add(box)
        db.flush()
        box_id = box.id
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_contain_text("Maria Rep")

    # the edit form: the method and the provider are drop-downs in the user's language
    page.goto(f"{live_server}/mailboxes/{box_id}/edit")
    page.get_by_label(w["method"], exact=True).select_option(label=w["oauth2"])
    page.get_by_label(w["provider"], exact=True).select_option(label=w["custom"])
    page.get_by_label(w["authorize_url"], exact=True).fill(f"{oauth_provider.url}/authorize")
    page.get_by_label(w["token_url"], exact=True).fill(f"{oauth_provider.url}/token")
    page.get_by_label(w["client_id"], exact=True).fill(client.client_id)
    page.get_by_label(w["scopes"], exact=True).fill("mail")
    save_screenshot(page, f"mail-oauth-form-{lang}")
    page.get_by_role("button", name=w["save"]).click()
    expect(page.locator(".k-mail-oauth-state")).to_contain_text(w["not_connected"])

    page.get_by_role("link", name=w["set_secret"]).click()
    page.fill("#password", client.client_secret)
    page.get_by_role("button", name=w["save"]).click()

    # to the provider and back
    page.get_by_role("link", name=w["connect"]).click()
    expect(page.locator("h1")).to_have_text("Test provider")
    page.fill("#username", user)
    page.get_by_role("button", name="Allow").click()
    expect(page.locator("body")).to_contain_text(w["connected"])
    expect(page.locator(".k-mail-state")).to_contain_text(w["working"])
    expect(page.locator(".k-mail-oauth-state")).to_contain_text(w["renewed"])
    save_screenshot(page, f"mail-oauth-connected-{lang}")
    page.goto(f"{live_server}/mail/mailboxes/{box_id}/ledger")
    expect(page.locator(".k-ledger tbody tr")).to_have_count(1)

    # the rep revokes Kyklos at the provider: the next fetch fails, in words
    oauth_provider.provider.revoke_all(user)
    page.goto(f"{live_server}/mailboxes/{box_id}")
    page.get_by_role("button", name=w["fetch"]).click()
    page.goto(f"{live_server}/mailboxes/{box_id}")
    expect(page.locator(".k-mail-state")).to_contain_text(w["failing"])
    expect(page.locator(".k-mail-error")).to_contain_text("connect the mailbox again")
    expect(page.locator(".k-mail-oauth-state")).to_contain_text(w["again"])
    save_screenshot(page, f"mail-oauth-revoked-{lang}")

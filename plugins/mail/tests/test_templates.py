"""E-mail templates per language through the API and the compose page: merge fields
filled from the person (and their account) and the writer, unknown fields refused
when saved, the person's language offered first, and the filled text sent as plain
text (a value can inject no markup)."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def test_merge_fields_are_filled_from_the_record_and_unknown_ones_refused(api, make_record):
    admin = api("mailadmin", "sales")
    acme = make_record("account", name="Ακμή ΑΕ")
    anna = make_record(
        "person", first_name="Άννα", last_name="Παππά", account_id=acme, email="anna@acme.example"
    )
    res = admin.post_json(
        "/api/v1/mail-templates",
        {"name": "Bad", "language": "en", "subject": "Hi {firstname}", "body": "{x} {name}"},
        status=400,
    )
    errs = errors_of(res)
    assert "{firstname}" in errs["subject"] and "{x}" in errs["body"]
    greek = admin.post_json(
        "/api/v1/mail-templates",
        {
            "name": "Προσφορά",
            "language": "el",
            "subject": "Προσφορά για {account_name}",
            "body": "Αγαπητή {first_name} {last_name},\n\nΜε εκτίμηση,\n{my_name}",
        },
        status=201,
    ).json
    out = admin.get(
        f"/api/v1/mail-templates/{greek['id']}/render", {"about": f"person:{anna}"}
    ).json
    assert out["subject"] == "Προσφορά για Ακμή ΑΕ"
    assert out["body"].startswith("Αγαπητή Άννα Παππά,")
    assert out["language"] == "el"
    admin.get(f"/api/v1/mail-templates/{greek['id']}/render", {"about": "user:1"}, status=400)
    # a sales rep uses the shared template but may not change it
    rep = api("sales")
    rep.get(f"/api/v1/mail-templates/{greek['id']}/render", {"about": f"account:{acme}"})
    rep.patch_json(f"/api/v1/mail-templates/{greek['id']}", {"name": "Mine now"}, status=(403, 404))


def test_the_compose_page_offers_templates_in_the_persons_language_first(client, api, make_record):
    admin = api("mailadmin", "sales")
    for name, lang, subject in (
        ("Offer", "en", "Offer for {account_name}"),
        ("Προσφορά", "el", "Προσφορά για {account_name}"),
    ):
        admin.post_json(
            "/api/v1/mail-templates",
            {"name": name, "language": lang, "subject": subject, "body": "Dear {first_name}"},
            status=201,
        )
    acme = make_record("account", name="Acme <b>Ltd</b>")
    anna = make_record("person", first_name="Anna", last_name="P", account_id=acme, language="el")
    web = client("sales")
    from kyklos_sdk.testing import csrf_of

    web.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": 143,
            "imap_security": "none",
            "username": "me",
            "smtp_host": "127.0.0.1",
            "smtp_port": 25,
            "smtp_security": "none",
        },
        headers={"X-CSRF-Token": csrf_of(web)},
        status=201,
    )
    box_id = web.get("/api/v1/mailboxes").json["items"][0]["id"]
    form = web.get(f"/mail/mailboxes/{box_id}/password").forms["k-mail-password"]
    form["password"] = "secret"
    form.submit(status=303)
    page = web.get(f"/mail/compose?about=person:{anna}")
    options = [o.text for o in page.html.select("#template option")]
    assert options[0].startswith("Προσφορά") and options[1].startswith("Offer")
    chooser = [f for f in page.forms.values() if "template" in f.fields][0]
    page = chooser.submit()
    form = page.forms["k-compose"]
    assert form["subject"].value == "Προσφορά για Acme <b>Ltd</b>"
    assert form["body"].value == "Dear Anna"
    assert "Acme &lt;b&gt;Ltd&lt;/b&gt;" in page.text  # encoded, never markup

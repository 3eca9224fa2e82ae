"""HTML e-mail templates through the API and the compose page: Jinja merge fields in a
sandbox filled from the record as the writer may read it (a field they may not read is
empty, never leaked), fallbacks, bad templates refused when saved naming the field,
language versions chosen by the recipient's language (else the default one), private
templates their owner's alone, and the sent message multipart/alternative."""

from __future__ import annotations

from kyklos_sdk.testing import csrf_of

PROBLEM = "application/problem+json"


def errors_of(res) -> dict:
    assert res.content_type == PROBLEM, res
    return {e["field"]: e["detail"] for e in res.json.get("errors", [])}


def new_template(app, status=201, **values):
    body = {"name": "T", "language": "en", "subject": "S", "body": "<p>B</p>", **values}
    return app.post_json("/api/v1/mail-templates", body, status=status)


def test_a_bad_template_is_refused_when_saved_naming_the_field(api):
    admin = api("mailadmin", "sales")
    res = new_template(admin, status=400, subject="Hi {{ firstname }}", body="<p>{{ name }}</p>")
    errs = errors_of(res)
    assert set(errs) == {"subject"} and "{{ firstname }}" in errs["subject"]
    res = new_template(admin, status=400, body="<p>{% if first_name %}Dear</p>")
    errs = errors_of(res)
    assert set(errs) == {"body"} and errs["body"].startswith("Line 1")
    # a merge template fills in fields; loops, calls and huge texts could only burn the server
    for body, field in (
        ("<p>{% for c in first_name %}{{ c }}{% endfor %}</p>", "body"),
        ("<p>{{ first_name.__class__ }}</p>", "body"),
        ("<p>{{ name.upper() }}</p>", "body"),
        ("<p>{{ name | center(99999999) }}</p>", "body"),
        ("<p>{{ 'ab' * 100000000 }}</p>", "body"),
        ("<p>{{ 9 ** 99999999 }}</p>", "body"),
    ):
        res = new_template(admin, status=400, body=body)
        assert list(errors_of(res)) == [field], body
    assert new_template(admin, body="<p>{{ 'ab' * 3 }}{{ name | upper }}</p>", name="Ok").json
    admin.delete(
        f"/api/v1/mail-templates/{admin.get('/api/v1/mail-templates').json['items'][0]['id']}"
    )
    # nothing half-written
    assert admin.get("/api/v1/mail-templates").json["items"] == []
    tid = new_template(admin, body="<p>{{ first_name }}</p>").json["id"]
    res = admin.patch_json(
        f"/api/v1/mail-templates/{tid}", {"body": "<p>{{ salary }}</p>"}, status=400
    )
    assert "{{ salary }}" in errors_of(res)["body"]
    assert admin.get(f"/api/v1/mail-templates/{tid}").json["body"] == "<p>{{ first_name }}</p>"


def test_merge_fields_fallbacks_escaping_and_the_sanitiser(api, make_record):
    admin = api("mailadmin", "sales")
    acme = make_record("account", name="Ακμή <b>ΑΕ</b>")
    anna = make_record(
        "person", first_name="Άννα", last_name="Παππά", account_id=acme, email="anna@acme.example"
    )
    nobody = make_record("person", first_name="", last_name="Χωρίς")
    tid = new_template(
        admin,
        name="Προσφορά",
        language="el",
        subject="Προσφορά για {{ account_name or 'εσάς' }}",
        body=(
            '<p>Αγαπητή {{ first_name or "πελάτη" }} {{ last_name }},</p>'
            '<script>alert(1)</script><p onclick="x()">Με εκτίμηση,<br>{{ my_name }}</p>'
            '<p><a href="https://example.com/offer">Η προσφορά</a></p>'
        ),
    ).json["id"]
    out = admin.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"person:{anna}"}).json
    assert out["subject"] == "Προσφορά για Ακμή <b>ΑΕ</b>"  # a header: plain text
    assert "<p>Αγαπητή Άννα Παππά,</p>" in out["html"]
    assert "<script" not in out["html"] and "onclick" not in out["html"]
    assert (
        "Αγαπητή Άννα Παππά," in out["text"]
        and "Η προσφορά (https://example.com/offer)" in (out["text"])
    )
    assert out["language"] == "el"
    out = admin.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"person:{nobody}"}).json
    assert "Αγαπητή πελάτη Χωρίς," in out["html"] and out["subject"] == "Προσφορά για εσάς"
    # a value is escaped in the HTML, never markup
    tid2 = new_template(admin, body="<p>{{ account_name }}</p>").json["id"]
    out = admin.get(f"/api/v1/mail-templates/{tid2}/render", {"about": f"person:{anna}"}).json
    assert "Ακμή &lt;b&gt;ΑΕ&lt;/b&gt;" in out["html"]
    admin.get(f"/api/v1/mail-templates/{tid}/render", {"about": "user:1"}, status=400)


def test_a_field_the_writer_may_not_read_stays_empty(api, make_record):
    admin = api("admin")
    rep = api("sales")
    anna = make_record("person", first_name="Anna", last_name="P", notes="owes us 10000")
    tid = new_template(
        rep, subject="About {{ notes or 'you' }}", body="<p>Note: {{ notes or 'none' }}</p>"
    ).json["id"]
    out = rep.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"person:{anna}"}).json
    assert "owes us 10000" in out["html"]
    admin.put_json(
        "/api/v1/_security/field-permissions",
        {"role": "sales", "entity": "person", "field": "notes", "access": "none"},
    )
    assert "notes" not in rep.get(f"/api/v1/persons/{anna}").json
    out = rep.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"person:{anna}"}).json
    assert "10000" not in out["html"] + out["text"] + out["subject"]
    assert "<p>Note: none</p>" in out["html"] and out["subject"] == "About you"


def test_an_account_the_writer_may_not_see_gives_no_name(api, make_record):
    admin = api("admin")
    rep = api("sales")
    hidden = make_record("account", name="Secret Holdings")
    anna = make_record("person", first_name="Anna", last_name="P", account_id=hidden)
    tid = new_template(
        rep,
        subject="{{ account_name or 'your company' }}",
        body="<p>[{{ account_id }}] [{{ account_name }}]</p>",
    ).json["id"]
    out = rep.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"person:{anna}"}).json
    assert out["subject"] == "Secret Holdings" and "[Secret Holdings]" in out["html"]
    roles = admin.get("/api/v1/_security/roles").json["items"]
    sales = next(r["id"] for r in roles if r["name"] == "sales")
    # sales reps now see only their own accounts
    for rule in admin.get("/api/v1/_security/rules").json["items"]:
        if rule["role_id"] == sales and rule["entity"] == "account" and rule["action"] == "read":
            admin.patch_json(f"/api/v1/_security/rules/{rule['id']}", {"enabled": False})
    admin.post_json(
        "/api/v1/_security/rules",
        {"role_id": sales, "entity": "account", "action": "read", "scope": "own"},
        status=201,
    )
    rep.get(f"/api/v1/accounts/{hidden}", status=404)
    out = rep.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"person:{anna}"}).json
    assert "Secret" not in out["html"] + out["text"] + out["subject"]
    assert "<p>[] []</p>" in out["html"] and out["subject"] == "your company"


def test_language_versions_shared_and_private(api, make_record):
    admin = api("mailadmin", "sales")
    main = new_template(
        admin, name="Offer", language="en", subject="Offer", body="<p>Dear {{ first_name }}</p>"
    ).json["id"]
    greek = new_template(
        admin,
        name="Προσφορά",
        language="el",
        subject="Προσφορά",
        body="<p>Αγαπητή {{ first_name }}</p>",
        translation_of_id=main,
    ).json["id"]
    # a translation of a translation is refused, naming the field
    res = new_template(admin, status=400, translation_of_id=greek)
    assert "translation_of_id" in errors_of(res)
    eleni = make_record("person", first_name="Ελένη", last_name="K", language="el")
    jan = make_record("person", first_name="Jan", last_name="K", language="pl")
    out = admin.get(f"/api/v1/mail-templates/{main}/render", {"about": f"person:{eleni}"}).json
    assert out["subject"] == "Προσφορά" and "Αγαπητή Ελένη" in out["html"]
    # no Polish version: the template's default language
    out = admin.get(f"/api/v1/mail-templates/{main}/render", {"about": f"person:{jan}"}).json
    assert out["subject"] == "Offer" and out["language"] == "en"
    rep = api("sales")
    other = api("sales")
    mine = new_template(rep, name="Mine only", shared=False).json["id"]
    assert rep.get(f"/api/v1/mail-templates/{mine}").json["shared"] is False
    other.get(f"/api/v1/mail-templates/{mine}", status=404)
    admin.get(f"/api/v1/mail-templates/{mine}", status=404)
    other.get(f"/api/v1/mail-templates/{mine}/render", status=404)
    # nor can another rep hang a translation on it
    res = new_template(other, status=400, language="el", translation_of_id=mine)
    assert "translation_of_id" in errors_of(res)
    names = [t["name"] for t in other.get("/api/v1/mail-templates").json["items"]]
    assert "Mine only" not in names and "Offer" in names
    # a rep uses the shared template but may not change it
    other.patch_json(f"/api/v1/mail-templates/{main}", {"name": "Mine now"}, status=(403, 404))


def _web_mailbox(web, smtp_port, imap_port=143):
    web.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": imap_port,
            "imap_security": "none",
            "username": "me",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "smtp_security": "none",
        },
        headers={"X-CSRF-Token": csrf_of(web)},
        status=201,
    )
    box_id = web.get("/api/v1/mailboxes").json["items"][0]["id"]
    form = web.get(f"/mail/mailboxes/{box_id}/password").forms["k-mail-password"]
    form["password"] = "secret"
    form.submit(status=303)
    return box_id


def test_compose_fills_the_recipients_language_and_sends_multipart_alternative(
    client, api, make_record, smtp_server
):
    admin = api("mailadmin", "sales")
    main = new_template(
        admin,
        name="Offer",
        language="en",
        subject="Offer for {{ account_name }}",
        body="<p>Dear {{ first_name }},</p><p>our <b>offer</b>.</p>",
    ).json["id"]
    new_template(
        admin,
        name="Προσφορά",
        language="el",
        subject="Προσφορά για {{ account_name }}",
        body="<p>Αγαπητή {{ first_name }},</p><p>η <b>προσφορά</b> μας.</p>",
        translation_of_id=main,
    )
    acme = make_record("account", name="Ακμή ΑΕ")
    anna = make_record(
        "person",
        first_name="Άννα",
        last_name="Παππά",
        account_id=acme,
        language="el",
        email="anna@acme.example",
    )
    web = client("sales")
    _web_mailbox(web, smtp_server.port)
    page = web.get(f"/mail/compose?about=person:{anna}")
    # each template once, by its name in its default language
    assert [o.text for o in page.html.select("#template option")] == ["Offer"]
    chooser = [f for f in page.forms.values() if "template" in f.fields][0]
    page = chooser.submit()
    form = page.forms["k-compose"]
    assert form["subject"].value == "Προσφορά για Ακμή ΑΕ"
    assert "<p>Αγαπητή Άννα,</p>" in form["body_html"].value
    assert "Αγαπητή Άννα," in page.html.select_one(".k-compose-preview").text
    form["body_html"] = form["body_html"].value + "<script>steal()</script>"
    # a page shown again (here: no subject) previews the edited HTML sanitised
    form["subject"] = ""
    again = form.submit(status=200)
    assert "steal" not in str(again.html.select_one(".k-compose-preview"))
    form = again.forms["k-compose"]
    assert "<script>steal()</script>" in form["body_html"].value  # the rep's text is kept
    form["subject"] = "Προσφορά για Ακμή ΑΕ"
    form.submit(status=303)
    sent = smtp_server.wait(1)[0]
    assert sent["Subject"] == "Προσφορά για Ακμή ΑΕ"
    assert sent.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in sent.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    text, html = (p.get_content() for p in sent.iter_parts())
    assert "Αγαπητή Άννα," in text and "η προσφορά μας." in text and "<" not in text
    assert "<b>προσφορά</b>" in html and "steal" not in html


def test_the_api_sends_html_with_a_plain_text_part(api, make_record, smtp_server):
    app = api("sales")
    box = app.post_json(
        "/api/v1/mailboxes",
        {
            "name": "Mine",
            "address": "me@example.com",
            "imap_host": "127.0.0.1",
            "imap_port": 143,
            "imap_security": "none",
            "username": "me",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_security": "none",
        },
        status=201,
    ).json
    app.put_json(f"/api/v1/mailboxes/{box['id']}/password", {"password": "x"}, status=204)
    res = app.post_json(
        "/api/v1/mail/send",
        {
            "mailbox_id": box["id"],
            "to": ["anna@acme.example"],
            "subject": "Γεια",
            "body_html": "<p>Καλημέρα <i>Άννα</i></p><iframe src='https://x'></iframe>",
        },
        status=201,
    )
    assert res.json["id"]
    sent = smtp_server.wait(1)[0]
    assert sent.get_content_type() == "multipart/alternative"
    text, html = (p.get_content() for p in sent.iter_parts())
    assert text.strip() == "Καλημέρα Άννα" and "iframe" not in html and "<i>Άννα</i>" in html
    res = app.post_json(
        "/api/v1/mail/send",
        {"mailbox_id": box["id"], "to": ["anna@acme.example"], "subject": "x", "body_html": " "},
        status=400,
    )
    assert "body" in errors_of(res)


def test_the_templates_pages_list_edit_and_preview(client, make_record):
    web = client("sales")
    anna = make_record("person", first_name="Άννα", last_name="Παππά", language="el")
    page = web.get("/mail-templates/new")
    form = next(f for f in page.forms.values() if "subject" in f.fields)
    for name in ("name", "language", "subject", "body", "shared", "translation_of_id"):
        assert name in form.fields, name
    token = csrf_of(web)
    main = web.post_json(
        "/api/v1/mail-templates",
        {"name": "Offer", "subject": "Offer", "body": "<p>Dear {{ first_name }}</p>"},
        headers={"X-CSRF-Token": token},
        status=201,
    ).json["id"]
    web.post_json(
        "/api/v1/mail-templates",
        {
            "name": "Προσφορά",
            "language": "el",
            "subject": "Προσφορά",
            "body": "<p>Αγαπητή {{ first_name }}</p>",
            "translation_of_id": main,
        },
        headers={"X-CSRF-Token": token},
        status=201,
    )
    detail = web.get(f"/mail-templates/{main}")
    assert "Προσφορά" in detail.text  # under "Translations"
    preview_url = f"/mail/templates/{main}/preview"
    assert preview_url in detail.text
    page = web.get(preview_url, {"kind": "person", "record_person": str(anna)})
    body = page.html.select_one(".k-preview-body")
    assert body is not None and "Αγαπητή Άννα" in body.text
    assert page.html.select_one(".k-preview-subject").text.strip() == "Προσφορά"
    # the picker keeps the chosen person by her name, never her id
    chosen = page.html.select_one("#record_person option[selected]")
    assert chosen.text.strip() == "Άννα Παππά"
    web.get(preview_url, {"kind": "person", "record_person": "999999"}, status=404)

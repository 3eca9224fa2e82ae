"""Letters (MKT-07, MKT-10): a Word template with Jinja merge fields, checked at upload,
merged by a job into one .docx per recipient in their language, bundled as a ZIP with
a CSV of addresses; people without a postal address left out and counted."""

from __future__ import annotations

import csv
import io
import zipfile

import docx
import pytest

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _fields(response) -> set:
    return {e["field"] for e in response.json["errors"]}


def make_docx(*paragraphs, header=None) -> bytes:
    """A real Word document written by python-docx; a merge field may be split over
    runs (``[["{{ first", "_name }}"]]``), as a word processor splits them."""
    document = docx.Document()
    if header:
        document.sections[0].header.paragraphs[0].text = header
    for para in paragraphs:
        p = document.add_paragraph()
        for run in [para] if isinstance(para, str) else para:
            p.add_run(run).bold = False
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def text_of(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))
    body = [p.text for p in document.paragraphs]
    header = [p.text for p in document.sections[0].header.paragraphs]
    return "\n".join(header + body)


EN = make_docx(
    [["{{ salutation or ", '"Dear customer"', " }},"]],
    [["Hello {{ first", "_name }} {{ last_name }}"]],
    "Company: {{ account.name | default('none') }}",
    "{{ address.street }}, {{ address.postcode }} {{ address.city }}",
    header="Kyklos & Co <letters>",
)
EL = make_docx(
    "Αγαπητέ/ή {{ first_name | default('πελάτη') }} {{ last_name }},",
    "Εταιρεία: {{ account.name | default('καμία') }}",
    "{{ address.street }}, {{ address.city }}",
)


def _people(make_record, dbsession):
    """Five people in Chania: three with an address and consent for post (one Greek
    with an account, one English, one Romanian with no Romanian letter), one opted in
    without an address, one with an address who never consented."""
    from kyklos_contacts.api import set_consent

    acc = make_record("account", name="Ξενοδοχείο Αριάδνη & Σία", city="Chania")
    spec = [
        ("Μαρία", "Παπαδάκη", "el", acc, ("Οδός Χάληδων 12", "73131", "Χανιά"), "opt_in"),
        ("John", "Smith", "en", None, ("1 High Street", "SW1A 1AA", "London"), "opt_in"),
        # typed by someone: a formula and a bypass variant (leading blank) for the CSV
        ("Ion", "Popescu", "ro", None, ('=HYPERLINK("http://x")', "010011", " -2+3"), "opt_in"),
        ("Petros", "Dimas", "el", None, None, "opt_in"),  # no address
        ("Anna", "Georgiou", "el", None, ("Οδός Ζαμπελίου 5", "73131", "Χανιά"), None),
    ]
    ids = []
    for first, last, lang, account, address, consent in spec:
        pid = make_record(
            "person",
            first_name=first,
            last_name=last,
            language=lang,
            city="Chania",
            account_id=account,
        )
        if address:
            street, postcode, city = address
            make_record(
                "address",
                person_id=pid,
                kind="home",
                street=street,
                postcode=postcode,
                city=city,
                country="GR",
                is_primary=True,
            )
        if consent:
            with dbsession() as db:
                set_consent(db, pid, "post", consent, source="test")
        ids.append(pid)
    return ids


def _list(boss):
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Chania",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Chania"}]},
        },
        status=201,
    ).json["id"]
    return boss.post_json(
        "/api/v1/target-lists",
        {"name": "Chania", "segment_id": seg, "kind": "dynamic", "channel": "email"},
        status=201,
    ).json


def _letter(boss, language="en", content=EN, name="Welcome letter"):
    t = boss.post_json(
        "/api/v1/letter-templates", {"name": name, "language": language}, status=201
    ).json
    up = boss.post(
        f"/api/v1/letter-templates/{t['id']}/document",
        upload_files=[("file", f"welcome-{language}.docx", content, DOCX)],
    ).json
    return t, up


def test_upload_checks_the_document_and_names_the_placeholder(boss):
    t = boss.post_json(
        "/api/v1/letter-templates", {"name": "Bad", "language": "en"}, status=201
    ).json
    url = f"/api/v1/letter-templates/{t['id']}/document"

    def refused(content, name="x.docx"):
        r = boss.post(url, upload_files=[("file", name, content, DOCX)], status=400)
        assert r.content_type == "application/problem+json"
        assert _fields(r) == {"file"}
        return r.json["errors"][0]["detail"]

    assert "not a Word document" in refused(b"%PDF-1.4 not a docx", "x.pdf")
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.writestr("hello.txt", "a zip, not a document")
    assert "not a Word document" in refused(zipped.getvalue())
    msg = refused(make_docx("Intro", "Hello {{ first_name }", "Bye"))
    assert "does not read" in msg and "Hello {{ first_name }" in msg
    msg = refused(make_docx("Hello {{ first_nme }} and {{ shoe_size }}"))
    assert "first_nme" in msg and "shoe_size" in msg and "first_name" in msg
    assert "account.password" in refused(make_docx("{{ account.password }}"))
    # a Python attribute in a placeholder is an unknown field too, never a 500
    assert "account.__class__" in refused(make_docx("{{ account.__class__ }}"))
    boss.post(url, status=400)  # no file at all
    # nothing was kept: the template has no document
    got = boss.get(f"/api/v1/letter-templates/{t['id']}").json
    assert not got["filename"]
    ok = boss.post(url, upload_files=[("file", "ok.docx", EN, DOCX)]).json
    assert ok["filename"] == "ok.docx"
    assert set(ok["merge_fields"].split(", ")) == {
        "salutation",
        "first_name",
        "last_name",
        "account",
        "address",
    }
    assert boss.get(f"/letter-templates/{t['id']}/document").body == EN


def test_letters_one_document_per_recipient_in_their_language(
    boss, make_record, dbsession, new_campaign
):
    ids = _people(make_record, dbsession)
    tl = _list(boss)
    en, _u = _letter(boss, "en", EN)
    _letter(boss, "el", EL)
    # a Romanian version without its document yet: Ion gets the English letter
    boss.post_json(
        "/api/v1/letter-templates", {"name": "Welcome letter", "language": "ro"}, status=201
    )
    c = boss.post_json(
        "/api/v1/campaigns",
        {
            "name": "Letters 2026",
            "list_id": tl["id"],
            "channel": "letter",
            "letter_template_id": en["id"],
        },
        status=201,
    ).json
    # letters are made, not sent through the outbox's e-mail path
    r = boss.post(f"/api/v1/campaigns/{c['id']}/send", status=400)
    assert "channel" in _fields(r)
    made = boss.post(f"/api/v1/campaigns/{c['id']}/letters").json
    assert made["job_id"]
    job = boss.get(f"/api/v1/_jobs/{made['job_id']}").json
    assert job["state"] == "done" and job["progress"] == 100
    out = boss.get(f"/api/v1/campaigns/{c['id']}/letters").json
    assert out["made"] and out["status"] == "sent"
    # 5 people: 3 in, Petros without an address and Anna without consent left out
    errs = boss.get(f"/api/v1/campaign-recipients?campaign_id={c['id']}").json["items"]
    assert out["failed"] == 0, [r["error"] for r in errs]
    assert out["recipients"] == 3 and out["documents"] == 3
    assert out["excluded_no_address"] == 1 and out["excluded_consent"] == 1
    assert "1 without an address" in out["excluded"] and "1 no consent" in out["excluded"]

    z = boss.get(out["zip_url"])
    assert z.content_type == "application/zip"
    with zipfile.ZipFile(io.BytesIO(z.body)) as zf:
        names = sorted(zf.namelist())
        docs = {n: text_of(zf.read(n)) for n in names}
    assert len(names) == 3
    by_lang = {n.rsplit("-", 1)[1][:2]: t for n, t in docs.items()}
    greek = next(t for n, t in docs.items() if "Μαρία" in t)
    # Maria reads Greek, with her account (an "&" merged as text, not broken XML)
    assert "Αγαπητέ/ή Μαρία Παπαδάκη," in greek
    assert "Εταιρεία: Ξενοδοχείο Αριάδνη & Σία" in greek
    assert "Οδός Χάληδων 12, Χανιά" in greek
    english = next(t for n, t in docs.items() if "John" in t)
    assert "Dear customer," in english  # no salutation: the fallback
    assert "Hello John Smith" in english and "Company: none" in english
    assert "1 High Street, SW1A 1AA London" in english
    assert "Kyklos & Co <letters>" in english  # the header kept as written
    # no Romanian version: the campaign's own (English) letter
    romanian = next(t for n, t in docs.items() if "Ion" in t)
    assert "Hello Ion Popescu" in romanian
    assert set(by_lang) == {"el", "en"}

    c_csv = boss.get(out["csv_url"])
    rows = list(csv.DictReader(io.StringIO(c_csv.body.decode("utf-8-sig"))))
    assert len(rows) == 3 and {r["document"] for r in rows} == set(names)
    maria = next(r for r in rows if r["name"] == "Μαρία Παπαδάκη")
    assert (maria["street"], maria["postcode"], maria["city"], maria["language"]) == (
        "Οδός Χάληδων 12",
        "73131",
        "Χανιά",
        "el",
    )
    assert not any(r["name"].startswith(("Petros", "Anna")) for r in rows)
    ion = next(r for r in rows if r["name"] == "Ion Popescu")
    assert ion["street"] == '\'=HYPERLINK("http://x")' and ion["city"] == "' -2+3"
    # the outbox rows: one per letter, made
    recs = boss.get(f"/api/v1/campaign-recipients?campaign_id={c['id']}").json["items"]
    assert len(recs) == 3 and {r["state"] for r in recs} == {"sent"}
    assert {r["person_id"] for r in recs} == {ids[0], ids[1], ids[2]}
    # made once: again is refused
    again = boss.post(f"/api/v1/campaigns/{c['id']}/letters", status=400)
    assert "status" in _fields(again)


def test_letters_need_a_template_document_and_only_managers_make_them(
    boss, api, make_record, dbsession
):
    tl = _list(boss)
    t = boss.post_json(
        "/api/v1/letter-templates", {"name": "Empty", "language": "en"}, status=201
    ).json
    c = boss.post_json(
        "/api/v1/campaigns",
        {"name": "L", "list_id": tl["id"], "channel": "letter", "letter_template_id": t["id"]},
        status=201,
    ).json
    r = boss.post(f"/api/v1/campaigns/{c['id']}/letters", status=400)
    assert r.content_type == "application/problem+json"
    assert "letter_template_id" in _fields(r)
    rep = api("sales")
    rep.post(f"/api/v1/campaigns/{c['id']}/letters", status=403)
    rep.post(
        f"/api/v1/letter-templates/{t['id']}/document",
        upload_files=[("file", "x.docx", EN, DOCX)],
        status=403,
    )
    # the letters carry names and addresses: a rep may not download them
    rep.get(f"/campaigns/{c['id']}/letters.zip", status=403)


def test_a_field_hidden_from_the_user_is_not_merged(boss, api, make_record, dbsession):
    """A field the user's roles may not read is left out of the merge and its fallback
    shows: the same field permissions as e-mail (``merge_context``)."""
    pid = make_record(
        "person", first_name="Maria", last_name="Papadaki", salutation="Κυρία", city="Chania"
    )
    make_record(
        "address", person_id=pid, kind="home", street="Οδός 1", city="Χανιά", is_primary=True
    )
    from kyklos_contacts.api import set_consent

    with dbsession() as db:
        set_consent(db, pid, "post", "opt_in", source="test")
    tl = _list(boss)
    doc = make_docx("{{ salutation or 'Dear customer' }} {{ first_name }}")
    t, _u = _letter(boss, "en", doc)

    def letters(name):
        c = boss.post_json(
            "/api/v1/campaigns",
            {"name": name, "list_id": tl["id"], "channel": "letter", "letter_template_id": t["id"]},
            status=201,
        ).json
        boss.post(f"/api/v1/campaigns/{c['id']}/letters")
        z = boss.get(f"/campaigns/{c['id']}/letters.zip").body
        with zipfile.ZipFile(io.BytesIO(z)) as zf:
            (name,) = zf.namelist()
            return text_of(zf.read(name)).strip()

    assert letters("Seen") == "Κυρία Maria"
    admin = api("admin")
    admin.put_json(
        "/api/v1/_security/field-permissions",
        {"role": "campaignmanager", "entity": "person", "field": "salutation", "access": "none"},
    )
    assert letters("Hidden") == "Dear customer Maria"


@pytest.mark.parametrize("lang", ["en", "el"])
def test_letters_page_shows_reach_and_downloads(
    make_user, login, testapp, make_record, dbsession, boss, lang
):
    _people(make_record, dbsession)
    tl = _list(boss)
    en, _u = _letter(boss, "en", EN)
    c = boss.post_json(
        "/api/v1/campaigns",
        {
            "name": "Letters",
            "list_id": tl["id"],
            "channel": "letter",
            "letter_template_id": en["id"],
        },
        status=201,
    ).json
    email = f"letters-{lang}@example.com"
    make_user(email=email, roles=("campaignmanager",), locale=lang)
    login(testapp, email)
    web = testapp
    detail = web.get(f"/campaigns/{c['id']}")
    # the letter template by its name and the channel in words, never an id or a code
    text = detail.html.get_text(" ", strip=True)
    assert "Welcome letter" in text
    assert ("Επιστολή" if lang == "el" else "Letter") in text
    link = detail.html.find("a", href=lambda h: h and h.endswith(f"/campaigns/{c['id']}/letters"))
    assert link is not None
    page = web.get(link["href"])
    reach = page.html.find(id="cmp-reach").get_text(" ", strip=True)
    if lang == "el":
        assert "3 παραλήπτες" in reach
    else:
        assert "3 recipients" in reach and "1 without an address" in reach
    form = page.forms["cmp-letters-form"]
    after = form.submit().follow()
    made = after.html.find(id="cmp-letters-made").get_text(" ", strip=True)
    assert made.startswith("3 ")
    z = web.get(after.html.find(id="cmp-letters-zip")["href"])
    with zipfile.ZipFile(io.BytesIO(z.body)) as zf:
        assert len(zf.namelist()) == 3


def _with_body(body_xml: str) -> bytes:
    """A python-docx document whose body is replaced by ``body_xml``: markup the way
    Word writes it (no word processor runs here)."""
    source = io.BytesIO(make_docx("x"))
    out = io.BytesIO()
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "word/document.xml":
                text = data.decode("utf-8")
                start = text.index("<w:body>") + len("<w:body>")
                end = text.index("<w:sectPr")
                data = (text[:start] + body_xml + text[end:]).encode("utf-8")
            zout.writestr(item, data)
    return out.getvalue()


# Word's own habits: typographic quotes typed for straight ones (AutoCorrect), a
# placeholder cut by spell-check marks and revision ids, a bookmark, a language tag
WORD_BODY = (
    '<w:p w:rsidR="00A1" w:rsidRDefault="00A1"><w:r w:rsidRPr="00B2"><w:rPr>'
    '<w:lang w:val="el-GR"/></w:rPr><w:t xml:space="preserve">{{ salutation or </w:t></w:r>'
    '<w:r><w:t>“Αγαπητέ πελάτη”</w:t></w:r><w:r><w:t xml:space="preserve"> }}, </w:t></w:r>'
    '<w:bookmarkStart w:id="0" w:name="_GoBack"/><w:bookmarkEnd w:id="0"/></w:p>'
    '<w:p w:rsidR="00C3"><w:r><w:t>{{ </w:t></w:r><w:proofErr w:type="spellStart"/>'
    '<w:r w:rsidR="00D4"><w:t>first</w:t></w:r><w:r w:rsidR="00E5"><w:t>_name</w:t></w:r>'
    '<w:proofErr w:type="spellEnd"/><w:r><w:t xml:space="preserve"> }} {{ </w:t></w:r>'
    "<w:r><w:rPr><w:b/></w:rPr><w:t>account.name | default(‘—’)</w:t></w:r>"
    '<w:r><w:t xml:space="preserve"> }}</w:t></w:r></w:p>'
)


def test_word_markup_merges():
    """Curly quotes, split runs and spell-check marks as Word leaves them still read
    as merge fields, at upload and when merged."""
    from kyklos_campaigns.letters import check_document, render_document

    content = _with_body(WORD_BODY)
    errors, used = check_document(content)
    assert errors == {} and used == ["account", "first_name", "salutation"]
    from kyklos_campaigns.rendering import AccountValue

    plain = text_of(render_document(content, {"first_name": "Μαρία"}))
    assert plain.split("\n")[1:] == ["Αγαπητέ πελάτη, ", "Μαρία —"]
    merged = text_of(
        render_document(
            content,
            {
                "salutation": "Κυρία Παπαδάκη",
                "first_name": "Μαρία",
                "account": AccountValue("Αριάδνη Α.Ε.", {"name": "Αριάδνη Α.Ε."}),
            },
        )
    )
    assert merged.split("\n")[1:] == ["Κυρία Παπαδάκη, ", "Μαρία Αριάδνη Α.Ε."]


# --- PDF letters, the file storage, the progress ------------------------------------------


def _letter_campaign(boss, make_record, dbsession, name="Letters PDF"):
    _people(make_record, dbsession)
    tl = _list(boss)
    en, _u = _letter(boss, "en", EN)
    _letter(boss, "el", EL)
    return boss.post_json(
        "/api/v1/campaigns",
        {"name": name, "list_id": tl["id"], "channel": "letter", "letter_template_id": en["id"]},
        status=201,
    ).json


def pdf_text(data: bytes) -> str:
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


@pytest.mark.skipif(
    __import__("shutil").which("soffice") is None, reason="LibreOffice is not installed"
)
def test_pdf_letters_hold_the_greek_and_english_merged_values(boss, make_record, dbsession):
    c = _letter_campaign(boss, make_record, dbsession)
    out = boss.get(f"/api/v1/campaigns/{c['id']}/letters").json
    assert out["pdf_available"] is True and out["made"] is False
    made = boss.post_json(f"/api/v1/campaigns/{c['id']}/letters", {"format": "pdf"}).json
    assert boss.get(made["job_url"]).json["state"] == "done"
    out = boss.get(f"/api/v1/campaigns/{c['id']}/letters").json
    assert out["format"] == "pdf" and out["documents"] == 3 and out["failed"] == 0
    z = boss.get(out["zip_url"])
    with zipfile.ZipFile(io.BytesIO(z.body)) as zf:
        names = sorted(zf.namelist())
        assert all(n.endswith(".pdf") for n in names) and len(names) == 3
        texts = {n: pdf_text(zf.read(n)) for n in names}
    greek = next(t for t in texts.values() if "Μαρία" in t)
    assert "Αγαπητέ/ή Μαρία Παπαδάκη" in greek and "Ξενοδοχείο Αριάδνη & Σία" in greek
    assert "Οδός Χάληδων 12, Χανιά" in greek
    english = next(t for t in texts.values() if "John" in t)
    assert "Hello John Smith" in english and "1 High Street, SW1A 1AA London" in english
    rows = list(csv.DictReader(io.StringIO(boss.get(out["csv_url"]).body.decode("utf-8-sig"))))
    assert {r["document"] for r in rows} == set(names)


def test_pdf_unavailable_without_libreoffice_and_word_still_works(
    boss, make_record, dbsession, monkeypatch, make_user, login, testapp
):
    from kyklos_campaigns import letters

    # a server without LibreOffice: the command is not found on the PATH
    monkeypatch.setenv("PATH", "/nonexistent")
    assert letters.soffice() is None
    c = _letter_campaign(boss, make_record, dbsession, "No PDF")
    assert boss.get(f"/api/v1/campaigns/{c['id']}/letters").json["pdf_available"] is False
    r = boss.post_json(f"/api/v1/campaigns/{c['id']}/letters", {"format": "pdf"}, status=400)
    assert r.content_type == "application/problem+json" and _fields(r) == {"format"}
    assert "LibreOffice" in r.json["errors"][0]["detail"]
    r = boss.post_json(f"/api/v1/campaigns/{c['id']}/letters", {"format": "tiff"}, status=400)
    assert _fields(r) == {"format"}
    # nothing was queued by the refusals
    assert boss.get(f"/api/v1/campaigns/{c['id']}").json["status"] == "draft"
    make_user(email="nopdf@example.com", roles=("campaignmanager",), locale="el")
    login(testapp, "nopdf@example.com")
    page = testapp.get(f"/campaigns/{c['id']}/letters")
    note = page.html.find(id="cmp-letters-no-pdf").get_text(" ", strip=True)
    assert "LibreOffice" in note and "PDF" in note
    pdf = page.html.find("option", value="pdf")
    assert pdf.has_attr("disabled")
    after = page.forms["cmp-letters-form"].submit().follow()
    assert after.html.find(id="cmp-letters-made").get_text(" ", strip=True).startswith("3 ")
    z = testapp.get(after.html.find(id="cmp-letters-zip")["href"])
    with zipfile.ZipFile(io.BytesIO(z.body)) as zf:
        assert sorted(n.rsplit(".", 1)[1] for n in zf.namelist()) == ["docx"] * 3


def test_letters_live_in_the_file_storage_not_in_the_row(boss, make_record, dbsession, kyklos_app):
    from sqlalchemy import inspect, select

    from kyklos_campaigns.models import LetterRun
    from kyklos_sdk import stored_file_path

    c = _letter_campaign(boss, make_record, dbsession, "Stored")
    boss.post(f"/api/v1/campaigns/{c['id']}/letters")
    with dbsession() as db:
        run = db.execute(select(LetterRun).where(LetterRun.campaign_id == c["id"])).scalar_one()
        keys = (run.archive_key, run.csv_key, run.archive_size)
        cols = {col.name for col in inspect(LetterRun).columns}
    assert not {"archive", "addresses_csv"} & cols
    zip_path = stored_file_path(kyklos_app.registry, keys[0])
    csv_path = stored_file_path(kyklos_app.registry, keys[1])
    assert zip_path.is_file() and csv_path.is_file()
    assert zip_path.stat().st_size == keys[2]
    z = boss.get(f"/campaigns/{c['id']}/letters.zip")
    assert z.body == zip_path.read_bytes()
    assert z.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in z.headers["Content-Disposition"]
    assert boss.get(f"/campaigns/{c['id']}/letters.csv").body == csv_path.read_bytes()


def test_letters_page_follows_the_running_job(
    boss, make_record, dbsession, make_user, login, testapp
):
    """While the job runs the page shows a progress bar fed by the core's jobs API."""
    from kyklos_campaigns.models import Campaign, LetterRun
    from kyklos_sdk import utcnow

    c = _letter_campaign(boss, make_record, dbsession, "Running")
    with dbsession() as db:
        db.get(Campaign, c["id"]).status = "scheduled"
        db.add(LetterRun(campaign_id=c["id"], job_id="job-123", created_at=utcnow()))
    make_user(email="run@example.com", roles=("campaignmanager",), locale="en")
    login(testapp, "run@example.com")
    page = testapp.get(f"/campaigns/{c['id']}/letters")
    box = page.html.find(id="cmp-letters-progress")
    assert box is not None and box["data-job-url"].endswith("/api/v1/_jobs/job-123")
    assert box.find(class_="progress-bar") is not None
    assert page.html.find(id="cmp-letters-form") is None
    assert any(s.get("src", "").endswith("letters.js") for s in page.html.find_all("script"))
    got = boss.get(f"/api/v1/campaigns/{c['id']}/letters").json
    assert got["running"]["job_id"] == "job-123" and got["made"] is False


def test_more_letters_than_one_batch(boss, make_record, dbsession):
    """Past 100 letters the job lets the letters done leave its session (memory stays
    flat on 20 000): every letter is still in the ZIP, the CSV and the outbox."""
    from kyklos_contacts.api import set_consent

    n = 105
    for i in range(n):
        pid = make_record("person", first_name=f"P{i}", last_name="Batch", city="Batchtown")
        make_record(
            "address", person_id=pid, kind="home", street=f"Street {i}", city="B", is_primary=True
        )
        with dbsession() as db:
            set_consent(db, pid, "post", "opt_in", source="test")
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Batch",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Batchtown"}]},
        },
        status=201,
    ).json["id"]
    tl = boss.post_json(
        "/api/v1/target-lists", {"name": "Batch", "segment_id": seg, "kind": "dynamic"}, status=201
    ).json
    t, _u = _letter(boss, "en", make_docx("Dear {{ first_name }}, {{ address.street }}"))
    c = boss.post_json(
        "/api/v1/campaigns",
        {"name": "Batch", "list_id": tl["id"], "channel": "letter", "letter_template_id": t["id"]},
        status=201,
    ).json
    boss.post(f"/api/v1/campaigns/{c['id']}/letters")
    out = boss.get(f"/api/v1/campaigns/{c['id']}/letters").json
    assert (out["recipients"], out["documents"], out["failed"]) == (n, n, 0)
    with zipfile.ZipFile(io.BytesIO(boss.get(out["zip_url"]).body)) as zf:
        texts = {text_of(zf.read(name)).strip() for name in zf.namelist()}
    assert texts == {f"Dear P{i}, Street {i}" for i in range(n)}
    rows = list(csv.DictReader(io.StringIO(boss.get(out["csv_url"]).body.decode("utf-8-sig"))))
    assert len(rows) == n
    recs = boss.get(f"/api/v1/campaign-recipients?campaign_id={c['id']}&limit=200").json
    assert {r["state"] for r in recs["items"]} == {"sent"}

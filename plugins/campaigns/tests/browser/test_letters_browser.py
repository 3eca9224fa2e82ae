"""Letters in real Chromium, in English and in Greek: a campaign manager uploads a Word
letter template (a wrong one first, refused in words naming the merge field), makes
the letters of a letter campaign and downloads the ZIP, whose documents carry each
person's merged name and address."""

from __future__ import annotations

import io
import zipfile

import docx
import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "upload": "Upload the Word document",
        "send": "Upload",
        "unknown": "Unknown merge field: shoe_size",
        "saved": "The Word document is saved.",
        "letters": "Letters",
        "reach": "2 recipients",
        "no_address": "1 without an address",
        "make": "Make the letters",
        "made": "2 recipients",
        "zip": "Download the letters (ZIP)",
    },
    "el": {
        "upload": "Μεταφόρτωση του εγγράφου Word",
        "send": "Μεταφόρτωση",
        "unknown": "Άγνωστο πεδίο συγχώνευσης: shoe_size",
        "saved": "Το έγγραφο Word αποθηκεύτηκε.",
        "letters": "Επιστολές",
        "reach": "2 παραλήπτες",
        "no_address": "1 χωρίς διεύθυνση",
        "make": "Δημιουργία επιστολών",
        "made": "2 παραλήπτες",
        "zip": "Λήψη των επιστολών (ZIP)",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.secret": "campaign-browser-secret"}


def make_docx(*paragraphs) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _setup(api, make_record, dbsession):
    """Three people in Chania with consent for post, one of them without an address;
    a letter template (no document yet) and a letter campaign using it."""
    from kyklos_contacts.api import set_consent

    boss = api("campaignmanager")
    for first, last, address in (
        ("Μαρία", "Παπαδάκη", ("Οδός Χάληδων 12", "Χανιά")),
        ("John", "Smith", ("1 High Street", "London")),
        ("Petros", "Dimas", None),
    ):
        pid = make_record("person", first_name=first, last_name=last, city="Chania")
        if address:
            make_record(
                "address",
                person_id=pid,
                kind="home",
                street=address[0],
                city=address[1],
                is_primary=True,
            )
        with dbsession() as db:
            set_consent(db, pid, "post", "opt_in")
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
    tl = boss.post_json(
        "/api/v1/target-lists",
        {"name": "Chania", "segment_id": seg, "kind": "dynamic"},
        status=201,
    ).json
    t = boss.post_json(
        "/api/v1/letter-templates", {"name": "Welcome", "language": "en"}, status=201
    ).json
    c = boss.post_json(
        "/api/v1/campaigns",
        {
            "name": "Welcome letters",
            "list_id": tl["id"],
            "channel": "letter",
            "letter_template_id": t["id"],
        },
        status=201,
    ).json
    return t, c


@pytest.mark.parametrize("lang", ["en", "el"])
def test_a_manager_uploads_a_letter_and_downloads_the_letters(
    page, live_server, make_user, api, make_record, dbsession, tmp_path, lang
):
    w = WORDS[lang]
    t, c = _setup(api, make_record, dbsession)
    bad = tmp_path / "bad.docx"
    bad.write_bytes(make_docx("Hello {{ first_name }}, size {{ shoe_size }}"))
    good = tmp_path / "welcome.docx"
    good.write_bytes(
        make_docx(
            "{{ salutation or 'Dear customer' }} {{ first_name }} {{ last_name }}",
            "{{ address.street }}, {{ address.city }}",
        )
    )
    email = f"letters-{lang}@example.com"
    make_user(email=email, roles=("campaignmanager",), locale=lang, timezone="Europe/Athens")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()

    page.goto(f"{live_server}/letter-templates/{t['id']}")
    page.get_by_role("link", name=w["upload"]).click()
    page.locator("#cmp-letter-file").set_input_files(str(bad))
    page.get_by_role("button", name=w["send"], exact=True).click()
    expect(page.locator("#cmp-letter-errors")).to_contain_text(w["unknown"])
    save_screenshot(page, f"campaigns-letter-upload-refused-{lang}")
    page.locator("#cmp-letter-file").set_input_files(str(good))
    page.get_by_role("button", name=w["send"], exact=True).click()
    expect(page.locator("body")).to_contain_text(w["saved"])
    expect(page.locator("body")).to_contain_text("welcome.docx")

    page.goto(f"{live_server}/campaigns/{c['id']}")
    page.get_by_role("link", name=w["letters"], exact=True).click()
    expect(page.locator("#cmp-reach")).to_contain_text(w["reach"])
    expect(page.locator("#cmp-reach")).to_contain_text(w["no_address"])
    save_screenshot(page, f"campaigns-letters-{lang}")
    page.get_by_role("button", name=w["make"]).click()
    expect(page.locator("#cmp-letters-made")).to_contain_text(w["made"])
    with page.expect_download() as info:
        page.get_by_role("link", name=w["zip"]).click()
    path = info.value.path()
    with zipfile.ZipFile(path) as zf:
        texts = [
            "\n".join(p.text for p in docx.Document(io.BytesIO(zf.read(n))).paragraphs)
            for n in zf.namelist()
        ]
    assert len(texts) == 2
    assert any("Dear customer Μαρία Παπαδάκη" in t and "Οδός Χάληδων 12, Χανιά" in t for t in texts)
    assert any("Dear customer John Smith" in t and "1 High Street, London" in t for t in texts)
    save_screenshot(page, f"campaigns-letters-made-{lang}")

"""What users bring comes through whole (issue #18, 1): legacy encodings detected or
asked for, countries by any name, re-imports that do not duplicate, refused uploads not
kept, damaged workbooks refused with 400. Files are in tests/imports/corpus."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from kyklos.imports import pipeline
from kyklos.imports.readers import EncodingUnsure, Options, guess_encoding, open_reader
from kyklos.jobs import job_request
from kyklos_sdk.testing import run_cli, write_ini

CORPUS = Path(__file__).parent / "corpus"


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def read(path, **kw):
    return [r for _n, r in open_reader(None, path, path.name, Options(**kw))]


@pytest.mark.parametrize(("name", "encoding", "rows", "words"), [
    ("outlook-de-cp1252.csv", "cp1252", 4, {"Müller", "Crédito Bank AG", "Königstraße 12",
                                            "Lefèvre", "Ørsted", "Grüße aus Köln"}),
    ("greek-cp1253.csv", "cp1253", 3, {"Παπαδόπουλος", "Θεσσαλονίκη", "Άλφα Α.Ε."}),
    ("polish-cp1250.csv", "cp1250", 3, {"Łukasz", "Wójcik", "Łódź", "Zażółć", "Gęślą"}),
])
def test_corpus_decoded_whole(name, encoding, rows, words):
    path = CORPUS / name
    guess = guess_encoding(path, path.read_bytes()[:65536])
    assert (guess.encoding, guess.certain) == (encoding, True)
    got = read(path)
    assert len(got) == rows  # every line in, every line out
    cells = {c for row in got for c in row}
    assert words <= cells


def test_uncertain_encoding_is_asked_not_guessed():
    path = CORPUS / "uncertain-one-letter.csv"
    with pytest.raises(EncodingUnsure) as exc:
        read(path, strict_encoding=True)
    readings = dict(exc.value.candidates)
    assert readings["cp1252"] == ["Mè"] and readings["cp1250"] == ["Mč"]
    assert str(exc.value).startswith("uncertain-one-letter.csv:")
    assert read(path, encoding="cp1252")[1] == ["Anna", "Mè"]


def test_control_characters_and_utf16_without_bom(tmp_path):
    p = tmp_path / "u16.csv"
    p.write_bytes("name,note\nMüller,a\x0bb\x01\n".encode("utf-16-le"))
    assert read(p) == [["name", "note"], ["Müller", "a\nb"]]


def persons(dbsession, **where):
    from kyklos_contacts.models import Person

    with dbsession() as db:
        stmt = select(Person)
        for k, v in where.items():
            stmt = stmt.where(getattr(Person, k) == v)
        return db.execute(stmt).scalars().all()


def test_german_outlook_file_through_the_api(api, registry, dbsession, tmp_path):
    """Encoding detected, countries by their German names, websites without a scheme,
    and a second import of the same file with no key creates nobody."""
    mgr = api("manager")
    data = (CORPUS / "outlook-de-cp1252.csv").read_bytes()
    opts = {"mapping": {"Vorname": "first_name", "Nachname": "last_name",
                        "E-Mail-Adresse": "email", "Land/Region geschäftlich": "country",
                        "Ort geschäftlich": "city", "Webseite": "website",
                        "Notizen": "notes"}}
    res = mgr.post("/api/v1/persons/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "de.csv", data)], status=202)
    run = mgr.get(res.headers["Location"]).json
    assert (run["created"], run["rejected"]) == (3, 0), run
    assert run["options"]["encoding"] == "cp1252" and run["options"]["key"] == "email"
    people = {p.last_name: p for p in persons(dbsession)}
    assert set(people) == {"Müller", "Lefèvre", "Ørsted"}
    m = people["Müller"]
    assert (m.first_name, m.city, m.country, m.notes) == ("Jürgen", "München", "DE",
                                                         "Grüße aus Köln")
    assert m.website == "https://www.credito.example"
    assert people["Ørsted"].country == "DK"
    # the same file again, whichever way: nobody twice
    res = mgr.post("/api/v1/persons/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "de.csv", data)], status=202)
    run = mgr.get(res.headers["Location"]).json
    assert (run["created"], run["skipped"]) == (0, 3), run
    assert len(persons(dbsession)) == 3
    # "create anyway" is an explicit choice
    res = mgr.post("/api/v1/persons/_import",
                   {"options": json.dumps({**opts, "on_duplicate": "create"})},
                   upload_files=[("file", "de.csv", data)], status=202)
    assert mgr.get(res.headers["Location"]).json["created"] == 3


def uploads(registry):
    return sorted(p.name for p in pipeline.files_dir(registry).glob("upload-*"))


def test_refused_uploads_are_deleted(api, registry):
    mgr = api("manager")
    before = uploads(registry)
    res = mgr.post("/api/v1/persons/_import", {},
                   upload_files=[("file", "u.csv",
                                  (CORPUS / "uncertain-one-letter.csv").read_bytes())],
                   status=400)
    assert res.content_type == "application/problem+json"
    assert [e["field"] for e in res.json["errors"]] == ["encoding"]
    assert {c["encoding"] for c in res.json["candidates"]} >= {"cp1252", "cp1250"}
    bad = {"mapping": {"Nope": "last_name"}}
    mgr.post("/api/v1/persons/_import", {"options": json.dumps(bad)},
             upload_files=[("file", "b.csv", b"Last Name\nX\n")], status=400)
    assert uploads(registry) == before
    # with the encoding chosen the file is read
    res = mgr.post("/api/v1/persons/_import", {"options": json.dumps({"encoding": "cp1250"})},
                   upload_files=[("file", "u.csv",
                                  (CORPUS / "uncertain-one-letter.csv").read_bytes())],
                   status=202)
    assert mgr.get(res.headers["Location"]).json["created"] == 1


def test_crafted_xlsx_is_a_400(api, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["Last Name"])
    wb.active.append(["Kowalski"])
    ok = tmp_path / "ok.xlsx"
    wb.save(ok)
    data = bytearray(ok.read_bytes())
    # "version needed to extract" 20.9 (209) in every local and central header
    for sig, offset in ((b"PK\x03\x04", 4), (b"PK\x01\x02", 6)):
        i = data.find(sig)
        while i >= 0:
            data[i + offset:i + offset + 2] = (209).to_bytes(2, "little")
            i = data.find(sig, i + 4)
    mgr = api("manager")
    for name, blob in (("v209.xlsx", bytes(data)), ("bad.xlsx", b"PK\x03\x04broken")):
        res = mgr.post("/api/v1/persons/_import", {},
                       upload_files=[("file", name, blob)], status=400)
        assert res.content_type == "application/problem+json"
        assert name in res.json["detail"]
    bomb = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"\0" * (12 * 1024 * 1024))
    res = mgr.post("/api/v1/persons/_import", {},
                   upload_files=[("file", "bomb.xlsx", bomb.read_bytes())], status=400)
    assert "ratio" in res.json["detail"]


def test_another_users_identical_upload_is_its_own_run(api, registry, tmp_path):
    a, b = api("manager", email="a@example.com"), api("manager", email="b@example.com")
    path = tmp_path / "same.csv"
    path.write_text("Last Name,E-mail\nSame,same@example.com\n", encoding="utf-8")
    options = {"mapping": {"Last Name": "last_name", "E-mail": "email"}}
    et = registry.kyklos_entities["person"]
    with job_request(registry, a.user_id) as request:
        first = pipeline.start_run(request, et, path, path.name, options, False).id
    with job_request(registry, a.user_id) as request:
        assert pipeline.start_run(request, et, path, path.name, options, False).id == first
    with job_request(registry, b.user_id) as request:
        other = pipeline.start_run(request, et, path, path.name, options, False)
        assert other.id != first and other.user_id == b.user_id


def test_cli_names_the_encoding_and_asks_when_unsure(api, db_url, dbsession, tmp_path):
    from kyklos_contacts.models import Person

    api("manager", email="cli@example.com")
    ini = write_ini(tmp_path, plugins="contacts", url=db_url)
    f = CORPUS / "uncertain-one-letter.csv"
    proc = run_cli("import", ini, "person", f, "--as", "cli@example.com")
    assert proc.returncode != 0
    assert "uncertain-one-letter.csv" in proc.stderr and "--encoding cp1252" in proc.stderr
    proc = run_cli("import", ini, "person", f, "--as", "cli@example.com", "--encoding",
                   "cp1252")
    assert proc.returncode == 0, proc.stderr
    assert "encoding cp1252" in proc.stderr and "Anna | Mè" in proc.stderr
    # again: the duplicate rule (no e-mail column here: none) - then a file with e-mails
    g = tmp_path / "pl.csv"
    g.write_bytes((CORPUS / "polish-cp1250.csv").read_bytes())
    for _ in range(2):
        proc = run_cli("import", ini, "person", g, "--as", "cli@example.com", "--map",
                       "Imię=first_name", "--map", "Nazwisko=last_name", "--map",
                       "E-mail=email", "--map", "Kraj=country", "--map", "Miasto=city")
        assert proc.returncode == 0, proc.stderr
        assert "encoding cp1250 (detected)" in proc.stderr
    with dbsession() as db:
        got = db.execute(select(Person.last_name, Person.city, Person.country)
                         .where(Person.email.is_not(None))).all()
        assert sorted(got) == [("Gęślą", "Gdańsk", "PL"), ("Wójcik", "Łódź", "PL")]
        assert db.execute(select(func.count()).select_from(Person)).scalar() == 3


def test_phones_read_in_the_countries_at_hand(api, dbsession):
    """A local number is read in the person's country, else the deployment's default
    (site setting); extensions are kept; a number no country reads is kept as the file
    gives it, flagged unchecked, and the row is not rejected."""
    from kyklos_contacts.validation import is_checked

    api("admin").patch_json("/api/v1/_settings", {"country.default": "GR"})
    mgr = api("manager")
    data = (b"Last Name,Country,Phone,E-mail\n"
            b"Grec,,210 123 4567,grec@example.gr\n"
            b"Pole,Poland,601 234 567,pole@example.pl\n"
            b"Ext,,+30 210 1234567 ext. 12,ext@example.gr\n"
            b"Odd,,call the office,odd@example.com\n")
    opts = {"mapping": {"Last Name": "last_name", "Country": "country", "Phone": "phone",
                        "E-mail": "email"}}
    res = mgr.post("/api/v1/persons/_import", {"options": json.dumps(opts)},
                   upload_files=[("file", "p.csv", data)], status=202)
    run = mgr.get(res.headers["Location"]).json
    assert (run["created"], run["rejected"]) == (4, 0), run
    phones = {p.last_name: p.phone for p in persons(dbsession)}
    assert phones == {"Grec": "+302101234567", "Pole": "+48601234567",
                      "Ext": "+302101234567 ext. 12", "Odd": "call the office"}
    assert [is_checked(phones[n]) for n in ("Grec", "Ext", "Odd")] == [True, True, False]
    # a form or an API client is still told the number is wrong
    mgr.post_json("/api/v1/persons", {"last_name": "Form", "phone": "call me"}, status=400)

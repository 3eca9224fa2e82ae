"""What address books keep beside the name comes through a vCard import and goes back
out (issue #18): nickname, role, every URL, messenger handles, gender, categories as
tags, the photo (checked by content), PO box and extended address, pager / assistant
phones; one bad value is refused alone; re-import is safe unless "create anyway";
export follows field permissions."""

import base64
from pathlib import Path

from kyklos_contacts.domain.vcard import parse_vcards

SAMPLES = Path(__file__).parent / "domain" / "data" / "vcards"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def post_card(api, body, status=200, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    url = "/api/v1/persons/_import/vcard" + (f"?{query}" if query else "")
    data = body if isinstance(body, bytes) else body.encode("utf-8")
    return api.post(url, data, headers={"Content-Type": "text/vcard"}, status=status).json


def person(api, pid):
    return api.get(f"/api/v1/persons/{pid}").json


def tags(api, pid):
    got = api.get(f"/api/v1/persons/{pid}/tags").json
    return sorted(t["name"] for t in (got["items"] if isinstance(got, dict) else got))


def card(*lines):
    return "\r\n".join(("BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD", ""))


def test_evolution_and_gmail_cards_keep_every_value(api):
    a = api("manager")
    res = post_card(a, (SAMPLES / "John_Doe_EVOLUTION.vcf").read_bytes())
    evo = person(a, res["items"][0]["id"])
    assert evo["nickname"] == "Johny" and evo["job_title"] == "Money Counter"
    assert evo["messengers"] == [{"service": "aim", "handle": "johnny5@aol.com"}]
    assert evo["department"] == "Accounting, Dungeon"
    assert [x["street"] for x in evo["addresses"]] == ["ASB-123, 15 Crescent moon drive"]
    assert tags(a, evo["id"]) == ["VIP"]

    res = post_card(a, (SAMPLES / "gmail-single2.vcf").read_bytes())
    item = res["items"][0]
    g = person(a, item["id"])
    assert g["nickname"] == "TheNickname"
    assert g["website"] == "http://www.example1.com"
    assert len(g["urls"]) == 5  # every further URL
    assert {m["service"] for m in g["messengers"]} == {
        "gtalk", "aim", "yahoo", "skype", "qq", "msn", "icq", "xmpp"}
    assert len(g["emails"]) == 5
    # 555 numbers are fictional: each one kept as given and flagged, none in the notes
    assert sum(w["field"] == "phones" for w in item["warnings"]) == 11
    assert len(g["phones"]) == 11 and "5555551120" in [n["number"] for n in g["phones"]]
    assert "555" not in g["notes"]


def test_role_gender_phone_kinds_and_round_trip(api):
    a = api("manager")
    body = card(
        "N:Nowak;Anna;;Dr.,Prof.;", "FN:Anna Nowak", "TITLE:CFO", "ROLE:Finance lead",
        "X-GENDER:Female", "EMAIL;TYPE=WORK:anna@example.pl", "EMAIL;TYPE=HOME:not an e-mail",
        "TEL;TYPE=PAGER:+48 22 123 45 67", "item1.TEL:+48 22 765 43 21",
        "item1.X-ABLabel:_$!<Assistant>!$_", "TEL;TYPE=TEXT:+48 601 234 567",
        "TEL;TYPE=VIDEO:+48 601 234 568", "IMPP;X-SERVICE-TYPE=Skype:skype:anna.nowak",
        "ORG:Nowak S.A.;Finance;Treasury", "CATEGORIES:customer,VIP",
        "ADR;TYPE=WORK:PO Box 12;Floor 3;ul. Marszałkowska 1;Warszawa;;00-001;Poland",
        f"PHOTO;ENCODING=b;TYPE=PNG:{base64.b64encode(PNG).decode()}",
    )
    res = post_card(a, body)
    item = res["items"][0]
    assert item["status"] == "created"
    # the invalid second e-mail is refused alone, with a warning
    assert [w["value"] for w in item["warnings"]] == ["not an e-mail"]
    p = person(a, item["id"])
    assert (p["job_title"], p["job_role"], p["gender"]) == ("CFO", "Finance lead", "female")
    assert p["name_prefix"] == "Dr., Prof."
    assert [e["email"] for e in p["emails"]] == ["anna@example.pl"]
    assert sorted(x["type"] for x in p["phones"]) == ["assistant", "pager", "text", "video"]
    assert p["addresses"][0]["street"] == "PO Box 12, Floor 3, ul. Marszałkowska 1"
    assert tags(a, p["id"]) == ["VIP", "customer"]
    photo = a.get(f"/contacts/persons/{p['id']}/photo")
    assert photo.content_type == "image/png" and photo.body == PNG

    out = a.get(f"/api/v1/persons/{p['id']}/vcard", {"version": "4.0"}).text
    unfolded = out.replace("\r\n ", "")
    # multi-valued parts are components and list values, not escaped commas
    assert "N:Nowak;Anna;;Dr.,Prof.;\r\n" in unfolded
    assert "ORG:Nowak S.A.;Finance;Treasury\r\n" in unfolded
    assert "ROLE:Finance lead" in unfolded and "GENDER:F" in unfolded
    assert "IMPP:skype:anna.nowak" in unfolded
    again = next(iter(parse_vcards(out)))
    assert again.categories == ["customer", "VIP"] or sorted(again.categories) == [
        "VIP", "customer"]
    assert again.photo == (PNG, "image/png")
    assert {t for _n, t, _p in again.phones} >= {"pager", "x-assistant", "text", "video"}


def test_photo_is_checked_by_content(api):
    a = api("manager")
    fake = base64.b64encode(b"<html><script>alert(1)</script></html>").decode()
    res = post_card(a, card("FN:Eve Fake", "N:Fake;Eve;;;", "EMAIL:eve@example.com",
                            f"PHOTO;ENCODING=b;TYPE=JPEG:{fake}"))
    item = res["items"][0]
    assert item["status"] == "created"
    assert [w["field"] for w in item["warnings"]] == ["photo"]
    a.get(f"/contacts/persons/{item['id']}/photo", status=404)
    # a real PNG that claims to be a JPEG is refused too
    res = post_card(a, card("FN:Max Claim", "N:Claim;Max;;;", "EMAIL:max@example.com",
                            f"PHOTO;ENCODING=b;TYPE=JPEG:{base64.b64encode(PNG).decode()}"))
    assert [w["field"] for w in res["items"][0]["warnings"]] == ["photo"]


def test_reimport_skips_unless_create_anyway(api):
    a = api("manager")
    body = (SAMPLES / "John_Doe_EVOLUTION.vcf").read_bytes()
    assert post_card(a, body)["summary"]["created"] == 1
    assert post_card(a, body)["summary"] == {"created": 0, "duplicate": 1, "error": 0,
                                             "new": 0}
    assert post_card(a, body, on_duplicate="create")["summary"]["created"] == 1
    res = post_card(a, body, status=400, on_duplicate="maybe")
    assert [e["field"] for e in res["errors"]] == ["on_duplicate"]
    got = a.get("/api/v1/persons", {"email": "john.doe@ibm.com"}).json["items"]
    assert len(got) == 2


def test_export_follows_field_permissions(api):
    admin = api("admin")
    a = api("manager")
    pid = post_card(a, card("FN:Zoe Secret", "N:Secret;Zoe;;;", "EMAIL:zoe@example.com",
                            "BDAY:1980-05-06", "NOTE:private remark"))["items"][0]["id"]
    full = a.get(f"/api/v1/persons/{pid}/vcard").text
    assert "BDAY" in full and "private remark" in full
    for field in ("notes", "birth_date"):
        admin.put_json("/api/v1/_security/field-permissions",
                       {"role": "manager", "entity": "person", "field": field,
                        "access": "none"})
    assert "notes" not in person(a, pid)
    for url in (f"/api/v1/persons/{pid}/vcard", "/api/v1/persons/_export/vcard",
                f"/contacts/persons/{pid}/vcard"):
        text = a.get(url).text
        assert "BDAY" not in text and "private remark" not in text, url
        assert "zoe@example.com" in text

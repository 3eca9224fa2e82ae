"""vCard import against real exports (tests/domain/data/vcards) and export round trips."""

import base64
import datetime
from pathlib import Path

import pytest
import vobject
from kyklos_contacts.domain.vcard import (
    NO_YEAR,
    ParsedContact,
    VCardError,
    parse_vcards,
    to_vcard,
)

VCARDS = Path(__file__).parent / "data" / "vcards"
SAMPLES = sorted(p.name for p in VCARDS.glob("*.vcf"))
D = datetime.date


def parse_file(name: str) -> list[ParsedContact]:
    return list(parse_vcards((VCARDS / name).read_bytes()))


def only(name: str) -> ParsedContact:
    cards = parse_file(name)
    assert len(cards) == 1
    return cards[0]


def address(**kwargs):
    base = dict.fromkeys(("po_box", "extended", "street", "city", "region", "postcode",
                          "country"))
    base.update(type=None, preferred=False)
    base.update(kwargs)
    return base


def test_all_samples_are_present():
    assert SAMPLES == [
        "John_Doe_EVOLUTION.vcf", "John_Doe_GMAIL.vcf", "John_Doe_IPHONE.vcf",
        "gmail-list.vcf", "gmail-single2.vcf", "outlook-2007.vcf", "rfc6350-example.vcf",
        "thunderbird-MoreFunctionsForAddressBook-extension.vcf",
    ]


# --------------------------------------------------------------------------- samples

def test_gmail():
    c = only("John_Doe_GMAIL.vcf")
    assert c.errors == []
    assert c.full_name == "Mr. John Richter, James Doe Sr."
    assert (c.prefix, c.first_name, c.middle_name, c.last_name, c.suffix) == (
        "Mr.", "John", "Richter, James", "Doe", "Sr.")  # "\," is a literal comma
    assert c.emails == [("john.doe@ibm.com", "home", False)]
    assert c.phones == [("905-555-1234", "cell", False), ("905-666-1234", "home", False)]
    assert c.addresses == [address(
        type="home",
        extended="Crescent moon drive\n555-asd\nNice Area, Albaney, New York 12345\n"
                 "United States of America")]
    assert c.organization == "IBM"
    assert c.title == "Money Counter"
    assert c.birthday == D(1980, 3, 22)
    assert c.anniversary == D(1975, 3, 1)  # item1.X-ABDATE labelled _$!<Anniversary>!$_
    assert c.urls == ["http://www.ibm.com"]  # Gmail writes "http\://"
    # Folded across lines, with \" and \; escapes and a \n before the last sentence
    assert c.note.startswith('THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND '
                             'CONTRIBUTORS "AS IS" AND ANY EXPRESS OR IMPLIED WARRANTIES, '
                             'INCLUDING, BUT NOT LIMITED TO, THE IMPLIED')
    assert "SERVICES; LOSS OF USE" in c.note
    assert c.note.endswith("POSSIBILITY OF SUCH DAMAGE.\nFavotire Color: Blue")
    assert ("X-PHONETIC-FIRST-NAME", "Jon") in c.extra
    assert ("X-ABRELATEDNAMES", "Jenny") in c.extra
    assert c.photo is None


def test_iphone():
    c = only("John_Doe_IPHONE.vcf")  # CR CR LF line ends throughout
    assert c.errors == []
    assert c.full_name == "Mr. John Richter James Doe Sr."
    assert (c.last_name, c.first_name, c.middle_name) == ("Doe", "John", "Richter, James")
    assert c.nickname == "Johny"
    assert (c.organization, c.department) == ("IBM", "Accounting")
    assert c.emails == [("john.doe@ibm.com", None, True)]
    assert c.phones == [
        ("905-555-1234", "cell", True),
        ("905-666-1234", "home", False),
        ("905-777-1234", "work", False),
        ("905-888-1234", "home,fax", False),
        ("905-999-1234", "work,fax", False),
        ("905-111-1234", "pager", False),
        ("905-222-1234", "assistant", False),  # item2.X-ABLabel:_$!<AssistantPhone>!$_
    ]
    assert c.addresses == [
        address(type="home", preferred=True, street="Silicon Alley 5,", city="New York",
                region="New York", postcode="12345", country="United States of America"),
        address(type="work", street="Street4\nBuilding 6\nFloor 8", city="New York",
                postcode="12345", country="USA"),
    ]
    assert c.urls == ["http://www.ibm.com"]
    assert c.birthday == D(2012, 6, 6)
    data, mime = c.photo
    assert mime == "image/jpeg"
    assert data[:3] == b"\xff\xd8\xff" and data[-2:] == b"\xff\xd9"  # complete JPEG
    assert len(data) == 32531


def test_gmail_list_has_three_cards():
    cards = parse_file("gmail-list.vcf")
    assert [(c.full_name, c.first_name, c.last_name, c.emails) for c in cards] == [
        ("Arnold Smith", "Arnold", "Smith", [("asmithk@gmail.com", None, False)]),
        ("Chris Beatle", "Chris", "Beatle", [("chrisy55d@yahoo.com", None, False)]),
        ("Doug White", "Doug", "White", [("dwhite@gmail.com", None, False)]),
    ]
    assert all(c.errors == [] for c in cards)


def test_outlook_2007_vcard_21():
    c = only("outlook-2007.vcf")
    assert c.errors == []
    assert (c.prefix, c.first_name, c.last_name, c.suffix) == ("Mr.", "Michael", "Angstadt",
                                                                "Jr.")
    assert c.full_name == "Mr. Michael Angstadt Jr."
    assert c.nickname == "Mike"
    assert (c.organization, c.department) == ("TheCompany", "TheDepartment")
    assert (c.title, c.role) == ("TheJobTitle", "TheProfession")
    # Quoted-printable with =0D=0A line breaks and "=" soft line breaks
    assert c.note == (
        "This is the NOTE field\t\n"
        "I assume it encodes this text inside a NOTE vCard type.\n"
        "But I'm not sure because there's text formatting going on here.\n"
        "It does not preserve the formatting")
    # Bare 2.1 parameters: TEL;WORK;FAX
    assert c.phones == [
        ("(111) 555-1111", "work", False),
        ("(111) 555-2222", "home", False),
        ("(111) 555-4444", "cell", False),
        ("(111) 555-3333", "work,fax", False),
    ]
    assert c.emails == [("mike.angstadt@gmail.com", None, True)]
    assert c.addresses == [address(type="work", preferred=True, extended="TheOffice",
                                   street="222 Broadway", city="New York", region="NY",
                                   postcode="99999", country="USA")]
    assert c.urls == ["http://mikeangstadt.name", "http://mikeangstadt.name"]
    assert c.birthday == D(1922, 3, 10)
    assert c.anniversary == D(2012, 8, 1)  # X-MS-ANNIVERSARY
    data, mime = c.photo  # base64 block ended by a blank line, after a base64 KEY
    assert mime == "image/jpeg" and data[:3] == b"\xff\xd8\xff" and len(data) == 2324
    extra = dict(c.extra)
    assert extra["X-MS-MANAGER"] == "TheManagerName"
    assert extra["X-MS-SPOUSE"] == "TheSpouse"
    assert extra["FBURL"] == "http://website.com/mycal"
    assert extra["X-MS-OL-DESIGN"].startswith('<card xmlns="http://schemas.microsoft.com')
    assert "KEY" not in extra  # inline X.509 certificates are not kept


def test_rfc6350_vcard_40():
    c = only("rfc6350-example.vcf")
    assert c.errors == []
    assert (c.full_name, c.first_name, c.last_name) == ("Simon Perreault", "Simon",
                                                        "Perreault")
    assert c.suffix == "ing. jr, M.Sc."  # two components, read as a list
    assert c.birthday == D(NO_YEAR, 2, 3)  # BDAY:--0203, year unknown
    assert c.anniversary == D(2009, 8, 8)  # 20090808T1430-0500
    assert c.organization == "Viagenie"
    assert c.addresses == [address(type="work", extended="Suite D2-630",
                                   street="2875 Laurier", city="Quebec", region="QC",
                                   postcode="G1V 2M2", country="Canada")]
    assert c.phones == [
        ("+1-418-656-9254 ext. 102", "work", True),  # tel: URI, PREF=1
        ("+1-418-262-6501", "work,cell,video,text", False),  # TYPE="work,cell,..."
    ]
    assert c.emails == [("simon.perreault@viagenie.ca", "work", False)]
    assert c.urls == ["http://nomis80.org"]
    assert ("GEO", "geo:46.772673,-71.282945") in c.extra
    assert ("KEY", "http://www.viagenie.ca/simon.perreault/simon.asc") in c.extra
    assert ("LANG", "fr") in c.extra and ("LANG", "en") in c.extra


def test_thunderbird():
    c = only("thunderbird-MoreFunctionsForAddressBook-extension.vcf")
    assert c.errors == []
    assert (c.full_name, c.first_name, c.last_name) == ("John Doe", "John", "Doe")
    assert c.nickname == "Johnny"
    assert (c.organization, c.department, c.title) == ("TheOrganization", "TheDepartment",
                                                       "TheTitle")
    # Thunderbird writes street / suite one slot off; we keep what the file says.
    assert c.addresses == [
        address(type="work", extended="222 Broadway", street="Suite 100", city="New York",
                region="NY", postcode="98765", country="USA"),
        address(type="home", extended="123 Main St", street="Apt 10", city="Austin",
                region="TX", postcode="12345", country="USA"),
    ]
    assert c.phones == [
        ("555-555-1111", "work", False), ("555-555-2222", "home", False),
        ("555-555-5555", "cell", False), ("555-555-3333", "fax", False),
        ("555-555-4444", "pager", False),
    ]
    assert c.emails[0] == ("doe.john@hotmail.com", None, True)
    assert [e[0] for e in c.emails[1:]] == [
        "additional-email@company.com", "additional-email1@company.com",
        "additional-email2@company.com", "additional-email3@company.com"]
    assert c.urls == ["http://www.private-webpage.com", "http://www.work-webpage.com"]
    assert c.categories == ["category1", "category2", "category3"]  # escaped commas
    assert c.birthday == D(1970, 9, 21)
    assert c.anniversary == D(1990, 4, 30)
    assert c.note == ('This is the notes field.\nSecond Line\n\nFourth Line\n'
                      'You can put anything in the "note" field; even curse words.')
    assert ("X-SPOUSE", "TheSpouse") in c.extra
    data, mime = c.photo  # folded with bare LF inside a CRLF file
    assert mime == "image/jpeg" and data[:3] == b"\xff\xd8\xff" and len(data) == 8940


# --------------------------------------------------------------------------- round trips

@pytest.mark.parametrize("version", ["3.0", "4.0"])
@pytest.mark.parametrize("sample", SAMPLES)
def test_round_trip_every_sample(sample, version):
    for original in parse_file(sample):
        text = to_vcard(original, version)
        again = list(parse_vcards(text))
        assert len(again) == 1
        assert again[0].errors == []
        assert again[0].comparable() == original.comparable()


@pytest.mark.parametrize("version", ["3.0", "4.0"])
@pytest.mark.parametrize("sample", SAMPLES)
def test_export_is_well_formed(sample, version):
    for original in parse_file(sample):
        text = to_vcard(original, version)
        assert text.startswith(f"BEGIN:VCARD\r\nVERSION:{version}\r\n")
        assert text.endswith("END:VCARD\r\n")
        body = text[:-2]
        assert "\n" not in body.replace("\r\n", "")  # only CRLF line ends
        for line in body.split("\r\n"):
            assert len(line.encode("utf-8")) <= 75
        # An independent reader accepts it and sees the same name.
        card = vobject.readOne(text)
        assert card.fn.value == original.full_name


def test_export_escapes_and_folds():
    contact = ParsedContact(
        full_name="Παπαδόπουλος, Γιώργος; Jr\\",
        first_name="Γιώργος", last_name="Παπαδόπουλος",
        organization="Kyklos; Ltd", department="R&D, Sales",
        note="line 1\nline 2, with comma; and semicolon\\ " + "ω" * 80,
        categories=["VIP", "Πελάτες"],
    )
    text = to_vcard(contact)
    assert "FN:Παπαδόπουλος\\, Γιώργος\\; Jr\\\\\r\n" in text
    # the units of an organisation are components of their own, not escaped commas
    assert "ORG:Kyklos\\; Ltd;R&D;Sales\r\n" in text
    assert "NOTE:line 1\\nline 2\\, with comma\\; and semicolon\\\\ " in text
    for line in text.split("\r\n"):
        assert len(line.encode("utf-8")) <= 75
        line.encode("utf-8").decode("utf-8")  # no line ends inside a UTF-8 sequence
    again = next(parse_vcards(text))
    assert again.comparable() == contact.comparable()


@pytest.mark.parametrize("length", [69, 70, 71, 143, 144, 145, 500])
def test_ascii_folding_boundaries(length):
    # "NOTE:" is 5 octets: a 70-char note makes a line of exactly 75.
    note = ("0123456789" * 60)[:length]
    text = to_vcard(ParsedContact(full_name="X", note=note))
    note_lines = text.split("NOTE:", 1)[1].split("\r\nEND:VCARD")[0].split("\r\n")
    assert all(len(line) <= 75 for line in note_lines)
    assert all(line.startswith(" ") for line in note_lines[1:])
    assert next(parse_vcards(text)).note == note


@pytest.mark.parametrize("version", ["3.0", "4.0"])
def test_full_contact_round_trip(version):
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 3
    contact = ParsedContact(
        uid="urn:uuid:4fbe8971-0bc3-424c-9c26-36c3e1eff6b1",
        first_name="Ștefan", last_name="Popescu", middle_name="Ion", prefix="Dr.",
        suffix="PhD", full_name="Dr. Ștefan Ion Popescu PhD", nickname="Fănel",
        emails=[("stefan@example.ro", "work", True), ("s.popescu@example.com", None, False)],
        phones=[("+40 721 123 456", "cell", True), ("+40213123456", "work,fax", False),
                ("021 312 3456", "home", False), ("+40213123456 ext. 12", "main", False)],
        addresses=[{"type": "work", "preferred": True, "po_box": "CP 12", "extended": "Et. 3",
                    "street": "Str. Lipscani 5", "city": "București", "region": "B",
                    "postcode": "030031", "country": "România"}],
        organization="Exemplu SRL", department="Vânzări", title="Director", role="CEO",
        birthday=D(NO_YEAR, 2, 29), anniversary=D(2010, 6, 5),
        note="Prefers Romanian.\nCall after 10.", urls=["https://example.ro/a,b;c"],
        photo=(png, "image/png"), categories=["VIP", "Parteneri"],
        extra=[("X-CUSTOM", "value; with, specials"), ("GEO", "geo:44.43,26.10")],
    )
    again = next(parse_vcards(to_vcard(contact, version)))
    assert again.errors == []
    assert again.comparable() == contact.comparable()


def test_export_versions_differ_where_they_should():
    contact = ParsedContact(full_name="A B", birthday=D(NO_YEAR, 3, 22),
                            anniversary=D(2001, 9, 9),
                            phones=[("+302101234567", "work", True)],
                            photo=(b"\xff\xd8\xff\xe0data", "image/jpeg"))
    v3 = to_vcard(contact, "3.0")
    v4 = to_vcard(contact, "4.0")
    # a year-unknown birthday is ``--MMDD`` in both: the placeholder year never leaves
    assert "BDAY:--0322\r\n" in v3 and "1604" not in v3
    assert "BDAY:--0322\r\n" in v4
    assert "X-ANNIVERSARY:2001-09-09\r\n" in v3
    assert "ANNIVERSARY:20010909\r\n" in v4
    assert "TEL;TYPE=WORK,PREF:+302101234567\r\n" in v3
    assert "TEL;VALUE=uri;TYPE=work;PREF=1:tel:+302101234567\r\n" in v4
    assert "PHOTO;ENCODING=b;TYPE=JPEG:" in v3
    assert "PHOTO:data:image/jpeg;base64," in v4


def test_export_composes_missing_fn_and_rejects_unknown_version():
    contact = ParsedContact(first_name="Anna", last_name="Kowalska")
    assert "FN:Anna Kowalska\r\n" in to_vcard(contact)
    assert "FN:ACME\r\n" in to_vcard(ParsedContact(organization="ACME"))
    with pytest.raises(ValueError, match="unsupported vCard version"):
        to_vcard(contact, "2.1")


# --------------------------------------------------------------------------- robustness

def card(*lines: str, version: str = "3.0", eol: str = "\r\n") -> str:
    return eol.join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD"]) + eol


def test_str_and_bytes_input_agree():
    text = card("FN:Zoë Ionescu", "N:Ionescu;Zoë;;;")
    assert (next(parse_vcards(text)).comparable()
            == next(parse_vcards(text.encode("utf-8"))).comparable())


def test_21_quoted_printable_with_charset_greek():
    value = "Παπαδόπουλος;Γιώργος".encode("iso-8859-7")
    qp = "".join(f"={b:02X}" if b > 127 else chr(b) for b in value)
    data = card(f"N;CHARSET=ISO-8859-7;ENCODING=QUOTED-PRINTABLE:{qp}",
                "FN;CHARSET=UTF-8;QUOTED-PRINTABLE:=CE=93=CE=B9=CF=8E=CF=81=CE=B3=CE=BF=CF=82",
                version="2.1")
    c = next(parse_vcards(data))
    assert (c.last_name, c.first_name) == ("Παπαδόπουλος", "Γιώργος")
    assert c.full_name == "Γιώργος"


def test_21_soft_line_breaks_with_and_without_indent():
    data = card("NOTE;ENCODING=QUOTED-PRINTABLE:first=0D=0A=", "second part =",
                " continues=3D", "TEL;CELL:0721 123 456", version="2.1")
    c = next(parse_vcards(data))
    assert c.note == "first\nsecond part continues="
    assert c.phones == [("0721 123 456", "cell", False)]


def test_windows_1252_without_charset_falls_back():
    data = card("FN:M\xfcller Gro\xdf", "NOTE:caf\xe9 \x80 5").encode("latin-1")
    c = next(parse_vcards(data))
    assert c.full_name == "Müller Groß"
    assert c.note == "café € 5"  # 0x80 is the euro sign in windows-1252


def test_wrong_or_unknown_charset_label():
    data = card("FN;CHARSET=UTF-8:M\xfcller", "NOTE;CHARSET=X-KLINGON:ok").encode("latin-1")
    c = next(parse_vcards(data))
    assert c.full_name == "Müller"
    assert c.note == "ok"
    assert any("unknown charset" in e for e in c.errors)


def test_one_bad_property_does_not_lose_the_card():
    data = card("FN:Jan Kowalski", "BDAY:sometime in May", "this line has no colon",
                "EMAIL:jan@example.pl")
    c = next(parse_vcards(data))
    assert c.full_name == "Jan Kowalski"
    assert c.emails == [("jan@example.pl", None, False)]
    assert c.birthday is None
    assert any("BDAY" in e and "line 4" in e for e in c.errors)
    assert any("not a property line" in e for e in c.errors)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1980-03-22", D(1980, 3, 22)),
        ("19800322", D(1980, 3, 22)),
        ("1980-03-22T00:00:00Z", D(1980, 3, 22)),
        ("--0322", D(NO_YEAR, 3, 22)),
        ("--03-22", D(NO_YEAR, 3, 22)),
        ("1604-03-22", D(NO_YEAR, 3, 22)),  # Apple: year unknown
        ("22.03.1980", D(1980, 3, 22)),
    ],
)
def test_birthday_formats(value, expected):
    assert next(parse_vcards(card(f"BDAY:{value}"))).birthday == expected


def test_apple_omit_year_parameter():
    c = next(parse_vcards(card("BDAY;X-APPLE-OMIT-YEAR=1900;VALUE=date:1900-12-24")))
    assert c.birthday == D(NO_YEAR, 12, 24)


def test_line_endings_tabs_and_bom():
    lf = card("FN:LF only", "NOTE:folded", "\twith a tab", eol="\n")
    cr = card("FN:CR only", eol="\r")
    bom = b"\xef\xbb\xbf" + card("FN:With BOM").encode()
    assert next(parse_vcards(lf)).note == "foldedwith a tab"
    assert next(parse_vcards(cr)).full_name == "CR only"
    assert next(parse_vcards(bom)).full_name == "With BOM"


def test_utf16_input():
    data = card("FN:Ελένη").encode("utf-16")
    assert next(parse_vcards(data)).full_name == "Ελένη"


def test_photo_forms():
    jpeg = b"\xff\xd8\xff\xe0" + b"x" * 100
    b64 = base64.b64encode(jpeg).decode()
    v21 = next(parse_vcards(card(f"PHOTO;JPEG;ENCODING=BASE64:{b64}", "", version="2.1")))
    assert v21.photo == (jpeg, "image/jpeg")
    v4 = next(parse_vcards(card(f"PHOTO:data:image/jpeg;base64,{b64}", version="4.0")))
    assert v4.photo == (jpeg, "image/jpeg")
    uri = next(parse_vcards(card("PHOTO;VALUE=uri:https://example.com/me.jpg")))
    assert uri.photo is None and uri.photo_uri == "https://example.com/me.jpg"


def test_multiple_cards_junk_between_and_missing_end():
    data = ("garbage before\r\n" + card("FN:One") + "junk between\r\n"
            + "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Two\r\n")
    cards = list(parse_vcards(data))
    assert [c.full_name for c in cards] == ["One", "Two"]
    assert cards[0].errors == []
    assert cards[1].errors == ["missing END:VCARD at end of file"]


def test_embedded_agent_card_is_skipped():
    data = card("FN:Boss", "AGENT:", "BEGIN:VCARD", "VERSION:2.1", "FN:Assistant",
                "END:VCARD", "TEL:123", version="2.1")
    cards = list(parse_vcards(data))
    assert len(cards) == 1
    assert cards[0].full_name == "Boss"
    assert cards[0].phones == [("123", None, False)]
    assert any("AGENT" in e for e in cards[0].errors)


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"", 1),
        (b"Name,Email\r\nJan,jan@example.pl\r\n", 1),
        (b"\r\n\r\nBEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", 3),
    ],
)
def test_not_a_vcard_raises_immediately(data, line):
    with pytest.raises(VCardError) as info:
        parse_vcards(data)  # no iteration needed
    assert info.value.line_number == line
    assert isinstance(info.value, ValueError)


def test_charset_is_ignored_for_already_decoded_text_but_not_for_qp():
    # A str has been decoded by the caller: CHARSET must not be applied a second time...
    text = card("FN;CHARSET=ISO-8859-7:Γιώργος",
                "NOTE;CHARSET=ISO-8859-7;ENCODING=QUOTED-PRINTABLE:=C3=E9=FE=F1=E3=EF=F2",
                version="2.1")
    c = next(parse_vcards(text))
    assert c.full_name == "Γιώργος"
    # ...except for the bytes behind quoted-printable escapes.
    assert c.note == "Γιώργος"


def test_non_image_photo_mime_survives_round_trip():
    contact = ParsedContact(full_name="X", photo=(b"\x00\x01binary", "application/x-foo"))
    for version in ("3.0", "4.0"):
        again = next(parse_vcards(to_vcard(contact, version)))
        assert again.photo == contact.photo


def test_no_year_matches_the_occasions_engine():
    from kyklos_contacts.domain import occasions

    assert NO_YEAR == occasions.NO_YEAR == 1604

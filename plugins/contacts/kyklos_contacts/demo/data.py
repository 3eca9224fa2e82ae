"""Word lists of the demo data: names, companies, places, in each country's script.

Greek entries carry their usual Latin spelling (as on passports and business cards),
since many Greeks write their names both ways.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

from ..domain.translit import fold
from ..models.people import name_day_key as _name_day_key
from ..salutation import default_salutation

# --- Greece -------------------------------------------------------------------------------

GR_FIRST_M = {
    "Γιώργος": "Giorgos",
    "Νίκος": "Nikos",
    "Κώστας": "Kostas",
    "Δημήτρης": "Dimitris",
    "Γιάννης": "Giannis",
    "Παναγιώτης": "Panagiotis",
    "Βασίλης": "Vasilis",
    "Χρήστος": "Christos",
    "Αθανάσιος": "Athanasios",
    "Μιχάλης": "Michalis",
    "Ευάγγελος": "Evangelos",
    "Σπύρος": "Spyros",
    "Αντώνης": "Antonis",
    "Ηλίας": "Ilias",
    "Στέλιος": "Stelios",
    "Θοδωρής": "Thodoris",
}
GR_FIRST_F = {
    "Μαρία": "Maria",
    "Ελένη": "Eleni",
    "Αικατερίνη": "Aikaterini",
    "Βασιλική": "Vasiliki",
    "Σοφία": "Sofia",
    "Αγγελική": "Angeliki",
    "Γεωργία": "Georgia",
    "Δήμητρα": "Dimitra",
    "Κωνσταντίνα": "Konstantina",
    "Ευαγγελία": "Evangelia",
    "Ειρήνη": "Eirini",
    "Παναγιώτα": "Panagiota",
    "Χριστίνα": "Christina",
    "Αναστασία": "Anastasia",
}
#: masculine surname -> (feminine form, Latin masculine, Latin feminine)
GR_SURNAMES = {
    "Παπαδόπουλος": ("Παπαδοπούλου", "Papadopoulos", "Papadopoulou"),
    "Νικολάου": ("Νικολάου", "Nikolaou", "Nikolaou"),
    "Γεωργίου": ("Γεωργίου", "Georgiou", "Georgiou"),
    "Οικονόμου": ("Οικονόμου", "Oikonomou", "Oikonomou"),
    "Παπαδάκης": ("Παπαδάκη", "Papadakis", "Papadaki"),
    "Βλάχος": ("Βλάχου", "Vlachos", "Vlachou"),
    "Αντωνίου": ("Αντωνίου", "Antoniou", "Antoniou"),
    "Παπαγεωργίου": ("Παπαγεωργίου", "Papageorgiou", "Papageorgiou"),
    "Μακρής": ("Μακρή", "Makris", "Makri"),
    "Κωνσταντίνου": ("Κωνσταντίνου", "Konstantinou", "Konstantinou"),
    "Δημητρίου": ("Δημητρίου", "Dimitriou", "Dimitriou"),
    "Αλεξίου": ("Αλεξίου", "Alexiou", "Alexiou"),
    "Καραγιάννης": ("Καραγιάννη", "Karagiannis", "Karagianni"),
    "Ιωάννου": ("Ιωάννου", "Ioannou", "Ioannou"),
    "Πετρόπουλος": ("Πετροπούλου", "Petropoulos", "Petropoulou"),
    "Σταματόπουλος": ("Σταματοπούλου", "Stamatopoulos", "Stamatopoulou"),
}
GR_WORDS = {
    "Αιγαίο": "Aigaio",
    "Όλυμπος": "Olympos",
    "Ερμής": "Ermis",
    "Ποσειδών": "Poseidon",
    "Αθηνά": "Athina",
    "Δέλτα": "Delta",
    "Ήλιος": "Ilios",
    "Πήγασος": "Pigasos",
    "Ίκαρος": "Ikaros",
    "Αστέρας": "Asteras",
    "Κρήτη": "Kriti",
    "Μακεδονία": "Makedonia",
}
GR_ACTIVITIES = {
    "Τεχνική": "Techniki",
    "Εμπορική": "Emporiki",
    "Τρόφιμα": "Trofima",
    "Ναυτιλιακή": "Naftiliaki",
    "Λογισμικό": "Logismiko",
    "Κατασκευές": "Kataskeves",
    "Μεταφορές": "Metafores",
    "Ξενοδοχεία": "Xenodocheia",
    "Φαρμακευτική": "Farmakeftiki",
}
GR_FORMS = {"Α.Ε.": "S.A.", "Ε.Π.Ε.": "Ltd", "Ι.Κ.Ε.": "P.C.", "Ο.Ε.": "G.P."}


def latin(text: str) -> str:
    """The Latin spelling of a Greek name (ELOT 743, as on Greek passports), word by word;
    Romanian and Polish letters lose their diacritics (Łukasz -> Lukasz)."""
    return romanize(text)


def latin_form(form: str) -> str:
    return GR_FORMS.get(form, form)


# ELOT 743 (the Greek standard of passports and ID cards), applied on lowercase text
# whose accents were removed (a diaeresis is kept: it keeps two vowels apart).
_ELOT_LETTERS = dict(
    zip(
        "αβγδεζηθικλμνξοπρσςτυφχψω",
        [
            "a",
            "v",
            "g",
            "d",
            "e",
            "z",
            "i",
            "th",
            "i",
            "k",
            "l",
            "m",
            "n",
            "x",
            "o",
            "p",
            "r",
            "s",
            "s",
            "t",
            "y",
            "f",
            "ch",
            "ps",
            "o",
        ],
        strict=True,
    )
)
_ELOT_LETTERS.update({"ϊ": "i", "ϋ": "y"})
_VOICELESS = "θκξπσςτφχψ"
_GREEK = "α-ωϊϋ"
_ELOT_RULES = (
    (re.compile("ου"), "ou"),
    # αυ, ευ, ηυ: f before a voiceless consonant or at the end of the word, v otherwise
    (re.compile(f"([αεη])υ(?=[{_VOICELESS}]|(?![{_GREEK}]))"), lambda m: _ELOT_LETTERS[m[1]] + "f"),
    (re.compile("([αεη])υ"), lambda m: _ELOT_LETTERS[m[1]] + "v"),
    (re.compile(f"(?<![{_GREEK}])μπ|μπ(?![{_GREEK}])"), "b"),
    (re.compile(f"(?<![{_GREEK}])ντ|ντ(?![{_GREEK}])"), "d"),
    (re.compile(f"(?<![{_GREEK}])γκ"), "g"),
    (re.compile("γγ"), "ng"),
    (re.compile("γξ"), "nx"),
    (re.compile("γχ"), "nch"),
)


@lru_cache(maxsize=4096)
def romanize(text: str) -> str:
    """``Καραγιάννης`` -> ``Karagiannis``, ``Ευάγγελος`` -> ``Evangelos``,
    ``Παπαδοπούλου`` -> ``Papadopoulou``; other scripts through anyascii
    (``Łukasz`` -> ``Lukasz``, ``Ștefan`` -> ``Stefan``). Each word keeps its capital."""
    out = []
    for word in text.split():
        decomposed = unicodedata.normalize("NFD", word.lower())
        decomposed = decomposed.replace("ι\u0308", "ϊ").replace("υ\u0308", "ϋ")
        plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        for pattern, repl in _ELOT_RULES:
            plain = pattern.sub(repl, plain)
        plain = "".join(_ELOT_LETTERS.get(ch, ch) for ch in plain)
        plain = anyascii(plain)
        if word[:1].isupper():
            plain = plain[:1].upper() + plain[1:]
        out.append(plain)
    return " ".join(out)


def ascii_slug(text: str, sep: str = "") -> str:
    """Lowercase ASCII letters and digits of ``text`` romanised, words joined by ``sep``
    (e-mail local parts and domain labels)."""
    return sep.join(w for w in _DOMAIN_RE.split(romanize(text).lower()) if w)


# --- the four countries -------------------------------------------------------------------

COUNTRIES = {
    "GR": {
        "language": "el",
        "calendar": "el",
        "first_m": list(GR_FIRST_M),
        "first_f": list(GR_FIRST_F),
        "surnames_m": list(GR_SURNAMES),
        "surnames_f": [v[0] for v in GR_SURNAMES.values()],
        "words": list(GR_WORDS),
        "activities": list(GR_ACTIVITIES),
        "forms": list(GR_FORMS),
        "and": "και",
        "cities": [
            ("Αθήνα", "105 57"),
            ("Θεσσαλονίκη", "546 24"),
            ("Πειραιάς", "185 35"),
            ("Πάτρα", "262 21"),
            ("Ηράκλειο", "712 02"),
            ("Λάρισα", "412 22"),
        ],
        "landline": {
            "Αθήνα": ("+30210", 7),
            "Πειραιάς": ("+30210", 7),
            "Θεσσαλονίκη": ("+302310", 6),
            "Πάτρα": ("+302610", 6),
            "Ηράκλειο": ("+302810", 6),
            "Λάρισα": ("+302410", 6),
        },
        "mobile": [
            ("+30693", 7),
            ("+30694", 7),
            ("+30695", 7),
            ("+30697", 7),
            ("+30698", 7),
            ("+30699", 7),
        ],
        "street": "{name} {no}",
        "streets": [
            "Λεωφόρος Κηφισίας",
            "Πανεπιστημίου",
            "Ερμού",
            "Εγνατία",
            "Τσιμισκή",
            "Λεωφόρος Συγγρού",
            "Αγίου Δημητρίου",
            "Βασιλίσσης Σοφίας",
        ],
        "tld": "gr",
    },
    "RO": {
        "language": "ro",
        "calendar": "ro",
        "first_m": [
            "Andrei",
            "Alexandru",
            "Ion",
            "Mihai",
            "Ștefan",
            "Gheorghe",
            "Vasile",
            "Constantin",
            "Răzvan",
            "Cătălin",
            "Dumitru",
            "Nicolae",
            "Florin",
        ],
        "first_f": [
            "Maria",
            "Elena",
            "Ioana",
            "Ana",
            "Andreea",
            "Mihaela",
            "Cristina",
            "Alexandra",
            "Gabriela",
            "Ileana",
            "Mădălina",
            "Simona",
        ],
        "surnames_m": [
            "Popescu",
            "Ionescu",
            "Popa",
            "Dumitrescu",
            "Stănescu",
            "Constantinescu",
            "Țărănu",
            "Mărginean",
            "Georgescu",
            "Stoica",
            "Munteanu",
            "Lungu",
            "Bălan",
            "Șerban",
        ],
        "words": [
            "Carpați",
            "Dunărea",
            "Transilvania",
            "Mureș",
            "Bucovina",
            "Argeș",
            "Delta",
            "Olt",
            "Prahova",
            "Siret",
        ],
        "activities": [
            "Construcții",
            "Distribuție",
            "Software",
            "Agro",
            "Transport",
            "Logistică",
            "Comerț",
            "Energie",
        ],
        "forms": ["S.R.L.", "S.R.L.", "S.A."],
        "and": "&",
        "cities": [
            ("București", "010011"),
            ("Cluj-Napoca", "400001"),
            ("Iași", "700028"),
            ("Timișoara", "300002"),
            ("Constanța", "900178"),
            ("Brașov", "500030"),
        ],
        "landline": {
            "București": ("+4021", 7),
            "Cluj-Napoca": ("+40264", 6),
            "Iași": ("+40232", 6),
            "Timișoara": ("+40256", 6),
            "Constanța": ("+40241", 6),
            "Brașov": ("+40268", 6),
        },
        "mobile": [
            ("+40721", 6),
            ("+40722", 6),
            ("+40744", 6),
            ("+40745", 6),
            ("+40751", 6),
            ("+40766", 6),
            ("+40788", 6),
        ],
        "street": "{name} nr. {no}",
        "streets": [
            "Strada Victoriei",
            "Bulevardul Unirii",
            "Strada Mihai Eminescu",
            "Calea Dorobanților",
            "Strada Ștefan cel Mare",
            "Bulevardul Eroilor",
        ],
        "tld": "ro",
    },
    "PL": {
        "language": "pl",
        "calendar": "pl",
        "first_m": [
            "Jan",
            "Piotr",
            "Krzysztof",
            "Andrzej",
            "Tomasz",
            "Paweł",
            "Michał",
            "Marcin",
            "Łukasz",
            "Wojciech",
            "Grzegorz",
            "Stanisław",
        ],
        "first_f": [
            "Anna",
            "Katarzyna",
            "Małgorzata",
            "Agnieszka",
            "Barbara",
            "Ewa",
            "Magdalena",
            "Joanna",
            "Zofia",
            "Elżbieta",
            "Dorota",
            "Beata",
        ],
        "surnames_m": [
            "Kowalski",
            "Nowak",
            "Wiśniewski",
            "Wójcik",
            "Kamiński",
            "Lewandowski",
            "Zieliński",
            "Szymański",
            "Woźniak",
            "Dąbrowski",
            "Kozłowski",
            "Jankowski",
            "Mazur",
            "Krawczyk",
        ],
        "words": [
            "Wisła",
            "Tatry",
            "Mazowsze",
            "Bałtyk",
            "Śląsk",
            "Żuraw",
            "Orzeł",
            "Podhale",
            "Warta",
            "Pomorze",
        ],
        "activities": [
            "Budownictwo",
            "Handel",
            "Logistyka",
            "Oprogramowanie",
            "Spożywcze",
            "Transport",
            "Energetyka",
            "Meble",
        ],
        "forms": ["sp. z o.o.", "sp. z o.o.", "S.A.", "sp.k."],
        "and": "i",
        "cities": [
            ("Warszawa", "00-001"),
            ("Kraków", "30-001"),
            ("Łódź", "90-001"),
            ("Wrocław", "50-001"),
            ("Poznań", "60-001"),
            ("Gdańsk", "80-001"),
        ],
        "landline": {
            "Warszawa": ("+4822", 7),
            "Kraków": ("+4812", 7),
            "Łódź": ("+4842", 7),
            "Wrocław": ("+4871", 7),
            "Poznań": ("+4861", 7),
            "Gdańsk": ("+4858", 7),
        },
        "mobile": [
            ("+48501", 6),
            ("+48502", 6),
            ("+48601", 6),
            ("+48602", 6),
            ("+48691", 6),
            ("+48721", 6),
            ("+48781", 6),
            ("+48881", 6),
        ],
        "street": "ul. {name} {no}",
        "streets": [
            "Marszałkowska",
            "Floriańska",
            "Piotrkowska",
            "Świętojańska",
            "Długa",
            "Grunwaldzka",
            "Mickiewicza",
            "Żeromskiego",
        ],
        "tld": "pl",
    },
    "GB": {
        "language": "en",
        "calendar": None,
        "first_m": [
            "James",
            "John",
            "Oliver",
            "George",
            "Harry",
            "Jack",
            "William",
            "Thomas",
            "David",
            "Richard",
            "Charles",
            "Michael",
        ],
        "first_f": [
            "Emma",
            "Olivia",
            "Amelia",
            "Charlotte",
            "Sophie",
            "Emily",
            "Jessica",
            "Elizabeth",
            "Sarah",
            "Grace",
            "Lucy",
            "Hannah",
        ],
        "surnames_m": [
            "Smith",
            "Jones",
            "Taylor",
            "Brown",
            "Williams",
            "Wilson",
            "Evans",
            "Thomas",
            "Roberts",
            "Johnson",
            "Walker",
            "Wright",
            "Green",
            "Hughes",
        ],
        "words": [
            "Thames",
            "Pennine",
            "Albion",
            "Mersey",
            "Cotswold",
            "Severn",
            "Trent",
            "Kestrel",
            "Highland",
            "Weald",
        ],
        "activities": [
            "Logistics",
            "Software",
            "Foods",
            "Engineering",
            "Trading",
            "Construction",
            "Consulting",
            "Energy",
        ],
        "forms": ["Ltd", "Ltd", "Ltd", "plc", "LLP"],
        "and": "&",
        "cities": [
            ("London", "EC1A 1BB"),
            ("Manchester", "M1 1AE"),
            ("Birmingham", "B1 1AA"),
            ("Leeds", "LS1 1AA"),
            ("Bristol", "BS1 4DJ"),
        ],
        # (prefix, digits, allowed first digit): not every subscriber range is in use
        "landline": {
            "London": ("+44207", 7),
            "Manchester": ("+44161", 7),
            "Birmingham": ("+44121", 7, "234567"),
            "Leeds": ("+44113", 7, "2345"),
            "Bristol": ("+44117", 7, "2349"),
        },
        "mobile": [("+447712", 6), ("+447723", 6), ("+447834", 6), ("+447441", 6)],
        "street": "{no} {name}",
        "streets": [
            "High Street",
            "Station Road",
            "Church Lane",
            "Victoria Road",
            "King Street",
            "Deansgate",
            "Oxford Street",
            "Queen's Road",
        ],
        "tld": "co.uk",
    },
}
COUNTRIES["PL"]["surnames_f"] = [
    s[:-3] + "ska" if s.endswith("ski") else s[:-3] + "cka" if s.endswith("cki") else s
    for s in COUNTRIES["PL"]["surnames_m"]
]
COUNTRIES["RO"]["surnames_f"] = COUNTRIES["RO"]["surnames_m"]
COUNTRIES["GB"]["surnames_f"] = COUNTRIES["GB"]["surnames_m"]

# Reserved domains only (RFC 2606): a demo database must never mail real people.
FREEMAIL = {cc: ["example.com", "example.net", "example.org"] for cc in COUNTRIES}

ROLE_SETS = [
    ("customer",),
    ("customer",),
    ("prospect",),
    ("supplier",),
    ("customer", "supplier"),
    ("partner",),
    ("customer", "partner"),
]
ROLE_WEIGHTS = [40, 10, 20, 10, 8, 6, 6]
SOURCES = ["advert", "partner", "web", "trade_show", "referral", "cold_call", "other", "web"]
INDUSTRIES = [
    "Retail",
    "Manufacturing",
    "Software",
    "Hospitality",
    "Logistics",
    "Construction",
    "Food and beverage",
    "Healthcare",
    "Shipping",
    "Energy",
]
TAX_OFFICES = [
    "Α' Αθηνών",
    "ΦΑΕ Αθηνών",
    "Δ' Θεσσαλονίκης",
    "ΦΑΕ Πειραιά",
    "Α' Πατρών",
    "Ηρακλείου",
    "Λάρισας",
]
CONSENT_SOURCES = ["web form", "trade show", "contract", "phone call", "newsletter sign-up"]
PRODUCTS = [
    ("Kyklos ERP licence", "ERP"),
    ("Point-of-sale terminal", "POS"),
    ("Fiscal cash register", "FCR"),
    ("Rack server", "SRV"),
    ("Laser printer", "PRN"),
    ("Barcode scanner", "BCS"),
    ("Support contract (annual)", "SUP"),
    ("Firewall appliance", "FWL"),
]
JOB_TITLES = {
    "el": [
        "Διευθύνων Σύμβουλος",
        "Οικονομικός Διευθυντής",
        "Υπεύθυνος Προμηθειών",
        "Λογιστής",
        "Υπεύθυνη Πωλήσεων",
        "Υπεύθυνος Πληροφορικής",
        "Γραμματεία",
    ],
    "ro": [
        "Director general",
        "Director financiar",
        "Manager achiziții",
        "Contabil",
        "Manager vânzări",
        "Șef IT",
        "Asistent manager",
    ],
    "pl": [
        "Prezes zarządu",
        "Dyrektor finansowy",
        "Kierownik zakupów",
        "Księgowa",
        "Kierownik sprzedaży",
        "Kierownik IT",
        "Asystentka zarządu",
    ],
    "en": [
        "Managing Director",
        "Finance Director",
        "Purchasing Manager",
        "Accountant",
        "Sales Manager",
        "IT Manager",
        "Office Manager",
    ],
}
DEPARTMENTS = {
    "el": ["Διοίκηση", "Λογιστήριο", "Πωλήσεις", "Προμήθειες", "Πληροφορική"],
    "ro": ["Conducere", "Contabilitate", "Vânzări", "Achiziții", "IT"],
    "pl": ["Zarząd", "Księgowość", "Sprzedaż", "Zakupy", "IT"],
    "en": ["Management", "Finance", "Sales", "Purchasing", "IT"],
}


# --- derived values, cached (the pools are small, the data is not) -------------------------


@lru_cache(maxsize=65536)
def key(text: str) -> str:
    return fold(text)


@lru_cache(maxsize=4096)
def name_day_key(first_name: str) -> str:
    return _name_day_key(first_name)


@lru_cache(maxsize=65536)
def salutation(first: str, last: str, gender: str, language: str, country: str) -> str:
    return default_salutation(first, last, gender, language, country)


_DOMAIN_RE = re.compile(r"[^a-z0-9]+")


#: words left out of a company's domain (conjunctions of "X & Y" names)
_NOT_IN_DOMAIN = {"and", "kai", "si", "i"}


def domain_for(name: str) -> str:
    """A company's e-mail and web domain, from its name without the legal form
    (``Αιγαίο Τρόφιμα`` -> ``aigaio-trofima.example``). The top-level domain is the
    reserved ``.example`` (RFC 2606): a demo database must never mail real companies."""
    words = [w for w in _DOMAIN_RE.split(romanize(name).lower()) if w and w not in _NOT_IN_DOMAIN][
        :3
    ]
    return "-".join(words or ["company"]) + ".example"

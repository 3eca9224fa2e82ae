"""Word lists of the demo data: names, companies, places, in each country's script.

Greek entries carry their usual Latin spelling (as on passports and business cards),
since many Greeks write their names both ways.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..domain.translit import fold
from ..models.people import name_day_key as _name_day_key
from ..salutation import default_salutation

# --- Greece -------------------------------------------------------------------------------

GR_FIRST_M = {
    "Γιώργος": "Giorgos", "Νίκος": "Nikos", "Κώστας": "Kostas", "Δημήτρης": "Dimitris",
    "Γιάννης": "Giannis", "Παναγιώτης": "Panagiotis", "Βασίλης": "Vasilis",
    "Χρήστος": "Christos", "Αθανάσιος": "Athanasios", "Μιχάλης": "Michalis",
    "Ευάγγελος": "Evangelos", "Σπύρος": "Spyros", "Αντώνης": "Antonis",
    "Ηλίας": "Ilias", "Στέλιος": "Stelios", "Θοδωρής": "Thodoris",
}
GR_FIRST_F = {
    "Μαρία": "Maria", "Ελένη": "Eleni", "Αικατερίνη": "Aikaterini", "Βασιλική": "Vasiliki",
    "Σοφία": "Sofia", "Αγγελική": "Angeliki", "Γεωργία": "Georgia", "Δήμητρα": "Dimitra",
    "Κωνσταντίνα": "Konstantina", "Ευαγγελία": "Evangelia", "Ειρήνη": "Eirini",
    "Παναγιώτα": "Panagiota", "Χριστίνα": "Christina", "Αναστασία": "Anastasia",
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
    "Αιγαίο": "Aigaio", "Όλυμπος": "Olympos", "Ερμής": "Ermis", "Ποσειδών": "Poseidon",
    "Αθηνά": "Athina", "Δέλτα": "Delta", "Ήλιος": "Ilios", "Πήγασος": "Pigasos",
    "Ίκαρος": "Ikaros", "Αστέρας": "Asteras", "Κρήτη": "Kriti", "Μακεδονία": "Makedonia",
}
GR_ACTIVITIES = {
    "Τεχνική": "Techniki", "Εμπορική": "Emporiki", "Τρόφιμα": "Trofima",
    "Ναυτιλιακή": "Naftiliaki", "Λογισμικό": "Logismiko", "Κατασκευές": "Kataskeves",
    "Μεταφορές": "Metafores", "Ξενοδοχεία": "Xenodocheia", "Φαρμακευτική": "Farmakeftiki",
}
GR_FORMS = {"Α.Ε.": "S.A.", "Ε.Π.Ε.": "Ltd", "Ι.Κ.Ε.": "P.C.", "Ο.Ε.": "G.P."}

_LATIN = {**GR_FIRST_M, **GR_FIRST_F, **GR_WORDS, **GR_ACTIVITIES}
for _m, (_f, _lm, _lf) in GR_SURNAMES.items():
    _LATIN[_m] = _lm
    _LATIN[_f] = _lf
_LATIN["&"] = "&"
_LATIN["και"] = "&"


def latin(text: str) -> str:
    """The usual Latin spelling of a Greek demo name (word by word)."""
    return " ".join(_LATIN.get(w, w) for w in text.split())


def latin_form(form: str) -> str:
    return GR_FORMS.get(form, form)


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
        "cities": [("Αθήνα", "105 57"), ("Θεσσαλονίκη", "546 24"), ("Πειραιάς", "185 35"),
                   ("Πάτρα", "262 21"), ("Ηράκλειο", "712 02"), ("Λάρισα", "412 22")],
        "landline": {"Αθήνα": ("+30210", 7), "Πειραιάς": ("+30210", 7),
                     "Θεσσαλονίκη": ("+302310", 6), "Πάτρα": ("+302610", 6),
                     "Ηράκλειο": ("+302810", 6), "Λάρισα": ("+302410", 6)},
        "mobile": [("+30693", 7), ("+30694", 7), ("+30695", 7), ("+30697", 7),
                   ("+30698", 7), ("+30699", 7)],
        "street": "{name} {no}",
        "streets": ["Λεωφόρος Κηφισίας", "Πανεπιστημίου", "Ερμού", "Εγνατία", "Τσιμισκή",
                    "Λεωφόρος Συγγρού", "Αγίου Δημητρίου", "Βασιλίσσης Σοφίας"],
        "tld": "gr",
    },
    "RO": {
        "language": "ro",
        "calendar": "ro",
        "first_m": ["Andrei", "Alexandru", "Ion", "Mihai", "Ștefan", "Gheorghe", "Vasile",
                    "Constantin", "Răzvan", "Cătălin", "Dumitru", "Nicolae", "Florin"],
        "first_f": ["Maria", "Elena", "Ioana", "Ana", "Andreea", "Mihaela", "Cristina",
                    "Alexandra", "Gabriela", "Ileana", "Mădălina", "Simona"],
        "surnames_m": ["Popescu", "Ionescu", "Popa", "Dumitrescu", "Stănescu",
                       "Constantinescu", "Țărănu", "Mărginean", "Georgescu", "Stoica",
                       "Munteanu", "Lungu", "Bălan", "Șerban"],
        "words": ["Carpați", "Dunărea", "Transilvania", "Mureș", "Bucovina", "Argeș",
                  "Delta", "Olt", "Prahova", "Siret"],
        "activities": ["Construcții", "Distribuție", "Software", "Agro", "Transport",
                       "Logistică", "Comerț", "Energie"],
        "forms": ["S.R.L.", "S.R.L.", "S.A."],
        "and": "&",
        "cities": [("București", "010011"), ("Cluj-Napoca", "400001"), ("Iași", "700028"),
                   ("Timișoara", "300002"), ("Constanța", "900178"), ("Brașov", "500030")],
        "landline": {"București": ("+4021", 7), "Cluj-Napoca": ("+40264", 6),
                     "Iași": ("+40232", 6), "Timișoara": ("+40256", 6),
                     "Constanța": ("+40241", 6), "Brașov": ("+40268", 6)},
        "mobile": [("+40721", 6), ("+40722", 6), ("+40744", 6), ("+40745", 6),
                   ("+40751", 6), ("+40766", 6), ("+40788", 6)],
        "street": "{name} nr. {no}",
        "streets": ["Strada Victoriei", "Bulevardul Unirii", "Strada Mihai Eminescu",
                    "Calea Dorobanților", "Strada Ștefan cel Mare", "Bulevardul Eroilor"],
        "tld": "ro",
    },
    "PL": {
        "language": "pl",
        "calendar": "pl",
        "first_m": ["Jan", "Piotr", "Krzysztof", "Andrzej", "Tomasz", "Paweł", "Michał",
                    "Marcin", "Łukasz", "Wojciech", "Grzegorz", "Stanisław"],
        "first_f": ["Anna", "Katarzyna", "Małgorzata", "Agnieszka", "Barbara", "Ewa",
                    "Magdalena", "Joanna", "Zofia", "Elżbieta", "Dorota", "Beata"],
        "surnames_m": ["Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kamiński",
                       "Lewandowski", "Zieliński", "Szymański", "Woźniak", "Dąbrowski",
                       "Kozłowski", "Jankowski", "Mazur", "Krawczyk"],
        "words": ["Wisła", "Tatry", "Mazowsze", "Bałtyk", "Śląsk", "Żuraw", "Orzeł",
                  "Podhale", "Warta", "Pomorze"],
        "activities": ["Budownictwo", "Handel", "Logistyka", "Oprogramowanie", "Spożywcze",
                       "Transport", "Energetyka", "Meble"],
        "forms": ["sp. z o.o.", "sp. z o.o.", "S.A.", "sp.k."],
        "and": "i",
        "cities": [("Warszawa", "00-001"), ("Kraków", "30-001"), ("Łódź", "90-001"),
                   ("Wrocław", "50-001"), ("Poznań", "60-001"), ("Gdańsk", "80-001")],
        "landline": {"Warszawa": ("+4822", 7), "Kraków": ("+4812", 7), "Łódź": ("+4842", 7),
                     "Wrocław": ("+4871", 7), "Poznań": ("+4861", 7), "Gdańsk": ("+4858", 7)},
        "mobile": [("+48501", 6), ("+48502", 6), ("+48601", 6), ("+48602", 6),
                   ("+48691", 6), ("+48721", 6), ("+48781", 6), ("+48881", 6)],
        "street": "ul. {name} {no}",
        "streets": ["Marszałkowska", "Floriańska", "Piotrkowska", "Świętojańska",
                    "Długa", "Grunwaldzka", "Mickiewicza", "Żeromskiego"],
        "tld": "pl",
    },
    "GB": {
        "language": "en",
        "calendar": None,
        "first_m": ["James", "John", "Oliver", "George", "Harry", "Jack", "William",
                    "Thomas", "David", "Richard", "Charles", "Michael"],
        "first_f": ["Emma", "Olivia", "Amelia", "Charlotte", "Sophie", "Emily", "Jessica",
                    "Elizabeth", "Sarah", "Grace", "Lucy", "Hannah"],
        "surnames_m": ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans",
                       "Thomas", "Roberts", "Johnson", "Walker", "Wright", "Green",
                       "Hughes"],
        "words": ["Thames", "Pennine", "Albion", "Mersey", "Cotswold", "Severn", "Trent",
                  "Kestrel", "Highland", "Weald"],
        "activities": ["Logistics", "Software", "Foods", "Engineering", "Trading",
                       "Construction", "Consulting", "Energy"],
        "forms": ["Ltd", "Ltd", "Ltd", "plc", "LLP"],
        "and": "&",
        "cities": [("London", "EC1A 1BB"), ("Manchester", "M1 1AE"),
                   ("Birmingham", "B1 1AA"), ("Leeds", "LS1 1AA"), ("Bristol", "BS1 4DJ")],
        # (prefix, digits, allowed first digit): not every subscriber range is in use
        "landline": {"London": ("+44207", 7), "Manchester": ("+44161", 7),
                     "Birmingham": ("+44121", 7, "234567"), "Leeds": ("+44113", 7, "2345"),
                     "Bristol": ("+44117", 7, "2349")},
        "mobile": [("+447712", 6), ("+447723", 6), ("+447834", 6), ("+447441", 6)],
        "street": "{no} {name}",
        "streets": ["High Street", "Station Road", "Church Lane", "Victoria Road",
                    "King Street", "Deansgate", "Oxford Street", "Queen's Road"],
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

ROLE_SETS = [("customer",), ("customer",), ("prospect",), ("supplier",),
             ("customer", "supplier"), ("partner",), ("customer", "partner")]
ROLE_WEIGHTS = [40, 10, 20, 10, 8, 6, 6]
SOURCES = ["advert", "partner", "web", "trade_show", "referral", "cold_call", "other", "web"]
INDUSTRIES = ["Retail", "Manufacturing", "Software", "Hospitality", "Logistics",
              "Construction", "Food and beverage", "Healthcare", "Shipping", "Energy"]
TAX_OFFICES = ["Α' Αθηνών", "ΦΑΕ Αθηνών", "Δ' Θεσσαλονίκης", "ΦΑΕ Πειραιά", "Α' Πατρών",
               "Ηρακλείου", "Λάρισας"]
CONSENT_SOURCES = ["web form", "trade show", "contract", "phone call", "newsletter sign-up"]
PRODUCTS = [("Kyklos ERP licence", "ERP"), ("Point-of-sale terminal", "POS"),
            ("Fiscal cash register", "FCR"), ("Rack server", "SRV"),
            ("Laser printer", "PRN"), ("Barcode scanner", "BCS"),
            ("Support contract (annual)", "SUP"), ("Firewall appliance", "FWL")]
JOB_TITLES = {
    "el": ["Διευθύνων Σύμβουλος", "Οικονομικός Διευθυντής", "Υπεύθυνος Προμηθειών",
           "Λογιστής", "Υπεύθυνη Πωλήσεων", "Υπεύθυνος Πληροφορικής", "Γραμματεία"],
    "ro": ["Director general", "Director financiar", "Manager achiziții", "Contabil",
           "Manager vânzări", "Șef IT", "Asistent manager"],
    "pl": ["Prezes zarządu", "Dyrektor finansowy", "Kierownik zakupów", "Księgowa",
           "Kierownik sprzedaży", "Kierownik IT", "Asystentka zarządu"],
    "en": ["Managing Director", "Finance Director", "Purchasing Manager", "Accountant",
           "Sales Manager", "IT Manager", "Office Manager"],
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


def domain_for(name: str, account_id: int, cc: str) -> str:
    """A unique e-mail domain for a company, under the reserved example.com."""
    words = [w for w in _DOMAIN_RE.split(key(name)) if len(w) > 2][:2]
    base = "-".join(words) or "company"
    return f"{base}{account_id}.{COUNTRIES[cc]['tld'].replace('.', '-')}.example.com"

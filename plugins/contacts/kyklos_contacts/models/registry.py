"""Entity-type declarations: from these the core derives the API, pages and exports."""

from __future__ import annotations

from kyklos_sdk import RelatedList

from .. import _
from . import choices as c
from .accounts import Account, Address, InstalledProduct
from .people import Affiliation, Consent, Person
from .relations import Relationship, RelationshipType

TITLES = {
    "name": _("Name"),
    "legal_form": _("Legal form"),
    "roles": _("Roles"),
    "country": _("Country"),
    "city": _("City"),
    "vat_number": _("VAT number"),
    "company_id": _("Company registration no."),
    "tax_office": _("Tax office"),
    "email": _("E-mail"),
    "phone": _("Phone"),
    "website": _("Website"),
    "industry": _("Industry"),
    "parent_id": _("Parent account"),
    "is_branch": _("Branch"),
    "payment_terms": _("Payment terms (days)"),
    "discount_level": _("Discount level (%)"),
    "satisfaction_level": _("Satisfaction (1-5)"),
    "source": _("Source"),
    "partner_id": _("Handled by partner"),
    "invoice_partner": _("Invoice the partner"),
    "notes": _("Notes"),
    "first_name": _("First name"),
    "middle_name": _("Middle name"),
    "last_name": _("Last name"),
    "name_prefix": _("Prefix"),
    "name_suffix": _("Suffix"),
    "salutation": _("Salutation"),
    "gender": _("Gender"),
    "language": _("Language"),
    "birth_date": _("Birth date"),
    "birth_year_unknown": _("Year unknown"),
    "anniversary_date": _("Anniversary"),
    "name_day_calendar": _("Name-day calendar"),
    "marital_status": _("Marital status"),
    "personal_id": _("Personal ID (PESEL, CNP, AMKA)"),
    "tax_id": _("Tax ID (NIP, AFM, CNP)"),
    "account_id": _("Account"),
    "person_id": _("Person"),
    "job_title": _("Job title"),
    "job_role": _("Role (function)"),
    "nickname": _("Nickname"),
    "urls": _("Other web addresses"),
    "messengers": _("Messengers"),
    "department": _("Department"),
    "kind": _("Kind"),
    "street": _("Street"),
    "postcode": _("Postcode"),
    "region": _("Region"),
    "is_primary": _("Primary"),
    "product": _("Product"),
    "serial_number": _("Serial number"),
    "quantity": _("Quantity"),
    "purchased_on": _("Purchased on"),
    "warranty_until": _("Warranty until"),
    "active": _("Active"),
    "role": _("Role"),
    "start_date": _("From"),
    "end_date": _("Until"),
    "channel": _("Channel"),
    "status": _("Status"),
    "at": _("Date"),
    "code": _("Code"),
    "inverse_name": _("Inverse name"),
    "name_female": _("Name for a woman"),
    "name_male": _("Name for a man"),
    "inverse_name_female": _("Inverse name for a woman"),
    "inverse_name_male": _("Inverse name for a man"),
    "from_kind": _("From party kind"),
    "to_kind": _("To party kind"),
    "type_id": _("Type"),
    "from_person_id": _("From person"),
    "from_account_id": _("From account"),
    "to_person_id": _("To person"),
    "to_account_id": _("To account"),
    "owner_id": _("Owner"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
}

DERIVED = (
    "name_key",
    "first_name_key",
    "last_name_key",
    "name_day_key",
    "birth_md",
    "anniversary_md",
)
PARTY_KINDS = [("any", _("Any")), ("person", _("Person")), ("account", _("Account"))]


#: the address-part import columns of a person (see Person.office_street), titled
ADDRESS_COLUMN_TITLES = {
    "office_street": _("Office address: street"),
    "office_city": _("Office address: city"),
    "office_postcode": _("Office address: postcode"),
    "office_region": _("Office address: region"),
    "office_country": _("Office address: country"),
    "home_street": _("Home address: street"),
    "home_city": _("Home address: city"),
    "home_postcode": _("Home address: postcode"),
    "home_region": _("Home address: region"),
    "home_country": _("Home address: country"),
    "other_street": _("Other address: street"),
    "other_city": _("Other address: city"),
    "other_postcode": _("Other address: postcode"),
    "other_region": _("Other address: region"),
    "other_country": _("Other address: country"),
}


def fields_for(model, extra: dict | None = None) -> dict:
    """Per-field overrides: our translated titles, the derived columns kept internal,
    plus ``extra``."""
    cols = {col.key for col in model.__table__.columns}
    out = {name: {"title": title} for name, title in TITLES.items() if name in cols}
    out.update({name: {"internal": True} for name in DERIVED if name in cols})
    for name, over in (extra or {}).items():
        out.setdefault(name, {}).update(over)
    return out


def choice(choices):
    return {"type": "choice", "choices": list(choices)}


# Accepted as a code or a name ("GR", "Greece", "Ελλάδα": exports write names), always
# stored as the two-letter code by the validate hook, which refuses anything else.
COUNTRY = {"max_length": 60, "display": "country",
           "description": _("ISO 3166 country code (GR, RO, PL) or the country's name "
                            "(Greece, Ελλάδα, Polska): stored as the code")}

ENTITY_NAMES = (
    "account",
    "person",
    "address",
    "affiliation",
    "relationship",
    "relationshiptype",
    "installedproduct",
    "consent",
)


def register_entity_types(config):
    config.add_entity_type(
        Account,
        "account",
        primary_filters=("name", "roles", "city", "country", "owner_id"),
        about=True,
        # SEC-04: territory rules place the record by this
        territory_field="country",
        title=_("Account"),
        plural=_("Accounts"),
        title_field="name",
        list_columns=("name", "city", "phone", "roles", "country", "vat_number", "owner_id"),
        filters=(
            "name",
            "roles",
            "country",
            "city",
            "vat_number",
            "company_id",
            "parent_id",
            "is_branch",
            "source",
            "partner_id",
            "satisfaction_level",
            "industry",
            "owner_id",
            "created_at",
        ),
        sort=("name", "country", "city", "satisfaction_level", "created_at", "updated_at"),
        search=("name", "vat_number", "company_id", "email", "city"),
        fields=fields_for(
            Account,
            {
                "roles": {"type": "multichoice", "choices": c.PARTY_ROLES},
                "source": choice(c.SOURCES),
                "email": {"type": "email"},
                "phone": {"type": "phone"},
                "website": {"type": "url"},
                "country": COUNTRY,
                "discount_level": {"description": _("Percent, 0-100")},
            },
        ),
        # Affiliations, group, partner channel and installed base are panels (hooks.py).
        related=(
            RelatedList("person", "account_id", _("People")),
            RelatedList("address", "account_id", _("Addresses")),
        ),
        icon="building",
        menu_order=10,
        description=_("Companies and organisations: customers, suppliers, partners"),
    )
    config.add_entity_type(
        Person,
        "person",
        primary_filters=("last_name", "account_id", "city", "owner_id"),
        about=True,
        # SEC-04: territory rules place the record by its account's country, its own without one
        territory_field=("account.country", "country"),
        subtitle_field="account_id",
        title=_("Person"),
        plural=_("People"),
        slug="persons",
        title_field="full_name",
        list_columns=("first_name", "last_name", "account_id", "phone", "email", "owner_id"),
        filters=(
            "first_name",
            "last_name",
            "email",
            "phone",
            "account_id",
            "roles",
            "country",
            "city",
            "source",
            "gender",
            "birth_date",
            "birth_year_unknown",
            "personal_id",
            "partner_id",
            "owner_id",
            "created_at",
        ),
        sort=("first_name", "last_name", "email", "birth_date", "created_at", "updated_at"),
        search=("first_name", "last_name", "email", "phone", "job_title"),
        fields=fields_for(
            Person,
            {
                "email": {"type": "email"},
                "phone": {"type": "phone"},
                "website": {"type": "url"},
                "roles": {"type": "multichoice", "choices": c.PARTY_ROLES},
                "source": choice(c.SOURCES),
                "gender": choice(c.GENDERS),
                "marital_status": choice(c.MARITAL_STATUSES),
                "name_day_calendar": choice(c.CALENDARS),
                "language": choice(c.LANGUAGES),
                "country": COUNTRY,
                "salutation": {
                    "description": _("Left empty, it is filled from the name and gender")
                },
                # A birthday may be known without its year (vCard BDAY:--0203): the
                # core's year-optional date reads "3 February", takes a day, a month
                # and an optional year, and answers --02-03 (see Person.birth_date).
                "birth_date": {"year_optional": True, "day_of_year": "birth_md"},
                "birth_year_unknown": {
                    "description": _("Only the day and month of the birth date are known"),
                    # the birth date's own input leaves the year empty; the flag stays
                    # readable and writable in the API for clients that send it
                    "form": False,
                },
                # Virtual fields kept in child tables (see Person.phones / .emails).
                "phones": {
                    "type": "json",
                    "display": "phones",
                    "title": _("Phones"),
                    "description": _('[{"type": "mobile", "number": "+30...", "primary": true}]'),
                },
                "emails": {
                    "type": "json",
                    "display": "emails",
                    "title": _("E-mails"),
                    "description": _('[{"type": "work", "email": "...", "primary": true}]'),
                },
                # One number / address of a kind, as exports keep them (Outlook's Mobile
                # Phone): read from and written into the lists above; not on forms.
                **{name: {"type": kind, "title": title, "form": False, "virtual": True,
                          "description": _("Adds to the typed list unless already there")}
                   for name, kind, title in (
                       ("mobile_phone", "phone", _("Mobile phone")),
                       ("work_phone", "phone", _("Work phone")),
                       ("home_phone", "phone", _("Home phone")),
                       ("other_phone", "phone", _("Other phone")),
                       ("fax", "phone", _("Fax")),
                       ("pager", "phone", _("Pager")),
                       ("other_email", "email", _("Other e-mail")))},
                # An address whose parts an export keeps in columns of their own
                # (Outlook's Business Street, Business City ...): not on forms.
                **{name: {"type": "text", "title": title, "form": False, "virtual": True,
                          "description": _("Adds the address these parts make up unless "
                                           "the person has it")}
                   for name, title in ADDRESS_COLUMN_TITLES.items()},
                "urls": {"type": "json",
                         "description": _('["https://..."]: web addresses beyond the website')},
                "messengers": {"type": "json",
                               "description": _('[{"service": "skype", "handle": "..."}]')},
                # Import conveniences, read by the after-save hook (Person.import_tags).
                "import_tags": {"type": "json", "title": _("Tags to add"), "form": False,
                                "virtual": True,
                                "description": _('["customer", ...]: tags added on import')},
                "import_photo": {"type": "text", "title": _("Photo (data URI)"),
                                 "form": False, "virtual": True,
                                 "description": _("data:image/jpeg;base64,...: checked by "
                                                  "content, at most 1 MB")},
                # Writing adds the addresses the person lacks (see Person.addresses).
                "addresses": {
                    "type": "json",
                    "display": "addresses",
                    "title": _("Addresses"),
                    "description": _('[{"kind": "home", "street": "...", "postcode": "...", '
                                     '"city": "...", "country": "GR"}]: adds the ones the '
                                     'person does not have yet'),
                },
            },
        ),
        related=(RelatedList("address", "person_id", _("Addresses")),),
        related_filters={"account.country": "account_id", "account.city": "account_id"},
        icon="person",
        menu_order=20,
        description=_("People: contacts at accounts and private customers"),
    )
    config.add_entity_type(
        Address,
        "address",
        primary_filters=("city", "country", "kind"),
        title=_("Address"),
        plural=_("Addresses"),
        slug="addresses",
        title_field="city",
        list_columns=("kind", "street", "postcode", "city", "country", "is_primary"),
        filters=("account_id", "person_id", "kind", "city", "country", "postcode"),
        sort=("city", "postcode", "kind"),
        search=("street", "city", "postcode"),
        fields=fields_for(Address, {"kind": choice(c.ADDRESS_KINDS), "country": COUNTRY}),
        menu_group=None,
        icon="geo",
    )
    config.add_entity_type(
        Affiliation,
        "affiliation",
        primary_filters=("account_id", "person_id", "role"),
        title=_("Affiliation"),
        plural=_("Affiliations"),
        title_field="role",
        list_columns=("person_id", "account_id", "role", "start_date", "end_date", "is_primary"),
        filters=("person_id", "account_id", "role", "is_primary", "start_date", "end_date"),
        sort=("start_date", "end_date", "role"),
        search=("role", "department"),
        fields=fields_for(Affiliation),
        default_sort="-start_date",
        menu_group=None,
        icon="diagram-3",
    )
    config.add_entity_type(
        RelationshipType,
        "relationshiptype",
        primary_filters=("name", "active"),
        lookup=True,
        title=_("Relationship type"),
        plural=_("Relationship types"),
        slug="relationship-types",
        title_field="name",
        list_columns=("name", "inverse_name", "from_kind", "to_kind", "active"),
        filters=("code", "name", "active"),
        sort=("name", "code"),
        search=("name", "inverse_name", "code"),
        fields=fields_for(
            RelationshipType,
            {"from_kind": choice(PARTY_KINDS), "to_kind": choice(PARTY_KINDS)},
        ),
        menu_group=None,
        icon="arrow-left-right",
    )
    config.add_entity_type(
        Relationship,
        "relationship",
        primary_filters=("type_id", "from_person_id", "from_account_id"),
        title=_("Relationship"),
        plural=_("Relationships"),
        title_field="id",
        list_columns=("from_person_id", "from_account_id", "type_id", "to_person_id",
                      "to_account_id"),
        filters=("type_id", "from_person_id", "from_account_id", "to_person_id",
                 "to_account_id"),
        sort=("start_date", "created_at"),
        fields=fields_for(Relationship),
        menu_group=None,
        icon="share",
    )
    config.add_entity_type(
        InstalledProduct,
        "installedproduct",
        primary_filters=("account_id", "product", "active"),
        title=_("Installed product"),
        plural=_("Installed base"),
        slug="installed-products",
        title_field="product",
        list_columns=("product", "serial_number", "quantity", "purchased_on", "active"),
        filters=("account_id", "person_id", "product", "serial_number", "active",
                 "purchased_on"),
        sort=("product", "purchased_on", "quantity"),
        search=("product", "serial_number"),
        fields=fields_for(InstalledProduct),
        menu_group=None,
        icon="box",
    )
    config.add_entity_type(
        Consent,
        "consent",
        primary_filters=("person_id", "channel", "status"),
        title=_("Consent"),
        plural=_("Consents"),
        title_field="channel",
        list_columns=("person_id", "channel", "status", "source", "at"),
        filters=("person_id", "channel", "status", "at"),
        sort=("at", "channel"),
        fields=fields_for(
            Consent,
            {"channel": choice(c.CHANNELS), "status": choice(c.CONSENT_STATUSES)},
        ),
        default_sort="-at",
        menu_group=None,
        icon="shield-check",
    )
    register_roles(config)


def register_roles(config):
    config.declare_permission("contacts.occasions.greet", _("Send occasion greetings"))
    sales_verbs = ("read", "create", "update", "export")
    config.add_role(
        "sales",
        _("Sales representative"),
        [
            f"contacts.{e}.{v}"
            for e in ENTITY_NAMES
            for v in sales_verbs
            if e != "relationshiptype" or v in ("read", "export")
        ]
        + ["contacts.occasions.greet"],
    )
    config.add_role(
        "manager",
        _("Sales manager"),
        [
            f"contacts.{e}.{v}"
            for e in ENTITY_NAMES
            for v in ("read", "create", "update", "delete", "export", "import", "assign")
        ]
        + ["contacts.occasions.greet"],
    )
    # Record rules: representatives see every contact and change their own; managers
    # change everything.
    for e in ENTITY_NAMES:
        config.add_record_rule(e, "sales", "read", "all")
        config.add_record_rule(e, "sales", "write", "own")
        for action in ("read", "write", "delete"):
            config.add_record_rule(e, "manager", action, "all")

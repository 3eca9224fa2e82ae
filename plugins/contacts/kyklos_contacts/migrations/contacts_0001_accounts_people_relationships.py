"""contacts: accounts, people, addresses, affiliations, relationships, installed base,
consents, greetings

Revision ID: contacts_0001
Revises:
Created: 2026-11-22
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "contacts_0001"
down_revision = None
branch_labels = ("contacts",)
depends_on = None

# Frozen copy of the default relationship types (kyklos_contacts.relations.DEFAULT_TYPES
# at the time of this revision): (code, name, inverse name, from kind, to kind).
DEFAULT_TYPES = [
    ("spouse", "spouse of", "spouse of", "person", "person"),
    ("parent", "parent of", "child of", "person", "person"),
    ("father", "father of", "son of", "person", "person"),
    ("mother", "mother of", "daughter of", "person", "person"),
    ("sibling", "sibling of", "sibling of", "person", "person"),
    ("associate", "associate of", "associate of", "any", "any"),
    ("partner", "partner of", "partner of", "any", "any"),
    ("accountant", "accountant of", "client of", "any", "any"),
    ("lawyer", "lawyer of", "client of", "any", "any"),
    ("referrer", "referred", "referred by", "any", "any"),
    ("competitor", "competitor of", "competitor of", "account", "account"),
]


def upgrade():
    op.create_table(
        "contacts_account",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=200), nullable=False),
        sa.Column("legal_form", sa.String(length=40), nullable=True),
        sa.Column("roles", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("vat_number", sa.String(length=32), nullable=True),
        sa.Column("company_id", sa.String(length=32), nullable=True),
        sa.Column("tax_office", sa.String(length=100), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("is_branch", sa.Boolean(), nullable=False),
        sa.Column("payment_terms", sa.Integer(), nullable=True),
        sa.Column("discount_level", sa.Numeric(precision=5, scale=2), nullable=True),
        sa.Column("satisfaction_level", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("invoice_partner", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "parent_id IS NULL OR parent_id <> id", name=op.f("ck_contacts_account_not_own_parent")
        ),
        sa.CheckConstraint(
            "satisfaction_level IS NULL OR satisfaction_level BETWEEN 1 AND 5",
            name=op.f("ck_contacts_account_satisfaction_range"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_account_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_account_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_account_parent_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_account_partner_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_account_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_account")),
    )
    with op.batch_alter_table("contacts_account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_account_city"), ["city"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_account_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_account_country"), ["country"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_account_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_account_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_account_name_key"), ["name_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_account_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_account_parent_id"), ["parent_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_account_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_account_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_account_source"), ["source"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_account_vat_number"), ["vat_number"], unique=False
        )

    op.create_table(
        "contacts_relationship_type",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("inverse_name", sa.String(length=100), nullable=False),
        sa.Column("from_kind", sa.String(length=10), nullable=False),
        sa.Column("to_kind", sa.String(length=10), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_relationship_type_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_relationship_type_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_relationship_type_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_relationship_type")),
        sa.UniqueConstraint("code", name=op.f("uq_contacts_relationship_type_code")),
    )
    with op.batch_alter_table("contacts_relationship_type", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_type_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "contacts_person",
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("middle_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("first_name_key", sa.String(length=100), nullable=False),
        sa.Column("last_name_key", sa.String(length=100), nullable=False),
        sa.Column("name_day_key", sa.String(length=100), nullable=False),
        sa.Column("name_prefix", sa.String(length=40), nullable=True),
        sa.Column("name_suffix", sa.String(length=40), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("salutation", sa.String(length=200), nullable=True),
        sa.Column("gender", sa.String(length=10), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_md", sa.Integer(), nullable=True),
        sa.Column("anniversary_date", sa.Date(), nullable=True),
        sa.Column("anniversary_md", sa.Integer(), nullable=True),
        sa.Column("name_day_calendar", sa.String(length=2), nullable=True),
        sa.Column("marital_status", sa.String(length=20), nullable=True),
        sa.Column("personal_id", sa.String(length=32), nullable=True),
        sa.Column("tax_id", sa.String(length=32), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("roles", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("partner_id", sa.Integer(), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("website", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_person_account_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_person_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_person_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_person_partner_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_person_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_person")),
    )
    with op.batch_alter_table("contacts_person", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_person_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_person_anniversary_md"), ["anniversary_md"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_person_birth_md"), ["birth_md"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_person_country"), ["country"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_person_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_person_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_person_first_name_key"), ["first_name_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_person_last_name"), ["last_name"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_person_last_name_key"), ["last_name_key"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_person_name_day_key"), ["name_day_key"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_person_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_person_partner_id"), ["partner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_person_personal_id"), ["personal_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_contacts_person_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_contacts_person_source"), ["source"], unique=False)

    op.create_table(
        "contacts_address",
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("city", sa.String(length=100), nullable=True),
        sa.Column("postcode", sa.String(length=20), nullable=True),
        sa.Column("region", sa.String(length=100), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(account_id IS NULL) <> (person_id IS NULL)",
            name=op.f("ck_contacts_address_one_party"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_address_account_id_contacts_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_address_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_address_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_address_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_address_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_address")),
    )
    with op.batch_alter_table("contacts_address", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_address_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_address_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_address_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "contacts_affiliation",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=200), nullable=True),
        sa.Column("department", sa.String(length=100), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_affiliation_account_id_contacts_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_affiliation_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_affiliation_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_affiliation_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_affiliation_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_affiliation")),
    )
    with op.batch_alter_table("contacts_affiliation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_affiliation_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_affiliation_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_affiliation_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "contacts_consent",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_consent_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_consent_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_consent_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_consent_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_consent")),
        sa.UniqueConstraint(
            "person_id", "channel", name=op.f("uq_contacts_consent_person_id_channel")
        ),
    )
    with op.batch_alter_table("contacts_consent", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_consent_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_consent_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "contacts_greeting",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("occasion_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("sent_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_greeting_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sent_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_greeting_sent_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_greeting")),
        sa.UniqueConstraint(
            "person_id",
            "kind",
            "occasion_date",
            "channel",
            name=op.f("uq_contacts_greeting_person_id_kind_occasion_date_channel"),
        ),
    )
    with op.batch_alter_table("contacts_greeting", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_greeting_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "contacts_installed_product",
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("product", sa.String(length=200), nullable=False),
        sa.Column("serial_number", sa.String(length=100), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("purchased_on", sa.Date(), nullable=True),
        sa.Column("warranty_until", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(account_id IS NULL) <> (person_id IS NULL)",
            name=op.f("ck_contacts_installed_product_one_party"),
        ),
        sa.CheckConstraint(
            "quantity >= 0", name=op.f("ck_contacts_installed_product_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_installed_product_account_id_contacts_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_installed_product_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_installed_product_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_installed_product_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_installed_product_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_installed_product")),
    )
    with op.batch_alter_table("contacts_installed_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_installed_product_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_installed_product_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_installed_product_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_installed_product_serial_number"),
            ["serial_number"],
            unique=False,
        )

    op.create_table(
        "contacts_person_email",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_person_email_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_person_email")),
    )
    with op.batch_alter_table("contacts_person_email", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contacts_person_email_email"), ["email"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_contacts_person_email_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "contacts_person_phone",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("is_primary", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_person_phone_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_person_phone")),
    )
    with op.batch_alter_table("contacts_person_phone", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_person_phone_number"), ["number"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_person_phone_person_id"), ["person_id"], unique=False
        )

    op.create_table(
        "contacts_person_photo",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_person_photo_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_contacts_person_photo")),
    )
    op.create_table(
        "contacts_relationship",
        sa.Column("type_id", sa.Integer(), nullable=False),
        sa.Column("from_person_id", sa.Integer(), nullable=True),
        sa.Column("from_account_id", sa.Integer(), nullable=True),
        sa.Column("to_person_id", sa.Integer(), nullable=True),
        sa.Column("to_account_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(from_person_id IS NULL) <> (from_account_id IS NULL)",
            name=op.f("ck_contacts_relationship_one_from"),
        ),
        sa.CheckConstraint(
            "(to_person_id IS NULL) <> (to_account_id IS NULL)",
            name=op.f("ck_contacts_relationship_one_to"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_relationship_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_account_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_relationship_from_account_id_contacts_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_relationship_from_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_relationship_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_account_id"],
            ["contacts_account.id"],
            name=op.f("fk_contacts_relationship_to_account_id_contacts_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_person_id"],
            ["contacts_person.id"],
            name=op.f("fk_contacts_relationship_to_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["type_id"],
            ["contacts_relationship_type.id"],
            name=op.f("fk_contacts_relationship_type_id_contacts_relationship_type"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_contacts_relationship_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts_relationship")),
    )
    with op.batch_alter_table("contacts_relationship", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_from_account_id"),
            ["from_account_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_from_person_id"), ["from_person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_owner_id"), ["owner_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_to_account_id"), ["to_account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_to_person_id"), ["to_person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_contacts_relationship_type_id"), ["type_id"], unique=False
        )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    types = sa.table(
        "contacts_relationship_type",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("inverse_name", sa.String),
        sa.column("from_kind", sa.String),
        sa.column("to_kind", sa.String),
        sa.column("active", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("custom", kyklos_sdk.JSONType),
        sa.column("created_at", sa.DateTime),
        sa.column("updated_at", sa.DateTime),
    )
    op.bulk_insert(
        types,
        [
            {
                "code": code,
                "name": name,
                "inverse_name": inverse,
                "from_kind": fk,
                "to_kind": tk,
                "active": True,
                "version": 1,
                "custom": {},
                "created_at": now,
                "updated_at": now,
            }
            for code, name, inverse, fk, tk in DEFAULT_TYPES
        ],
    )


def downgrade():
    with op.batch_alter_table("contacts_relationship", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_type_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_to_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_to_account_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_from_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_from_account_id"))

    op.drop_table("contacts_relationship")
    op.drop_table("contacts_person_photo")
    with op.batch_alter_table("contacts_person_phone", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_person_phone_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_phone_number"))

    op.drop_table("contacts_person_phone")
    with op.batch_alter_table("contacts_person_email", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_person_email_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_email_email"))

    op.drop_table("contacts_person_email")
    with op.batch_alter_table("contacts_installed_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_installed_product_serial_number"))
        batch_op.drop_index(batch_op.f("ix_contacts_installed_product_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_installed_product_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_installed_product_account_id"))

    op.drop_table("contacts_installed_product")
    with op.batch_alter_table("contacts_greeting", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_greeting_person_id"))

    op.drop_table("contacts_greeting")
    with op.batch_alter_table("contacts_consent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_consent_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_consent_owner_id"))

    op.drop_table("contacts_consent")
    with op.batch_alter_table("contacts_affiliation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_affiliation_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_affiliation_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_affiliation_account_id"))

    op.drop_table("contacts_affiliation")
    with op.batch_alter_table("contacts_address", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_address_person_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_address_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_address_account_id"))

    op.drop_table("contacts_address")
    with op.batch_alter_table("contacts_person", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_person_source"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_phone"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_personal_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_partner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_name_day_key"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_last_name_key"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_last_name"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_first_name_key"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_email"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_country"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_birth_md"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_anniversary_md"))
        batch_op.drop_index(batch_op.f("ix_contacts_person_account_id"))

    op.drop_table("contacts_person")
    with op.batch_alter_table("contacts_relationship_type", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_relationship_type_owner_id"))

    op.drop_table("contacts_relationship_type")
    with op.batch_alter_table("contacts_account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contacts_account_vat_number"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_source"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_phone"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_partner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_parent_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_owner_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_name_key"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_email"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_country"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_company_id"))
        batch_op.drop_index(batch_op.f("ix_contacts_account_city"))

    op.drop_table("contacts_account")

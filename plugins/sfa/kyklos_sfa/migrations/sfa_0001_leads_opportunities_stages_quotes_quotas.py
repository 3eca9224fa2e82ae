"""sfa: leads, scoring rules, web forms, opportunities, stages and their history,
participants, quotes and lines, quotas; seeds the default stages and loss reasons

Revision ID: sfa_0001
Revises:
Created: 2026-11-22 07:11:48.696160
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "sfa_0001"
down_revision = None
branch_labels = ("sfa",)
depends_on = None


def upgrade():
    op.create_table(
        "sfa_quote_sequence",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_sfa_quote_sequence")),
    )
    op.create_table(
        "sfa_web_form_hit",
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_web_form_hit")),
    )
    with op.batch_alter_table("sfa_web_form_hit", schema=None) as batch_op:
        batch_op.create_index("ix_sfa_web_form_hit_client_at", ["client", "at"], unique=False)

    op.create_table(
        "sfa_loss_reason",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
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
            name=op.f("fk_sfa_loss_reason_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_loss_reason_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_loss_reason_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_loss_reason")),
    )
    with op.batch_alter_table("sfa_loss_reason", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_loss_reason_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "sfa_quota",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("amount_currency", sa.String(length=3), nullable=False),
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
            name=op.f("fk_sfa_quota_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quota_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quota_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quota_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_quota")),
        sa.UniqueConstraint("user_id", "period", name="user_period"),
    )
    with op.batch_alter_table("sfa_quota", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_quota_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_quota_period_start"), ["period_start"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_quota_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sfa_scoring_rule",
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("op", sa.String(length=12), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=True),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
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
            name=op.f("fk_sfa_scoring_rule_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_scoring_rule_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_scoring_rule_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_scoring_rule")),
    )
    with op.batch_alter_table("sfa_scoring_rule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sfa_scoring_rule_owner_id"), ["owner_id"], unique=False
        )

    op.create_table(
        "sfa_stage",
        sa.Column("code", sa.String(length=40), nullable=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("expected_days", sa.Integer(), nullable=True),
        sa.Column("is_won", sa.Boolean(), nullable=False),
        sa.Column("is_lost", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.CheckConstraint("NOT (is_won AND is_lost)", name=op.f("ck_sfa_stage_won_or_lost")),
        sa.CheckConstraint(
            "probability BETWEEN 0 AND 100", name=op.f("ck_sfa_stage_probability_range")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_stage_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_stage_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_stage_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_stage")),
        sa.UniqueConstraint("code", name=op.f("uq_sfa_stage_code")),
    )
    with op.batch_alter_table("sfa_stage", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_stage_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "sfa_web_form",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("form_key", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("allowed_origin", sa.String(length=200), nullable=True),
        sa.Column("redirect_url", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("thank_you", sa.String(length=500), nullable=True),
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
            name=op.f("fk_sfa_web_form_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_web_form_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_web_form_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_web_form")),
        sa.UniqueConstraint("form_key", name=op.f("uq_sfa_web_form_form_key")),
    )
    with op.batch_alter_table("sfa_web_form", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_web_form_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "sfa_opportunity",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("amount_currency", sa.String(length=3), nullable=True),
        sa.Column("expected_close", sa.Date(), nullable=True),
        sa.Column("probability", sa.Integer(), nullable=False),
        sa.Column("probability_manual", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("loss_reason_id", sa.Integer(), nullable=True),
        sa.Column("loss_details", sa.Text(), nullable=True),
        sa.Column("won_at", kyklos_sdk.UTCDateTime(), nullable=True),
        sa.Column("lost_at", kyklos_sdk.UTCDateTime(), nullable=True),
        sa.Column("stage_entered_at", kyklos_sdk.UTCDateTime(), nullable=True),
        sa.Column("competitors", sa.Text(), nullable=True),
        sa.Column("partners", sa.Text(), nullable=True),
        sa.Column("resources", sa.Text(), nullable=True),
        sa.Column("estimated_hours", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("lead_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
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
            "probability BETWEEN 0 AND 100", name=op.f("ck_sfa_opportunity_probability_range")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["contacts_account.id"],
            name=op.f("fk_sfa_opportunity_account_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_opportunity_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["loss_reason_id"],
            ["sfa_loss_reason.id"],
            name=op.f("fk_sfa_opportunity_loss_reason_id_sfa_loss_reason"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_opportunity_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_sfa_opportunity_person_id_contacts_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["sfa_stage.id"],
            name=op.f("fk_sfa_opportunity_stage_id_sfa_stage"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_opportunity_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_opportunity")),
    )
    with op.batch_alter_table("sfa_opportunity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sfa_opportunity_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sfa_opportunity_deleted_at"), ["deleted_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sfa_opportunity_expected_close"), ["expected_close"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_opportunity_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_opportunity_loss_reason_id"), ["loss_reason_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_opportunity_lost_at"), ["lost_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_opportunity_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_opportunity_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_opportunity_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_opportunity_stage_id"), ["stage_id"], unique=False)
        batch_op.create_index(
            "ix_sfa_opportunity_status_close", ["status", "expected_close"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_opportunity_won_at"), ["won_at"], unique=False)

    op.create_table(
        "sfa_lead",
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("company", sa.String(length=200), nullable=True),
        sa.Column("job_title", sa.String(length=200), nullable=True),
        sa.Column("vat_number", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("industry", sa.String(length=100), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rating", sa.String(length=10), nullable=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("score_explanation", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("web_form_id", sa.Integer(), nullable=True),
        sa.Column("converted_at", kyklos_sdk.UTCDateTime(), nullable=True),
        sa.Column("converted_account_id", sa.Integer(), nullable=True),
        sa.Column("converted_person_id", sa.Integer(), nullable=True),
        sa.Column("converted_opportunity_id", sa.Integer(), nullable=True),
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
            ["converted_account_id"],
            ["contacts_account.id"],
            name=op.f("fk_sfa_lead_converted_account_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["converted_opportunity_id"],
            ["sfa_opportunity.id"],
            name=op.f("fk_sfa_lead_converted_opportunity_id_sfa_opportunity"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["converted_person_id"],
            ["contacts_person.id"],
            name=op.f("fk_sfa_lead_converted_person_id_contacts_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_lead_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_lead_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_lead_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["web_form_id"],
            ["sfa_web_form.id"],
            name=op.f("fk_sfa_lead_web_form_id_sfa_web_form"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_lead")),
    )
    with op.batch_alter_table("sfa_lead", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_lead_company"), ["company"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_country"), ["country"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_deleted_at"), ["deleted_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_email"), ["email"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_rating"), ["rating"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_score"), ["score"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_source"), ["source"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_lead_web_form_id"), ["web_form_id"], unique=False)

    op.create_table(
        "sfa_participant",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) <> (person_id IS NULL)",
            name=op.f("ck_sfa_participant_user_or_person"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_participant_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["sfa_opportunity.id"],
            name=op.f("fk_sfa_participant_opportunity_id_sfa_opportunity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_participant_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_sfa_participant_person_id_contacts_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_participant_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_participant_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_participant")),
    )
    with op.batch_alter_table("sfa_participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sfa_participant_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_participant_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_participant_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_participant_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sfa_quote",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("opportunity_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("variant", sa.String(length=10), nullable=False),
        sa.Column("based_on_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("net_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("tax_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=18, scale=2), nullable=False),
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
            name=op.f("fk_sfa_quote_account_id_contacts_account"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["based_on_id"],
            ["sfa_quote.id"],
            name=op.f("fk_sfa_quote_based_on_id_sfa_quote"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quote_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["sfa_opportunity.id"],
            name=op.f("fk_sfa_quote_opportunity_id_sfa_opportunity"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quote_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["contacts_person.id"],
            name=op.f("fk_sfa_quote_person_id_contacts_person"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quote_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_quote")),
        sa.UniqueConstraint("year", "seq", "revision", "variant", name="number_revision_variant"),
    )
    with op.batch_alter_table("sfa_quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_quote_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_quote_based_on_id"), ["based_on_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_quote_number"), ["number"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_quote_opportunity_id"), ["opportunity_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_quote_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_quote_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_quote_status"), ["status"], unique=False)

    op.create_table(
        "sfa_stage_change",
        sa.Column("opportunity_id", sa.Integer(), nullable=False),
        sa.Column("from_stage_id", sa.Integer(), nullable=True),
        sa.Column("to_stage_id", sa.Integer(), nullable=True),
        sa.Column("at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["from_stage_id"],
            ["sfa_stage.id"],
            name=op.f("fk_sfa_stage_change_from_stage_id_sfa_stage"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["sfa_opportunity.id"],
            name=op.f("fk_sfa_stage_change_opportunity_id_sfa_opportunity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_stage_id"],
            ["sfa_stage.id"],
            name=op.f("fk_sfa_stage_change_to_stage_id_sfa_stage"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_stage_change_user_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_stage_change")),
    )
    with op.batch_alter_table("sfa_stage_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_stage_change_at"), ["at"], unique=False)
        batch_op.create_index("ix_sfa_stage_change_opp_at", ["opportunity_id", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sfa_stage_change_to_stage_id"), ["to_stage_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sfa_stage_change_user_id"), ["user_id"], unique=False)

    op.create_table(
        "sfa_quote_line",
        sa.Column("quote_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("quantity", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("unit_price", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("discount_percent", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("tax_rate", sa.Numeric(precision=5, scale=2), nullable=False),
        sa.Column("line_total", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "discount_percent BETWEEN 0 AND 100", name=op.f("ck_sfa_quote_line_discount_range")
        ),
        sa.CheckConstraint("tax_rate BETWEEN 0 AND 100", name=op.f("ck_sfa_quote_line_tax_range")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quote_line_created_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quote_line_owner_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["quote_id"],
            ["sfa_quote.id"],
            name=op.f("fk_sfa_quote_line_quote_id_sfa_quote"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_sfa_quote_line_updated_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sfa_quote_line")),
    )
    with op.batch_alter_table("sfa_quote_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sfa_quote_line_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sfa_quote_line_quote_id"), ["quote_id"], unique=False)

    _seed()


# Frozen copies of kyklos_sfa.pipeline.DEFAULT_STAGES / DEFAULT_LOSS_REASONS at the time of
# this revision: (code, name, probability, expected days, won, lost).
STAGES = [
    ("qualification", "Qualification", 10, 14, False, False),
    ("needs_analysis", "Needs analysis", 20, 21, False, False),
    ("offer_sent", "Offer sent", 30, 14, False, False),
    ("negotiation", "Negotiation", 50, 21, False, False),
    ("offer_accepted", "Offer accepted", 70, 14, False, False),
    ("contract_signed", "Contract signed", 100, None, True, False),
    ("lost", "Lost", 0, None, False, True),
]
LOSS_REASONS = ["Price", "Competitor", "No budget", "No decision", "Timing", "Other"]


def _seed():
    now = dt.datetime.now(dt.UTC)
    common = {"version": 1, "custom": {}, "created_at": now, "updated_at": now}
    stage = sa.table(
        "sfa_stage",
        sa.column("code", sa.String),
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
        sa.column("probability", sa.Integer),
        sa.column("expected_days", sa.Integer),
        sa.column("is_won", sa.Boolean),
        sa.column("is_lost", sa.Boolean),
        sa.column("active", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("custom", kyklos_sdk.JSONType()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    op.bulk_insert(
        stage,
        [
            {
                "code": c,
                "name": n,
                "position": (i + 1) * 10,
                "probability": p,
                "expected_days": d,
                "is_won": w,
                "is_lost": lost,
                "active": True,
                **common,
            }
            for i, (c, n, p, d, w, lost) in enumerate(STAGES)
        ],
    )
    reason = sa.table(
        "sfa_loss_reason",
        sa.column("name", sa.String),
        sa.column("position", sa.Integer),
        sa.column("active", sa.Boolean),
        sa.column("version", sa.Integer),
        sa.column("custom", kyklos_sdk.JSONType()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    op.bulk_insert(
        reason,
        [
            {"name": n, "position": (i + 1) * 10, "active": True, **common}
            for i, n in enumerate(LOSS_REASONS)
        ],
    )


def downgrade():
    with op.batch_alter_table("sfa_quote_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_quote_line_quote_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_line_owner_id"))

    op.drop_table("sfa_quote_line")
    with op.batch_alter_table("sfa_stage_change", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_stage_change_user_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_stage_change_to_stage_id"))
        batch_op.drop_index("ix_sfa_stage_change_opp_at")
        batch_op.drop_index(batch_op.f("ix_sfa_stage_change_at"))

    op.drop_table("sfa_stage_change")
    with op.batch_alter_table("sfa_quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_quote_status"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_person_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_opportunity_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_number"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_based_on_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_quote_account_id"))

    op.drop_table("sfa_quote")
    with op.batch_alter_table("sfa_participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_participant_user_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_participant_person_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_participant_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_participant_opportunity_id"))

    op.drop_table("sfa_participant")
    with op.batch_alter_table("sfa_lead", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_lead_web_form_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_status"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_source"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_score"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_rating"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_email"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_country"))
        batch_op.drop_index(batch_op.f("ix_sfa_lead_company"))

    op.drop_table("sfa_lead")
    with op.batch_alter_table("sfa_opportunity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_won_at"))
        batch_op.drop_index("ix_sfa_opportunity_status_close")
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_stage_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_source"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_person_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_owner_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_lost_at"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_loss_reason_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_lead_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_expected_close"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_deleted_at"))
        batch_op.drop_index(batch_op.f("ix_sfa_opportunity_account_id"))

    op.drop_table("sfa_opportunity")
    with op.batch_alter_table("sfa_web_form", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_web_form_owner_id"))

    op.drop_table("sfa_web_form")
    with op.batch_alter_table("sfa_stage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_stage_owner_id"))

    op.drop_table("sfa_stage")
    with op.batch_alter_table("sfa_scoring_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_scoring_rule_owner_id"))

    op.drop_table("sfa_scoring_rule")
    with op.batch_alter_table("sfa_quota", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_quota_user_id"))
        batch_op.drop_index(batch_op.f("ix_sfa_quota_period_start"))
        batch_op.drop_index(batch_op.f("ix_sfa_quota_owner_id"))

    op.drop_table("sfa_quota")
    with op.batch_alter_table("sfa_loss_reason", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sfa_loss_reason_owner_id"))

    op.drop_table("sfa_loss_reason")
    with op.batch_alter_table("sfa_web_form_hit", schema=None) as batch_op:
        batch_op.drop_index("ix_sfa_web_form_hit_client_at")

    op.drop_table("sfa_web_form_hit")
    op.drop_table("sfa_quote_sequence")

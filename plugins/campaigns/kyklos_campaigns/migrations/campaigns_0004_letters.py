"""letters (MKT-07, MKT-10): Word letter templates, a campaign's letter template, and
the letters made for a campaign (a ZIP of documents and a CSV of addresses)

Revision ID: campaigns_0004
Revises: campaigns_0003
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "campaigns_0004"
down_revision = "campaigns_0003"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"


def _count(name):
    return sa.Column(name, sa.Integer(), nullable=False, server_default="0")


def upgrade():
    op.create_table(
        "campaigns_lettertemplate",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("filename", sa.String(250), nullable=False),
        sa.Column("merge_fields", sa.Text()),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("name", "language", name="campaigns_letter_lang"),
    )
    op.create_table(
        "campaigns_letterfile",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "template_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_lettertemplate.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_table(
        "campaigns_letterrun",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_campaign.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("job_id", sa.String(64), index=True),
        sa.Column("created_at", kyklos_sdk.UTCDateTime()),
        _count("recipients"),
        _count("documents"),
        _count("failed"),
        _count("excluded_consent"),
        _count("excluded_duplicate"),
        _count("excluded_suppressed"),
        _count("excluded_no_address"),
        sa.Column("archive", sa.LargeBinary()),
        sa.Column("addresses_csv", sa.Text()),
    )
    with op.batch_alter_table("campaigns_campaign") as batch:
        batch.add_column(sa.Column("letter_template_id", sa.Integer()))
        batch.create_foreign_key(
            "fk_campaigns_campaign_letter_template",
            "campaigns_lettertemplate",
            ["letter_template_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch.create_index("ix_campaigns_campaign_letter_template_id", ["letter_template_id"])


def downgrade():
    with op.batch_alter_table("campaigns_campaign") as batch:
        batch.drop_index("ix_campaigns_campaign_letter_template_id")
        batch.drop_constraint("fk_campaigns_campaign_letter_template", type_="foreignkey")
        batch.drop_column("letter_template_id")
    op.drop_table("campaigns_letterrun")
    op.drop_table("campaigns_letterfile")
    op.drop_table("campaigns_lettertemplate")

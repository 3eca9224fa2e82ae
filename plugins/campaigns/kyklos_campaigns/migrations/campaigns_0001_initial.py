"""initial: target lists and their members, the suppression list, e-mail templates,
campaigns and their recipients (the outbox)

Revision ID: campaigns_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "campaigns_0001"
down_revision = None
branch_labels = ("campaigns",)
depends_on = None

USER = "kyklos_user.id"


def _entity_columns():
    """The columns EntityMixin gives every entity table."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def _fk(name, target, ondelete, nullable=True):
    return sa.Column(
        name, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True
    )


def _excluded():
    return [
        sa.Column(n, sa.Integer(), nullable=False, server_default="0")
        for n in (
            "excluded_consent",
            "excluded_duplicate",
            "excluded_suppressed",
            "excluded_no_address",
        )
    ]


def upgrade():
    op.create_table(
        "campaigns_targetlist",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        _fk("segment_id", "kyklos_segment.id", "SET NULL"),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("built_at", kyklos_sdk.UTCDateTime()),
        sa.Column("member_count", sa.Integer(), nullable=False, server_default="0"),
        *_excluded(),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        *_entity_columns(),
    )
    op.create_table(
        "campaigns_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("list_id", "campaigns_targetlist.id", "CASCADE", nullable=False),
        _fk("person_id", "contacts_person.id", "CASCADE", nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        *_entity_columns(),
        sa.UniqueConstraint("list_id", "person_id", name="campaigns_member_once"),
    )
    op.create_table(
        "campaigns_suppression",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("address", sa.String(254), nullable=False, unique=True),
        sa.Column("reason", sa.String(250)),
        *_entity_columns(),
    )
    op.create_table(
        "campaigns_template",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("language", sa.String(5), nullable=False),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text()),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        *_entity_columns(),
        sa.UniqueConstraint("name", "language", name="campaigns_template_lang"),
    )
    op.create_table(
        "campaigns_campaign",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        _fk("list_id", "campaigns_targetlist.id", "RESTRICT"),
        _fk("template_id", "campaigns_template.id", "RESTRICT"),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("scheduled_at", kyklos_sdk.UTCDateTime()),
        sa.Column("throttle_per_minute", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("cost", sa.Numeric(18, 2)),
        sa.Column("cost_currency", sa.String(3)),
        sa.Column("started_at", kyklos_sdk.UTCDateTime()),
        sa.Column("finished_at", kyklos_sdk.UTCDateTime()),
        *_excluded(),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        *_entity_columns(),
    )
    op.create_table(
        "campaigns_recipient",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("campaign_id", "campaigns_campaign.id", "CASCADE", nullable=False),
        _fk("person_id", "contacts_person.id", "CASCADE", nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("state", sa.String(10), nullable=False, index=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claimed_at", kyklos_sdk.UTCDateTime()),
        sa.Column("message_id", sa.String(255)),
        sa.Column("error", sa.String(500)),
        sa.Column("sent_at", kyklos_sdk.UTCDateTime()),
        sa.Column("opened_at", kyklos_sdk.UTCDateTime()),
        sa.Column("clicked_at", kyklos_sdk.UTCDateTime()),
        sa.Column("unsubscribed_at", kyklos_sdk.UTCDateTime()),
        sa.Column("response", sa.String(12), index=True),
        sa.Column("responded_at", kyklos_sdk.UTCDateTime()),
        sa.Column("lead_id", sa.Integer()),
        *_entity_columns(),
        sa.UniqueConstraint("campaign_id", "person_id", name="campaigns_recipient_once"),
    )


def downgrade():
    for table in (
        "campaigns_recipient",
        "campaigns_campaign",
        "campaigns_template",
        "campaigns_suppression",
        "campaigns_member",
        "campaigns_targetlist",
    ):
        op.drop_table(table)

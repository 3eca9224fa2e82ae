"""drip sequences (MKT-05, MKT-07, MKT-11): sequences, their steps, the people enrolled
and the steps done for each person (once)

Revision ID: campaigns_0005
Revises: campaigns_0004
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "campaigns_0005"
down_revision = "campaigns_0004"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"


def _entity():
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "campaigns_sequence",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "list_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_targetlist.id", ondelete="RESTRICT"),
            index=True,
        ),
        sa.Column("status", sa.String(10), nullable=False, index=True),
        sa.Column("throttle_per_minute", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("started_at", kyklos_sdk.UTCDateTime()),
        sa.Column("started_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        *_entity(),
    )
    op.create_table(
        "campaigns_sequencestep",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "sequence_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_sequence.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column(
            "template_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_template.id", ondelete="RESTRICT"),
            index=True,
        ),
        sa.Column(
            "letter_template_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_lettertemplate.id", ondelete="RESTRICT"),
            index=True,
        ),
        sa.Column("channel", sa.String(20)),
        sa.Column("message", sa.Text()),
        sa.Column("subject", sa.String(300)),
        sa.Column("due_days", sa.Integer()),
        sa.Column("wait_amount", sa.Integer()),
        sa.Column("wait_unit", sa.String(10)),
        sa.Column("condition", sa.String(20)),
        sa.Column("otherwise", sa.String(10)),
        sa.Column(
            "jump_step_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_sequencestep.id", ondelete="SET NULL"),
        ),
        sa.Column(
            "campaign_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_campaign.id", ondelete="SET NULL"),
            index=True,
        ),
        *_entity(),
    )
    op.create_table(
        "campaigns_enrolment",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "sequence_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_sequence.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(250), nullable=False),
        sa.Column("state", sa.String(10), nullable=False, index=True),
        sa.Column(
            "step_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_sequencestep.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("next_at", kyklos_sdk.UTCDateTime(), index=True),
        sa.Column("finished_at", kyklos_sdk.UTCDateTime()),
        *_entity(),
        sa.UniqueConstraint("sequence_id", "person_id", name="campaigns_enrol_once"),
    )
    op.create_table(
        "campaigns_steprun",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "sequence_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_sequence.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "step_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_sequencestep.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "enrolment_id",
            sa.Integer(),
            sa.ForeignKey("campaigns_enrolment.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("ran_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("detail", sa.String(500)),
        sa.UniqueConstraint("enrolment_id", "step_id", name="campaigns_steprun_once"),
    )


def downgrade():
    op.drop_table("campaigns_steprun")
    op.drop_table("campaigns_enrolment")
    op.drop_table("campaigns_sequencestep")
    op.drop_table("campaigns_sequence")

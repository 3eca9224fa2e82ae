"""SLA (HD-03/04): business hours, SLA policies, a team's business hours, a case's
policy and due times

Revision ID: helpdesk_0002
Revises: helpdesk_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0002"
down_revision = "helpdesk_0001"
branch_labels = None
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


def upgrade():
    op.create_table(
        "helpdesk_businesshours",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("country", sa.String(2)),
        sa.Column("opens", sa.String(5), nullable=False),
        sa.Column("closes", sa.String(5), nullable=False),
        *[
            sa.Column(day, sa.Boolean(), nullable=False)
            for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        ],
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_slapolicy",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("priority", sa.String(10)),
        sa.Column(
            "type_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_casetype.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("first_response_hours", sa.Numeric(8, 2)),
        sa.Column("resolution_hours", sa.Numeric(8, 2)),
        *_entity_columns(),
    )
    with op.batch_alter_table("helpdesk_team") as batch:
        batch.add_column(sa.Column("hours_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_helpdesk_team_hours_id",
            "helpdesk_businesshours",
            ["hours_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_helpdesk_team_hours_id", ["hours_id"])
    with op.batch_alter_table("helpdesk_case") as batch:
        batch.add_column(sa.Column("sla_policy_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("first_response_due", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("first_response_at", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("resolution_due", kyklos_sdk.UTCDateTime()))
        batch.add_column(sa.Column("sla_paused_minutes", sa.Integer()))
        batch.create_foreign_key(
            "fk_helpdesk_case_sla_policy_id",
            "helpdesk_slapolicy",
            ["sla_policy_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_helpdesk_case_sla_policy_id", ["sla_policy_id"])
        batch.create_index("ix_helpdesk_case_first_response_due", ["first_response_due"])
        batch.create_index("ix_helpdesk_case_resolution_due", ["resolution_due"])


def downgrade():
    with op.batch_alter_table("helpdesk_case") as batch:
        batch.drop_index("ix_helpdesk_case_resolution_due")
        batch.drop_index("ix_helpdesk_case_first_response_due")
        batch.drop_index("ix_helpdesk_case_sla_policy_id")
        batch.drop_constraint("fk_helpdesk_case_sla_policy_id", type_="foreignkey")
        for name in (
            "sla_paused_minutes",
            "resolution_due",
            "first_response_at",
            "first_response_due",
            "sla_policy_id",
        ):
            batch.drop_column(name)
    with op.batch_alter_table("helpdesk_team") as batch:
        batch.drop_index("ix_helpdesk_team_hours_id")
        batch.drop_constraint("fk_helpdesk_team_hours_id", type_="foreignkey")
        batch.drop_column("hours_id")
    op.drop_table("helpdesk_slapolicy")
    op.drop_table("helpdesk_businesshours")

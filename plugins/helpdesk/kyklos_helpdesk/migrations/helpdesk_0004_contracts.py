"""support contracts with a bank of hours or call units (HD-07..10), time spent on
cases, a case's contract

Revision ID: helpdesk_0004
Revises: helpdesk_0003
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0004"
down_revision = "helpdesk_0003"
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
        "helpdesk_contract",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("contacts_account.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), index=True),
        sa.Column("renewal", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(10), nullable=False),
        sa.Column("quantity", sa.Numeric(10, 2), nullable=False),
        sa.Column("used", sa.Numeric(10, 2), nullable=False),
        sa.Column("overage", sa.String(10), nullable=False),
        sa.Column(
            "sla_policy_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_slapolicy.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("notes", sa.Text()),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_timeentry",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_case.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "contract_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_contract.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("spent_on", sa.Date(), nullable=False, index=True),
        sa.Column("quantity", sa.Numeric(8, 2), nullable=False),
        sa.Column("note", sa.String(250)),
        sa.Column("overage", sa.Boolean(), nullable=False),
        *_entity_columns(),
    )
    with op.batch_alter_table("helpdesk_case") as batch:
        batch.add_column(sa.Column("contract_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_helpdesk_case_contract_id",
            "helpdesk_contract",
            ["contract_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_helpdesk_case_contract_id", ["contract_id"])


def downgrade():
    with op.batch_alter_table("helpdesk_case") as batch:
        batch.drop_index("ix_helpdesk_case_contract_id")
        batch.drop_constraint("fk_helpdesk_case_contract_id", type_="foreignkey")
        batch.drop_column("contract_id")
    op.drop_table("helpdesk_timeentry")
    op.drop_table("helpdesk_contract")

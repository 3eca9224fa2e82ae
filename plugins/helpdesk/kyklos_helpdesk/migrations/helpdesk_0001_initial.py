"""initial: case types (seeded), support teams and members, assignment rules, cases,
case numbers, related cases

Revision ID: helpdesk_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0001"
down_revision = None
branch_labels = ("helpdesk",)
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


#: the seeded case types (frozen copy of what the plugin ships)
TYPES = [
    ("complaint", "Complaint"),
    ("request", "Request"),
    ("incident", "Incident"),
    ("question", "Question"),
]


def upgrade():
    op.create_table(
        "helpdesk_casetype",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_team",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("lead_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("email", sa.String(254)),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("last_assigned_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_teammember",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_team.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey(USER, ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        *_entity_columns(),
        sa.UniqueConstraint("team_id", "user_id", name="helpdesk_teammember_once"),
    )
    op.create_table(
        "helpdesk_assignmentrule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column(
            "type_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_casetype.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_product.id", ondelete="CASCADE"),
            index=True,
        ),
        sa.Column("country", sa.String(2)),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_team.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("assignee_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_case_sequence",
        sa.Column("year", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.create_table(
        "helpdesk_case",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(30), unique=True),
        sa.Column("subject", sa.String(250), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column(
            "type_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_casetype.id", ondelete="RESTRICT"),
            index=True,
        ),
        sa.Column("priority", sa.String(10), nullable=False, index=True),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column(
            "account_id",
            sa.Integer(),
            sa.ForeignKey("contacts_account.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "product_id",
            sa.Integer(),
            sa.ForeignKey("catalog_product.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("serial_number", sa.String(100), index=True),
        sa.Column(
            "team_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_team.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("from_email", sa.String(254)),
        sa.Column("message_id", sa.String(255), unique=True),
        sa.Column(
            "merged_into_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_case.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("resolved_at", kyklos_sdk.UTCDateTime()),
        sa.Column("closed_at", kyklos_sdk.UTCDateTime()),
        sa.Column("deleted_at", kyklos_sdk.UTCDateTime(), index=True),
        *_entity_columns(),
    )
    op.create_table(
        "helpdesk_caselink",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "case_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_case.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "related_id",
            sa.Integer(),
            sa.ForeignKey("helpdesk_case.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("note", sa.String(250)),
        sa.Column("title", sa.String(300), nullable=False),
        *_entity_columns(),
        sa.UniqueConstraint("case_id", "related_id", name="helpdesk_caselink_once"),
        sa.CheckConstraint("case_id <> related_id", name="not_itself"),
    )
    now = kyklos_sdk.utcnow()
    table = sa.table(
        "helpdesk_casetype",
        sa.column("code"),
        sa.column("name"),
        sa.column("position"),
        sa.column("active"),
        sa.column("version"),
        sa.column("custom", kyklos_sdk.JSONType()),
        sa.column("created_at", kyklos_sdk.UTCDateTime()),
        sa.column("updated_at", kyklos_sdk.UTCDateTime()),
    )
    op.bulk_insert(
        table,
        [
            {
                "code": code,
                "name": name,
                "position": pos,
                "active": True,
                "version": 1,
                "custom": {},
                "created_at": now,
                "updated_at": now,
            }
            for pos, (code, name) in enumerate(TYPES)
        ],
    )


def downgrade():
    for name in (
        "helpdesk_caselink",
        "helpdesk_case",
        "helpdesk_case_sequence",
        "helpdesk_assignmentrule",
        "helpdesk_teammember",
        "helpdesk_team",
        "helpdesk_casetype",
    ):
        op.drop_table(name)

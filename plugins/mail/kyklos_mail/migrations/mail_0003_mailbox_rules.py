"""mail: mailbox rules (ACT-15) and the rule that applied to each message

Revision ID: mail_0003
Revises: mail_0002
Created: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0003"
down_revision = "mail_0002"
branch_labels = None
depends_on = None

USER = "kyklos_user.id"


def upgrade():
    op.create_table(
        "mail_rule",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("owner_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL"), index=True),
        sa.Column("created_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("updated_by_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column(
            "mailbox_id",
            sa.Integer(),
            sa.ForeignKey("mail_mailbox.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("from_contains", sa.String(254)),
        sa.Column("to_contains", sa.String(254)),
        sa.Column("subject_contains", sa.String(200)),
        sa.Column("has_attachment", sa.String(3)),
        sa.Column(
            "file_person_id",
            sa.Integer(),
            sa.ForeignKey("contacts_person.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "file_account_id",
            sa.Integer(),
            sa.ForeignKey("contacts_account.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("assign_to_id", sa.Integer(), sa.ForeignKey(USER, ondelete="SET NULL")),
        sa.Column("skip_filing", sa.Boolean(), nullable=False),
        sa.Column("make_private", sa.Boolean(), nullable=False),
        sa.Column("open_case", sa.Boolean(), nullable=False),
    )
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rule_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_mail_message_rule_id_mail_rule",
            "mail_rule",
            ["rule_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch_op.create_index("ix_mail_message_rule_id", ["rule_id"])


def downgrade():
    with op.batch_alter_table("mail_message", schema=None) as batch_op:
        batch_op.drop_index("ix_mail_message_rule_id")
        batch_op.drop_constraint("fk_mail_message_rule_id_mail_rule", type_="foreignkey")
        batch_op.drop_column("rule_id")
    op.drop_table("mail_rule")

"""initial: mailboxes, messages, the ledger and filings

Revision ID: mail_0001
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0001"
down_revision = None
branch_labels = ("mail",)
depends_on = None


def _entity_columns():
    """The columns EntityMixin gives every entity table."""
    return [
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("custom", kyklos_sdk.JSONType(), nullable=False),
        sa.Column(
            "owner_id",
            sa.Integer(),
            sa.ForeignKey("kyklos_user.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column(
            "created_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column(
            "updated_by_id", sa.Integer(), sa.ForeignKey("kyklos_user.id", ondelete="SET NULL")
        ),
        sa.Column("created_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.Column("updated_at", kyklos_sdk.UTCDateTime(), nullable=False),
    ]


def upgrade():
    op.create_table(
        "mail_mailbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("address", sa.String(254), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("imap_host", sa.String(200), nullable=False),
        sa.Column("imap_port", sa.Integer(), nullable=False),
        sa.Column("imap_security", sa.String(10), nullable=False),
        sa.Column("username", sa.String(254), nullable=False),
        sa.Column("password_secret", sa.Text(), nullable=False),
        sa.Column("folder", sa.String(200), nullable=False),
        sa.Column("smtp_host", sa.String(200)),
        sa.Column("smtp_port", sa.Integer(), nullable=False),
        sa.Column("smtp_security", sa.String(10), nullable=False),
        sa.Column("file_by_domain", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("last_error", sa.Text()),
        sa.Column("last_checked_at", kyklos_sdk.UTCDateTime()),
        sa.Column("uidvalidity", sa.Integer()),
        sa.Column("last_uid", sa.Integer(), nullable=False),
        *_entity_columns(),
    )
    op.create_table(
        "mail_message",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "mailbox_id",
            sa.Integer(),
            sa.ForeignKey("mail_mailbox.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("in_reply_to", sa.String(300)),
        sa.Column("references", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("thread_key", sa.String(300), nullable=False, index=True),
        sa.Column("subject", sa.String(998), nullable=False),
        sa.Column("sender", sa.String(400), nullable=False),
        sa.Column("recipients", sa.Text(), nullable=False),
        sa.Column("sent_at", kyklos_sdk.UTCDateTime(), index=True),
        sa.Column("body_text", sa.Text()),
        sa.Column("body_html", sa.Text()),
        sa.Column("attachments", kyklos_sdk.JSONType(), nullable=False),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        *_entity_columns(),
    )
    op.create_index("ix_mail_message_msgid", "mail_message", ["message_id"])
    op.create_table(
        "mail_ledger",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "mailbox_id",
            sa.Integer(),
            sa.ForeignKey("mail_mailbox.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("uidvalidity", sa.Integer(), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(300), nullable=False),
        sa.Column("outcome", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column(
            "mail_id",
            sa.Integer(),
            sa.ForeignKey("mail_message.id", ondelete="SET NULL"),
            index=True,
        ),
        sa.Column("recorded_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("mailbox_id", "uidvalidity", "uid", name="uq_mail_uid"),
    )
    op.create_table(
        "mail_filing",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "mail_id",
            sa.Integer(),
            sa.ForeignKey("mail_message.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("entity", sa.String(60), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("how", sa.String(20), nullable=False),
        sa.Column("filed_at", kyklos_sdk.UTCDateTime(), nullable=False),
        sa.UniqueConstraint("mail_id", "entity", "record_id", name="uq_mail_filing"),
    )
    op.create_index("ix_mail_filing_record", "mail_filing", ["entity", "record_id"])


def downgrade():
    op.drop_index("ix_mail_filing_record", table_name="mail_filing")
    op.drop_table("mail_filing")
    op.drop_table("mail_ledger")
    op.drop_index("ix_mail_message_msgid", table_name="mail_message")
    op.drop_table("mail_message")
    op.drop_table("mail_mailbox")

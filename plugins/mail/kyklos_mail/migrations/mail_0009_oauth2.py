"""mail: OAuth2 mailboxes (a provider preset or its URLs, the client, the tokens
encrypted like the password, an authorization in progress)

Revision ID: mail_0009
Revises: mail_0008
Created: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "mail_0009"
down_revision = "mail_0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("mail_mailbox", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("auth_method", sa.String(10), nullable=False, server_default="password")
        )
        batch_op.add_column(sa.Column("oauth_provider", sa.String(20)))
        batch_op.add_column(sa.Column("oauth_authorize_url", sa.String(500)))
        batch_op.add_column(sa.Column("oauth_token_url", sa.String(500)))
        batch_op.add_column(sa.Column("oauth_client_id", sa.String(300)))
        batch_op.add_column(sa.Column("oauth_scopes", sa.String(500)))
        for name in ("oauth_client_secret", "oauth_tokens", "oauth_pending"):
            batch_op.add_column(sa.Column(name, sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("oauth_expires_at", kyklos_sdk.UTCDateTime()))


def downgrade():
    with op.batch_alter_table("mail_mailbox", schema=None) as batch_op:
        for name in (
            "oauth_expires_at",
            "oauth_pending",
            "oauth_tokens",
            "oauth_client_secret",
            "oauth_scopes",
            "oauth_client_id",
            "oauth_token_url",
            "oauth_authorize_url",
            "oauth_provider",
            "auth_method",
        ):
            batch_op.drop_column(name)

"""parts and labour used on cases and maintenance visits (HD-12); release notices
become claims (state, job, when claimed, error; the address lower-cased, the unique
key two concurrent senders meet)

Revision ID: helpdesk_0010
Revises: helpdesk_0009
"""

import sqlalchemy as sa
from alembic import op

import kyklos_sdk

revision = "helpdesk_0010"
down_revision = "helpdesk_0009"
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


def _fk(target, ondelete="CASCADE", nullable=True, name=None):
    return sa.Column(
        name,
        sa.Integer(),
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=True,
    )


def upgrade():
    op.create_table(
        "helpdesk_partusage",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("helpdesk_case.id", name="case_id"),
        _fk("activities_activity.id", name="visit_id"),
        _fk("contacts_account.id", "SET NULL", name="account_id"),
        _fk("catalog_product.id", "RESTRICT", nullable=False, name="product_id"),
        sa.Column("serial_number", sa.String(100), index=True),
        sa.Column("used_on", sa.Date(), nullable=False, index=True),
        sa.Column("quantity", sa.Numeric(12, 3), nullable=False),
        sa.Column("unit_cost", sa.Numeric(18, 2)),
        sa.Column("unit_cost_currency", sa.String(3)),
        sa.Column("labour_hours", sa.Numeric(8, 2), nullable=False),
        sa.Column("labour_rate", sa.Numeric(18, 2)),
        sa.Column("labour_rate_currency", sa.String(3)),
        sa.Column("total", sa.Numeric(18, 2)),
        sa.Column("total_currency", sa.String(3)),
        sa.Column("warranty", sa.String(10), nullable=False),
        sa.Column("billable", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(250)),
        *_entity_columns(),
    )
    notice = sa.table(
        "helpdesk_release_notice",
        sa.column("id", sa.Integer()),
        sa.column("release_id", sa.Integer()),
        sa.column("email", sa.String()),
    )
    conn = op.get_bind()
    # the claims' key is the lower-cased address: an address told twice in two cases
    # ("Maria@x", "maria@x") keeps its first notice
    seen, drop, lower = set(), [], []
    for row in conn.execute(sa.select(notice).order_by(notice.c.id)).all():
        key = (row.release_id, row.email.strip().lower())
        if key in seen:
            drop.append(row.id)
            continue
        seen.add(key)
        if key[1] != row.email:
            lower.append((row.id, key[1]))
    # the duplicates go first: a row lower-cased before would meet them under the key
    if drop:
        conn.execute(sa.delete(notice).where(notice.c.id.in_(drop)))
    for row_id, email in lower:
        conn.execute(sa.update(notice).where(notice.c.id == row_id).values(email=email))
    with op.batch_alter_table("helpdesk_release_notice") as batch:
        batch.add_column(sa.Column("state", sa.String(10), nullable=False, server_default="sent"))
        batch.add_column(sa.Column("job_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("claimed_at", kyklos_sdk.UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("error", sa.String(500), nullable=True))
        batch.alter_column("sent_at", existing_type=kyklos_sdk.UTCDateTime(), nullable=True)


def downgrade():
    op.execute("DELETE FROM helpdesk_release_notice WHERE state <> 'sent'")
    with op.batch_alter_table("helpdesk_release_notice") as batch:
        batch.alter_column("sent_at", existing_type=kyklos_sdk.UTCDateTime(), nullable=False)
        for name in ("error", "claimed_at", "job_id", "state"):
            batch.drop_column(name)
    op.drop_table("helpdesk_partusage")

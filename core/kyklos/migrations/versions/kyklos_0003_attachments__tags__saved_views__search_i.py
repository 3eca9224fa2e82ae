"""attachments, tags, saved views, search index

Revision ID: kyklos_0003
Revises: kyklos_0002
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

import kyklos.db

revision = "kyklos_0003"
down_revision = "kyklos_0002"
branch_labels = None
depends_on = None

# Keep in step with kyklos.entities.search (PG_VECTOR, SQLITE_TRIGRAM).
PG_VECTOR = "to_tsvector('simple', kyklos_search.title || ' ' || kyklos_search.body)"


def upgrade():
    op.create_table(
        "kyklos_attachment",
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_attachment_uploaded_by_id_kyklos_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_attachment")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_kyklos_attachment_storage_key")),
    )
    op.create_index(
        "ix_kyklos_attachment_record", "kyklos_attachment", ["entity", "record_id"], unique=False
    )

    op.create_table(
        "kyklos_tag",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=192), nullable=False),
        sa.Column("colour", sa.String(length=16), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_tag")),
        sa.UniqueConstraint("key", name=op.f("uq_kyklos_tag_key")),
    )
    op.create_table(
        "kyklos_tag_link",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tag_id"],
            ["kyklos_tag.id"],
            name=op.f("fk_kyklos_tag_link_tag_id_kyklos_tag"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tag_id", "entity", "record_id", name=op.f("pk_kyklos_tag_link")),
    )
    op.create_index(
        "ix_kyklos_tag_link_record", "kyklos_tag_link", ["entity", "record_id"], unique=False
    )

    op.create_table(
        "kyklos_saved_view",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("params", kyklos.db.JSONType(), nullable=False),
        sa.Column("shared", sa.Boolean(), nullable=False),
        sa.Column("created_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["kyklos_user.id"],
            name=op.f("fk_kyklos_saved_view_user_id_kyklos_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_saved_view")),
    )
    op.create_index(
        "ix_kyklos_saved_view_entity", "kyklos_saved_view", ["entity", "user_id"], unique=False
    )

    op.create_table(
        "kyklos_search",
        sa.Column("entity", sa.String(length=64), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", kyklos.db.UTCDateTime(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kyklos_search")),
        sa.UniqueConstraint("entity", "record_id", name=op.f("uq_kyklos_search_entity_record_id")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(f"CREATE INDEX ix_kyklos_search_fulltext ON kyklos_search USING gin ({PG_VECTOR})")
        op.execute(
            "CREATE INDEX ix_kyklos_search_title_trgm ON kyklos_search "
            "USING gin (title gin_trgm_ops)"
        )
    elif dialect == "sqlite":
        # An external-content FTS5 table over kyklos_search, kept in step by triggers.
        tokenizer = "trigram" if sqlite3.sqlite_version_info >= (3, 34, 0) else "unicode61"
        op.execute(
            "CREATE VIRTUAL TABLE kyklos_search_fts USING fts5(title, body, "
            f"content='kyklos_search', content_rowid='id', tokenize='{tokenizer}')"
        )
        op.execute(
            "CREATE TRIGGER kyklos_search_ai AFTER INSERT ON kyklos_search BEGIN "
            "INSERT INTO kyklos_search_fts(rowid, title, body) "
            "VALUES (new.id, new.title, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER kyklos_search_ad AFTER DELETE ON kyklos_search BEGIN "
            "INSERT INTO kyklos_search_fts(kyklos_search_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); END"
        )
        op.execute(
            "CREATE TRIGGER kyklos_search_au AFTER UPDATE ON kyklos_search BEGIN "
            "INSERT INTO kyklos_search_fts(kyklos_search_fts, rowid, title, body) "
            "VALUES ('delete', old.id, old.title, old.body); "
            "INSERT INTO kyklos_search_fts(rowid, title, body) "
            "VALUES (new.id, new.title, new.body); END"
        )


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("kyklos_search_au", "kyklos_search_ad", "kyklos_search_ai"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS kyklos_search_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kyklos_search_title_trgm")
        op.execute("DROP INDEX IF EXISTS ix_kyklos_search_fulltext")
    op.drop_table("kyklos_search")
    op.drop_index("ix_kyklos_saved_view_entity", table_name="kyklos_saved_view")
    op.drop_table("kyklos_saved_view")
    op.drop_index("ix_kyklos_tag_link_record", table_name="kyklos_tag_link")
    op.drop_table("kyklos_tag_link")
    op.drop_table("kyklos_tag")
    op.drop_index("ix_kyklos_attachment_record", table_name="kyklos_attachment")
    op.drop_table("kyklos_attachment")

"""search: a stored full-text vector on PostgreSQL (ts_rank reads it, not recomputes it)

Revision ID: kyklos_0019
Revises: kyklos_0018
"""

from alembic import op

revision = "kyklos_0019"
down_revision = "kyklos_0018"
branch_labels = None
depends_on = None

# Keep in step with kyklos.entities.search.PG_VECTOR (the query names this column).
# Built from the same expression the index of kyklos_0003 was, so every row matches and
# ranks as before.
VECTOR_EXPR = "to_tsvector('simple', title || ' ' || body)"
OLD_INDEX_EXPR = "to_tsvector('simple', kyklos_search.title || ' ' || kyklos_search.body)"


def upgrade():
    # SQLite's FTS5 table (kyklos_0003) is its full-text index; nothing to do there.
    if op.get_bind().dialect.name != "postgresql":
        return
    # The GIN index of kyklos_0003 was on the expression: ts_rank had to recompute the
    # vector of every match (most of a search's time with thousands of matches). A
    # generated column is kept by the database on every write path (ORM, COPY, SQL),
    # so the models leave it out and never write it. Adding it rewrites the table.
    op.execute(
        f"ALTER TABLE kyklos_search ADD COLUMN search_vector tsvector "
        f"GENERATED ALWAYS AS ({VECTOR_EXPR}) STORED"
    )
    op.execute("CREATE INDEX ix_kyklos_search_vector ON kyklos_search USING gin (search_vector)")
    op.execute("DROP INDEX IF EXISTS ix_kyklos_search_fulltext")
    # the rewritten table and the new index: statistics for the planner at once
    op.execute("ANALYZE kyklos_search")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE INDEX IF NOT EXISTS ix_kyklos_search_fulltext ON kyklos_search "
        f"USING gin ({OLD_INDEX_EXPR})"
    )
    op.execute("DROP INDEX IF EXISTS ix_kyklos_search_vector")
    op.execute("ALTER TABLE kyklos_search DROP COLUMN search_vector")

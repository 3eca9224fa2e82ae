"""search: a trigram index over the whole search text (fragments without scanning)

Revision ID: kyklos_0010
Revises: kyklos_0009
"""

from alembic import op

revision = "kyklos_0010"
down_revision = "kyklos_0009"
branch_labels = None
depends_on = None

# Keep in step with kyklos.entities.search.PG_TEXT (the query repeats the expression).
PG_TEXT = "(kyklos_search.title || ' ' || kyklos_search.body)"


def upgrade():
    # SQLite's FTS5 table (kyklos_0003) already holds trigrams of the title and body.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        # The title-only trigram index missed a fragment of a body word (an e-mail's
        # domain, a street, a folded Latin key of a Greek name): this one covers both.
        op.execute(
            "CREATE INDEX IF NOT EXISTS ix_kyklos_search_text_trgm ON kyklos_search "
            f"USING gin ({PG_TEXT} gin_trgm_ops)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_kyklos_search_text_trgm")

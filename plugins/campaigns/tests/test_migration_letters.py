"""The letters migration on a scratch SQLite database: the tables and the campaign's
column it makes match the models (no difference alembic would generate), and the
downgrade takes them away again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

LETTER_TABLES = {"campaigns_lettertemplate", "campaigns_letterfile", "campaigns_letterrun"}


def test_letters_migration_matches_the_models_and_goes_back(registry, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from kyklos import migrate

    from kyklos_sdk import Base

    branches = migrate.branches_for(registry.kyklos_plugins)
    mine = next(b for b in branches if b.id == "campaigns")
    engine = create_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    try:
        migrate.upgrade(engine, branches)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        ours = [
            d
            for d in diff
            if any(t in repr(d) for t in LETTER_TABLES) or "letter_template_id" in repr(d)
        ]
        assert ours == []
        names = set(inspect(engine).get_table_names())
        assert LETTER_TABLES <= names
        migrate.downgrade(engine, mine, "campaigns_0003")
        insp = inspect(engine)
        assert not LETTER_TABLES & set(insp.get_table_names())
        cols = {c["name"] for c in insp.get_columns("campaigns_campaign")}
        assert "letter_template_id" not in cols
        migrate.upgrade(engine, [mine])
        assert LETTER_TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

"""The sequences migration (campaigns_0005) on a scratch SQLite database: its tables
match the models (no difference alembic would generate), and the downgrade takes them
away again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

TABLES = {
    "campaigns_sequence",
    "campaigns_sequencestep",
    "campaigns_enrolment",
    "campaigns_steprun",
}


def test_sequences_migration_matches_the_models_and_goes_back(registry, tmp_path):
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
        assert [d for d in diff if any(t in repr(d) for t in TABLES)] == []
        assert TABLES <= set(inspect(engine).get_table_names())
        migrate.downgrade(engine, mine, "campaigns_0004")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate.upgrade(engine, [mine])
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()

"""catalog_0008 on a scratch SQLite database: the price lists' group columns and the
rules' base list match the models (nothing alembic would generate), and the downgrade
takes them away again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect

COLUMNS = {
    "catalog_pricelist": {"tag_id", "segment_id", "territory_id"},
    "catalog_pricerule": {"base_pricelist_id"},
}


def _columns(engine, table) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_groups_migration_matches_the_models_and_goes_back(registry, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from kyklos import migrate

    from kyklos_sdk import Base

    branches = migrate.branches_for(registry.kyklos_plugins)
    mine = next(b for b in branches if b.id == "catalog")
    engine = create_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    try:
        migrate.upgrade(engine, branches)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if any(t in repr(d) for t in COLUMNS)] == []
        for table, cols in COLUMNS.items():
            assert cols <= _columns(engine, table)
        migrate.downgrade(engine, mine, "catalog_0007")
        for table, cols in COLUMNS.items():
            assert not cols & _columns(engine, table)
        migrate.upgrade(engine, [mine])
        for table, cols in COLUMNS.items():
            assert cols <= _columns(engine, table)
    finally:
        engine.dispose()

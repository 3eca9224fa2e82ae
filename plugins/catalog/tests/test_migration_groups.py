"""catalog_0008 on a scratch SQLite database: the price lists' group columns and the
rules' base list match the models (nothing alembic would generate), and the downgrade
takes them away again."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

COLUMNS = {
    "catalog_pricelist": {"tag_id", "segment_id", "territory_id", "audience"},
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
        # lists saved before: one account's and everyone's
        with engine.begin() as conn:
            for name, account in (("Own", 7), ("General", None)):
                conn.execute(
                    text(
                        "INSERT INTO catalog_pricelist (name, currency, account_id, priority,"
                        " active, version, custom, created_at, updated_at)"
                        " VALUES (:n, 'EUR', :a, 10, 1, 1, '{}', :t, :t)"
                    ),
                    {"n": name, "a": account, "t": "2026-01-01 00:00:00"},
                )
        migrate.upgrade(engine, [mine])
        for table, cols in COLUMNS.items():
            assert cols <= _columns(engine, table)
        with engine.connect() as conn:
            got = dict(conn.execute(text("SELECT name, audience FROM catalog_pricelist")).all())
        assert got == {"Own": "account", "General": "everyone"}
        # going back switches a group list off rather than letting it apply to everyone
        with engine.begin() as conn:
            conn.execute(text("UPDATE catalog_pricelist SET audience = 'tag' WHERE name = 'Own'"))
        migrate.downgrade(engine, mine, "catalog_0007")
        with engine.connect() as conn:
            got = dict(conn.execute(text("SELECT name, active FROM catalog_pricelist")).all())
        assert got == {"Own": 0, "General": 1}
    finally:
        engine.dispose()

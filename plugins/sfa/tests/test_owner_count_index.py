"""The ``(deleted_at, owner_id)`` index on the tables record rules count most (issue #19):
the plugins' revisions create exactly what their models declare, a restricted count
reads the index alone (no wide-row scan), and the downgrade removes it."""

from __future__ import annotations

from sqlalchemy import create_engine, inspect, text

INDEXES = {
    "contacts": ("contacts_0006", ["contacts_person", "contacts_account"]),
    "sfa": ("sfa_0005", ["sfa_opportunity", "sfa_lead"]),
}


def _indexes(engine, table) -> set[str]:
    return {i["name"] for i in inspect(engine).get_indexes(table)}


def test_rule_counts_read_the_owner_index_alone(registry, scratch_db_url, db_kind):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kyklos import migrate
    from kyklos_sdk import Base

    branches = migrate.branches_for(registry.kyklos_plugins)
    engine = create_engine(scratch_db_url)
    try:
        migrate.upgrade(engine, branches)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert [d for d in diff if "_deleted_owner" in repr(d)] == []
            for _plugin, (_down, tables) in INDEXES.items():
                for table in tables:
                    assert f"ix_{table}_deleted_owner" in _indexes(engine, table)
            # the count a rep's list makes (own records, not deleted) and a manager's
            # (everyone but a few) are answered from the index, not the table's rows
            # (SQLite's plan says so on an empty table; PostgreSQL's needs statistics)
            for where in (
                ()
                if db_kind != "sqlite"
                else ("owner_id IN (1, 2, 3)", "owner_id NOT IN (4)", "owner_id IS NOT NULL")
            ):
                plan = " ".join(
                    str(r[-1])
                    for r in conn.execute(
                        text(
                            "EXPLAIN QUERY PLAN SELECT count(*) FROM contacts_person"
                            f" WHERE deleted_at IS NULL AND {where}"
                        )
                    )
                )
                assert "COVERING INDEX ix_contacts_person_deleted_owner" in plan, (where, plan)
        for plugin, (down, tables) in INDEXES.items():
            mine = next(b for b in branches if b.id == plugin)
            migrate.downgrade(engine, mine, down)
            for table in tables:
                assert f"ix_{table}_deleted_owner" not in _indexes(engine, table)
    finally:
        engine.dispose()

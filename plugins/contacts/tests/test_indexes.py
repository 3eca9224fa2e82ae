"""Every index the contacts models declare exists once the plugin's migrations ran, on
both databases: SQLite's table-copying ALTERs (alembic batch mode) dropped the
expression index on ``lower(contacts_person.email)``, and an import's key look-up then
read the whole table for every batch (issue #19)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kyklos.db import Base


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def index_names(engine) -> set[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        else:
            rows = conn.execute(text("SELECT indexname FROM pg_indexes"))
        return {r[0] for r in rows}


def test_the_models_indexes_exist_after_migration(registry, kyklos_app):
    engine = registry["dbengine"]
    have = index_names(engine)
    declared = {
        ix.name
        for t in Base.metadata.tables.values()
        if t.name.startswith("contacts_")
        for ix in t.indexes
    }
    assert "ix_contacts_person_email_lower" in declared
    assert declared - have == set()


def test_the_import_key_look_up_uses_the_index(registry, kyklos_app):
    engine = registry["dbengine"]
    if engine.dialect.name != "sqlite":
        pytest.skip("the plan of a near-empty PostgreSQL table is a sequential scan anyway")
    # INDEXED BY takes the planner's statistics out of it (other tests leave tables whose
    # statistics make a scan the cheaper plan): the index must SEARCH on this very
    # expression, not merely be walked in full.
    with engine.connect() as conn:
        plan = " ".join(
            str(r[-1])
            for r in conn.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM contacts_person "
                    "INDEXED BY ix_contacts_person_email_lower "
                    "WHERE lower(email) IN ('a@x.example', 'b@y.example')"
                )
            )
        )
    assert "SEARCH contacts_person USING INDEX ix_contacts_person_email_lower" in plan, plan

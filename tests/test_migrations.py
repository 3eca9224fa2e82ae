"""Per-plugin migration branches: enable a plugin later, migrate, downgrade it alone."""

from pathlib import Path

import pytest
from cli_support import run
from sqlalchemy import create_engine, inspect

from kyklos_sdk.testing import write_ini


@pytest.fixture
def ini(tmp_path, scratch_db_url):
    return lambda plugins: write_ini(tmp_path, plugins, url=scratch_db_url,
                                     name=f"{plugins or 'x'}.ini")


def tables(db_url) -> set[str]:
    engine = create_engine(db_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


@pytest.mark.slow
def test_enable_plugin_on_existing_database_then_downgrade_it(ini, scratch_db_url):
    db_url = scratch_db_url
    run("init", ini(""), check=True)
    assert "kyklos_user" in tables(db_url)
    assert "samplea_thing" not in tables(db_url)

    both = ini("samplea")
    proc = run("plugins", "check", both)
    assert proc.returncode == 1 and "samplea (empty -> samplea_0001)" in proc.stderr
    out = run("migrate", both, check=True).stdout
    assert "samplea" in out and "up to date" in out
    assert "samplea_thing" in tables(db_url)
    run("plugins", "check", both, check=True)

    # Downgrading one plugin's branch leaves the core and the others alone.
    run("migrate", both, "--branch", "samplea", "--to", "base", check=True)
    assert "samplea_thing" not in tables(db_url)
    assert "kyklos_user" in tables(db_url)
    status = run("migrate", both, "--status", check=True).stdout
    assert "samplea" in status and "pending" in status

    # Disabling a plugin keeps its data; its branch no longer blocks start-up.
    run("migrate", both, check=True)
    run("plugins", "check", ini(""), check=True)
    assert "samplea_thing" in tables(db_url)


def test_init_is_safe_to_run_twice(ini):
    path = ini("contacts")
    first = run("init", path, "--admin-email", "a@example.com", "--admin-password",
                "Long-enough-pass-1", check=True)
    assert "administrator a@example.com created" in first.stdout
    second = run("init", path, "--admin-email", "a@example.com", "--admin-password",
                 "Long-enough-pass-1", check=True)
    assert "exists; left unchanged" in second.stdout
    assert "up to date" in second.stdout


def test_unknown_branch_is_named(ini):
    path = ini("")
    run("init", path, check=True)
    proc = run("migrate", path, "--branch", "nosuch")
    assert proc.returncode == 1
    assert "no migration branch 'nosuch'" in proc.stderr


def _on_delete_rules(engine, insp, table: str) -> dict:
    """``{(columns, referred table): "SET NULL" | ...}`` as the database has them."""
    if engine.dialect.name == "sqlite":
        # SQLite's reflection misses the rule of a column-level REFERENCES clause (the
        # form ALTER TABLE ADD COLUMN writes); the pragma has it
        with engine.connect() as c:
            rows = c.exec_driver_sql(f"PRAGMA foreign_key_list({table})").all()
        return {((r[3],), r[2]): ("" if r[6] == "NO ACTION" else r[6]) for r in rows}
    return {
        (tuple(fk["constrained_columns"]), fk["referred_table"]): (
            fk.get("options", {}).get("ondelete") or ""
        ).upper()
        for fk in insp.get_foreign_keys(table)
    }


def test_migrations_keep_the_models_on_delete_rules(ini, scratch_db_url):
    """The migrated schema keeps every ON DELETE rule the models declare. A SQLite
    "batch" ALTER rebuilds a table from its reflection and once dropped kyklos_user's
    ``ON DELETE SET NULL`` on its department: deleting a department then failed."""
    from kyklos.db import Base

    run("init", ini("contacts activities catalog sfa"), check=True)
    engine = create_engine(scratch_db_url)
    try:
        insp = inspect(engine)
        lost = []
        for table in Base.metadata.sorted_tables:
            if not insp.has_table(table.name):
                continue  # a plugin this test does not enable
            found = _on_delete_rules(engine, insp, table.name)
            for fk in table.foreign_key_constraints:
                if not fk.ondelete:
                    continue
                key = (tuple(c.name for c in fk.columns), fk.referred_table.name)
                if found.get(key) != fk.ondelete.upper():
                    lost.append(f"{table.name}{key}: {fk.ondelete} -> {found.get(key)!r}")
    finally:
        engine.dispose()
    assert not lost, lost


def test_stored_search_vector_upgrade_keeps_rows_findable(ini, scratch_db_url, db_url):
    """kyklos_0019 stores the PostgreSQL full-text vector of every existing search row
    (a generated column): rows written before the upgrade are found by the words of
    their title and body through the new index, and the downgrade restores the
    expression index of kyklos_0003. (``db_url`` runs it on both databases: the scratch
    database follows its kind.)"""
    from sqlalchemy import text

    path = ini("")
    run("init", path, check=True)
    run("migrate", path, "--branch", "kyklos", "--to", "kyklos_0018", check=True)
    engine = create_engine(scratch_db_url)
    pg = engine.dialect.name == "postgresql"
    try:
        with engine.begin() as c:
            if pg:
                assert "search_vector" not in {
                    col["name"] for col in inspect(c).get_columns("kyklos_search")
                }
            c.execute(
                text(
                    "INSERT INTO kyklos_search (entity, record_id, title, body, updated_at) "
                    "VALUES ('old', :i, :t, :b, CURRENT_TIMESTAMP)"
                ),
                [
                    {"i": i, "t": f"Παπαδόπουλος {i}", "b": f"anna{i}@example.com north"}
                    for i in range(50)
                ],
            )
        run("migrate", path, check=True)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM kyklos_search")).scalar() == 50
            if pg:
                indexes = {ix["name"] for ix in inspect(c).get_indexes("kyklos_search")}
                assert "ix_kyklos_search_vector" in indexes, indexes
                assert "ix_kyklos_search_fulltext" not in indexes, indexes
                # every row's vector is the one the old expression index held
                same = c.execute(
                    text(
                        "SELECT count(*) FROM kyklos_search WHERE search_vector = "
                        "to_tsvector('simple', title || ' ' || body)"
                    )
                ).scalar()
                assert same == 50
                for words in ("παπαδόπουλος:*", "north", "anna7@example.com"):
                    n = c.execute(
                        text(
                            "SELECT count(*) FROM kyklos_search "
                            "WHERE search_vector @@ to_tsquery('simple', :q)"
                        ),
                        {"q": words},
                    ).scalar()
                    assert n == (1 if "@" in words else 50), words
        if pg:
            # the models leave the generated column out: an autogenerated revision
            # must not drop it
            import shutil

            from kyklos import migrate
            from kyklos.entities import search  # noqa: F401 - SearchDoc in the metadata

            versions = migrate.ENV_DIR / "versions"
            tmp_versions = Path(path).parent / "probe_versions"
            shutil.copytree(versions, tmp_versions)
            probe = migrate.Branch("kyklos", tmp_versions)
            migrate.revision(probe, "probe", engine)
            [new_file] = set(tmp_versions.glob("*.py")) - {
                tmp_versions / f.name for f in versions.glob("*.py")
            }
            assert "search_vector" not in new_file.read_text()
        run("migrate", path, "--branch", "kyklos", "--to", "kyklos_0018", check=True)
        with engine.connect() as c:
            if pg:
                cols = {col["name"] for col in inspect(c).get_columns("kyklos_search")}
                assert "search_vector" not in cols
                indexes = {ix["name"] for ix in inspect(c).get_indexes("kyklos_search")}
                assert "ix_kyklos_search_fulltext" in indexes, indexes
            assert c.execute(text("SELECT count(*) FROM kyklos_search")).scalar() == 50
    finally:
        engine.dispose()

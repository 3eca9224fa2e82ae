"""campaigns_0006 on a scratch SQLite database: the letters made before it move from
their row to the file storage (``kyklos.files_dir``, the core's layout), the row keeps
only the keys, the schema matches the models, and the downgrade brings the bytes back."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, inspect, text

CHANGED = {"campaigns_letterrun", "campaigns_recipient", "campaigns_landinghit"}


def _scratch(registry, tmp_path):
    from kyklos import migrate

    branches = migrate.branches_for(registry.kyklos_plugins)
    mine = next(b for b in branches if b.id == "campaigns")
    engine = create_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    migrate.upgrade(engine, [b for b in branches if b.id != "campaigns"])
    migrate.upgrade(engine, [mine], "campaigns_0005")
    return migrate, branches, mine, engine


def _old_run(engine, archive: bytes, addresses: str):
    now = dt.datetime(2026, 5, 1, 9, 0)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO campaigns_campaign (id, name, channel, throttle_per_minute,"
                " status, excluded_consent, excluded_duplicate, excluded_suppressed,"
                " excluded_no_address, version, custom, created_at, updated_at)"
                " VALUES (1, 'Old letters', 'letter', 600, 'sent', 0, 0, 0, 0, 1, '{}',"
                " :now, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO campaigns_letterrun (id, campaign_id, job_id, created_at,"
                " recipients, documents, failed, excluded_consent, excluded_duplicate,"
                " excluded_suppressed, excluded_no_address, archive, addresses_csv)"
                " VALUES (1, 1, 'j1', :now, 2, 2, 0, 0, 0, 0, 0, :zip, :csv)"
            ),
            {"now": now, "zip": archive, "csv": addresses},
        )


def test_existing_letters_move_to_the_file_storage_and_back(registry, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from kyklos_sdk import Base

    migrate, _branches, mine, engine = _scratch(registry, tmp_path)
    files = tmp_path / "files"
    settings = {"kyklos.files_dir": str(files)}
    archive = b"PK\x05\x06" + b"\x00" * 18 + "ελληνικά".encode()
    addresses = "document,name\n00001-Maria-el.docx,Μαρία Παπαδάκη\n"
    try:
        _old_run(engine, archive, addresses)
        migrate.upgrade(engine, [mine], settings=settings)
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT archive_key, archive_size, csv_key, finished_at, format"
                    " FROM campaigns_letterrun WHERE id = 1"
                )
            ).one()
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        assert [d for d in diff if any(t in repr(d) for t in CHANGED)] == []
        akey, size, ckey, finished, fmt = row
        assert size == len(archive) and finished is not None and fmt == "docx"
        # the core's layout: two levels of fan-out under the random key
        assert (files / akey[:2] / akey[2:4] / akey).read_bytes() == archive
        assert (files / ckey[:2] / ckey[2:4] / ckey).read_text("utf-8") == addresses
        cols = {c["name"] for c in inspect(engine).get_columns("campaigns_letterrun")}
        assert not {"archive", "addresses_csv"} & cols

        migrate.downgrade(engine, mine, "campaigns_0005", settings=settings)
        with engine.connect() as conn:
            back = conn.execute(
                text("SELECT archive, addresses_csv FROM campaigns_letterrun WHERE id = 1")
            ).one()
        assert (bytes(back[0]), back[1]) == (archive, addresses)
        assert "campaigns_landinghit" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_existing_letters_need_the_file_storage(registry, tmp_path):
    """Without ``kyklos.files_dir`` the migration stops and says why, moving nothing."""
    migrate, _branches, mine, engine = _scratch(registry, tmp_path)
    try:
        _old_run(engine, b"PK", "document\n")
        with pytest.raises(RuntimeError, match="kyklos.files_dir"):
            migrate.upgrade(engine, [mine])
        assert migrate.current(engine, mine) == "campaigns_0005"
        cols = {c["name"] for c in inspect(engine).get_columns("campaigns_letterrun")}
        assert "archive" in cols
    finally:
        engine.dispose()

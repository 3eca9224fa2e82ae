"""The helpdesk's migration branch goes up and down on its own (both databases), and
its own API routes are described in the OpenAPI document."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text

from kyklos_sdk.testing import run_cli, write_ini

PLUGINS = "contacts activities catalog helpdesk"


def _tables(db_url) -> set[str]:
    engine = create_engine(db_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_branch_migrates_up_and_down_alone(tmp_path, db_url, scratch_db_url):
    ini = write_ini(tmp_path, PLUGINS, url=scratch_db_url)
    run_cli("migrate", ini, check=True)
    assert {"helpdesk_case", "helpdesk_caselink", "helpdesk_team"} <= _tables(scratch_db_url)
    engine = create_engine(scratch_db_url)
    try:
        with engine.connect() as conn:
            codes = sorted(conn.execute(text("SELECT code FROM helpdesk_casetype")).scalars())
    finally:
        engine.dispose()
    assert codes == ["complaint", "incident", "question", "request"]
    run_cli("migrate", ini, "--branch", "helpdesk", "--to", "base", check=True)
    left = {t for t in _tables(scratch_db_url) if t.startswith("helpdesk_")}
    assert left == set()
    assert "catalog_product" in _tables(scratch_db_url)
    run_cli("migrate", ini, check=True)
    assert "helpdesk_case" in _tables(scratch_db_url)


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


def test_the_plugins_routes_are_described(api):
    doc = api("admin").get("/api/openapi.json").json
    assert "post" in doc["paths"]["/api/v1/cases/{id}/merge-into"]
    assert "post" in doc["paths"]["/api/v1/helpdesk/inbound"]
    assert "/api/v1/cases" in doc["paths"]
    assert "get" in doc["paths"]["/api/v1/helpdesk/statements"]
    assert "post" in doc["paths"]["/api/v1/helpdesk/contract-notices"]
    assert "post" in doc["paths"]["/api/v1/support-contracts/{id}/visits"]


def test_business_hours_rows_become_spans_per_weekday(tmp_path, scratch_db_url):
    """helpdesk_0007: one span for all working days becomes that span on each of them."""
    import json

    ini = write_ini(tmp_path, PLUGINS, url=scratch_db_url)
    run_cli("migrate", ini, check=True)
    run_cli("migrate", ini, "--branch", "helpdesk", "--to", "helpdesk_0004", check=True)
    engine = create_engine(scratch_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO helpdesk_businesshours (name, timezone, opens, closes, mon, tue,"
                    " wed, thu, fri, sat, sun, version, custom, created_at, updated_at) VALUES"
                    " ('Shop', 'Europe/Athens', '08:30', '16:30', true, true, false, false,"
                    " false, true, false, 1, '{}', '2026-01-01', '2026-01-01')"
                )
            )
        run_cli("migrate", ini, check=True)
        with engine.connect() as conn:
            week = conn.execute(text("SELECT week FROM helpdesk_businesshours")).scalar()
    finally:
        engine.dispose()
    week = json.loads(week) if isinstance(week, str) else week
    assert week == [{"day": d, "opens": "08:30", "closes": "16:30"} for d in ("mon", "tue", "sat")]

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
    assert "202" in doc["paths"]["/api/v1/releases/{id}/publish"]["post"]["responses"]
    assert "post" in doc["paths"]["/api/v1/parts-used"]


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


def test_release_notices_become_sent_claims_keyed_by_the_lower_cased_address(
    tmp_path, db_url, scratch_db_url
):
    """helpdesk_0010: each notice sent before is a claim in state "sent" under its
    lower-cased address; the same address told twice in two spellings keeps one."""
    ini = write_ini(tmp_path, PLUGINS, url=scratch_db_url)
    run_cli("migrate", ini, check=True)
    run_cli("migrate", ini, "--branch", "helpdesk", "--to", "helpdesk_0008", check=True)
    engine = create_engine(scratch_db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO catalog_product (id, sku, name, kind, unit, tax_rate, active,"
                    " version, custom, created_at, updated_at) VALUES (1, 'B', 'Boiler',"
                    " 'stock', 'pcs', 0, true, 1, '{}', '2026-01-01', '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO helpdesk_release (id, product_id, name, published, notified,"
                    " version, custom, created_at, updated_at) VALUES (1, 1, '2.0', true, 2, 1,"
                    " '{}', '2026-01-01', '2026-01-01')"
                )
            )
            for i, email in enumerate(("Maria@Example.com", "maria@example.com", "john@x.gr")):
                conn.execute(
                    text(
                        "INSERT INTO helpdesk_release_notice (id, release_id, email, sent_at)"
                        " VALUES (:i, 1, :e, '2026-01-02')"
                    ),
                    {"i": i + 1, "e": email},
                )
        run_cli("migrate", ini, check=True)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT id, email, state FROM helpdesk_release_notice ORDER BY id")
            ).all()
            assert "helpdesk_partusage" in _tables(scratch_db_url)
    finally:
        engine.dispose()
    assert [tuple(r) for r in rows] == [(1, "maria@example.com", "sent"), (3, "john@x.gr", "sent")]

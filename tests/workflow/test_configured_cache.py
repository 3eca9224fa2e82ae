"""What is configured per entity type (an edited workflow, enabled automation rules,
webhooks) is kept by the process under the authorisation counter
(:mod:`kyklos.workflow.configured`): a warm write of a type with none of them reads none
of those tables, and a change, made here or by another process, counts on the very
next request."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, select, text

from kyklos.workflow.models import AutomationRun, WebhookDelivery

TABLES = ("kyklos_workflow ", "kyklos_automation_rule", "kyklos_webhook ")


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


def _read_config(statements) -> list[str]:
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith("SELECT") and any(f"FROM {t}" in s + " " for t in TABLES)
    ]


def _fired(dbsession, record_id) -> list[int]:
    """The rules run for the record, in order."""
    with dbsession() as db:
        stmt = select(AutomationRun.rule_id).where(AutomationRun.record_id == record_id)
        return db.execute(stmt.order_by(AutomationRun.id)).scalars().all()


def test_a_write_reads_what_is_configured_once_per_change(api, query_counter, dbsession, db_url):
    admin, u = api("admin"), api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "t", "amount": 1}, status=201).json
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 2})  # warm
    with query_counter() as qc:
        u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 3})
    assert _read_config(qc.statements) == []

    # a rule made through the API fires on the next update
    rule = admin.post_json(
        "/api/v1/_automation/rules",
        {
            "entity": "ticket",
            "name": "r",
            "trigger": {"kind": "updated"},
            "actions": [{"type": "notify", "to": ["owner"], "title": "changed"}],
        },
        status=201,
    ).json
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 4})
    assert _fired(dbsession, t["id"]) == [rule["id"]]

    # another process disables it with plain SQL: the next update does not fire it
    other = create_engine(db_url)
    try:
        with other.begin() as conn:
            conn.execute(text("UPDATE kyklos_automation_rule SET enabled = false"))
    finally:
        other.dispose()
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 5})
    assert len(_fired(dbsession, t["id"])) == 1

    # a webhook made through the API gets the next event
    admin.post_json(
        "/api/v1/_webhooks",
        {"name": "Hook", "url": "https://example.com/hook", "events": ["ticket:updated"]},
        status=201,
    )
    u.patch_json(f"/api/v1/tickets/{t['id']}", {"amount": 6})
    with dbsession() as db:
        assert db.execute(select(WebhookDelivery.event)).scalars().all() == ["ticket:updated"]

    # an edited workflow (a new state and step) is in force on the next request
    wf = admin.get("/api/v1/_workflows/ticket").json
    edited = dict(
        wf,
        states=wf["states"] + [{"name": "archived", "title": "Archived"}],
        transitions=wf["transitions"]
        + [{"name": "archive", "title": "Archive", "source": "new", "target": "archived"}],
    )
    admin.put_json("/api/v1/_workflows/ticket", edited)
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/archive", {})
    assert u.get(f"/api/v1/tickets/{t['id']}").json["status"] == "archived"

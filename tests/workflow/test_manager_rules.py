"""The manager role edits automation rules and workflows (issue #17, item 5): the role
holds ``kyklos.workflow.manage`` and the administration menu offers the rule and
workflow pages; a plain sales representative gets neither."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from kyklos.security.models import Role


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


def test_the_manager_role_may_edit_rules(registry, dbsession):
    assert "kyklos.workflow.manage" in registry.kyklos_roles["manager"].permissions
    assert "kyklos.workflow.manage" not in registry.kyklos_roles["sales"].permissions
    # the sales plugin's director runs the sales process, rules included
    assert "kyklos.workflow.manage" in registry.kyklos_roles["salesdirector"].permissions
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "manager")).scalar_one()
        assert "kyklos.workflow.manage" in role.permissions


def test_the_manager_reaches_the_rule_pages_from_the_menu(client):
    manager = client("manager")
    admin_index = manager.get("/admin")
    assert "/admin/automation" in admin_index.text and "/admin/workflows" in admin_index.text
    rules = manager.get("/admin/automation")
    assert rules.status_int == 200
    new = manager.get("/admin/automation/new")
    assert 'name="trigger_kind"' in new.text
    rep = client("sales")
    assert "/admin/automation" not in rep.get("/").text
    rep.get("/admin/automation", status=403)


def test_the_manager_makes_and_changes_a_rule(api, client, dbsession):
    """Through the API and the builder page, as a manager (not an administrator)."""
    from kyklos.workflow.models import AutomationRule

    manager = api("manager")
    body = {
        "entity": "account",
        "name": "Welcome new accounts",
        "trigger": {"kind": "created"},
        "actions": [{"type": "set_field", "field": "name", "value": "Welcome"}],
    }
    made = manager.post_json("/api/v1/_automation/rules", body, status=201).json
    manager.put_json(
        f"/api/v1/_automation/rules/{made['id']}", {**body, "name": "Renamed"}, status=200
    )
    page = client("manager").get(f"/admin/automation/{made['id']}")
    form = next(f for f in page.forms.values() if "trigger_kind" in f.fields)
    form["name"] = "Renamed on the page"
    form.submit("action", value="save").follow()
    with dbsession() as db:
        assert db.get(AutomationRule, made["id"]).name == "Renamed on the page"
    api("sales").post_json("/api/v1/_automation/rules", body, status=403)

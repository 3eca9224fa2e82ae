"""Saved reports a plugin ships (hook ``kyklos_report_definitions``, hook contract
1.4): created once on the first visit of the list, seen through each viewer's rights,
shared with the roles the plugin chose, back after an administrator deleted it."""

from __future__ import annotations

import threading

import pytest
from entities_support import grant, roles_synced, thing_rules  # noqa: F401

from kyklos.hookspecs import hookimpl
from kyklos.reports import ShippedReport

pytestmark = pytest.mark.usefixtures("thing_rules")


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


class Ships:
    @hookimpl
    def kyklos_report_definitions(self, request):
        return [
            ShippedReport(
                key="samplea.colours",
                name="Things per colour",
                spec={
                    "entity": "thing",
                    "group_by": [{"field": "colour"}],
                    "measures": [{"op": "count"}],
                    "sort": "-m0",
                    "chart": "pie",
                },
                shared_roles=("thingseditor",),
            )
        ]


@pytest.fixture
def shipped(registry):
    pm = registry.kyklos_pm
    hooks = Ships()
    pm.register(hooks, name="test-shipped-reports")
    yield hooks
    pm.unregister(hooks)


def _shipped(app):
    return [r for r in app.get("/api/v1/_reports").json["items"] if r["shipped_key"]]


def test_a_shipped_report_is_saved_once_and_shared_with_its_roles(api, shipped):
    ed = api("thingseditor")
    for name, colour in (("a", "red"), ("b", "red"), ("c", "blue")):
        ed.post_json("/api/v1/things", {"name": name, "colour": colour}, status=201)
    (rep,) = _shipped(ed)
    assert rep["name"] == "Things per colour" and rep["shipped_key"] == "samplea.colours"
    assert rep["entity"] == "thing" and rep["can_edit"] is False
    assert [r["id"] for r in _shipped(ed)] == [rep["id"]]
    rows = ed.get(f"/api/v1/_reports/{rep['id']}/run").json["rows"]
    assert {r["d0_text"]: r["m0"] for r in rows} == {"red": 2, "blue": 1}
    assert ed.get(rows[0]["records_url"].replace("http://localhost", "")).status_int == 200
    page = ed.get("/reports")
    link = page.html.select_one('tr[data-shipped="samplea.colours"] a')
    assert link.text == "Things per colour"
    # a role it is not shared with does not see it
    other = api("user")
    assert _shipped(other) == []
    other.get(f"/api/v1/_reports/{rep['id']}/run", status=404)
    # an administrator deletes it: the next visit brings it back
    admin = api("admin")
    admin.delete(f"/api/v1/_reports/{rep['id']}", status=204)
    (back,) = _shipped(admin)
    assert back["shipped_key"] == "samplea.colours"
    assert len(admin.get(f"/api/v1/_reports/{back['id']}/run").json["rows"]) == 2


def test_two_first_visits_at_once_save_it_once(api, shipped, registry, dbsession):
    from sqlalchemy import func, select

    from kyklos.reports import Report

    apps = [api("admin"), api("admin")]
    start = threading.Barrier(2)
    errors = []

    def visit(app):
        try:
            start.wait(5)
            app.get("/api/v1/_reports")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=visit, args=(a,)) for a in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    with dbsession() as db:
        n = db.execute(
            select(func.count()).select_from(Report).where(Report.shipped_key == "samplea.colours")
        ).scalar()
    assert n == 1

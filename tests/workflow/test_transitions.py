"""Workflow transitions through the API and the record page: guards (WF-05), required
fields, the status field under the workflow's control, timeline entries, and
validation of declared workflows at start-up."""

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from kyklos.workflow.models import WorkflowEvent


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


def new_ticket(api, **data):
    res = api.post_json("/api/v1/tickets", {"name": "T", **data}, status=201)
    return res.json


def test_new_record_starts_in_the_initial_state(api):
    a = api("ticketeer")
    t = new_ticket(a)
    assert t["status"] == "new"
    res = a.post_json("/api/v1/tickets", {"name": "x", "status": "done"}, status=400)
    assert any(e["field"] == "status" for e in res.json["errors"])


def test_available_transitions_and_taking_one(api):
    a = api("ticketeer")
    t = new_ticket(a)
    res = a.get(f"/api/v1/tickets/{t['id']}/transitions")
    assert res.json["state"] == "new"
    names = [x["name"] for x in res.json["transitions"]]
    assert names == ["start", "write_off"]
    res = a.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {"comment": "go"})
    assert res.json["status"] == "done" and res.json["record"]["status"] == "open"
    # not possible from "open"
    res = a.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {}, status=409)
    assert res.content_type == "application/problem+json"


def test_status_cannot_be_written_around_the_workflow(api):
    a = api("ticketeer")
    t = new_ticket(a)
    res = a.patch_json(f"/api/v1/tickets/{t['id']}", {"status": "closed"}, status=400)
    assert any(e["field"] == "status" for e in res.json["errors"])
    assert a.get(f"/api/v1/tickets/{t['id']}").json["status"] == "new"


def test_only_the_named_role_may_close_and_it_needs_a_date(api, dbsession):
    """WF-05: only the director may close, and only with a closing date."""
    worker = api("ticketeer")
    director = api("director")
    t = new_ticket(worker)
    for name in ("start", "finish"):
        worker.post_json(f"/api/v1/tickets/{t['id']}/transitions/{name}", {})
    listed = worker.get(f"/api/v1/tickets/{t['id']}/transitions").json["transitions"]
    assert "close" not in [x["name"] for x in listed]
    everything = worker.get(f"/api/v1/tickets/{t['id']}/transitions?all=1").json
    close = next(x for x in everything["transitions"] if x["name"] == "close")
    assert close["allowed"] is False and "director" in close["refused"]
    res = worker.post_json(
        f"/api/v1/tickets/{t['id']}/transitions/close",
        {"data": {"closed_on": "2026-01-31"}},
        status=403,
    )
    assert res.json["status"] == 403
    assert worker.get(f"/api/v1/tickets/{t['id']}").json["status"] == "done"
    res = director.post_json(f"/api/v1/tickets/{t['id']}/transitions/close", {}, status=400)
    assert [e["field"] for e in res.json["errors"]] == ["closed_on"]
    res = director.post_json(
        f"/api/v1/tickets/{t['id']}/transitions/close",
        {"data": {"closed_on": "2026-01-31"}, "comment": "priced ok"},
    )
    assert res.json["record"]["status"] == "closed"
    assert res.json["record"]["closed_on"] == "2026-01-31"
    with dbsession() as db:
        events = (
            db.execute(
                select(WorkflowEvent)
                .where(WorkflowEvent.record_id == t["id"])
                .order_by(WorkflowEvent.id)
            )
            .scalars()
            .all()
        )
        assert [(e.from_state, e.to_state) for e in events] == [
            ("new", "open"),
            ("open", "done"),
            ("done", "closed"),
        ]
        assert events[-1].comment == "priced ok"


def test_stale_version_is_a_conflict(api):
    a = api("ticketeer")
    t = new_ticket(a)
    a.patch_json(f"/api/v1/tickets/{t['id']}", {"name": "renamed"})
    res = a.post_json(
        f"/api/v1/tickets/{t['id']}/transitions/start", {"version": t["version"]}, status=409
    )
    assert res.json["current_version"] == t["version"] + 1


def test_reader_cannot_transition(api):
    a = api("ticketeer")
    t = new_ticket(a)
    reader = api("finance")
    assert reader.get(f"/api/v1/tickets/{t['id']}/transitions").json["transitions"] == []
    reader.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {}, status=403)
    anon_status = reader.get(f"/api/v1/tickets/{t['id']}").json["status"]
    assert anon_status == "new"


def test_record_page_buttons_timeline_and_csrf(client):
    app = client("ticketeer")
    res = app.get("/tickets/new")
    form = res.forms["k-record-form"] if "k-record-form" in res.forms else res.forms[-1]
    form["name"] = "From the page"
    res = form.submit().follow()
    tid = int(res.request.path.rstrip("/").split("/")[-1])
    # The transition button is a POST form with the CSRF token.
    start = [
        f for f in res.forms.values() if f.action.endswith(f"/tickets/{tid}/transitions/start")
    ]
    assert start, "no button for the 'start' transition"
    # Without the token: refused, nothing changes.
    app.post(f"/workflow/tickets/{tid}/transitions/start", status=400)
    page = start[0].submit().follow()
    assert "Done: Open" in page.text or "Open" in page.text
    assert "New → Open" in page.text  # the timeline shows the transition
    # write_off needs approval: its button leads to a form (GET) first
    assert f"/workflow/tickets/{tid}/transitions/write_off" in page.text


def _configurator(tmp_path):
    from kyklos.app import make_configurator

    settings = {"sqlalchemy.url": f"sqlite:///{tmp_path}/x.sqlite", "kyklos.plugins": "samplea"}
    return make_configurator(settings, check_migrations=False)


@pytest.mark.parametrize(
    "transitions, expected",
    [
        ([{"name": "go", "source": "a", "target": "nowhere"}], "unknown state 'nowhere'"),
        (
            [
                {"name": "go", "source": "a", "target": "b"},
                {"name": "go", "source": "b", "target": "a"},
            ],
            "transition 'go' is declared twice",
        ),
        ([{"name": "go", "source": "a", "target": "b"}], "state 'c' cannot be reached"),
        (
            [
                {"name": "go", "source": "a", "target": "b", "roles": ["nosuchrole"]},
                {"name": "on", "source": "b", "target": "c"},
            ],
            "unknown role 'nosuchrole'",
        ),
        (
            [
                {
                    "name": "go",
                    "source": "a",
                    "target": "b",
                    "approval": {"levels": [{"approvers": [], "mode": "some"}]},
                },
                {"name": "on", "source": "b", "target": "c"},
            ],
            "mode must be 'any' or 'all'",
        ),
    ],
)
def test_declared_workflow_is_validated_at_startup(tmp_path, transitions, expected):
    config = _configurator(tmp_path)
    config.add_workflow(
        "thing", field="colour", states=["a", "b", "c"], initial="a", transitions=transitions
    )
    with pytest.raises(ConfigurationError) as exc:
        config.commit()
    assert expected in str(exc.value)


def test_workflow_needs_a_known_entity_and_field(tmp_path):
    config = _configurator(tmp_path)
    config.add_workflow(
        "thing", states=["a", "b"], transitions=[{"name": "go", "source": "a", "target": "b"}]
    )
    with pytest.raises(ConfigurationError, match="status field 'status' is not a field"):
        config.commit()
    config = _configurator(tmp_path)
    config.add_workflow("nosuch", states=["a"], transitions=[])
    with pytest.raises(ConfigurationError, match="unknown entity type 'nosuch'"):
        config.commit()


def test_transition_hook_tells_plugins(api, registry):
    from kyklos.hookspecs import hookimpl

    calls = []

    class Spy:
        @hookimpl
        def kyklos_workflow_transition(self, entity_type, record, transition, before, after):
            calls.append((entity_type.name, record.id, transition.name, before, after))

    spy = Spy()
    registry.kyklos_pm.register(spy, name="test-spy")
    try:
        a = api("ticketeer")
        t = new_ticket(a)
        a.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {})
        a.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {}, status=409)
    finally:
        registry.kyklos_pm.unregister(spy)
    assert calls == [("ticket", t["id"], "start", "new", "open")]

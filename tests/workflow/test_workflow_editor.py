"""Administrators edit workflows (WF-01) in the UI and the API; a definition is
validated before it is saved; the edited one wins over the declared one until reset."""

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


def test_api_edit_validate_and_reset(api):
    admin = api("admin")
    wf = admin.get("/api/v1/_workflows/ticket").json
    assert wf["origin"] == "declared" and wf["initial"] == "new"
    bad = dict(wf, states=wf["states"] + [{"name": "archived", "title": "Archived"}])
    res = admin.put_json("/api/v1/_workflows/ticket", bad, status=400)
    assert "state 'archived' cannot be reached from 'new'" in res.json["problems"]
    assert admin.get("/api/v1/_workflows/ticket").json["origin"] == "declared"
    bad2 = dict(wf, transitions=wf["transitions"] + [
        {"name": "archive", "source": ["closed"], "target": "archived", "roles": ["ghosts"]}])
    bad2["states"] = bad["states"]
    res = admin.put_json("/api/v1/_workflows/ticket", bad2, status=400)
    assert "transition 'archive' names unknown role 'ghosts'" in res.json["problems"]
    good = dict(bad2, transitions=wf["transitions"] + [
        {"name": "archive", "title": "Archive", "source": "closed, done", "target": "archived"}])
    res = admin.put_json("/api/v1/_workflows/ticket", good)
    assert res.json["origin"] == "database" and res.json["version"] == 1
    # The edited workflow is in force.
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "x"}, status=201).json
    for name in ("start", "finish", "archive"):
        u.post_json(f"/api/v1/tickets/{t['id']}/transitions/{name}", {})
    assert u.get(f"/api/v1/tickets/{t['id']}").json["status"] == "archived"
    assert admin.put_json("/api/v1/_workflows/ticket", good).json["version"] == 2
    # Reset: the declared one applies again.
    assert admin.delete("/api/v1/_workflows/ticket").json["origin"] == "declared"
    u.get(f"/api/v1/tickets/{t['id']}/transitions", status=200)
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/archive", {}, status=404)


def test_only_workflow_managers(api):
    u = api("ticketeer")
    u.get("/api/v1/_workflows/ticket", status=403)
    u.put_json("/api/v1/_workflows/ticket", {}, status=403)


def test_ui_editor_with_diagram(client, api):
    app = client("admin")
    listing = app.get("/admin/workflows")
    assert "/admin/workflows/ticket" in listing.text
    page = app.get("/admin/workflows/ticket")
    svg = page.html.select_one("svg.k-wf-diagram")
    labels = [t.text for t in svg.select("text")]
    assert {"New", "Open", "Done", "Closed"} <= set(labels) and "Write off" in labels
    form = next(f for f in page.forms.values() if "t_name" in f.fields)
    # the first blank state row and the first blank transition row
    state_names = form.fields["state_name"]
    blank_state = next(i for i, f in enumerate(state_names) if not f.value)
    form.set("state_name", "archived", index=blank_state)
    form.set("state_title", "Archived", index=blank_state)
    t_names = form.fields["t_name"]
    blank = next(i for i, f in enumerate(t_names) if not f.value)
    form.set("t_name", "archive", index=blank)
    form.set("t_source", "closed", index=blank)
    form.set("t_target", "nowhere", index=blank)
    res = form.submit(status=400)
    assert "transition 'archive' goes to unknown state 'nowhere'" in res.text
    form = next(f for f in res.forms.values() if "t_name" in f.fields)
    idx = [f.value for f in form.fields["t_name"]].index("archive")
    form.set("t_target", "archived", index=idx)
    form.set("t_levels", "any: manager\nall: role:finance", index=idx)
    res = form.submit().follow()
    assert "Workflow saved." in res.text
    wf = api("admin").get("/api/v1/_workflows/ticket").json
    archive = next(t for t in wf["transitions"] if t["name"] == "archive")
    assert archive["approval"]["levels"] == [
        {"approvers": ["manager"], "mode": "any"},
        {"approvers": ["role:finance"], "mode": "all"},
    ]
    # Back to the declared workflow from the page.
    page = app.get("/admin/workflows/ticket")
    reset = next(f for f in page.forms.values()
                 if any(b.value_if_submitted() == "reset" for b in f.fields.get("action", [])))
    reset.submit("action", value="reset").follow()
    assert api("admin").get("/api/v1/_workflows/ticket").json["origin"] == "declared"

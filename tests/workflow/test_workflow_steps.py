"""Sub-steps (WF-01): a state's checklist must be ticked off before a record leaves it;
entering the state again starts a fresh checklist."""

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["sampleflow"]


def test_checklist_blocks_leaving_the_state_until_done(api, client):
    admin = api("admin")
    wf = admin.get("/api/v1/_workflows/ticket").json
    for s in wf["states"]:
        if s["name"] == "open":
            s["steps"] = [
                {"name": "call_client", "title": "Call the client"},
                {"name": "check_stock", "title": "Check the stock"},
            ]
            s["titles"] = {"el": "Ανοιχτό"}
    saved = admin.put_json("/api/v1/_workflows/ticket", wf).json
    opened = next(s for s in saved["states"] if s["name"] == "open")
    assert [p["name"] for p in opened["steps"]] == ["call_client", "check_stock"]
    u = api("ticketeer")
    t = u.post_json("/api/v1/tickets", {"name": "x"}, status=201).json
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/start", {})
    res = u.post_json(f"/api/v1/tickets/{t['id']}/transitions/finish", {}, status=409)
    assert res.content_type == "application/problem+json"
    assert "Call the client, Check the stock" in res.json["detail"]
    # The record page shows the checklist; ticking both lets the record move on.
    page = client("ticketeer")
    detail = page.get(f"/tickets/{t['id']}")
    forms = [f for f in detail.forms.values() if "step" in f.fields]
    assert [f["step"].value for f in forms] == ["call_client", "check_stock"]
    for f in forms:
        f.submit().follow()
    detail = page.get(f"/tickets/{t['id']}")
    assert all(f["done"].value == "0" for f in detail.forms.values() if "step" in f.fields)
    u.post_json(f"/api/v1/tickets/{t['id']}/transitions/finish", {})
    assert u.get(f"/api/v1/tickets/{t['id']}").json["status"] == "done"
    # Back in "open": the checklist starts again.
    back = [x["name"] for x in u.get(f"/api/v1/tickets/{t['id']}/transitions").json["transitions"]]
    if "reopen" in back:
        u.post_json(f"/api/v1/tickets/{t['id']}/transitions/reopen", {})
        u.post_json(f"/api/v1/tickets/{t['id']}/transitions/finish", {}, status=409)


def test_step_names_are_checked(api):
    admin = api("admin")
    wf = admin.get("/api/v1/_workflows/ticket").json
    wf["states"][0]["steps"] = [{"name": "Bad Name"}, {"name": "Bad Name"}]
    res = admin.put_json("/api/v1/_workflows/ticket", wf, status=400)
    assert res.content_type == "application/problem+json"
    assert any("step" in p for p in res.json["problems"])

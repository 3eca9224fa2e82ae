"""Administration: activity types with their own status sets (ACT-10, ACT-12) are set up
in the web UI, and the API then follows them. Also: the activity form has the Type
select, not the import's ``type_code``."""

import re


def _form(page, action_end):
    return next(f for f in page.forms.values() if (f.action or "").endswith(action_end))


def test_status_set_and_type_configured_in_admin_ui(client, api, types):
    admin = client("manager")
    index = admin.get("/admin")
    links = {a.text.strip(): a["href"] for a in index.html.select("a")}
    assert {"Activity types", "Status sets", "Resources"} <= set(links)
    # A sales rep uses types and statuses but does not configure them.
    assert "Status sets" not in client("sales").get("/admin", status=(200, 403)).text

    assert links["Status sets"].rstrip("/").endswith("/status-sets")
    # A name that exists is a clear error on the field (the defaults have "Approval").
    form = admin.get("/status-sets/new").forms["k-record-form"]
    form["name"] = "Approval"
    page = form.submit("save", status=400)
    assert "A status set with this name exists." in page.text
    form = admin.get("/status-sets/new").forms["k-record-form"]
    form["name"] = "Purchasing"
    page = form.submit("save").follow()
    set_id = int(re.search(r"/status-sets/(\d+)", page.request.url).group(1))
    assert "Purchasing" in page.text
    # Statuses are added from the set's page (the "New" link pre-fills the set).
    new_status = page.html.select_one(f"a[href*='/activity-statuses/new?status_set_id={set_id}']")
    assert new_status is not None
    for pos, (code, title, category) in enumerate((
            ("requested", "Requested", "open"), ("for_approval", "For approval", "open"),
            ("approved", "Approved", "open"), ("in_progress", "In progress", "open"),
            ("done", "Done", "done"), ("rejected", "Rejected", "cancelled"))):
        form = admin.get(new_status["href"]).forms["k-record-form"]
        assert form["status_set_id"].value == str(set_id)
        form["code"], form["title"], form["category"] = code, title, category
        form["position"] = str(pos)
        if code == "requested":
            form["is_default"] = True
        form.submit("save").follow()
    page = admin.get(f"/status-sets/{set_id}")
    assert all(t in page.text for t in ("Requested", "For approval", "Rejected"))

    form = admin.get("/activity-types/new").forms["k-record-form"]
    form["code"], form["title"] = "purchase", "Purchase request"
    form["status_set_id"] = str(set_id)
    form["can_be_pending"] = form["active"] = True
    page = form.submit("save").follow()
    assert "Purchase request" in page.text
    assert "Purchase request" in admin.get(f"/status-sets/{set_id}").text

    # The API follows the configuration: the default status, the set's codes only, and
    # the category decides open / done.
    rep = api("sales")
    made = rep.post_json("/api/v1/activities", {"type_code": "purchase",
                                                 "subject": "New laptops"}, status=201).json
    assert (made["status"], made["state"]) == ("requested", "open")
    res = rep.patch_json(f"/api/v1/activities/{made['id']}",
                         {"status": "planned", "version": made["version"]}, status=400)
    assert res.content_type == "application/problem+json"
    assert [e["field"] for e in res.json["errors"]] == ["status"]
    assert "for_approval" in res.json["errors"][0]["detail"]
    ok = rep.patch_json(f"/api/v1/activities/{made['id']}",
                        {"status": "approved", "version": made["version"]}).json
    assert (ok["status"], ok["state"]) == ("approved", "open")
    done = rep.patch_json(f"/api/v1/activities/{made['id']}",
                          {"status": "done", "version": ok["version"]}).json
    assert done["state"] == "done" and done["completed_at"]
    # The meeting type keeps its own set: "approved" is not one of its statuses.
    res = rep.post_json("/api/v1/activities", {"type_id": types["call"], "subject": "x",
                                               "status": "approved"}, status=400)
    assert "status" in {e["field"] for e in res.json["errors"]}
    # Codes are unique: through the API too, a clean 400 naming the field.
    res = api("manager").post_json("/api/v1/activity-types", {
        "code": "purchase", "title": "Again", "status_set_id": set_id}, status=400)
    assert [e["field"] for e in res.json["errors"]] == ["code"]
    res = api("manager").post_json("/api/v1/activity-statuses", {
        "code": "approved", "title": "Again", "status_set_id": set_id}, status=400)
    assert [e["field"] for e in res.json["errors"]] == ["code"]


def test_activity_form_has_no_type_code_input(client, types):
    app = client("sales")
    form = app.get("/activities/new").forms["k-record-form"]
    assert "type_id" in form.fields
    assert "type_code" not in form.fields
    form["type_id"] = str(types["task"])
    form["subject"] = "From the form"
    page = form.submit("save").follow()
    assert "From the form" in page.text
    assert "Type code" not in page.text  # nor on the record's page

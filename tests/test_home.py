"""The home page is the user's day: sections contributed through the
``kyklos_home_sections`` hook in their order (a broken contributor left out, a section
with a permission shown only to its holders, an empty one saying what to do), then the
core's recent records (opened, created, changed - the user's own, visible ones only),
then the KPI widgets."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplehome"]


def section_ids(page) -> list[str]:
    return [s["id"] for s in page.html.select("section.k-home-section")]


def test_sections_in_order_with_empty_states(client):
    app = client("thingseditor")
    page = app.get("/")
    assert section_ids(page) == [
        "k-home-sample-agenda",
        "k-home-sample-tasks",
        "k-home-sample-invitations",
        "k-home-recent",
    ]
    agenda = page.html.select_one("#k-home-sample-agenda")
    assert [li.get_text() for li in agenda.select("ol.sample-agenda li")] == [
        "09:30 Call Anna Nowak",
        "11:00 Meeting at Karagiannis S.A.",
    ]
    assert agenda.select_one(".k-home-count").get_text(strip=True) == "2"
    assert agenda.select_one("h2 a")["href"].endswith("/")
    tasks = page.html.select_one("#k-home-sample-tasks")
    assert tasks.select_one(".sample-tasks li").get_text() == "Send the offer <today>"
    invitations = page.html.select_one("#k-home-sample-invitations")
    assert invitations.select_one(".k-home-empty").get_text(strip=True) == (
        "No invitations wait for your answer."
    )
    assert not invitations.select("ol")
    assert invitations.select_one(".card-footer a").get_text(strip=True) == "Open the calendar"
    recent = page.html.select_one("#k-home-recent")
    assert "Records you open, create or change show up here" in recent.get_text()
    # the admin-only section shows to administrators, between agenda and tasks
    assert section_ids(client("admin").get("/"))[:3] == [
        "k-home-sample-agenda",
        "k-home-sample-secret",
        "k-home-sample-tasks",
    ]


def test_recent_records_are_the_users_own(client, api, kyklos_app, login):
    import webtest

    app = client("thingseditor")
    page = app.get("/things/new")
    form = next(f for f in page.forms.values() if "name" in f.fields)
    form["name"] = "Recent anvil"
    created = form.submit().follow()
    anvil_url = created.request.path
    other = api("thingseditor")
    bell = other.post_json("/api/v1/things", {"name": "Recent bell"}, status=201).json["id"]
    kettle = other.post_json("/api/v1/things", {"name": "Recent kettle"}, status=201).json["id"]
    app.get(f"/things/{bell}")
    other.patch_json(f"/api/v1/things/{kettle}", {"size": 3})  # not this user's doing

    items = app.get("/").html.select("#k-home-recent .k-recent li")
    got = [(li.select_one("a").get_text(strip=True), li.get_text(" ", strip=True)) for li in items]
    assert [t for t, _ in got] == ["Recent bell", "Recent anvil"]  # newest first
    assert "opened" in got[0][1] and "created" in got[1][1]
    assert items[1].select_one("a")["href"].endswith(anvil_url)
    # the other user's list has what they wrote through the API, the change on top
    theirs = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    login(theirs, other.email)
    items = theirs.get("/").html.select("#k-home-recent .k-recent li")
    assert [li.select_one("a").get_text(strip=True) for li in items] == [
        "Recent kettle",
        "Recent bell",
    ]
    assert "changed" in items[0].get_text() and "created" in items[1].get_text()
    # a record that is deleted leaves the list
    other.delete(f"/api/v1/things/{bell}", status=204)
    items = app.get("/").html.select("#k-home-recent .k-recent li a")
    assert [a.get_text(strip=True) for a in items] == ["Recent anvil"]


def test_the_hook_is_documented_for_plugins():
    import kyklos_sdk
    from kyklos.hookspecs import kyklos_home_sections

    assert "HomeSection" in kyklos_sdk.__all__
    assert kyklos_home_sections.__doc__

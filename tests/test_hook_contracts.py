"""Hooks and directives exercised through a plugin (the sampleb sample), end to end."""

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "sampleb"]


def test_kyklos_principals_role_principal_grants_that_roles_permissions(api):
    oncall = api("user", email="oncall@example.com")
    plain = api("user", email="plain@example.com")
    # Without the principal, a plain user has no permission on things at all.
    plain.get("/api/v1/things", status=403)
    # The role:thingsreader principal grants read permission for this request.
    assert oncall.get("/api/v1/things").status_int == 200
    oncall.post_json("/api/v1/things", {"name": "x"}, status=403)


def test_kyklos_admin_items_appear_on_the_admin_page(client):
    page = client("admin").get("/admin")
    assert "Sample B settings" in page.text
    assert "/sampleb/settings" in page.text
    client("thingsreader").get("/admin", status=403)


def test_kyklos_dashboard_widgets_are_drawn_on_the_home_page(client):
    home = client("thingsreader").get("/")
    assert "Sample B tile" in home.text
    assert "42 open things" in home.text


def test_add_field_permission_hides_the_field_from_the_role(api, dbsession):
    admin = api("admin")
    made = admin.post_json("/api/v1/things", {"name": "Box", "size": 7}).json
    assert made["size"] == 7
    reader = api("thingsreader")
    seen = reader.get(f"/api/v1/things/{made['id']}").json
    assert seen["name"] == "Box"
    assert "size" not in seen

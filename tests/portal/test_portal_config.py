"""The portal's declarations and its hook: ``config.set_portal_identity`` once per
deployment, ``config.add_portal_access`` checked at start-up, a type without a
declaration invisible to portal users, and ``kyklos_portal_pages`` contributions shown
on the portal's home (those the portal user may open only)."""

from __future__ import annotations

import pytest
from portal_support import invitation_link
from pyramid.exceptions import ConfigurationConflictError, ConfigurationExecutionError

from kyklos.app import make_configurator
from kyklos_sdk import PortalPage, hookimpl


def _config(plugins="contacts"):
    return make_configurator(
        {"sqlalchemy.url": "sqlite://", "kyklos.secret": "x", "kyklos.plugins": plugins},
        check_migrations=False,
    )


def test_the_portal_identity_is_declared_once():
    config = _config()
    assert config.registry.kyklos_portal.identity.entity == "person"
    config.set_portal_identity("account", customer_field="parent_id")
    config.set_portal_identity("person", customer_field="account_id")
    with pytest.raises(ConfigurationConflictError):
        config.commit()
    config.registry["dbengine"].dispose()


@pytest.mark.parametrize(
    ("entity", "path", "fields", "writable", "message"),
    [
        ("nosuch", "id", (), (), "unknown entity type"),
        ("address", "account_id", ("street", "secret"), (), "unknown fields"),
    ],
)
def test_portal_access_is_checked_at_start_up(entity, path, fields, writable, message):
    config = _config()
    config.add_portal_access(entity, path, fields=fields, writable=writable)
    with pytest.raises(ConfigurationExecutionError, match=message):
        config.commit()
    config.registry["dbengine"].dispose()


def test_writable_portal_fields_must_be_readable():
    config = _config()
    with pytest.raises(Exception, match="writable fields must be readable"):
        config.add_portal_access("address", "account_id", fields=("city",), writable=("street",))
    config.registry["dbengine"].dispose()


def test_a_bad_identity_field_is_refused():
    config = make_configurator(
        {"sqlalchemy.url": "sqlite://", "kyklos.secret": "x", "kyklos.plugins": ""},
        check_migrations=False,
    )
    assert config.registry.kyklos_portal.identity is None
    config.set_portal_identity("nosuch", customer_field="x")
    with pytest.raises(ConfigurationExecutionError, match="unknown entity type"):
        config.commit()
    config.registry["dbengine"].dispose()


class ExtraPages:
    @hookimpl
    def kyklos_portal_pages(self, request):
        return [
            PortalPage(
                "test-open",
                "Opening hours",
                "/portal/contacts/company",
                "When we answer",
                icon="clock",
                order=5,
                count=3,
            ),
            PortalPage(
                "test-closed",
                "Staff only",
                "/portal/contacts/company",
                permission="kyklos.security.manage",
            ),
        ]


def test_contributed_pages_show_on_the_home(api, registry, smtp_server, accept):
    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Hooked Ltd"}).json["id"]
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Hook", "last_name": "Page", "account_id": acc, "email": "hook@example.com"},
    ).json["id"]
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    app = accept(invitation_link(smtp_server.wait(1)[0]), "hook@example.com")
    # the portal without a customer page of ours: contacts' and sfa's pages
    home = app.get("/portal").text
    assert "Opening hours" not in home and "My company" in home
    pm = registry.kyklos_pm
    pm.register(ExtraPages(), name="test.portal_pages")
    try:
        home = app.get("/portal").text
    finally:
        pm.unregister(name="test.portal_pages")
    assert "Opening hours" in home and "When we answer" in home
    assert "Staff only" not in home
    # first in order: before "My company"
    assert home.index("Opening hours") < home.index("My company")


def test_a_type_without_portal_access_is_invisible(api, smtp_server, accept, kyklos_app, dbsession):
    import webtest
    from sqlalchemy import select

    from kyklos.security.models import RecordRule, Role, User
    from kyklos.security.tokens import create_token

    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Addr Ltd"}).json["id"]
    person = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Ad", "last_name": "Dress", "account_id": acc, "email": "addr@example.com"},
    ).json["id"]
    addr = admin.post_json("/api/v1/addresses", {"account_id": acc, "city": "Patra"}).json["id"]
    admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
    accept(invitation_link(smtp_server.wait(1)[0]), "addr@example.com")
    # even when an administrator grants the portal role the permission and a rule
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "portal")).scalar_one()
        role.permissions = [*role.permissions, "contacts.address.read"]
        db.add(RecordRule(role_id=role.id, entity="address", action="read", scope="customer"))
        user = db.execute(select(User).where(User.email == "addr@example.com")).scalar_one()
        token, _row = create_token(db, user, name="t")
    tapi = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    tapi.authorization = ("Bearer", token)
    try:
        assert tapi.get("/api/v1/addresses").json["items"] == []
        tapi.get(f"/api/v1/addresses/{addr}", status=404)
    finally:
        with dbsession() as db:
            role = db.execute(select(Role).where(Role.name == "portal")).scalar_one()
            role.permissions = [p for p in role.permissions if p != "contacts.address.read"]

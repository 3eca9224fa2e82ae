"""The customer portal end to end through its public surfaces: staff invite a person
(API and record page), the e-mail arrives over real SMTP, the link sets a password by
the core rules, the portal login is separate from the staff one, pages come from
plugins, a portal user updates only their own name/phones/e-mails, and staff disable,
re-enable and reset logins."""

from __future__ import annotations

import pytest
from portal_support import STRONG, form_csrf, invitation_link
from sqlalchemy import select

from kyklos.portal.models import PortalAccount
from kyklos.security.models import User


@pytest.fixture
def company(api):
    admin = api("admin")
    acc = admin.post_json("/api/v1/accounts", {"name": "Acme Ltd", "country": "GR"}).json["id"]
    anna = admin.post_json(
        "/api/v1/persons",
        {
            "first_name": "Anna",
            "last_name": "Papadopoulou",
            "account_id": acc,
            "email": "anna@acme.example",
            "job_title": "Buyer",
            "birth_date": "1980-02-03",
        },
    ).json["id"]
    bob = admin.post_json(
        "/api/v1/persons",
        {"first_name": "Bob", "last_name": "Brown", "account_id": acc, "email": "bob@acme.example"},
    ).json["id"]
    return admin, acc, anna, bob


def _fields(res) -> set:
    return {e["field"] for e in res.json["errors"]}


def _invite(admin, smtp_server, person_id, n=1):
    res = admin.post_json("/api/v1/_portal/accounts", {"record_id": person_id}, status=201)
    mails = smtp_server.wait(n)
    assert len(mails) >= n
    return res.json, mails[n - 1]


def test_invite_accept_login_and_see_the_portal(company, smtp_server, accept, portal_app):
    admin, acc, anna, bob = company
    body, mail = _invite(admin, smtp_server, anna)
    assert body["status"] == "invited" and body["email"] == "anna@acme.example"
    assert mail["To"] == "anna@acme.example"
    link = invitation_link(mail)
    # not yet accepted: no login
    app = portal_app()
    page = app.get("/portal/login")
    res = app.post(
        "/portal/login",
        {"email": "anna@acme.example", "password": STRONG, "csrf_token": form_csrf(page)},
    )
    assert res.status_int == 200 and "Wrong e-mail or password" in res.text

    # the core password rules apply
    app = portal_app()
    path = link.split("localhost", 1)[1]
    page = app.get(path)
    res = app.post(
        "/portal/welcome",
        {
            "token": path.split("token=")[1],
            "password": "short",
            "confirm": "short",
            "csrf_token": form_csrf(page),
        },
    )
    assert "at least 8 characters" in res.text

    anna_app = accept(link, "anna@acme.example")
    home = anna_app.get("/portal")
    assert "My company" in home.text and "My quotes" in home.text
    company_page = anna_app.get("/portal/contacts/company")
    assert "Acme Ltd" in company_page.text and "Bob Brown" in company_page.text
    # fields not declared for the portal stay hidden (birth date is never shown)
    assert "1980" not in company_page.text
    # the link works once
    again = portal_app().get(path)
    assert "This link is not valid" in again.text
    listed = admin.get("/api/v1/_portal/accounts").json["items"]
    assert [i["status"] for i in listed if i["record_id"] == anna] == ["active"]


def test_portal_session_never_reaches_staff_pages_or_api(company, smtp_server, accept):
    admin, acc, anna, bob = company
    _body, mail = _invite(admin, smtp_server, anna)
    app = accept(invitation_link(mail), "anna@acme.example")
    # the portal cookie is scoped to /portal: staff pages see an anonymous visitor
    assert app.get("/", status=303).location.endswith("/login?came_from=%2F")
    app.get("/api/v1/persons", status=401)
    app.get("/admin", status=303)
    # the staff login refuses a portal login (same message as a wrong password)
    page = app.get("/login")
    res = app.post(
        "/login", {"email": "anna@acme.example", "password": STRONG, "csrf_token": form_csrf(page)}
    )
    assert res.status_int == 200 and "Wrong e-mail or password" in res.text


def test_staff_cannot_use_the_portal_login(client, portal_app):
    client("admin", email="boss@example.com")
    app = portal_app()
    page = app.get("/portal/login")
    res = app.post(
        "/portal/login",
        {"email": "boss@example.com", "password": "x" * 12, "csrf_token": form_csrf(page)},
    )
    assert res.status_int == 200
    # anonymous portal pages send to the portal's own login
    assert "/portal/login" in app.get("/portal/sfa/quotes", status=303).location


def test_update_my_details_is_limited_to_my_record_and_fields(
    company, smtp_server, accept, api, kyklos_app, dbsession
):
    admin, acc, anna, bob = company
    _body, mail = _invite(admin, smtp_server, anna)
    app = accept(invitation_link(mail), "anna@acme.example")
    page = app.get("/portal/contacts/me")
    res = app.post(
        "/portal/contacts/me",
        {
            "csrf_token": form_csrf(page),
            "first_name": "Anna-Maria",
            "last_name": "Papadopoulou",
            "phone-0-type": "mobile",
            "phone-0-number": "+30 694 123 4567",
            "email-0-type": "work",
            "email-0-email": "anna@acme.example",
            "email-1-type": "home",
            "email-1-email": "anna.home@example.com",
        },
    )
    assert res.status_int == 303, res.text[:3000]
    got = admin.get(f"/api/v1/persons/{anna}").json
    assert got["first_name"] == "Anna-Maria"
    assert [e["email"] for e in got["emails"]] == ["anna@acme.example", "anna.home@example.com"]
    assert got["phones"][0]["number"].replace(" ", "").endswith("6941234567")
    # a bad e-mail is named, nothing written
    page = app.get("/portal/contacts/me")
    res = app.post(
        "/portal/contacts/me",
        {
            "csrf_token": form_csrf(page),
            "first_name": "Changed",
            "last_name": "Papadopoulou",
            "email-0-type": "work",
            "email-0-email": "not an address",
        },
        status=400,
    )
    assert admin.get(f"/api/v1/persons/{anna}").json["first_name"] == "Anna-Maria"

    # through the API (a token of the portal user): own record, writable fields only
    from kyklos.security.tokens import create_token

    with dbsession() as db:
        user = db.execute(select(User).where(User.email == "anna@acme.example")).scalar_one()
        token, _row = create_token(db, user, name="portal")
    import webtest

    tapp = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    tapp.authorization = ("Bearer", token)
    me = tapp.get(f"/api/v1/persons/{anna}").json
    assert "birth_date" not in me and "notes" not in me
    tapp.patch_json(f"/api/v1/persons/{anna}", {"job_title": "CEO"}, status=400)
    tapp.patch_json(f"/api/v1/persons/{bob}", {"first_name": "Hacked"}, status=403)
    assert admin.get(f"/api/v1/persons/{bob}").json["first_name"] == "Bob"
    tapp.patch_json(f"/api/v1/persons/{anna}", {"last_name": "Papa"}, status=200)
    # staff endpoints stay closed to a portal token
    tapp.get("/api/v1/_portal/accounts", status=403)
    tapp.get("/api/v1/_security/me", status=403)
    tapp.post_json("/api/v1/_security/me/tokens", {"name": "more"}, status=403)
    tapp.get("/api/v1/_security/users", status=403)
    tapp.post_json("/api/v1/accounts", {"name": "Mine"}, status=403)
    # and staff pages ignore a portal token
    tapp.get("/persons/", status=403)
    tapp.get(f"/persons/{anna}", status=403)


def test_invite_errors_are_named(company, api):
    admin, acc, anna, bob = company
    lonely = admin.post_json(
        "/api/v1/persons", {"first_name": "No", "last_name": "Mail", "account_id": acc}
    ).json["id"]
    res = admin.post_json("/api/v1/_portal/accounts", {"record_id": lonely}, status=400)
    assert res.content_type == "application/problem+json"
    assert _fields(res) == {"record_id"}
    res = admin.post_json("/api/v1/_portal/accounts", {"record_id": "x"}, status=400)
    assert _fields(res) == {"record_id"}
    admin.post_json("/api/v1/_portal/accounts", {"record_id": 999999}, status=404)
    res = admin.post_json(
        "/api/v1/_portal/accounts", {"record_id": anna, "is_admin": True}, status=400
    )
    assert _fields(res) == {"is_admin"}
    # a user without the manage permission cannot invite
    api("user").post_json("/api/v1/_portal/accounts", {"record_id": anna}, status=403)


def test_disable_enable_and_reset(company, smtp_server, accept, portal_app, dbsession):
    admin, acc, anna, bob = company
    body, mail = _invite(admin, smtp_server, anna)
    app = accept(invitation_link(mail), "anna@acme.example")
    admin.post(f"/api/v1/_portal/accounts/{body['id']}/disable", status=200)
    # the running session ends and the login is refused
    assert "/portal/login" in app.get("/portal", status=303).location
    other = portal_app()
    page = other.get("/portal/login")
    res = other.post(
        "/portal/login",
        {"email": "anna@acme.example", "password": STRONG, "csrf_token": form_csrf(page)},
    )
    assert res.status_int == 200
    res = admin.post(f"/api/v1/_portal/accounts/{body['id']}/reset", status=400)
    assert admin.post(f"/api/v1/_portal/accounts/{body['id']}/enable").json["status"] == "active"
    res = admin.post(f"/api/v1/_portal/accounts/{body['id']}/reset", status=200)
    mails = smtp_server.wait(2)
    assert "new password" in mails[1]["Subject"]
    app = accept(invitation_link(mails[1]), "anna@acme.example", password=STRONG + " two")
    assert "My company" in app.get("/portal").text
    with dbsession() as db:
        row = db.execute(select(PortalAccount)).scalar_one()
        assert row.accepted_at is not None and row.disabled_at is None


def test_staff_record_page_invites(company, client, smtp_server):
    admin_ui = client("admin")
    _admin, acc, anna, bob = company
    page = admin_ui.get(f"/persons/{anna}")
    assert "Invite to the portal" in page.text
    res = admin_ui.post(f"/admin/portal/invite/{anna}", {"csrf_token": form_csrf(page)})
    assert res.status_int == 303
    assert smtp_server.wait(1)[0]["To"] == "anna@acme.example"
    listing = admin_ui.get("/admin/portal")
    assert "Anna Papadopoulou" in listing.text and "Invited, no password yet" in listing.text
    page = admin_ui.get(f"/persons/{anna}")
    assert "Send a new portal link" in page.text

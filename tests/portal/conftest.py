"""The customer portal's tests: contacts (portal users are people, their customer the
account), sfa ("My quotes") and a real SMTP server for the invitations."""

from __future__ import annotations

import pytest
import webtest
from portal_support import STRONG, form_csrf, invitation_link  # noqa: F401


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa"]


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


@pytest.fixture
def portal_app(kyklos_app):
    """A fresh browser-like client (own cookie jar)."""

    def make():
        return webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})

    return make


@pytest.fixture
def accept(portal_app):
    """Open an invitation link, choose ``password`` and log in; returns the client."""

    def do(link: str, email: str, password: str = STRONG):
        app = portal_app()
        path = link.split("localhost", 1)[1] if "localhost" in link else link
        page = app.get(path)
        assert "password" in page.text
        res = app.post(
            "/portal/welcome",
            {
                "token": path.split("token=", 1)[1],
                "password": password,
                "confirm": password,
                "csrf_token": form_csrf(page),
            },
        )
        assert res.status_int == 303, res.text[:2000]
        login = app.get("/portal/login")
        res = app.post(
            "/portal/login",
            {"email": email, "password": password, "csrf_token": form_csrf(login)},
        )
        assert res.status_int == 303, res.text[:2000]
        return app

    return do

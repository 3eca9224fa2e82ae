"""Fixtures of the helpdesk's tests: an app with contacts, activities, the catalog and
the helpdesk."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

# Test modules import their helpers (helpdesk_helpers.py) from this folder; pytest's
# importlib mode does not put it on sys.path.
sys.path.insert(0, str(Path(__file__).parent))

from helpdesk_helpers import STRONG, csrf_of  # noqa: E402


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "helpdesk"]


@pytest.fixture
def admin(api):
    return api("admin")


@pytest.fixture
def types(dbsession):
    """The case types by code (the migration seeds them; each test starts empty)."""
    from kyklos_helpdesk.service import ensure_types

    with dbsession() as db:
        return ensure_types(db)


@pytest.fixture
def portal_login(kyklos_app, admin, smtp_server):
    """``portal_login(account_id, email, n=1)``: a person of ``account_id`` invited to
    the portal (``n``: their welcome mail is the server's n-th), who chose a password
    and logged in: a webtest client with the portal's cookie. The module points
    ``kyklos_settings`` at ``smtp_server``."""
    import webtest

    def login(account_id, email, n=1):
        person = admin.post_json(
            "/api/v1/persons",
            {
                "first_name": "Ελένη",
                "last_name": "Πελάτισσα",
                "account_id": account_id,
                "email": email,
            },
        ).json["id"]
        admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
        body = smtp_server.wait(n)[n - 1].get_body(("plain",)).get_content()
        token = re.search(r"/portal/welcome\?token=(\S+)", body).group(1)
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        page = app.get(f"/portal/welcome?token={token}")
        res = app.post(
            "/portal/welcome",
            {"token": token, "password": STRONG, "confirm": STRONG, "csrf_token": csrf_of(page)},
        )
        assert res.status_int == 303, res.text[:2000]
        form = app.get("/portal/login")
        res = app.post(
            "/portal/login", {"email": email, "password": STRONG, "csrf_token": csrf_of(form)}
        )
        assert res.status_int == 303, res.text[:2000]
        return app

    return login

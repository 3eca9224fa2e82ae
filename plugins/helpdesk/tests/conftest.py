"""Fixtures of the helpdesk's tests: an app with contacts, activities, the catalog and
the helpdesk."""

from __future__ import annotations

import pytest


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

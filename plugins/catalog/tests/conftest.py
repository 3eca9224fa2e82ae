"""Fixtures of the catalog's tests: an app with contacts and the catalog."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "catalog"]


@pytest.fixture
def admin(api):
    return api("admin")

"""Fixtures of the campaigns' tests: an app with contacts, activities and campaigns."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.secret": "campaign-tests-secret"}

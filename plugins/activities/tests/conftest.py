"""Fixtures of the activities tests: contacts and activities are enabled."""

import sys
from pathlib import Path

import pytest

# Test modules import their helpers (activities_helpers.py) from this folder; pytest's
# importlib mode does not put it on sys.path.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities"]


@pytest.fixture
def types(registry, dbsession):
    """The default activity types by code (the emptied test database lost the rows the
    migration seeds): ``{code: id}``."""
    from kyklos_activities.defaults import ensure_defaults

    with dbsession() as db:
        return {code: t.id for code, t in ensure_defaults(db).items()}


@pytest.fixture
def resource(make_record):
    def make(name="Αίθουσα συσκέψεων", kind="room"):
        return make_record("resource", name=name, kind=kind, active=True)

    return make


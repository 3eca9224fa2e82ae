"""Fixtures of the contacts tests: only the contacts plugin is enabled."""

import sys
from pathlib import Path

import pytest

# Test modules import their shared helpers (contacts_helpers.py) from this folder;
# pytest's importlib mode does not put it on sys.path.
sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


@pytest.fixture
def rel_types(registry, dbsession):
    """The default relationship types (a test database is emptied between tests, so the
    rows the migration seeds are gone); ``{code: id}``."""
    from kyklos_contacts.relations import ensure_default_types

    with dbsession() as db:
        return {code: t.id for code, t in ensure_default_types(db).items()}

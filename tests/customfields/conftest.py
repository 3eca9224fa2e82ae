import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


@pytest.fixture(autouse=True)
def _forget_custom_fields(kyklos_app):
    """The app outlives the test while its database is emptied: drop the definitions
    and re-merge, so the next test (and other modules) see the types' own fields."""
    from kyklos.entities.customfields import CustomField, CustomValue, refresh

    yield
    registry = kyklos_app.registry
    with registry["dbsession_factory"]() as db:
        db.query(CustomValue).delete()
        db.query(CustomField).delete()
        db.commit()
        refresh(registry, db, force=True)

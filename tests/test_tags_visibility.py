"""A tag's name tells about the records it is on: the detail page's suggestions and the
list's tag filter offer only tags of records the user may read (security review)."""

from __future__ import annotations

import pytest
from entities_support import roles_synced  # noqa: F401 - fixture
from sqlalchemy import select


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


def test_tags_of_records_a_user_cannot_see_are_not_suggested(
    client,
    registry,
    dbsession,
    roles_synced,  # noqa: F811
):
    from kyklos.entities.tags import add_tag
    from kyklos.security.models import User

    app = client("thingseditor")  # may not read boxes at all
    model = registry.kyklos_entities["thing"].model
    et = registry.kyklos_entities["thing"]
    box_et = registry.kyklos_entities["box"]
    with dbsession() as db:
        uid = db.execute(select(User.id).where(User.email == app.email)).scalar_one()
        mine, secret = model(name="mine", owner_id=uid), box_et.model(name="secret")
        db.add_all([mine, secret])
        db.flush()
        ids = mine.id, secret.id

    class Req:  # add_tag needs only the session of a request
        dbsession = None

    with dbsession() as db:
        Req.dbsession = db
        add_tag(Req, et, db.get(model, ids[0]), "Ordinary")
        add_tag(Req, box_et, db.get(box_et.model, ids[1]), "Takeover target")
    page = app.get(f"/things/{ids[0]}")
    suggested = [o["value"] for o in page.html.select("#k-tag-list option")]
    assert "Ordinary" in suggested and "Takeover target" not in suggested
    listing = app.get("/things/")
    assert "Ordinary" in listing.text and "Takeover target" not in listing.text

"""The zone of a new activity (issue #17): the user's own zone first; without one, the
site's default time zone from the settings page, unless the deployment's .ini names a
zone for activities explicitly. The plugin no longer ships a zone of its own that would
hide the site setting."""

from __future__ import annotations

import pytest
from activities_helpers import future, meeting

from kyklos.security.models import User


def _zoneless(api, dbsession, role="sales"):
    rep = api(role)
    with dbsession() as db:
        db.get(User, rep.user_id).timezone = ""
    return rep


def test_the_plugin_declares_no_zone_of_its_own(registry):
    assert not registry.settings.get("kyklos.activities.timezone")


def test_a_user_without_a_zone_gets_the_sites_default(api, dbsession, types):
    admin = api("admin")
    rep = _zoneless(api, dbsession)
    body = meeting(types, future())
    assert rep.post_json("/api/v1/activities", body, status=201).json["timezone"] == "UTC"
    admin.patch_json("/api/v1/_settings", {"timezone.default": "America/Chicago"})
    made = rep.post_json("/api/v1/activities", meeting(types, future()), status=201).json
    assert made["timezone"] == "America/Chicago"
    # the user's own zone comes first
    with dbsession() as db:
        db.get(User, rep.user_id).timezone = "Europe/Warsaw"
    made = rep.post_json("/api/v1/activities", meeting(types, future()), status=201).json
    assert made["timezone"] == "Europe/Warsaw"


class TestAnExplicitIniZone:
    @pytest.fixture
    def kyklos_settings(self):
        return {"kyklos.activities.timezone": "Asia/Tokyo"}

    def test_it_wins_over_the_site_setting(self, api, dbsession, types):
        api("admin").patch_json("/api/v1/_settings", {"timezone.default": "America/Chicago"})
        rep = _zoneless(api, dbsession)
        made = rep.post_json("/api/v1/activities", meeting(types, future()), status=201).json
        assert made["timezone"] == "Asia/Tokyo"

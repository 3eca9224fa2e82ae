"""The administration's plugins page (installed, enabled, available, broken plugins and
themes) and the layout's notifications slot."""

from __future__ import annotations

import re

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["samplea"]


def row_of(html: str, plugin_id: str) -> str:
    m = re.search(
        rf'<tr class="k-plugin-(\w+)">((?:(?!</tr>).)*<code>{plugin_id}</code>.*?)</tr>', html, re.S
    )
    assert m, f"no row for {plugin_id}"
    return m.group(1)


def test_plugins_page_shows_enabled_available_and_broken(client):
    admin = client("admin")
    page = admin.get("/admin/plugins")
    assert row_of(page.text, "samplea") == "enabled"
    assert row_of(page.text, "sampleb") == "available"  # installed, not enabled
    assert row_of(page.text, "broken") == "broken"
    assert "0.1.0" in page.text and "kyklos-samplea" in page.text
    assert "Themes" in page.text and "<code>default</code>" in page.text
    # the administration index links to it
    index = admin.get("/admin")
    assert 'href="http://localhost/admin/plugins"' in index.text


def test_plugins_page_is_for_administrators(client):
    assert client("thingseditor").get("/admin/plugins", expect_errors=True).status_int == 403


def test_layout_has_the_notifications_slot(client, registry):
    from pyramid.interfaces import IRoutesMapper

    page = client("thingsreader").get("/things/")
    slot = page.text.split('id="k-notifications"', 1)[1].split("</li>", 1)[0]
    # the bell links to the notifications page only where that feature is installed
    has_route = registry.getUtility(IRoutesMapper).get_route("notifications") is not None
    assert ('href="http://localhost/notifications"' in slot) == has_route

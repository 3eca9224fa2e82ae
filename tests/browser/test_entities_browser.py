"""The generated entity pages in real Chromium: a user creates, finds, tags, attaches,
edits and bulk-deletes things through the forms; the layout works on a phone."""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kyklos_sdk.testing import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def kyklos_plugins():
    return ["samplea", "samplerel"]


def png() -> bytes:
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def log_in(page, live_server, make_user, *roles) -> int:
    email = f"browser-{'-'.join(roles)}@example.com"
    uid = make_user(email=email, roles=roles, name="Browser User")
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Browser User")
    return uid


def insert(registry, dbsession, entity, rows, **common):
    model = registry.kyklos_entities[entity].model
    with dbsession() as db:
        objs = [model(**common, **r) for r in rows]
        db.add_all(objs)
        db.flush()
        return [o.id for o in objs]


def table_names(page) -> list[str]:
    return page.locator("table.k-list tbody td:nth-child(2) a").all_inner_texts()


def expect_names(page, names: list[str]) -> None:
    """Wait for the list to show these names in this order: a click on a header, Apply
    or Clear loads a new page, and reading the rows at once could read the page before."""
    expect(page.locator("table.k-list tbody td:nth-child(2) a")).to_have_text(names)


def test_create_with_server_side_errors_then_edit(page, live_server, make_user):
    log_in(page, live_server, make_user, "thingseditor")
    page.goto(f"{live_server}/things/")
    page.get_by_role("link", name="New").click()
    # the browser must not stop an empty required field: the server's message shows
    page.locator("#k-record-form").evaluate("f => f.noValidate = true")
    page.get_by_label("Size").fill("five")
    page.get_by_role("button", name="Save").click()
    size_item = page.locator(".item-size")
    expect(size_item.locator(".invalid-feedback")).to_be_visible()
    expect(size_item.locator(".invalid-feedback")).to_contain_text("is not a number")
    expect(page.locator(".item-name .invalid-feedback")).to_contain_text("Required")
    page.get_by_label("Name").fill("Browser thing")
    page.get_by_label("Size").fill("5")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Browser thing")
    page.get_by_role("link", name="Edit").click()
    page.get_by_label("Colour").fill("teal")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert-success")).to_contain_text("Changes saved.")
    expect(page.locator(".k-field-colour")).to_have_text("teal")
    page.get_by_role("link", name="Things").first.click()
    expect(page.locator("table.k-list tbody")).to_contain_text("Browser thing")


def test_tag_attach_and_search(page, live_server, make_user, registry, dbsession):
    uid = log_in(page, live_server, make_user, "thingseditor")
    page.goto(f"{live_server}/things/new")
    page.get_by_label("Name").fill("Searchable thing")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Searchable thing")
    page.get_by_label("Add tags (comma separated)").fill("VIP")
    page.locator("#tags").get_by_role("button", name="Add").click()
    expect(page.locator("#tags .k-tag")).to_contain_text("VIP")
    page.set_input_files(
        "#k-file", files=[{"name": "photo.png", "mimeType": "image/png", "buffer": png()}]
    )
    page.locator("#attachments").get_by_role("button", name="Upload", exact=True).click()
    expect(page.locator("#attachments")).to_contain_text("photo.png")
    page.screenshot(path="/tmp/kyklos-entity-detail.png", full_page=True)
    # find it through the navbar's search box, and by its tag in the list
    page.fill("#k-search", "searchable")
    page.press("#k-search", "Enter")
    group = page.locator(".k-search-group")
    expect(group).to_contain_text("Searchable thing")
    insert(registry, dbsession, "thing", [{"name": "Untagged"}], owner_id=uid)
    page.goto(f"{live_server}/things/")
    page.locator("#k-filters").get_by_label("Tag").select_option("VIP")
    page.locator("#k-filters").get_by_role("button", name="Apply").click()
    expect_names(page, ["Searchable thing"])


def test_list_filter_sort_and_bulk_delete(page, live_server, make_user, registry, dbsession):
    uid = log_in(page, live_server, make_user, "thingseditor")
    insert(
        registry,
        dbsession,
        "thing",
        [
            {"name": n, "size": s}
            for n, s in (("apple", 3), ("banana", 1), ("cherry", 2), ("avocado", 9))
        ],
        owner_id=uid,
    )
    page.goto(f"{live_server}/things/")
    expect(page.locator("#k-count")).to_have_text("4 records")
    # sort by clicking the Size header, twice for descending
    page.locator("thead").get_by_role("link", name="Size").click()
    expect_names(page, ["banana", "cherry", "apple", "avocado"])
    page.locator("thead").get_by_role("link", name="Size").click()
    expect_names(page, ["avocado", "apple", "cherry", "banana"])
    # filter: name starts with "a"
    filters = page.locator("#k-filters")
    filters.locator("select[name='fop.name']").select_option("startswith")
    filters.get_by_label("Name").fill("a")
    filters.get_by_role("button", name="Apply").click()
    expect_names(page, ["avocado", "apple"])
    page.screenshot(path="/tmp/kyklos-entity-list.png", full_page=True)

    # select all (JavaScript) and delete with confirmation
    page.get_by_label("Select all").check()
    expect(page.locator("input[name=ids]:checked")).to_have_count(2)
    page.select_option("#k-bulk-action", "delete")
    page.locator(".k-bulk-bar").get_by_role("button", name="Apply").click()
    expect(page.locator("h1")).to_have_text("Delete 2 records?")
    page.get_by_role("button", name="Delete them").click()
    expect(page.locator(".alert-success")).to_contain_text("2 records deleted.")
    page.get_by_role("link", name="Clear").click()
    expect(page.locator("#k-count")).to_have_text("2 records")
    assert sorted(table_names(page)) == ["banana", "cherry"]


def test_reference_lookup_enhances_the_id_input(page, live_server, make_user, registry, dbsession):
    log_in(page, live_server, make_user, "releditor")
    # more boxes than a select lists: the picker searches the server as you type
    ids = insert(registry, dbsession, "box", [{"name": f"Crate {i:03d}"} for i in range(205)])
    page.goto(f"{live_server}/items/new")
    page.get_by_label("Name").fill("Hammer")
    page.get_by_role("combobox", name="Box id").click()
    page.keyboard.type("crate 042", delay=20)
    page.get_by_role("option", name="Crate 042").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("h1")).to_have_text("Hammer")
    expect(page.locator(".k-field-box_id")).to_have_text("Crate 042")
    model = registry.kyklos_entities["item"].model
    with dbsession() as db:
        assert db.execute(select(model.box_id)).scalar_one() == ids[42]


def test_phone_layout(page, live_server, make_user, registry, dbsession):
    page.set_viewport_size({"width": 375, "height": 740})
    uid = log_in(page, live_server, make_user, "thingseditor")
    insert(
        registry,
        dbsession,
        "thing",
        [{"name": "A thing with a rather long name", "colour": "ultramarine", "size": 12345}],
        owner_id=uid,
    )
    page.goto(f"{live_server}/things/?cols=name,colour,size,owner_id,_tags")
    # the menu collapses behind the toggler and opens on demand
    expect(page.locator("#k-nav")).to_be_hidden()
    page.get_by_role("button", name="Menu").click()
    expect(page.locator("#k-nav")).to_be_visible()
    expect(page.locator("#k-nav").get_by_role("link", name="Things")).to_be_visible()
    # the list is a pile of cards: the title and two labelled values; nothing else, and
    # the page never scrolls sideways
    expect(page.locator("table.k-list thead")).to_be_hidden()
    card = page.locator("table.k-list tbody tr").first
    expect(card.locator("td.k-card-title")).to_have_text(re.compile("rather long name"))
    expect(card.locator("td.k-card-value")).to_have_count(2)
    expect(card.locator("td.k-card-value").first).to_be_visible()
    expect(card.locator("td.k-card-hidden").first).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path="/tmp/kyklos-entity-list-phone.png", full_page=True)

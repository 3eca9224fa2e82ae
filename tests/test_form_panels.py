"""Panels a plugin adds beside another type's record form (``kyklos_record_form_panels``):
shown on the new and edit pages and again when a save is refused, escaped, hidden from
users lacking the panel's permission, and a failing contributor leaves the form working.
The detail page's panels (``kyklos_record_panels``) honour ``permission`` the same way."""

from __future__ import annotations

import re

import pytest
from markupsafe import Markup

from kyklos_sdk import Panel, hookimpl


@pytest.fixture
def kyklos_plugins():
    return ["samplerel"]


class ItemPanels:
    """A plugin's panels on the items' form (the sample plugin's other type is boxes)."""

    def __init__(self):
        self.calls = []

    @hookimpl
    def kyklos_record_form_panels(self, request, entity_type, record, mode):
        self.calls.append((entity_type.name, mode, getattr(record, "name", None)))
        if entity_type.name != "item":
            return None
        name = record.name if record is not None else "<new item>"
        return [
            Panel(
                "Packing <tips>",
                html=str(Markup('<p id="sp-for">Packing {}</p>').format(name)),
                id="sp-tips",
                order=20,
            ),
            Panel(
                "Boxes in stock",
                items=[("Crate <b>A</b>", "/boxes", "<i>3 left</i>")],
                count=1,
                id="sp-stock",
                permission="samplerel.box.read",
                order=10,
            ),
            Panel("Shown by a script", html="<p>later</p>", id="sp-later", hidden=True),
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "item":
            return None
        return [
            Panel(
                "Edit history",
                items=[("edited", None, "")],
                id="sp-audit",
                permission="samplerel.item.update",
            )
        ]


class Broken:
    @hookimpl
    def kyklos_record_form_panels(self, entity_type):
        raise RuntimeError("a broken plugin")


@pytest.fixture
def panels(registry):
    pm = registry.kyklos_pm
    hooks, broken = ItemPanels(), Broken()
    pm.register(hooks)
    pm.register(broken)
    yield hooks
    pm.unregister(broken)
    pm.unregister(hooks)


@pytest.fixture
def items_only(dbsession):
    """A role that may create items but not read boxes."""
    from kyklos.security.models import Role

    perms = [f"samplerel.item.{v}" for v in ("read", "create", "update")]
    with dbsession() as db:
        db.add(Role(name="itemsonly", title="Items only", permissions=perms))
    return "itemsonly"


def section(html: str, pid: str) -> str:
    m = re.search(rf'<section[^>]*id="{pid}"[^>]*>.*?</section>', html, re.S)
    assert m, f"no panel {pid}"
    return m.group(0)


def test_panels_stand_beside_the_new_form_escaped_and_in_order(client, panels):
    editor = client("releditor")
    html = editor.get("/items/new").text
    assert ("item", "new", None) in panels.calls
    aside = html[html.index('id="k-form-panels"') :]
    assert aside.index('id="sp-stock"') < aside.index('id="sp-tips"')  # by order
    tips = section(html, "sp-tips")
    assert "Packing &lt;tips&gt;" in tips and "<tips>" not in tips
    assert '<p id="sp-for">Packing &lt;new item&gt;</p>' in tips
    stock = section(html, "sp-stock")
    assert '<a href="/boxes">Crate &lt;b&gt;A&lt;/b&gt;</a>' in stock
    assert "&lt;i&gt;3 left&lt;/i&gt;" in stock and "<b>" not in stock
    assert 'class="badge text-bg-light">1</span>' in stock
    later = section(html, "sp-later")
    assert re.search(r'class="[^"]*\bk-form-panel d-none"', later)
    assert "d-none" not in tips
    # the form itself is whole: a panel is beside it, not in it
    assert 'id="k-record-form"' in html
    assert "sp-" not in html[html.index('id="k-record-form"') : html.index("</form>")]


def test_the_edit_form_gets_the_record_and_a_refused_save_keeps_the_panels(
    client, make_record, panels
):
    editor = client("releditor")
    iid = make_record("item", name="Vase <script>")
    res = editor.get(f"/items/{iid}/edit")
    assert ("item", "edit", "Vase <script>") in panels.calls
    assert "Packing Vase &lt;script&gt;" in section(res.text, "sp-tips")
    form = res.forms["k-record-form"]
    form["name"] = ""
    refused = form.submit("save", status=400)
    assert 'id="sp-tips"' in refused.text and 'id="sp-stock"' in refused.text
    # a new item's refused save too
    form = editor.get("/items/new").forms["k-record-form"]
    refused = form.submit("save", status=400)
    assert "Packing &lt;new item&gt;" in refused.text


def test_a_panel_is_not_shown_to_a_user_lacking_its_permission(client, items_only, panels):
    html = client(items_only).get("/items/new").text
    assert 'id="sp-tips"' in html  # no permission asked
    assert 'id="sp-stock"' not in html and "Boxes in stock" not in html
    assert "Crate" not in html


def test_other_forms_get_no_panels_and_a_failing_contributor_is_left_out(client, panels):
    editor = client("releditor")
    html = editor.get("/boxes/new").text
    assert ("box", "new", None) in panels.calls
    assert 'id="k-form-panels"' not in html and 'id="k-record-form"' in html
    assert 'id="sp-tips"' in editor.get("/items/new").text  # Broken raised for both


def test_detail_panels_honour_their_permission(client, make_record, panels):
    iid = make_record("item", name="Jar")
    editor = client("releditor")
    assert "Edit history" in section(editor.get(f"/items/{iid}").text, "sp-audit")
    page = client("relreader").get(f"/items/{iid}").text
    assert "Jar" in page and 'id="sp-audit"' not in page and "Edit history" not in page
    # a panel without an id (the sample plugin's "Shipping") gets no id attribute
    box = editor.get(f"/boxes/{make_record('box', name='Crate')}").text
    assert 'aria-label="Shipping"' in box and 'id="None"' not in box and 'id=""' not in box

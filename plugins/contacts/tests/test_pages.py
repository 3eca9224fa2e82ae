"""The 360° pages of people and accounts (CON-14, CORE-08): the summary of open items
other plugins contribute, contact details, hierarchy and partner channel, installed
base; the phones/e-mails/photo page; the menu."""

import base64

import pytest
from contacts_helpers import new_account, new_person

from kyklos_sdk import Panel, hookimpl

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class OpenItems:
    """What a sales or helpdesk plugin contributes to a contact's summary."""

    @hookimpl
    def kyklos_record_summary(self, request, entity_type, record):
        if entity_type.name != "person":
            return None
        return [
            Panel(title="Open opportunities", count=2,
                  items=[("Fleet renewal", "/opportunities/1", "€12,000")]),
            Panel(title="Open cases", count=1, items=[("Printer jams", None, "high")]),
        ]


@pytest.fixture
def open_items(registry):
    plugin = OpenItems()
    registry.kyklos_pm.register(plugin, name="test.open_items")
    yield plugin
    registry.kyklos_pm.unregister(plugin)


def test_summary_panel_collects_other_plugins_open_items(api, client, open_items):
    p = new_person(api("manager"))
    page = client("sales").get(f"/persons/{p['id']}")
    text = page.text
    assert "Summary of open items" in text
    assert "Open opportunities" in text and "Fleet renewal" in text and "€12,000" in text
    assert "Open cases" in text and "Printer jams" in text
    start = text.index("k-contacts-summary")
    assert text.index("Open opportunities", start) < text.index("Contact details")


def test_summary_panel_without_contributions(api, client):
    p = new_person(api("manager"))
    assert "No open items." in client("sales").get(f"/persons/{p['id']}").text


def test_person_page_panels_and_details_form(api, client):
    a = api("manager")
    acc = new_account(a, name="Kowalski Handel sp. z o.o.", country="PL")
    p = new_person(a, first_name="Jan", last_name="Kowalski", country="PL",
                   email="jan@example.com", account_id=acc["id"], job_title="Prezes",
                   gender="male",
                   phones=[{"type": "mobile", "number": "601 234 567"}])
    c = client("manager")
    page = c.get(f"/persons/{p['id']}")
    for marker in ("k-contacts-contact", "k-contacts-relationships",
                   "k-contacts-affiliations", "k-contacts-occasions", "k-contacts-consent",
                   "k-contacts-installed", "+48 601 234 567", "Szanowny Panie"):
        assert marker in page.text, marker
    assert "Kowalski Handel sp. z o.o." in page.text and "Prezes" in page.text
    details = c.get(f"/contacts/persons/{p['id']}/details")
    form = next(f for f in details.forms.values() if "phone_0_value" in f.fields)
    form["phone_1_value"] = "12 345 67 89"
    form["phone_1_type"] = "work"
    form["email_1_value"] = "jan.prywatny@example.net"
    form["email_1_type"] = "home"
    form["photo"] = ("me.png", PNG)
    form.submit().follow()
    got = a.get(f"/api/v1/persons/{p['id']}").json
    assert got["phones"] == [
        {"type": "mobile", "number": "+48601234567", "primary": True},
        {"type": "work", "number": "+48123456789", "primary": False},
    ]
    assert [e["email"] for e in got["emails"]] == ["jan@example.com",
                                                    "jan.prywatny@example.net"]
    photo = c.get(f"/contacts/persons/{p['id']}/photo")
    assert photo.content_type == "image/png" and photo.body == PNG
    # A bad number is shown next to its row, nothing is saved.
    details = c.get(f"/contacts/persons/{p['id']}/details")
    form = next(f for f in details.forms.values() if "phone_0_value" in f.fields)
    form["phone_0_value"] = "12"
    res = form.submit(status=400)
    assert "phones.0.number" in res.text
    assert a.get(f"/api/v1/persons/{p['id']}").json["phones"] == got["phones"]
    # Not an image: refused.
    form = next(f for f in c.get(f"/contacts/persons/{p['id']}/details").forms.values()
                if "phone_0_value" in f.fields)
    form["photo"] = ("x.png", b"<svg onload=alert(1)>")
    assert "JPEG, PNG" in form.submit(status=400).text


def test_account_page_hierarchy_partner_and_installed_base(api, client):
    a = api("manager")
    holding = new_account(a, name="Όμιλος Αιγαίο Α.Ε.", country="GR")
    acc = new_account(a, name="Αιγαίο Τεχνική Α.Ε.", country="GR", parent_id=holding["id"])
    branch = new_account(a, name="Αιγαίο Τεχνική – Θεσσαλονίκη", parent_id=acc["id"],
                         is_branch=True, city="Θεσσαλονίκη")
    partner = new_account(a, name="Reseller Ltd", roles=["partner"])
    a.patch_json(f"/api/v1/accounts/{acc['id']}", {"partner_id": partner["id"],
                                                   "invoice_partner": True})
    a.post_json("/api/v1/installed-products", {"account_id": acc["id"],
                                               "product": "Fiscal cash register",
                                               "serial_number": "FCR-0000001"})
    c = client("sales")
    text = c.get(f"/accounts/{acc['id']}").text
    assert "Όμιλος Αιγαίο Α.Ε." in text  # the group above
    assert "Αιγαίο Τεχνική – Θεσσαλονίκη" in text and "branch" in text
    assert "Reseller Ltd" in text and "invoice the partner" in text
    assert "FCR-0000001" in text
    text = c.get(f"/accounts/{partner['id']}").text
    assert "Handles" in text and "customers as partner" in text
    assert f"/accounts/{branch['id']}" in c.get(f"/accounts/{acc['id']}").text


def test_menu_has_occasions_and_import(client):
    assert "/contacts/occasions" in client("sales").get("/").text
    assert "/contacts/vcards/import" not in client("sales").get("/").text
    assert "/contacts/vcards/import" in client("manager").get("/").text

"""The manager's editors in real Chromium, in English and in Greek: a segment "people in
accounts in Heraklion" built from words and a picker, its members previewed and listed;
a role's permissions ticked in the matrix; empty lists that say what to do."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from kyklos_sdk.testing import PASSWORD, save_screenshot

pytestmark = pytest.mark.browser

WORDS = {
    "en": {
        "is": "is",
        "contains": "contains",
        "people": "People",
        "delete": "Delete",
        "admin": "Administration",
        "roles": "Roles and record rules",
        "rep": "Sales representative",
        "own": "Own records",
        "saved": "Saved.",
        "empty_segments": "No segments yet",
        "empty_users": "No user matches",
        "matching": "2 matching records",
    },
    "el": {
        "is": "είναι",
        "contains": "περιέχει",
        "people": "Πρόσωπα",
        "delete": "Διαγραφή",
        "admin": "Διαχείριση",
        "roles": "Ρόλοι και κανόνες εγγραφών",
        "rep": "Πωλητής",
        "own": "Δικές μου εγγραφές",
        "saved": "Αποθηκεύτηκε.",
        "empty_segments": "Κανένα τμήμα-στόχος ακόμη",
        "empty_users": "Κανένας χρήστης δεν",
        "matching": "2 εγγραφές ταιριάζουν",
    },
}


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def _login(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] button[type=submit]").click()


@pytest.mark.parametrize("lang", ["en", "el"])
def test_manager_builds_segment_and_edits_role(page, live_server, make_user, api, dbsession, lang):
    from kyklos.security.models import Role

    w = WORDS[lang]
    with dbsession() as db:
        if db.execute(select(Role).where(Role.name == "usermgr")).scalar() is None:
            db.add(Role(name="usermgr", title="User manager", permissions=["kyklos.users.manage"]))
    email = f"segments-{lang}@example.com"
    make_user(email=email, roles=("manager", "usermgr"), name="Maria Manager", locale=lang)
    admin = api("admin")
    knossos = admin.post_json(
        "/api/v1/accounts", {"name": "Knossos Travel", "city": "Heraklion"}, status=201
    ).json["id"]
    acropolis = admin.post_json(
        "/api/v1/accounts", {"name": "Acropolis SA", "city": "Athens"}, status=201
    ).json["id"]
    for first, last, acc in (
        ("Eleni", "Kritikou", knossos),
        ("Nikos", "Athinaios", acropolis),
        ("Manolis", "Minoikos", knossos),
    ):
        admin.post_json(
            "/api/v1/persons",
            {"first_name": first, "last_name": last, "account_id": acc},
            status=201,
        )

    _login(page, live_server, email)
    expect(page.locator(".k-navbar")).to_contain_text("Maria Manager")
    page.goto(f"{live_server}/segments")
    expect(page.locator("#segments-empty")).to_contain_text(w["empty_segments"])
    save_screenshot(page, f"segments-empty-{lang}")
    page.locator("#seg-entity").select_option("person")
    page.locator("form[action$='/segments/new'] button[type=submit]").click()
    page.fill("#seg-name", "Heraklion people" if lang == "en" else "Άτομα στο Ηράκλειο")

    # a related field by its titles; choosing it re-draws the row with its operators
    field = page.locator("select[name='c.0.0.field']")
    label = field.locator("option[value='account.city']").inner_text()
    assert "›" in label and "account.city" not in label
    page.wait_for_load_state()  # the page's script listens for the change
    with page.expect_navigation():
        field.select_option("account.city")
    op = page.locator("select[name='c.0.0.op']")
    expect(op.locator("option[value='contains']")).to_have_text(w["contains"])
    op.select_option("eq")
    expect(op.locator("option:checked")).to_have_text(w["is"])
    page.fill("input[name='c.0.0.value']", "Heraklion")
    page.locator("button.btn-outline-primary[value='preview']").click()
    expect(page.locator("#segment-preview strong")).to_have_text(w["matching"])
    expect(page.locator("#segment-preview")).to_contain_text("Kritikou")

    # and the account itself, picked by name (Tom Select) rather than typed as an id
    page.locator("button[value='add_condition.0']").click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.locator("select[name='c.0.1.field']").select_option("account_id")
    page.locator("[data-k-cond='0.1'] .ts-control").click()
    page.keyboard.type("Knossos")
    page.locator(".ts-dropdown .option", has_text="Knossos Travel").first.click()
    page.locator("button.btn-outline-primary[value='preview']").click()
    expect(page.locator("#segment-preview strong")).to_have_text(w["matching"])
    expect(page.locator("#segment-preview")).not_to_contain_text("Athinaios")
    save_screenshot(page, f"segment-builder-{lang}")
    page.locator("button[value='save']").click()
    expect(page.locator("#segment-members")).to_contain_text("Minoikos")
    expect(page.locator("#segment-members")).not_to_contain_text("Athinaios")
    save_screenshot(page, f"segment-members-{lang}")

    # the administration is in the user menu of a manager who is no full administrator
    page.locator(".k-navbar .dropdown-toggle", has_text="Maria Manager").click()
    page.locator("#k-admin-link").click()
    page.get_by_role("link", name=w["roles"]).click()
    page.get_by_role("link", name=w["rep"], exact=True).click()
    box = page.get_by_label(f"{w['people']}: {w['delete']}", exact=True)
    expect(box).not_to_be_checked()
    box.check()
    expect(page.locator("#record-rules")).to_contain_text(w["own"])
    save_screenshot(page, f"role-matrix-{lang}")
    page.locator("#role-form button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(w["saved"])
    expect(page.get_by_label(f"{w['people']}: {w['delete']}", exact=True)).to_be_checked()
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "sales")).scalar_one()
        assert "contacts.person.delete" in role.permissions

    page.goto(f"{live_server}/admin/users?q=nobody-like-this")
    expect(page.locator("#users-empty")).to_contain_text(w["empty_users"])

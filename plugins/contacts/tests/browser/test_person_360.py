"""A person's 360° page in real Chromium: the relationship graph and the panels."""

import pytest
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def kyklos_plugins():
    return ["contacts"]


def test_person_360_page(page, live_server, make_user, api, rel_types):
    a = api("manager")
    firm = a.post_json("/api/v1/accounts", {"name": "Βλάχος Τεχνική Α.Ε.",
                                            "country": "GR"}).json
    nikos = a.post_json("/api/v1/persons", {
        "first_name": "Νίκος", "last_name": "Βλάχος", "country": "GR", "gender": "male",
        "email": "nikos@example.com", "account_id": firm["id"], "job_title": "Ιδιοκτήτης",
        "birth_date": "1960-05-06", "phones": [{"type": "mobile", "number": "6931234567"}],
    }).json
    eleni = a.post_json("/api/v1/persons", {"first_name": "Ελένη", "last_name": "Βλάχου",
                                            "country": "GR", "gender": "female"}).json
    kostas = a.post_json("/api/v1/persons", {"first_name": "Κώστας", "last_name": "Βλάχος",
                                             "country": "GR", "gender": "male"}).json
    for code, other in (("spouse", eleni), ("father", kostas)):
        a.post_json("/api/v1/relationships", {"type_id": rel_types[code],
                                              "from_person_id": nikos["id"],
                                              "to_person_id": other["id"]})
    make_user(email="browser@example.com", roles=("sales",), name="Browser User")
    page.goto(f"{live_server}/login")
    page.fill("#email", "browser@example.com")
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Browser User")

    page.goto(f"{live_server}/persons/{nikos['id']}")
    graph = page.locator("svg.k-relgraph")
    expect(graph).to_be_visible()
    box = graph.bounding_box()
    assert box["width"] > 200 and box["height"] > 100  # really drawn, not collapsed
    expect(graph.locator("text", has_text="Ελένη Βλάχου")).to_have_count(1)
    # Nikos is a man: "husband of" (the type reads "spouse of" for no given gender)
    expect(graph.locator("text", has_text="husband of")).to_have_count(1)
    expect(graph.locator("text", has_text="father of")).to_have_count(1)
    expect(graph.locator("text", has_text="Βλάχος Τεχνική Α.Ε.")).to_have_count(1)
    assert graph.locator("circle").count() == 3 and graph.locator("rect").count() == 1
    # The panels of the 360° view.
    for title in ("Summary of open items", "Contact details", "Relationships",
                  "Affiliations and employment history", "Occasions", "Consent"):
        expect(page.get_by_role("heading", name=title)).to_be_visible()
    expect(page.locator(".k-salutation")).to_have_text("Αγαπητέ κύριε Βλάχο")
    expect(page.locator(".k-phones")).to_contain_text("+30 693 123 4567")
    page.screenshot(path="/tmp/kyklos-contacts-360.png", full_page=True)
    # A node is a link to the other person's own 360° page, where the label is inverse.
    graph.locator("a", has=page.locator("text", has_text="Κώστας Βλάχος")).click()
    expect(page).to_have_url(f"{live_server}/persons/{kostas['id']}")
    expect(page.locator("svg.k-relgraph text", has_text="son of")).to_have_count(1)

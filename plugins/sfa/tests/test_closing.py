"""Closing deals from their page and the board (Won, Lost with a reason, without
JavaScript), "new from here" defaults for quotes, deals and quote lines, and quote lines
added on the quote's page from words and numbers."""

from __future__ import annotations

import re

import pytest
import webtest

from kyklos_sdk.testing import csrf_of


@pytest.fixture
def web_for(kyklos_app, login):
    """A logged-in browser session of an existing user (e.g. one made by ``api``)."""

    def make(email):
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        login(app, email)
        return app

    return make


def _lead_to_opportunity(web, name="Aegean Foods"):
    """Convert a lead on the conversion page; returns the new opportunity's id."""
    api_lead = web.post_json(
        "/api/v1/leads",
        {
            "first_name": "Eleni",
            "last_name": "Papadaki",
            "company": name,
            "email": f"eleni@{name.split()[0].lower()}.example",
            "country": "GR",
        },
        headers={"X-CSRF-Token": csrf_of(web)},
    ).json
    page = web.get(f"/sfa/leads/{api_lead['id']}/convert")
    form = page.forms["sfa-convert-form"]
    form["amount"] = "12500"
    res = form.submit().follow()
    m = re.search(r"/opportunities/(\d+)", res.request.url)
    assert m, res.request.url
    return int(m.group(1))


def test_lost_from_the_board_without_javascript_asks_the_reason(client, stages, loss_reasons):
    web = client("manager")
    opp_id = _lead_to_opportunity(web)
    board = web.get("/sfa/pipeline")
    card = board.html.select_one(f"#sfa-card-{opp_id}")
    assert card.select_one(".sfa-won") is not None
    lost = card.select_one("a.sfa-lost-link")
    # The board carries the dialog, its reasons a drop-down of their titles.
    dialog = board.html.select_one("dialog#sfa-lost-dialog")
    assert [o.text for o in dialog.select("select[name=loss_reason_id] option")][1:] == [
        "Price",
        "Competitor",
        "No budget",
        "No decision",
        "Timing",
        "Other",
    ]

    # Without JavaScript the link is a small form page.
    page = web.get(lost["href"])
    form = page.forms["sfa-lost-page"]
    res = form.submit(status=400)
    assert "Reason for loss: Say why the deal was lost." in res.html.select_one(
        "#sfa-lost-errors"
    ).get_text(" ", strip=True)
    form = res.forms["sfa-lost-page"]
    form["loss_reason_id"] = str(loss_reasons["Competitor"])
    form["loss_details"] = "Chose a local supplier"
    back = form.submit(status=303)
    assert back.location.endswith("/sfa/pipeline")
    board = back.follow()
    opp = web.get(f"/api/v1/opportunities/{opp_id}").json
    assert (opp["status"], opp["stage_id"], opp["loss_reason_id"]) == (
        "lost",
        stages["lost"],
        loss_reasons["Competitor"],
    )
    card = board.html.select_one(f"#sfa-card-{opp_id}")
    assert card.find_parent("section")["data-stage-id"] == str(stages["lost"])
    assert card.select_one(".sfa-loss").text == "Competitor"
    assert card.select_one(".sfa-won") is None  # closed: no more Won/Lost


def test_won_from_the_record_page_and_who_may_close(client, web_for, api, stages, make_opp):
    manager = client("manager")
    rep_api = api("sales")
    opp = make_opp(rep_api, "Cloud rollout", "negotiation", 40000)
    # A rep sees no Won/Lost buttons on their deal, and cannot close it by posting.
    rep_web = web_for(rep_api.email)
    page = rep_web.get(f"/opportunities/{opp['id']}")
    assert "Mark as won" not in page.text
    # The manager sees them, with the dialog asking for the reason.
    page = manager.get(f"/opportunities/{opp['id']}")
    won = next(f for f in page.forms.values() if f.action.endswith(f"/{opp['id']}/won"))
    assert page.html.select_one("dialog#sfa-lost-dialog select[name=loss_reason_id]")
    assert (
        page.html.select_one(f".k-actions a[href$='/sfa/opportunities/{opp['id']}/lost']").text
        == "Mark as lost"
    )
    res = won.submit(status=303)
    assert res.location.endswith(f"/opportunities/{opp['id']}")
    page = res.follow()
    assert "Cloud rollout is won." in page.text
    assert "Mark as won" not in page.text
    got = rep_api.get(f"/api/v1/opportunities/{opp['id']}").json
    assert (got["status"], got["stage_id"], got["probability"]) == (
        "won",
        stages["contract_signed"],
        100,
    )

    # A rep posting the Won form is refused with the validation's own words.
    other = make_opp(rep_api, "Small deal", "qualification", 1000)
    res = rep_web.post(
        f"/sfa/opportunities/{other['id']}/won", {"csrf_token": csrf_of(rep_web)}, status=303
    ).follow()
    assert "Stage: Only a sales director may close or reopen a deal." in res.text
    assert rep_api.get(f"/api/v1/opportunities/{other['id']}").json["status"] == "open"


def test_the_board_move_form_reports_the_refusal(client, web_for, api, stages, make_opp):
    rep_api = api("sales")
    opp = make_opp(rep_api, "Refused", "qualification", 1000)
    rep_web = web_for(rep_api.email)
    res = rep_web.post(
        "/sfa/pipeline/move",
        {
            "csrf_token": csrf_of(rep_web),
            "id": str(opp["id"]),
            "stage_id": str(stages["contract_signed"]),
            "version": str(opp["version"]),
        },
        status=303,
    ).follow()
    assert "Only a sales director may close or reopen a deal." in res.text
    # The API says it the same way, as problem+json field errors the board shows.
    err = rep_api.patch_json(
        f"/api/v1/opportunities/{opp['id']}", {"stage_id": stages["lost"]}, status=400
    ).json
    assert {
        "field": "stage_id",
        "detail": "Only a sales director may close or reopen a deal.",
    } in err["errors"]


def test_new_from_here_carries_what_the_parent_knows(client, web_for, api, make_opp, stages):
    admin = api("admin")
    admin.patch_json("/api/v1/_settings", {"currency.default": "RON"})
    rep_api = api("sales")
    acc = rep_api.post_json("/api/v1/accounts", {"name": "Βόρειο Αιγαίο ΑΕ"}).json
    per = rep_api.post_json(
        "/api/v1/persons",
        {"first_name": "Νίκος", "last_name": "Λαμπράκης", "account_id": acc["id"]},
    ).json
    opp = make_opp(
        rep_api,
        "Cold store 2027",
        "offer_sent",
        20000,
        "PLN",
        account_id=acc["id"],
        person_id=per["id"],
    )
    web = web_for(rep_api.email)

    # The opportunity's "new quote" link starts from it.
    page = web.get(f"/opportunities/{opp['id']}")
    link = next(a["href"] for a in page.html.select("a") if "/quotes/new" in a.get("href", ""))
    assert f"from=opportunity%3A{opp['id']}" in link or f"from=opportunity:{opp['id']}" in link
    form = web.get(link).forms["k-record-form"]
    assert form["title"].value == "Cold store 2027"
    assert form["currency"].value == "PLN"
    assert form["account_id"].value == str(acc["id"])
    assert form["person_id"].value == str(per["id"])
    assert form["opportunity_id"].value == str(opp["id"])
    # never an id to read: the pickers show the titles
    html = web.get(link).text
    assert "Βόρειο Αιγαίο ΑΕ" in html and "Λαμπράκης" in html

    # A deal without an amount quotes in the site's default currency.
    bare = make_opp(rep_api, "No amount yet", "qualification", account_id=acc["id"])
    form = web.get(f"/quotes/new?from=opportunity:{bare['id']}").forms["k-record-form"]
    assert form["currency"].value == "RON"

    # A deal started from a person belongs to the person's account.
    form = web.get(f"/opportunities/new?from=person:{per['id']}").forms["k-record-form"]
    assert form["person_id"].value == str(per["id"])
    assert form["account_id"].value == str(acc["id"])

    # A quote line started from a quote takes the tax rate of its last line.
    q = rep_api.post_json("/api/v1/quotes", {"title": "Q", "currency": "EUR"}).json
    rep_api.post_json(
        "/api/v1/quote-lines",
        {
            "quote_id": q["id"],
            "description": "A",
            "quantity": "1",
            "unit_price": "10",
            "tax_rate": "19",
        },
    )
    form = web.get(f"/quote-lines/new?from=quote:{q['id']}").forms["k-record-form"]
    assert form["quote_id"].value == str(q["id"])
    assert form["tax_rate"].value in ("19", "19.00", "19,00")


def test_quote_lines_are_added_in_words_and_numbers(client, web_for, api):
    rep_api = api("sales")
    q = rep_api.post_json("/api/v1/quotes", {"title": "Racks", "currency": "EUR"}).json
    web = web_for(rep_api.email)
    page = web.get(f"/quotes/{q['id']}")
    form = page.forms["sfa-lines"]
    # no id to type: a product picker, the unit from a drop-down, words and numbers
    assert form["product_id"].tag == "select" and form["unit"].tag == "select"
    assert {k for k in form.fields if k not in ("csrf_token", None)} == {
        "product_id",
        "unit",
        "description",
        "quantity",
        "unit_price",
        "discount_percent",
        "tax_rate",
        "details",  # a product's description in the quote's language, editable
    }
    form["description"] = "Warehouse rack 2 m"
    form["quantity"] = "3"
    form["unit_price"] = "1.199,99"  # as a Greek user types it
    form["discount_percent"] = "10"
    form["tax_rate"] = "24"
    page = form.submit(status=303).follow()
    form = page.forms["sfa-lines"]
    assert form["tax_rate"].value == "24"  # the next line starts with the last rate
    form["description"] = "Installation"
    form["quantity"] = "1,5"
    form["unit_price"] = "80"
    page = form.submit(status=303).follow()
    got = rep_api.get(f"/api/v1/quotes/{q['id']}").json
    # 3 x 1199.99 - 10 % = 3239.97; 1.5 x 80 = 120; tax 24 % of each
    assert str(got["net_total"]) in ("3359.97", "{'amount': '3359.97', 'currency': 'EUR'}")
    assert page.html.select_one(".sfa-grand").text.strip() == "€4,166.36"

    # A bad number is refused with the field's name, nothing is added.
    form = page.forms["sfa-lines"]
    form["description"] = "Broken"
    form["unit_price"] = "abc"
    page = form.submit(status=303).follow()
    assert "Unit price:" in page.html.select_one(".alert-danger").text
    lines = rep_api.get(f"/api/v1/quote-lines?quote_id={q['id']}").json
    items = lines["items"] if isinstance(lines, dict) else lines
    assert [i["description"] for i in items] == ["Warehouse rack 2 m", "Installation"]


def test_conversion_links_an_account_and_a_person_chosen_in_pickers(web_for, api, stages):
    rep_api = api("sales")
    acc = rep_api.post_json("/api/v1/accounts", {"name": "Όμιλος Θεσσαλίας"}).json
    per = rep_api.post_json(
        "/api/v1/persons", {"first_name": "Άννα", "last_name": "Ρήγα", "account_id": acc["id"]}
    ).json
    lead = rep_api.post_json(
        "/api/v1/leads", {"first_name": "Anna", "last_name": "Riga", "company": "Thessaly Group"}
    ).json
    web = web_for(rep_api.email)
    page = web.get(f"/sfa/leads/{lead['id']}/convert")
    # searchable pickers over the lookup API, never an id to type
    acc_picker = page.html.select_one("select[name=account_pick]")
    per_picker = page.html.select_one("select[name=person_pick]")
    assert acc_picker["data-k-picker"].endswith("/accounts/_lookup")
    assert per_picker["data-k-picker"].endswith("/persons/_lookup")
    lookup = web.get(acc_picker["data-k-picker"], {"q": "Θεσσαλ"}).json
    assert [r["id"] for r in lookup] == [acc["id"]]

    # "link to another" without a choice says so, and keeps what was typed
    form = page.forms["sfa-convert-form"]
    form["account"] = "pick"
    form["person"] = "create"
    res = form.submit(status=200)
    assert "Choose the account to link to." in res.text

    form = res.forms["sfa-convert-form"]
    form["account"] = "pick"
    form["account_pick"].force_value(str(acc["id"]))
    form["person"] = "pick"
    form["person_pick"].force_value(str(per["id"]))
    res = form.submit(status=303)
    opp_id = int(res.location.rsplit("/", 1)[1])
    opp = rep_api.get(f"/api/v1/opportunities/{opp_id}").json
    assert (opp["account_id"], opp["person_id"]) == (acc["id"], per["id"])

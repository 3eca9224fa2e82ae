"""The portal's "Our prices" (issue #20: the one price look-up used by the portal too):
a customer reads the active products at their company's price, found by the function
the API's ``GET /api/v1/products/{id}/price`` uses, with the reason in words and in
their language; never the cost; paged and searchable."""

from __future__ import annotations

import re

import pytest
import webtest

PROBLEM = "application/problem+json"
STRONG = "correct horse battery staple"


@pytest.fixture
def kyklos_settings(smtp_server):
    return smtp_server.settings


def _csrf(res) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', res.text).group(1)


@pytest.fixture
def portal_login(kyklos_app, admin, smtp_server):
    """A person of ``account_id`` (or of none) invited to the portal, who chose a
    password and logged in: a webtest client with the portal's cookie."""
    sent = [0]

    def login(account_id, email, language=None):
        # only a person of an account is invited; one of none is one taken off it later
        invited_with = (
            account_id
            or admin.post_json(
                "/api/v1/accounts", {"name": f"Former employer of {email}"}, status=201
            ).json["id"]
        )
        person = admin.post_json(
            "/api/v1/persons",
            {
                "first_name": "Ελένη",
                "last_name": email.split("@")[0],
                "account_id": invited_with,
                "email": email,
                **({"language": language} if language else {}),
            },
            status=201,
        ).json["id"]
        admin.post_json("/api/v1/_portal/accounts", {"record_id": person}, status=201)
        if account_id is None:
            version = admin.get(f"/api/v1/persons/{person}").json["version"]
            admin.patch_json(
                f"/api/v1/persons/{person}",
                {"account_id": None},
                headers={"If-Match": f'"{version}"'},
                status=200,
            )
        sent[0] += 1
        body = smtp_server.wait(sent[0])[sent[0] - 1].get_body(("plain",)).get_content()
        token = re.search(r"/portal/welcome\?token=(\S+)", body).group(1)
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        page = app.get(f"/portal/welcome?token={token}")
        res = app.post(
            "/portal/welcome",
            {"token": token, "password": STRONG, "confirm": STRONG, "csrf_token": _csrf(page)},
        )
        assert res.status_int == 303, res.text[:2000]
        form = app.get("/portal/login")
        res = app.post(
            "/portal/login", {"email": email, "password": STRONG, "csrf_token": _csrf(form)}
        )
        assert res.status_int == 303, res.text[:2000]
        return app

    return login


def money(amount, currency="EUR"):
    return {"amount": str(amount), "currency": currency}


@pytest.fixture
def world(admin):
    """Two hotels' accounts with a list each (one by account, one by tag), a plain
    account, products (one inactive) with a cost, and a general list."""
    hotel = admin.post_json("/api/v1/accounts", {"name": "Hotel Aegli"}, status=201).json["id"]
    shop = admin.post_json("/api/v1/accounts", {"name": "Deli Shop"}, status=201).json["id"]
    plain = admin.post_json("/api/v1/accounts", {"name": "Walk-in"}, status=201).json["id"]
    oil = admin.post_json(
        "/api/v1/products",
        {
            "sku": "OIL-1L",
            "name": "Olive oil 1 l",
            "name_translations": {"el": "Ελαιόλαδο 1 l"},
            "description": "Cold-pressed.",
            "description_translations": {"el": "Ψυχρής έκθλιψης."},
            "list_price": money("10.00"),
            "cost": money("6.17"),
            "unit": "piece",
        },
        status=201,
    ).json
    honey = admin.post_json(
        "/api/v1/products",
        {
            "sku": "HON-450",
            "name": "Thyme honey",
            "list_price": money("8.00"),
            "cost": money("4.93"),
        },
        status=201,
    ).json
    gone = admin.post_json(
        "/api/v1/products",
        {"sku": "OLD-1", "name": "Discontinued jam", "list_price": money("3.00"), "active": False},
        status=201,
    ).json
    hotels = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Hotels 2026", "currency": "EUR", "account_id": hotel, "priority": 1},
        status=201,
    ).json["id"]
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": hotels,
            "product_id": oil["id"],
            "method": "fixed",
            "price": "8.50",
            "min_quantity": "0",
        },
        status=201,
    )
    shops = admin.post_json(
        "/api/v1/price-lists",
        {"name": "Delis PLN", "currency": "PLN", "account_id": shop, "priority": 1},
        status=201,
    ).json["id"]
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": shops,
            "product_id": oil["id"],
            "method": "fixed",
            "price": "39.90",
            "min_quantity": "0",
        },
        status=201,
    )
    admin.post_json(
        "/api/v1/price-rules",
        {
            "pricelist_id": shops,
            "product_id": honey["id"],
            "method": "fixed",
            "price": "33.00",
            "min_quantity": "0",
        },
        status=201,
    )
    return {"hotel": hotel, "shop": shop, "plain": plain, "oil": oil, "honey": honey, "gone": gone}


def _rows(html: str) -> dict:
    """``{code: (price, reason)}`` of the page's table."""
    out = {}
    for row in re.findall(r'<tr class="catalog-portal-product">(.*?)</tr>', html, re.S):
        code = re.search(r'<td class="text-nowrap">([^<]+)</td>', row).group(1)
        price = re.search(r'catalog-portal-price">([^<]*)<', row).group(1)
        reason = re.search(r'catalog-portal-reason">([^<]*)<', row).group(1)
        out[code] = (price.replace("\xa0", " "), reason)
    return out


def test_each_company_reads_its_own_prices(admin, world, portal_login):
    hotel = portal_login(world["hotel"], "eleni@aegli.example")
    shop = portal_login(world["shop"], "anna@deli.example")
    nobody = portal_login(None, "solo@example.com")

    page = hotel.get("/portal/catalog/prices")
    rows = _rows(page.text)
    assert set(rows) == {"OIL-1L", "HON-450"}  # the inactive product stays internal
    assert "8.50" in rows["OIL-1L"][0] and "€" in rows["OIL-1L"][0]
    assert rows["OIL-1L"][1] == "Price list Hotels 2026: fixed price."
    assert "8.00" in rows["HON-450"][0] and rows["HON-450"][1] == "List price."
    # the same answer as the API's price look-up for that account
    api = admin.get(
        f"/api/v1/products/{world['oil']['id']}/price"
        f"?account_id={world['hotel']}&quantity=1&currency=EUR"
    ).json
    assert api["unit_price"] == "8.50"

    # the deli's list is in zloty: the page is in zloty
    rows = _rows(shop.get("/portal/catalog/prices").text)
    assert "39.90" in rows["OIL-1L"][0] and "PLN" in rows["OIL-1L"][0]
    assert "33.00" in rows["HON-450"][0]
    assert rows["OIL-1L"][1] == "Price list Delis PLN: fixed price."

    # a contact of no account: the list prices, in the default currency
    rows = _rows(nobody.get("/portal/catalog/prices").text)
    assert "10.00" in rows["OIL-1L"][0] and rows["OIL-1L"][1] == "List price."

    for app in (hotel, shop, nobody):
        html = app.get("/portal/catalog/prices").text
        # the cost (6.17, 4.93) and the inactive product never reach the page
        assert "6.17" not in html and "4.93" not in html and "Discontinued" not in html


def test_cost_and_inactive_products_stay_out_of_the_portal_api(
    kyklos_app, dbsession, world, portal_login
):
    """The portal's rules apply on every path: with a token an integrator issued for the
    portal user, the generic API lists the active products only, without cost or list
    price, and the inactive one is not found."""
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token
    from sqlalchemy import select

    portal_login(world["hotel"], "eleni@aegli.example")
    with dbsession() as db:
        user = db.execute(select(User).where(User.email == "eleni@aegli.example")).scalar_one()
        token, _row = create_token(db, user, name="portal prices")
    app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    app.authorization = ("Bearer", token)
    items = app.get("/api/v1/products").json["items"]
    assert {p["sku"] for p in items} == {"OIL-1L", "HON-450"}
    for p in items:
        assert "cost" not in p and "list_price" not in p
        assert "6.17" not in str(p)
    assert app.get(f"/api/v1/products/{world['gone']['id']}", status=404)
    # writing stays staff's
    version = app.get(f"/api/v1/products/{world['oil']['id']}").json["version"]
    app.patch_json(
        f"/api/v1/products/{world['oil']['id']}",
        {"name": "Cheap"},
        headers={"If-Match": f'"{version}"'},
        status=403,
    )


def test_greek_reader_search_and_paging(admin, world, portal_login):
    for n in range(30):
        admin.post_json(
            "/api/v1/products",
            {"sku": f"JAR-{n:02}", "name": f"Jam jar {n:02}", "list_price": money("2.00")},
            status=201,
        )
    hotel = portal_login(world["hotel"], "eleni@aegli.example", language="el")
    page = hotel.get("/portal/catalog/prices", headers={"Accept-Language": "el"})
    # 32 active products, 25 a page
    assert len(_rows(page.text)) == 25
    nxt = re.search(
        r'id="catalog-portal-next" href="([^"]+)"|href="([^"]+)"[^>]*id="catalog-'
        r'portal-next"',
        page.text,
    )
    url = (nxt.group(1) or nxt.group(2)).replace("&amp;", "&")
    second = hotel.get(url, headers={"Accept-Language": "el"})
    assert len(_rows(second.text)) == 7
    assert not set(_rows(page.text)) & set(_rows(second.text))
    # search by code or name
    found = _rows(hotel.get("/portal/catalog/prices?q=oil", headers={"Accept-Language": "el"}).text)
    assert set(found) == {"OIL-1L"}
    greek = hotel.get("/portal/catalog/prices?q=OIL-1L", headers={"Accept-Language": "el"}).text
    assert "Ελαιόλαδο 1 l" in greek and "Ψυχρής έκθλιψης." in greek
    # in the reader's own language: the Greek name (any case), a word of the Greek
    # description
    for q in ("Ελαιόλαδο", "ελαιόλαδο", "έκθλιψης"):
        res = hotel.get("/portal/catalog/prices", {"q": q}, headers={"Accept-Language": "el"})
        assert set(_rows(res.text)) == {"OIL-1L"}, q
    # staff find it by its Greek name too: the product list and the global search
    listed = admin.get("/api/v1/products", {"q": "ελαιόλαδο"}).json["items"]
    assert [p["sku"] for p in listed] == ["OIL-1L"]
    hits = admin.get("/api/v1/_search", {"q": "Ελαιόλαδο"}).json
    assert "OIL-1L" in str(hits), hits
    # a cursor tampered with: back to the first page, no error
    res = hotel.get("/portal/catalog/prices?cursor=garbage")
    assert res.status_int == 303

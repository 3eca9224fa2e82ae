"""RPT-04 analytics: RFM scores of accounts, the win probability learnt from history
(generated with a known pattern) and the lead conversion funnel per source and
segment - through the API and the pages, with the viewer's record and field rules; and
the three pages in real Chromium, in English and in Greek."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from kyklos_contacts.models import Account
from kyklos_sfa.models import Lead, Opportunity, StageChange, WinModel
from playwright.sync_api import expect
from sqlalchemy import select

from kyklos.security.models import FieldPermission, Role, User
from kyklos_sdk.testing import PASSWORD, save_screenshot

UTC = dt.UTC
NOW = dt.datetime.now(UTC)


def days_ago(n: float) -> dt.datetime:
    return NOW - dt.timedelta(days=n)


def add_account(db, name, owner_id=None) -> int:
    a = Account(name=name, owner_id=owner_id)
    db.add(a)
    db.flush()
    return a.id


def add_deal(
    db,
    stages,
    *,
    account_id=None,
    status="won",
    amount=1000,
    currency="EUR",
    owner_id=None,
    source=None,
    closed=None,
    path=("qualification",),
    days=(5,),
    name="Deal",
) -> int:
    """A deal with its stage history: ``path`` of open stages with ``days`` in each,
    then won or lost (or left open in the last stage)."""
    final = {"won": "contract_signed", "lost": "lost"}.get(status, path[-1])
    closed = closed or NOW
    total = sum(days)
    start = closed - dt.timedelta(days=total)
    o = Opportunity(
        name=name,
        account_id=account_id,
        stage_id=stages[final],
        status=status,
        amount=amount,
        amount_currency=currency,
        owner_id=owner_id,
        source=source,
        probability=0,
        created_at=start,
        won_at=closed if status == "won" else None,
        lost_at=closed if status == "lost" else None,
        stage_entered_at=closed if status != "open" else closed - dt.timedelta(days=days[-1]),
    )
    db.add(o)
    db.flush()
    t = start
    prev = None
    for code, d in zip(path, days, strict=True):
        db.add(StageChange(opportunity_id=o.id, from_stage_id=prev, to_stage_id=stages[code], at=t))
        prev = stages[code]
        t += dt.timedelta(days=d)
    if status != "open":
        db.add(
            StageChange(opportunity_id=o.id, from_stage_id=prev, to_stage_id=stages[final], at=t)
        )
    return o.id


# --- RFM -------------------------------------------------------------------------------


def web_user(client, dbsession, *roles):
    """A browser session and its user id (the same person on the pages and the API)."""
    from kyklos.security.models import User

    web = client(*roles)
    with dbsession() as db:
        web.user_id = db.execute(select(User.id).where(User.email == web.email)).scalar_one()
    return web


@pytest.fixture
def customers(dbsession, stages, client):
    rep = web_user(client, dbsession, "sales")
    with dbsession() as db:
        ids = {
            n: add_account(db, n)
            for n in ("Alpha", "Beta", "Gamma", "Delta", "Eta", "Zeta", "Idle")
        }
        plan = {
            # account: [(days ago, amount)] of won deals
            "Alpha": [(3, 50000), (20, 40000), (40, 30000), (60, 20000)],
            "Beta": [(700, 100)],
            "Gamma": [(30, 5000), (200, 5000)],
            "Delta": [(90, 2000)],
            "Eta": [(10, 800)],
            "Zeta": [(400, 9000), (420, 9000), (450, 9000)],
        }
        for acc, deals in plan.items():
            for ago, amount in deals:
                add_deal(
                    db,
                    stages,
                    account_id=ids[acc],
                    amount=amount,
                    closed=days_ago(ago),
                    owner_id=rep.user_id if acc == "Gamma" else None,
                )
        # lost and open deals are not revenue
        add_deal(db, stages, account_id=ids["Idle"], status="lost")
        add_deal(db, stages, account_id=ids["Idle"], status="open")
    return ids, rep


def test_rfm_scores_segments_and_drill_down(admin, customers):
    ids, _rep = customers
    res = admin.get("/api/v1/sfa/rfm").json
    by = {i["account"]: i for i in res["items"]}
    assert set(by) == {"Alpha", "Beta", "Gamma", "Delta", "Eta", "Zeta"}  # not "Idle"
    a = by["Alpha"]
    assert (a["r"], a["f"], a["m"], a["segment"]) == (5, 5, 5, "champions")
    assert a["frequency"] == 4 and a["monetary"] == "140000.00" and a["recency_days"] == 3
    assert (by["Beta"]["r"], by["Beta"]["f"], by["Beta"]["m"]) == (1, 2, 1)
    assert by["Beta"]["segment_title"] == "Hibernating"
    assert by["Zeta"]["segment"] == "at_risk"  # bought often, long ago
    assert by["Eta"]["segment"] == "potential"
    assert res["items"][0]["account"] == "Alpha"
    seg = {s["segment"]: s["accounts"] for s in res["segments"]}
    assert seg["champions"] == 1 and sum(seg.values()) == 6
    # drill down by a cell of the grid or a segment
    assert [i["account"] for i in admin.get("/api/v1/sfa/rfm?r=5&f=5").json["items"]] == ["Alpha"]
    assert [i["account"] for i in admin.get("/api/v1/sfa/rfm?segment=at_risk").json["items"]] == [
        "Zeta"
    ]
    bad = admin.get("/api/v1/sfa/rfm?r=9&segment=vip&x=1", status=400).json
    assert {e["field"] for e in bad["errors"]} == {"x"}
    bad = admin.get("/api/v1/sfa/rfm?r=9&segment=vip", status=400).json
    assert {e["field"] for e in bad["errors"]} == {"r", "segment"}


def test_rfm_obeys_record_and_field_rules(admin, customers, dbsession, api, client):
    _ids, rep = customers
    # the rep sees only their own deals: one account
    own = rep.get("/api/v1/sfa/rfm").json
    assert [i["account"] for i in own["items"]] == ["Gamma"]
    # amounts hidden from sales reps: no money, no monetary score
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "sales")).scalar_one()
        db.add(
            FieldPermission(role_id=role.id, entity="opportunity", field="amount", access="none")
        )
    hidden = rep.get("/api/v1/sfa/rfm").json
    assert hidden["monetary_hidden"] is True
    assert hidden["items"][0]["monetary"] is None and hidden["items"][0]["m"] is None
    page = rep.get("/sfa/rfm")
    assert "monetary score is left out" in page.text
    assert page.html.find(id="sfa-rfm-accounts").find("a").text == "Gamma"
    api("user").get("/api/v1/sfa/rfm", status=403)


def test_rfm_page_grid_links_to_its_accounts(admin, customers, client):
    web = client("admin")
    page = web.get("/sfa/rfm")
    grid = page.html.find(id="sfa-rfm-grid")
    cell = grid.find("a", href=lambda h: h and "r=5" in h and "f=5" in h)
    assert cell.find("strong").text == "1" and "Champions" in cell.text
    drilled = web.get(cell["href"])
    names = [a.text for a in drilled.html.find(id="sfa-rfm-accounts").find_all("a")]
    assert names == ["Alpha"]
    assert page.html.find(id="sfa-rfm-segments") is not None  # the chart (and its table)
    greek = web.get("/sfa/rfm", headers={"Accept-Language": "el"})
    assert "Πρωταθλητές" in greek.text


# --- win probability ------------------------------------------------------------------


@pytest.fixture
def history(dbsession, stages, api):
    """300 closed deals with a known pattern: referrals are won four times in five,
    adverts one time in five, whatever else; everyone's deals the same."""
    rnd = random.Random(24)
    with dbsession() as db:
        for i in range(300):
            source = "referral" if i % 2 else "advert"
            won = rnd.random() < (0.8 if source == "referral" else 0.2)
            path = ("qualification", "needs_analysis")[: 1 + i % 2]
            add_deal(
                db,
                stages,
                status="won" if won else "lost",
                source=source,
                amount=rnd.choice((500, 5000, 50000)),
                path=path,
                days=tuple(rnd.randint(1, 40) for _p in path),
                closed=days_ago(rnd.randint(1, 300)),
                name=f"h{i}",
            )
    return api


def test_win_probability_learns_the_pattern_and_explains_it(
    admin, history, dbsession, stages, client
):
    api = history
    rep = web_user(client, dbsession, "sales")
    assert admin.get("/api/v1/sfa/win-model").json["model"] is None
    api("sales").post_json("/api/v1/sfa/win-model", {}, status=403)  # administrators retrain
    got = admin.post_json("/api/v1/sfa/win-model", {}, status=201).json
    model = got["model"]
    assert model["deals"] == 300 and model["samples"] > 300
    assert 0.4 < model["base_rate"] < 0.6
    # honest calibration: the out-of-fold estimates match the shares actually won
    bins = model["calibration"]
    assert sum(b["examples"] for b in bins) == model["samples"]
    for b in bins:
        if b["examples"] >= 40:
            assert abs(b["predicted"] - b["won"]) < 0.12, b
    assert model["brier"] < 0.2  # much better than a coin (0.25)
    with dbsession() as db:
        hot = add_deal(
            db,
            stages,
            status="open",
            source="referral",
            owner_id=rep.user_id,
            path=("qualification",),
            days=(3,),
            name="Hot",
        )
        cold = add_deal(
            db,
            stages,
            status="open",
            source="advert",
            owner_id=rep.user_id,
            path=("qualification",),
            days=(3,),
            name="Cold",
        )
    h = rep.get(f"/api/v1/sfa/opportunities/{hot}/win-probability").json
    c = rep.get(f"/api/v1/sfa/opportunities/{cold}/win-probability").json
    assert h["probability"] > 0.65 and c["probability"] < 0.35
    top = h["reasons"][0]
    assert top == {**top, "factor": "source", "text": "Source: Referral"}
    assert top["effect"].startswith("raises")
    assert c["reasons"][0]["effect"].startswith("lowers")
    assert {r["factor"] for r in h["reasons"]} == {"stage", "age", "amount", "source", "rep"}
    # shown on the deal's page, in words
    page = rep.get(f"/opportunities/{hot}")
    box = page.html.find(id="sfa-win-probability")
    assert box is not None and box.text.strip().endswith("%")
    assert "Source: Referral: raises the chance" in page.html.find(id="sfa-win-reasons").text
    # a closed deal has none; someone else's deal is not found
    closed = admin.get("/api/v1/opportunities?status=won&limit=1").json["items"][0]["id"]
    assert (
        admin.get(f"/api/v1/sfa/opportunities/{closed}/win-probability").json["probability"] is None
    )
    other = api("sales")
    other.get(f"/api/v1/sfa/opportunities/{hot}/win-probability", status=404)
    # a field the viewer may not read is not given as a reason
    with dbsession() as db:
        role = db.execute(select(Role).where(Role.name == "sales")).scalar_one()
        db.add(
            FieldPermission(role_id=role.id, entity="opportunity", field="source", access="none")
        )
    h2 = rep.get(f"/api/v1/sfa/opportunities/{hot}/win-probability").json
    assert "source" not in {r["factor"] for r in h2["reasons"]}
    # the calibration page
    cal = client("admin").get("/sfa/win-probability")
    assert cal.html.find(id="sfa-win-calibration") is not None
    rows = cal.html.find(id="sfa-win-open").find_all("tr")
    assert "Hot" in rows[1].text  # the likeliest first


def test_the_job_retrains_and_too_little_history_trains_nothing(
    admin, registry, dbsession, stages, history, client
):
    from kyklos_sfa.analytics.winprob import train_job

    assert registry.kyklos_jobs["sfa.win_model.train"].periodic is not None
    from kyklos.jobs import job_request

    class Ctx:
        pass

    with job_request(registry, None) as request:
        ctx = Ctx()
        ctx.request, ctx.dbsession, ctx.registry = request, request.dbsession, registry
        out = train_job(ctx)
    assert out == {"trained": True, "deals": 300}
    with dbsession() as db:
        assert db.execute(select(WinModel.deals)).scalars().all()[-1] == 300
    page = client("admin").get("/sfa/win-probability")
    assert "300" in page.html.find(id="sfa-win-basis").text


def test_too_little_history(admin, stages, dbsession, client):
    with dbsession() as db:
        for i in range(3):
            add_deal(db, stages, status="won", name=f"w{i}")
    assert admin.post_json("/api/v1/sfa/win-model", {}, status=200).json["trained"] is False
    page = client("admin").get("/sfa/win-probability")
    assert "Not enough closed deals" in page.text


# --- conversion funnel ----------------------------------------------------------------


def test_conversion_per_source_and_segment_with_record_rules(admin, api, stages, dbsession, client):
    rep = api("sales")
    with dbsession() as db:
        plan = [
            # (source, converted, won, rep's)
            ("web", True, True, False),
            ("web", True, False, False),
            ("web", False, None, False),
            ("web", False, None, True),
            ("referral", True, True, True),
            ("referral", True, True, False),
            (None, False, None, False),
        ]
        for i, (src, conv, won, mine) in enumerate(plan):
            owner = rep.user_id if mine else None
            opp = None
            if conv:
                opp = add_deal(
                    db, stages, status="won" if won else "open", owner_id=owner, name=f"c{i}"
                )
            db.add(
                Lead(
                    last_name=f"L{i}",
                    company=f"Co {i}",
                    source=src,
                    owner_id=owner,
                    status="converted" if conv else "new",
                    converted_opportunity_id=opp,
                    created_at=days_ago(5),
                )
            )
    res = admin.get("/api/v1/sfa/conversion").json
    by = {r["source"]: r for r in res["by_source"]}
    assert [r["source"] for r in res["by_source"]] == ["web", "referral", None]
    assert (
        by["web"]["leads"],
        by["web"]["converted"],
        by["web"]["opportunities"],
        by["web"]["won"],
    ) == (4, 2, 2, 1)
    assert by["referral"]["won_per_lead"] == 1.0 and by[None]["title"] == "Unknown"
    assert res["total"]["leads"] == 7 and res["total"]["won"] == 3
    # a segment of leads (the web ones)
    seg = admin.post_json(
        "/api/v1/_segments",
        {
            "entity": "lead",
            "name": "From the web",
            "kind": "dynamic",
            "definition": {"and": [{"field": "source", "op": "eq", "value": "web"}]},
        },
        status=201,
    ).json
    s = admin.get(f"/api/v1/sfa/conversion?segment={seg['id']}").json["segment"]
    assert (s["title"], s["leads"], s["won"]) == ("From the web", 4, 1)
    bad = admin.get("/api/v1/sfa/conversion?segment=99999&from=x", status=400).json
    assert {e["field"] for e in bad["errors"]} == {"segment", "from"}
    far = admin.get("/api/v1/sfa/conversion?to=9999-12-31", status=400).json
    assert [e["field"] for e in far["errors"]] == ["to"]
    # a rep sees their own leads and deals only
    mine = rep.get("/api/v1/sfa/conversion").json
    assert mine["total"]["leads"] == 2 and mine["total"]["won"] == 1
    page = client("admin").get(f"/sfa/conversion?segment={seg['id']}")
    table = page.html.find(id="sfa-conv-table").text
    assert "From the web" in table and "Referral" in table
    assert page.html.find(id="sfa-conv-funnel") is not None


# --- the pages in Chromium ----------------------------------------------------------

WORDS = {
    "en": {
        "champions": "Champions",
        "rfm": "Customer value (RFM)",
        "why": "Source: Referral",
        "conv": "Lead conversion",
        "referral": "Referral",
    },
    "el": {
        "champions": "Πρωταθλητές",
        "rfm": "Αξία πελατών (RFM)",
        "why": "Πηγή: Σύσταση",
        "conv": "Μετατροπή δυνητικών πελατών",
        "referral": "Σύσταση",
    },
}
ALLOWED_LATIN = {"RFM", "JSON", "EUR", "R", "F", "M"}


def _login(page, live_server, email):
    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.locator("form[action$='/login'] [type=submit]").click()
    expect(page.locator(".k-navbar")).to_be_visible()


def _english_left(page) -> list[str]:
    text = page.locator("#main").inner_text()
    return sorted({w for w in re.findall(r"[A-Za-z][A-Za-z'’]+", text)} - ALLOWED_LATIN)


def _chart_drawn(page, canvas_id):
    page.wait_for_function(
        "(id) => { const c = document.getElementById(id);"
        " return c && window.Chart && window.Chart.getChart(c) !== undefined; }",
        arg=canvas_id,
    )


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "el"])
def test_rfm_win_probability_and_conversion_pages(page, live_server, api, dbsession, stages, lang):
    w = WORDS[lang]
    admin = api("admin")
    email = f"analyst-{lang}@example.com"
    mgr = api("manager", email=email)
    rnd = random.Random(5)
    with dbsession() as db:
        u = db.get(User, mgr.user_id)
        u.name, u.locale = "Νίκος Αναλυτής", lang
        names = ["Αιγαίο ΑΕ", "Ιόνιο ΟΕ", "Όλυμπος ΙΚΕ", "Πίνδος ΑΕ", "Θεσσαλία ΕΠΕ"]
        for n, name in enumerate(names):
            acc = add_account(db, name)
            for k in range(5 - n):
                add_deal(
                    db,
                    stages,
                    account_id=acc,
                    amount=1000 * (5 - n),
                    closed=days_ago(10 + 60 * n + k),
                    name=f"Συμφωνία {n}.{k}",
                )
        for i in range(120):
            source = "referral" if i % 2 else "advert"
            won = rnd.random() < (0.8 if source == "referral" else 0.2)
            add_deal(
                db,
                stages,
                status="won" if won else "lost",
                source=source,
                days=(rnd.randint(1, 30),),
                closed=days_ago(rnd.randint(1, 200)),
                name=f"Ιστορικό {i}",
            )
        hot = add_deal(db, stages, status="open", source="referral", days=(3,), name="Νέα ευκαιρία")
        for i in range(6):
            db.add(
                Lead(
                    last_name=f"Επαφή {i}",
                    company=f"Εταιρεία {i}",
                    source=("web", "referral")[i % 2],
                    status="new",
                    created_at=days_ago(3),
                )
            )
    admin.post_json("/api/v1/sfa/win-model", {}, status=201)
    _login(page, live_server, email)

    # RFM: the grid drills down to the champions
    page.goto(f"{live_server}/sfa/rfm")
    expect(page.locator("h1")).to_have_text(w["rfm"])
    _chart_drawn(page, "sfa-rfm-segments")
    save_screenshot(page, f"sfa-rfm-{lang}")
    if lang == "el":
        assert _english_left(page) == []
    page.locator("#sfa-rfm-grid a[href*='r=5'][href*='f=5']").click()
    rows = page.locator("#sfa-rfm-accounts tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Αιγαίο ΑΕ")
    expect(rows.first).to_contain_text(w["champions"])

    # the win probability on the deal, then its calibration page
    page.goto(f"{live_server}/opportunities/{hot}")
    expect(page.locator("#sfa-win-probability")).to_have_text(re.compile(r"\d+\s%"))
    expect(page.locator("#sfa-win-reasons")).to_contain_text(w["why"])
    save_screenshot(page, f"sfa-win-deal-{lang}")
    page.goto(f"{live_server}/sfa/win-probability")
    expect(page.locator("#sfa-win-calibration tbody tr")).to_have_count(10)
    _chart_drawn(page, "sfa-win-chart")
    save_screenshot(page, f"sfa-win-{lang}")
    if lang == "el":
        assert _english_left(page) == []

    # the conversion funnel per source
    page.goto(f"{live_server}/sfa/conversion")
    expect(page.locator("h1")).to_have_text(w["conv"])
    expect(page.locator("#sfa-conv-table")).to_contain_text(w["referral"])
    _chart_drawn(page, "sfa-conv-sources")
    _chart_drawn(page, "sfa-conv-funnel")
    save_screenshot(page, f"sfa-conversion-{lang}")
    if lang == "el":
        assert _english_left(page) == []

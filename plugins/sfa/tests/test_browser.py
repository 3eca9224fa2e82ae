"""The pipeline board and the dashboard in real Chromium: drag a card to the next stage,
the move persists; the dashboard's chart is drawn."""

from __future__ import annotations

import pytest
from kyklos_sfa.models import Opportunity
from playwright.sync_api import expect

from kyklos_sdk.testing import PASSWORD

pytestmark = pytest.mark.browser


def test_drag_a_card_and_see_the_dashboard_chart(page, live_server, make_user, dbsession,
                                                 stages):
    email = "browser-rep@example.com"
    uid = make_user(email=email, roles=("sales",), name="Browser Rep")
    with dbsession() as db:
        opp = Opportunity(name="Drag me", stage_id=stages["qualification"], amount=1200,
                          amount_currency="EUR", probability=10, status="open",
                          owner_id=uid)
        db.add(opp)
        db.flush()
        opp_id = opp.id

    page.goto(f"{live_server}/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator(".k-navbar")).to_contain_text("Browser Rep")

    page.goto(f"{live_server}/sfa/pipeline")
    card = page.locator(f"#sfa-card-{opp_id}")
    target = page.locator(f".sfa-column[data-stage-id='{stages['needs_analysis']}'] .sfa-cards")
    expect(card).to_be_visible()
    # With JavaScript the per-card forms give way to dragging.
    expect(page.locator(f"#sfa-move-form-{opp_id}")).to_be_hidden()
    with page.expect_navigation():
        card.drag_to(target)
    moved = page.locator(
        f".sfa-column[data-stage-id='{stages['needs_analysis']}'] #sfa-card-{opp_id}")
    expect(moved).to_be_visible()
    expect(page.locator(f".sfa-column[data-stage-id='{stages['needs_analysis']}'] .sfa-count")
           ).to_have_text("1")
    with dbsession() as db:
        row = db.get(Opportunity, opp_id)
        assert (row.stage_id, row.probability) == (stages["needs_analysis"], 20)

    page.goto(f"{live_server}/")
    canvas = page.locator("#k-widget-sfa-funnel-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => { const c = document.getElementById('k-widget-sfa-funnel-chart');"
        " return c && window.Chart && window.Chart.getChart(c) !== undefined; }"
    )
    painted = page.evaluate(
        """() => {
          const c = document.getElementById('k-widget-sfa-funnel-chart');
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) { n++; } }
          return n;
        }"""
    )
    assert painted > 100
    # The numbers stay available as a table.
    expect(page.locator("#k-widget-sfa-funnel-chart-table")).to_contain_text("Needs analysis")

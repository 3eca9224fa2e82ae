"""With the sfa plugin loaded: an interested response makes a lead tied to the campaign
(found through the entity registry: campaigns never imports sfa)."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa", "campaigns"]


def test_an_interested_response_makes_a_lead(api, make_record, dbsession):
    from kyklos_campaigns.models import Campaign, Recipient

    boss = api("campaignmanager", "manager")
    pid = make_record("person", first_name="Maria", last_name="Papadaki", email="m@example.gr")
    with dbsession() as db:
        c = Campaign(
            name="Spring 2026", channel="email", status="sent", custom={}, throttle_per_minute=600
        )
        db.add(c)
        db.flush()
        r = Recipient(
            campaign_id=c.id,
            person_id=pid,
            address="m@example.gr",
            name="Maria",
            state="sent",
            attempts=1,
            custom={},
        )
        db.add(r)
        db.flush()
        rid, cid = r.id, c.id
    got = boss.patch_json(f"/api/v1/campaign-recipients/{rid}", {"response": "interested"}).json
    assert got["lead_id"] and got["responded_at"]
    lead = boss.get(f"/api/v1/leads/{got['lead_id']}").json
    assert (lead["last_name"], lead["campaign"]) == ("Papadaki", "Spring 2026")
    res = boss.get(f"/api/v1/campaigns/{cid}/results").json
    assert res["responses"]["interested"] == 1
    assert res["revenue"] == {"amount": "0", "currency": None}

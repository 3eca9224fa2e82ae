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


def test_an_interested_answer_on_the_response_page_makes_a_lead(
    api, make_record, dbsession, kyklos_app, registry
):
    """The visitor has no account: the lead is made by a job as the campaign's owner,
    through the same hook-free lookup of the lead type."""
    import webtest

    from kyklos_campaigns.models import Recipient
    from kyklos_campaigns.tracking import sign

    boss = api("campaignmanager", "manager")
    c = boss.post_json(
        "/api/v1/campaigns", {"name": "Open day", "channel": "email"}, status=201
    ).json
    people = [
        make_record("person", first_name="Maria", last_name="Papadaki", email="m@example.gr"),
        make_record("person", first_name="Nikos", last_name="Roditis", email="n@example.gr"),
    ]
    with dbsession() as db:
        recs = [
            Recipient(
                campaign_id=c["id"],
                person_id=pid,
                address=f"{pid}@example.gr",
                name="x",
                state="sent",
                attempts=1,
                custom={},
            )
            for pid in people
        ]
        db.add_all(recs)
        db.flush()
        interested, refused = (r.id for r in recs)
    visitor = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
    for rid, answer in ((interested, "interested"), (refused, "refused")):
        form = visitor.get(f"/t/r/{sign(registry, 'r', rid)}").forms["cmp-respond-form"]
        form["response"] = answer
        form.submit()
    got = boss.get(f"/api/v1/campaign-recipients/{interested}").json
    assert got["lead_id"], "the interested answer made no lead"
    lead = boss.get(f"/api/v1/leads/{got['lead_id']}").json
    assert (lead["last_name"], lead["campaign"]) == ("Papadaki", "Open day")
    assert boss.get(f"/api/v1/campaign-recipients/{refused}").json["lead_id"] is None
    res = boss.get(f"/api/v1/campaigns/{c['id']}/results").json
    assert res["responses"]["interested"] == 1 and res["responses_on_page"] == 2

"""Fixtures of the campaigns' tests: an app with contacts, activities and campaigns, a
campaign manager speaking the API, and the campaigns the tests send."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "campaigns"]


@pytest.fixture
def kyklos_settings():
    return {"kyklos.secret": "campaign-tests-secret"}


@pytest.fixture
def boss(api):
    """A campaign manager, through the HTTP API."""
    return api("campaignmanager")


@pytest.fixture
def new_campaign(boss):
    """``new_campaign(target_list, template, **fields)``: a draft e-mail campaign made
    through the API, throttled high enough for a test to send it at once."""

    def make(tl, template, **extra):
        body = {
            "name": "Spring 2026",
            "list_id": tl["id"],
            "template_id": template["id"],
            "channel": "email",
            "throttle_per_minute": 60000,
            **extra,
        }
        return boss.post_json("/api/v1/campaigns", body, status=201).json

    return make


@pytest.fixture
def rhodes_campaign(boss, make_record, dbsession, new_campaign):
    """``rhodes_campaign(html=...)``: two opted-in people in Rhodes (Maria
    maria@example.gr, Nikos nikos@example.gr), a dynamic list of them, an English
    template with ``html`` (by default using the coupon field) and a draft campaign
    "Summer coupons"."""
    from kyklos_contacts.api import set_consent

    def make(html="<p>Your code: {{ coupon }}</p>", **extra):
        for first, email in (("Maria", "maria@example.gr"), ("Nikos", "nikos@example.gr")):
            pid = make_record(
                "person", first_name=first, last_name="Roditi", email=email, city="Rhodes"
            )
            with dbsession() as db:
                set_consent(db, pid, "email", "opt_in")
        seg = boss.post_json(
            "/api/v1/_segments",
            {
                "entity": "person",
                "name": "Rhodes",
                "kind": "dynamic",
                "definition": {"and": [{"field": "city", "op": "eq", "value": "Rhodes"}]},
            },
            status=201,
        ).json["id"]
        tl = boss.post_json(
            "/api/v1/target-lists",
            {"name": "Rhodes", "segment_id": seg, "kind": "dynamic", "channel": "email"},
            status=201,
        ).json
        t = boss.post_json(
            "/api/v1/campaign-templates",
            {"name": "Offer", "language": "en", "subject": "A gift", "body_html": html},
            status=201,
        ).json
        return new_campaign(tl, t, **{"name": "Summer coupons", **extra})

    return make

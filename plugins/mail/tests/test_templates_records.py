"""Templates merge from an opportunity or a case too when those plugins are enabled:
their fields are known merge fields (saved without complaint) and are filled from the
record picked, as the user may read it."""

from __future__ import annotations

import pytest


@pytest.fixture
def kyklos_plugins():
    return ["contacts", "activities", "catalog", "sfa", "helpdesk", "mail"]


def test_a_template_merges_from_an_opportunity_and_a_case(api, make_record, dbsession):
    from kyklos_sfa.models import Stage
    from kyklos_sfa.pipeline import ensure_defaults
    from sqlalchemy import select

    with dbsession() as db:
        ensure_defaults(db)
        stage = db.execute(select(Stage.id).order_by(Stage.id).limit(1)).scalar()
    admin = api("admin")
    acme = make_record("account", name="Ακμή ΑΕ")
    deal = admin.post_json(
        "/api/v1/opportunities",
        {"name": "Νέα γραμμή παραγωγής", "account_id": acme, "stage_id": stage},
    ).json["id"]
    case = admin.post_json(
        "/api/v1/cases", {"subject": "Ο λέβητας δείχνει E42", "account_id": acme}
    ).json["id"]
    tid = admin.post_json(
        "/api/v1/mail-templates",
        {
            "name": "Update",
            "language": "el",
            "subject": "{{ subject or name }}",
            "body": "<p>{{ name }} · {{ number or 'χωρίς αριθμό' }} · {{ account_id }}</p>",
        },
        status=201,
    ).json["id"]
    out = admin.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"opportunity:{deal}"}).json
    assert out["subject"] == "Νέα γραμμή παραγωγής"
    assert "Νέα γραμμή παραγωγής · χωρίς αριθμό · Ακμή ΑΕ" in out["html"]
    out = admin.get(f"/api/v1/mail-templates/{tid}/render", {"about": f"case:{case}"}).json
    assert out["subject"] == "Ο λέβητας δείχνει E42"
    assert "Ακμή ΑΕ" in out["html"]
    admin.get(f"/api/v1/mail-templates/{tid}/render", {"about": "mailbox:1"}, status=400)

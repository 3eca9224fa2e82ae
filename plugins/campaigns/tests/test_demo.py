"""The campaigns' demo data, through the CLI and the API: the sent campaign shows a hard
bounce (its address on the suppression list), a delayed message and replies among its
responses, as an evaluator would read them on the results page."""

from __future__ import annotations

from kyklos_sdk.testing import run_cli, write_ini


def test_the_sent_demo_campaign_has_bounces_and_replies(db_url, tmp_path, registry, boss):
    ini = write_ini(tmp_path, plugins="contacts activities campaigns", url=db_url)
    proc = run_cli("demo-data", ini, "--size", 40, "--seed", 3, check=True)
    assert "campaigns:" in proc.stdout
    [sent] = boss.get("/api/v1/campaigns?status=sent").json["items"]
    res = boss.get(f"/api/v1/campaigns/{sent['id']}/results").json
    assert res["bounced"] == 1 and res["soft_bounced"] == 1
    assert res["delivered"] == res["sent"] - 1
    assert res["responses"]["replied"] >= 1
    [gone] = boss.get(f"/api/v1/campaign-recipients?campaign_id={sent['id']}&state=bounced").json[
        "items"
    ]
    sup = boss.get(f"/api/v1/suppressions?address={gone['address']}").json["items"]
    assert [s["reason"] for s in sup] == ["hard bounce: 5.1.1 user unknown"]
    page = boss.get(f"/campaigns/{sent['id']}/results")
    assert "Hard bounces" in page.text and "Replied by e-mail" in page.text
    # the letter templates, their Word documents checked and kept; a draft letter campaign
    letters = boss.get("/api/v1/letter-templates?name=Welcome letter").json["items"]
    assert sorted(t["language"] for t in letters) == ["el", "en"]
    assert all("address" in t["merge_fields"] for t in letters)
    [draft] = boss.get("/api/v1/campaigns?channel=letter").json["items"]
    assert draft["status"] == "draft" and draft["letter_template_id"]
    assert boss.get(f"/letter-templates/{letters[0]['id']}/document").body[:2] == b"PK"

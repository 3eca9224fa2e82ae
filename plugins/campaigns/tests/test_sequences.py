"""Drip sequences through the HTTP API: steps with validation, enrolment from a target
list, e-mail through a real SMTP server (aiosmtpd), a wait moved forward (the timers
are read with a later ``now``, never slept), a condition branch decided by a real
tracked open, a call made as an activity in the person's history, each step once per
person even when run again, and the results per step."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select


@pytest.fixture
def kyklos_settings(_smtp_sink):
    return {**_smtp_sink.settings, "kyklos.secret": "sequence-tests-secret"}


def _fields(response) -> set:
    return {e["field"] for e in response.json["errors"]}


def _setup(boss, make_record, dbsession):
    """Maria and Nikos in Chania, opted in for e-mail; a dynamic list; two templates."""
    from kyklos_contacts.api import set_consent

    ids = []
    for first, email in (("Maria", "maria@example.gr"), ("Nikos", "nikos@example.gr")):
        pid = make_record("person", first_name=first, last_name="Chaniotis", email=email,
                          city="Chania")  # fmt: skip
        with dbsession() as db:
            set_consent(db, pid, "email", "opt_in")
        ids.append(pid)
    seg = boss.post_json(
        "/api/v1/_segments",
        {
            "entity": "person",
            "name": "Chania",
            "kind": "dynamic",
            "definition": {"and": [{"field": "city", "op": "eq", "value": "Chania"}]},
        },
        status=201,
    ).json["id"]
    tl = boss.post_json(
        "/api/v1/target-lists",
        {"name": "Chania", "segment_id": seg, "kind": "dynamic", "channel": "email"},
        status=201,
    ).json
    welcome = boss.post_json(
        "/api/v1/campaign-templates",
        {
            "name": "Welcome",
            "language": "en",
            "subject": "Welcome {{ first_name }}",
            "body_html": '<p>Hello</p><a href="https://example.com/tour">Tour</a>',
        },
        status=201,
    ).json
    reminder = boss.post_json(
        "/api/v1/campaign-templates",
        {"name": "Reminder", "language": "en", "subject": "Still there?", "body_html": "<p>Hi</p>"},
        status=201,
    ).json
    return ids, tl, welcome, reminder


def _step(boss, seq, status=201, **fields):
    return boss.post_json(
        "/api/v1/sequence-steps", {"sequence_id": seq["id"], **fields}, status=status
    )


def _drip(boss, tl, welcome, reminder):
    """1 welcome e-mail, 2 wait 2 days, 3 if opened go on else jump to 5, 4 a call for
    the owner, 5 the reminder e-mail."""
    seq = boss.post_json(
        "/api/v1/sequences",
        {"name": "Onboarding", "list_id": tl["id"], "throttle_per_minute": 60000},
        status=201,
    ).json
    s1 = _step(boss, seq, kind="email", template_id=welcome["id"]).json
    s2 = _step(boss, seq, kind="wait", wait_amount=2, wait_unit="days").json
    s4 = _step(boss, seq, kind="call", subject="Welcome call", due_days=1, position=4).json
    s5 = _step(boss, seq, kind="email", template_id=reminder["id"], position=5).json
    s3 = _step(
        boss,
        seq,
        kind="condition",
        condition="opened",
        otherwise="jump",
        jump_step_id=s5["id"],
        position=3,
    ).json
    return seq, [s1, s2, s3, s4, s5]


def _links(msg):
    html = msg.get_body(("html",)).get_content()
    return re.findall(r'(?:href|src)="(http[^"]+/t/[oc]/[^"]+)"', html)


def _enrolments(boss, seq):
    items = boss.get(f"/api/v1/sequence-enrolments?sequence_id={seq['id']}").json["items"]
    return {e["person_id"]: e for e in items}


def test_drip_with_wait_condition_and_call(
    boss, make_record, dbsession, smtp_server, testapp, registry
):
    from kyklos_activities.models import Activity

    from kyklos_campaigns.sequences import advance
    from kyklos_campaigns.sequences_models import StepRun

    (maria, nikos), tl, welcome, reminder = _setup(boss, make_record, dbsession)
    with dbsession() as db:
        # the migration seeds the activity types; a test that emptied the tables did not
        from kyklos_activities.defaults import ensure_defaults

        ensure_defaults(db)
    seq, steps = _drip(boss, tl, welcome, reminder)
    assert [s["position"] for s in steps] == [1, 2, 3, 4, 5]
    assert steps[1]["name"] == "Wait"  # named after its kind when left empty
    started = boss.post(f"/api/v1/sequences/{seq['id']}/start").json
    assert started["status"] == "running" and started["enrolled"] == 2
    # step 1 ran at once: the welcome e-mail, through the campaigns' outbox
    msgs = {m["To"]: m for m in smtp_server.wait(2)}
    assert msgs["maria@example.gr"]["Subject"] == "Welcome Maria"
    # then the wait: both are at the condition, due in two days
    now = dt.datetime.now(dt.UTC)
    enrolled = _enrolments(boss, seq)
    for e in enrolled.values():
        assert e["state"] == "active" and e["step_id"] == steps[2]["id"]
        due = dt.datetime.fromisoformat(e["next_at"].replace("Z", "+00:00"))
        assert abs(due - (now + dt.timedelta(days=2))) < dt.timedelta(minutes=5)
    # Maria opens the welcome e-mail (the real tracking pixel), Nikos does not
    pixel = next(u for u in _links(msgs["maria@example.gr"]) if "/t/o/" in u)
    testapp.get(pixel.split("localhost", 1)[-1])
    # not due yet: nothing moves
    assert advance(registry) == {}
    assert len(smtp_server.wait(3, timeout=0.5)) == 2
    # two days and a minute later
    later = now + dt.timedelta(days=2, minutes=1)
    done = advance(registry, now=later)
    assert done == {"yes": 1, "no": 1, "done": 3}  # the call, the two reminders
    msgs = smtp_server.wait(4)
    assert sorted(m["Subject"] for m in msgs[2:]) == ["Still there?", "Still there?"]
    enrolled = _enrolments(boss, seq)
    assert {e["state"] for e in enrolled.values()} == {"done"}
    assert all(e["step_id"] is None and e["next_at"] is None for e in enrolled.values())
    # the call went to Maria's history only (she opened), for the sequence's owner
    calls = boss.get(f"/api/v1/activities?person_id={maria}").json["items"]
    assert [c["subject"] for c in calls] == ["Welcome call"]
    assert calls[0]["owner_id"] == seq["owner_id"]
    assert boss.get(f"/api/v1/activities?person_id={nikos}").json["items"] == []
    # run again, even later: nothing runs twice
    assert advance(registry, now=later + dt.timedelta(days=30)) == {}
    assert len(smtp_server.wait(5, timeout=0.5)) == 4
    with dbsession() as db:
        assert db.execute(select(func.count()).select_from(Activity)).scalar() == 1
        runs = db.execute(select(func.count()).select_from(StepRun)).scalar()
    assert runs == 2 + 2 + 2 + 1 + 2
    # the results per step, in words
    res = boss.get(f"/api/v1/sequences/{seq['id']}/results").json
    by_pos = {r["position"]: r for r in res["steps"]}
    assert by_pos[1]["messages"]["sent"] == 2 and by_pos[1]["messages"]["opened"] == 1
    assert by_pos[3]["outcomes"] == {"yes": 1, "no": 1}
    assert by_pos[4]["outcomes"] == {"done": 1}
    assert by_pos[5]["messages"]["sent"] == 2
    assert by_pos[2]["words"] == "Wait 2 days"
    # the step editor's page says the same in words
    page = boss.get(f"/sequences/{seq['id']}/steps")
    assert "Wait 2 days" in page.text and "Send the e-mail “Welcome”" in page.text
    assert "2 sent, 1 opened, 0 clicked, 0 responded" in page.text
    name = steps[4]["name"]
    assert by_pos[3]["words"] == (
        f"If the person opened the previous message: go on; otherwise go to step 5 “{name}”"
    )


def test_a_step_already_done_is_not_done_again(boss, make_record, dbsession, smtp_server, registry):
    """A stale run (a worker killed after its commit, another taking the same rows from an
    old read) finds the step done for the person: it moves them on and sends nothing."""
    from sqlalchemy import update

    from kyklos_campaigns.sequences import advance
    from kyklos_campaigns.sequences_models import Enrolment

    _ids, tl, welcome, reminder = _setup(boss, make_record, dbsession)
    seq, steps = _drip(boss, tl, welcome, reminder)
    boss.post(f"/api/v1/sequences/{seq['id']}/start")
    assert len(smtp_server.wait(2)) == 2
    with dbsession() as db:
        db.execute(
            update(Enrolment)
            .where(Enrolment.sequence_id == seq["id"])
            .values(step_id=steps[0]["id"], next_at=dt.datetime.now(dt.UTC))
        )
    advance(registry)
    assert len(smtp_server.wait(3, timeout=0.7)) == 2
    enrolled = _enrolments(boss, seq)
    assert {e["step_id"] for e in enrolled.values()} == {steps[2]["id"]}


def test_steps_are_validated_as_problem_json(boss, make_record, dbsession, api):
    _ids, tl, welcome, reminder = _setup(boss, make_record, dbsession)
    seq = boss.post_json("/api/v1/sequences", {"name": "Empty", "list_id": tl["id"]},
                         status=201).json  # fmt: skip
    bad = boss.post(f"/api/v1/sequences/{seq['id']}/start", status=400)
    assert bad.content_type == "application/problem+json"
    assert "steps" in _fields(bad)
    assert "template_id" in _fields(_step(boss, seq, 400, kind="email"))
    assert {"wait_amount", "wait_unit"} <= _fields(
        _step(boss, seq, 400, kind="wait", wait_amount=0, wait_unit="weeks")
    )
    assert "subject" in _fields(_step(boss, seq, 400, kind="call"))
    assert "kind" in _fields(_step(boss, seq, 400, kind="pigeon"))
    first = _step(boss, seq, kind="email", template_id=welcome["id"]).json
    # a condition may only jump forwards: nobody goes through a step twice
    bad = _step(boss, seq, 400, kind="condition", condition="clicked", otherwise="jump",
                jump_step_id=first["id"])  # fmt: skip
    assert "jump_step_id" in _fields(bad)
    with dbsession() as db:
        from kyklos_campaigns.sequences_models import StepRun

        assert db.execute(select(func.count()).select_from(StepRun)).scalar() == 0
    # reps read sequences but neither change nor start them
    rep = api("sales")
    assert rep.get(f"/api/v1/sequences/{seq['id']}").json["name"] == "Empty"
    rep.post(f"/api/v1/sequences/{seq['id']}/start", status=403)
    boss.post(f"/api/v1/sequences/{seq['id']}/start", status=200)
    # a running sequence's steps stay as they are
    bad = boss.patch_json(f"/api/v1/sequence-steps/{first['id']}", {"template_id": reminder["id"]},
                          status=400)  # fmt: skip
    assert "sequence_id" in _fields(bad)
    gone = boss.delete(f"/api/v1/sequence-steps/{first['id']}", status=409)
    assert gone.content_type == "application/problem+json"
    boss.post(f"/api/v1/sequences/{seq['id']}/pause", status=200)
    boss.patch_json(f"/api/v1/sequence-steps/{first['id']}", {"template_id": reminder["id"]},
                    status=200)  # fmt: skip


def test_enrol_one_person_by_hand(boss, make_record, dbsession, smtp_server, registry):
    from kyklos_contacts.api import set_consent

    _ids, tl, welcome, reminder = _setup(boss, make_record, dbsession)
    seq, steps = _drip(boss, tl, welcome, reminder)
    late = make_record("person", first_name="Late", last_name="Comer", email="late@example.gr",
                       city="Heraklion")  # fmt: skip
    with dbsession() as db:
        set_consent(db, late, "email", "opt_in")
    body = {"sequence_id": seq["id"], "person_id": late}
    bad = boss.post_json("/api/v1/sequence-enrolments", body, status=400)
    assert "sequence_id" in _fields(bad)  # not started yet
    boss.post(f"/api/v1/sequences/{seq['id']}/start")
    smtp_server.wait(2)
    got = boss.post_json("/api/v1/sequence-enrolments", body, status=201).json
    assert got["step_id"] == steps[0]["id"] and got["state"] == "active"
    assert "person_id" in _fields(boss.post_json("/api/v1/sequence-enrolments", body, status=400))
    moved = boss.patch_json(
        f"/api/v1/sequence-enrolments/{got['id']}", {"person_id": _ids[0]}, status=400
    )
    assert "person_id" in _fields(moved)
    from kyklos_campaigns.sequences import advance

    # the timers take the new person at the first step
    assert advance(registry) == {"done": 2}  # the welcome e-mail, then the wait
    assert [m["To"] for m in smtp_server.wait(3)][2:] == ["late@example.gr"]


def test_letter_and_meeting_steps(boss, make_record, dbsession, registry):
    """A letter step merges the person's letter (the letters job of the step's campaign);
    a meeting step puts a meeting in their history, for the owner, days later."""
    import io
    import zipfile

    import docx
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_contacts.api import set_consent

    with dbsession() as db:
        ensure_defaults(db)
    pid = make_record("person", first_name="Ioanna", last_name="Kritikou", city="Sitia")
    make_record("address", person_id=pid, kind="home", street="Odos 1", postcode="72300",
                city="Sitia", country="GR", is_primary=True)  # fmt: skip
    with dbsession() as db:
        set_consent(db, pid, "post", "opt_in")
    seg = boss.post_json(
        "/api/v1/_segments",
        {"entity": "person", "name": "Sitia", "kind": "dynamic",
         "definition": {"and": [{"field": "city", "op": "eq", "value": "Sitia"}]}},
        status=201,
    ).json["id"]  # fmt: skip
    tl = boss.post_json("/api/v1/target-lists", {"name": "Sitia", "segment_id": seg,
                        "kind": "dynamic"}, status=201).json  # fmt: skip
    document = docx.Document()
    document.add_paragraph("Dear {{ first_name }}, {{ address.city }}")
    buf = io.BytesIO()
    document.save(buf)
    letter = boss.post_json("/api/v1/letter-templates", {"name": "Hello", "language": "en"},
                            status=201).json  # fmt: skip
    seq = boss.post_json("/api/v1/sequences", {"name": "Post", "list_id": tl["id"]},
                         status=201).json  # fmt: skip
    # no document yet: refused, naming the template
    bad = _step(boss, seq, 400, kind="letter", letter_template_id=letter["id"])
    assert "letter_template_id" in _fields(bad)
    boss.post(
        f"/api/v1/letter-templates/{letter['id']}/document",
        upload_files=[("file", "hello.docx", buf.getvalue(),
                       "application/vnd.openxmlformats-officedocument.wordprocessingml.document")],
    )  # fmt: skip
    step = _step(boss, seq, kind="letter", letter_template_id=letter["id"]).json
    _step(boss, seq, kind="meeting", subject="Visit the hotel", due_days=3)
    boss.post(f"/api/v1/sequences/{seq['id']}/start")
    cid = boss.get(f"/api/v1/sequence-steps/{step['id']}").json["campaign_id"]
    made = boss.get(f"/api/v1/campaigns/{cid}/letters").json
    assert made["made"] and made["documents"] == 1
    archive = boss.get(f"/campaigns/{cid}/letters.zip").body
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        body = docx.Document(io.BytesIO(zf.read(zf.namelist()[0])))
    assert body.paragraphs[0].text == "Dear Ioanna, Sitia"
    meetings = boss.get(f"/api/v1/activities?person_id={pid}").json["items"]
    assert [m["subject"] for m in meetings] == ["Visit the hotel"]
    starts = dt.datetime.fromisoformat(meetings[0]["starts_at"].replace("Z", "+00:00"))
    assert abs(starts - (dt.datetime.now(dt.UTC) + dt.timedelta(days=3))) < dt.timedelta(minutes=5)


def test_a_click_decides_and_the_others_stop(boss, make_record, dbsession, smtp_server, testapp,
                                            registry):  # fmt: skip
    """ "If the person clicked, go on; otherwise stop": Nikos clicks the real tracked link
    and gets the next e-mail; Maria stops there."""
    from kyklos_campaigns.sequences import advance

    (maria, nikos), tl, welcome, reminder = _setup(boss, make_record, dbsession)
    seq = boss.post_json("/api/v1/sequences", {"name": "Clicks", "list_id": tl["id"],
                         "throttle_per_minute": 60000}, status=201).json  # fmt: skip
    _step(boss, seq, kind="email", template_id=welcome["id"])
    _step(boss, seq, kind="wait", wait_amount=6, wait_unit="hours")
    _step(boss, seq, kind="condition", condition="clicked")  # otherwise: stop
    _step(boss, seq, kind="email", template_id=reminder["id"])
    boss.post(f"/api/v1/sequences/{seq['id']}/start")
    msgs = {m["To"]: m for m in smtp_server.wait(2)}
    click = next(u for u in _links(msgs["nikos@example.gr"]) if "/t/c/" in u)
    assert testapp.get(click.split("localhost", 1)[-1], status=302).location == (
        "https://example.com/tour"
    )
    now = dt.datetime.now(dt.UTC)
    assert advance(registry, now=now + dt.timedelta(hours=5)) == {}  # still waiting
    assert advance(registry, now=now + dt.timedelta(hours=6, minutes=1)) == {
        "yes": 1,
        "no": 1,
        "done": 1,
    }
    assert [m["To"] for m in smtp_server.wait(3)][2:] == ["nikos@example.gr"]
    enrolled = _enrolments(boss, seq)
    assert enrolled[maria]["state"] == "stopped" and enrolled[nikos]["state"] == "done"

"""A real worker process killed with SIGKILL while a sequence runs (a call step for each
person, one person per transaction, then an e-mail): after a restart every person has
exactly one call in their history, every step ran once per person, and every e-mail
went out, none twice but for the one being handed to SMTP at the instant of the kill."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from kyklos_sdk.testing import WorkerDeployment

COUNT = 30


@pytest.fixture
def deployment(db_url, tmp_path, scratch_db_url, smtp_server):
    # db_url: run on each database (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)
    d = WorkerDeployment(
        tmp_path,
        scratch_db_url,
        ["contacts", "activities", "campaigns"],
        {
            "kyklos.base_url": "http://crm.example.com",
            # one person per transaction: the kill lands between two of them
            "kyklos.campaigns.sequence_batch": "1",
            **smtp_server.settings,
        },
    )
    yield d
    d.close()


def _arrange(registry) -> tuple[int, int]:
    """A campaign manager, COUNT consenting people on a frozen list, a sequence of a call
    and an e-mail; returns (user id, sequence id)."""
    from kyklos import jobs
    from kyklos.security.models import Role, User
    from kyklos_contacts.api import set_consent
    from kyklos_contacts.models import Person

    from kyklos_campaigns.models import EmailTemplate, TargetList, TargetMember
    from kyklos_campaigns.sequences_models import Sequence, SequenceStep

    with jobs.job_request(registry) as request:
        db = request.dbsession
        role = db.execute(select(Role).where(Role.name == "campaignmanager")).scalar_one()
        user = User(email="boss@example.com", name="Boss", roles=[role])
        db.add(user)
        db.flush()
        tl = TargetList(name="All", kind="static", channel="email", owner_id=user.id, custom={})
        db.add(tl)
        db.flush()
        for i in range(COUNT):
            p = Person(first_name=f"P{i}", last_name="Test", email=f"p{i}@example.gr",
                       owner_id=user.id, custom={})  # fmt: skip
            db.add(p)
            db.flush()
            set_consent(db, p.id, "email", "opt_in")
            db.add(TargetMember(list_id=tl.id, person_id=p.id, address=p.email, name="P",
                                owner_id=user.id, custom={}))  # fmt: skip
        t = EmailTemplate(name="T", language="en", subject="Hello {{ first_name }}",
                          body_html="<p>Hi</p>", custom={})  # fmt: skip
        db.add(t)
        seq = Sequence(name="Kill", list_id=tl.id, status="draft", throttle_per_minute=600,
                       owner_id=user.id, custom={})  # fmt: skip
        db.add(seq)
        db.flush()
        db.add(SequenceStep(sequence_id=seq.id, position=1, name="Call", kind="call",
                            subject="Hello call", custom={}))  # fmt: skip
        db.add(SequenceStep(sequence_id=seq.id, position=2, name="Mail", kind="email",
                            template_id=t.id, custom={}))  # fmt: skip
        from kyklos_activities.defaults import ensure_defaults

        ensure_defaults(db)
        return user.id, seq.id


def test_a_worker_killed_mid_sequence_runs_each_step_once(deployment, smtp_server):
    from kyklos import jobs
    from kyklos_activities.models import Activity

    from kyklos_campaigns.models import Recipient
    from kyklos_campaigns.sequences import start
    from kyklos_campaigns.sequences_models import Enrolment, Sequence, StepRun

    d = deployment
    user_id, sid = _arrange(d.registry)
    with jobs.job_request(d.registry, user_id) as request:
        assert start(request, request.dbsession.get(Sequence, sid))["enrolled"] == COUNT
    calls = select(func.count()).select_from(Activity)
    worker = d.start_worker()
    d.wait(lambda: (d.scalar(calls) or 0) >= 3, what="a few calls to be made")
    worker.kill()  # SIGKILL while people move on: no cleanup
    worker.wait()
    before = d.scalar(calls)
    print(f"calls made before the kill: {before} of {COUNT}")  # noqa: T201 - for the log
    d.start_worker()
    finished = select(func.count()).select_from(Enrolment).where(Enrolment.state == "done")
    sent = select(func.count()).select_from(Recipient).where(Recipient.state == "sent")
    d.wait(
        lambda: d.scalar(finished) == COUNT and d.scalar(sent) == COUNT,
        what="everyone through the sequence after the restart",
    )
    per_person = select(Activity.person_id, func.count()).group_by(Activity.person_id)
    with d.registry["dbengine"].connect() as c:
        counts = dict(c.execute(per_person).all())
        runs = c.execute(select(func.count()).select_from(StepRun)).scalar()
    assert len(counts) == COUNT and set(counts.values()) == {1}  # one call each
    assert runs == 2 * COUNT
    got = Counter(m["To"] for m in smtp_server.messages)
    assert set(got) == {f"p{i}@example.gr" for i in range(COUNT)}
    assert sum(n - 1 for n in got.values()) <= 1  # at most the one in flight, again

"""A real worker process (``kyklos worker INI``) killed with SIGKILL in the middle of a
campaign: after a restart every recipient has been sent their message, and no message
went out twice except, possibly, the one being handed to the SMTP server at the instant
of the kill (its row was left ``sending``: at-least-once for that one, with the same
Message-ID so the receiver can drop it)."""

from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from kyklos_sdk.testing import WorkerDeployment

COUNT = 16


@pytest.fixture
def deployment(tmp_path, scratch_db_url, smtp_server):
    d = WorkerDeployment(
        tmp_path,
        scratch_db_url,
        ["contacts", "activities", "campaigns"],
        {"kyklos.base_url": "http://crm.example.com", **smtp_server.settings},
    )
    yield d
    d.close()


def _arrange(registry) -> tuple[int, int]:
    """A campaign manager, COUNT consenting people on a frozen list, a template and a
    campaign throttled to 240 a minute; returns (user id, campaign id)."""
    from kyklos import jobs
    from kyklos.security.models import Role, User
    from kyklos_contacts.api import set_consent
    from kyklos_contacts.models import Person

    from kyklos_campaigns.models import Campaign, EmailTemplate, TargetList, TargetMember

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
            p = Person(
                first_name=f"P{i}",
                last_name="Test",
                email=f"p{i}@example.gr",
                owner_id=user.id,
                custom={},
            )
            db.add(p)
            db.flush()
            set_consent(db, p.id, "email", "opt_in")
            db.add(
                TargetMember(
                    list_id=tl.id,
                    person_id=p.id,
                    address=p.email,
                    name="P",
                    owner_id=user.id,
                    custom={},
                )
            )
        t = EmailTemplate(
            name="T",
            language="en",
            subject="Hello {{ first_name }}",
            body_html="<p>Hi</p>",
            custom={},
        )
        db.add(t)
        db.flush()
        c = Campaign(
            name="Kill",
            list_id=tl.id,
            template_id=t.id,
            channel="email",
            throttle_per_minute=240,
            status="draft",
            owner_id=user.id,
            custom={},
        )
        db.add(c)
        db.flush()
        return user.id, c.id


def test_a_worker_killed_mid_campaign_loses_nothing(deployment, smtp_server):
    from kyklos import jobs
    from kyklos.jobs.models import Job

    from kyklos_campaigns.models import Campaign, Recipient
    from kyklos_campaigns.sending import start

    d = deployment
    user_id, cid = _arrange(d.registry)
    with jobs.job_request(d.registry, user_id) as request:
        job_id = start(request, request.dbsession.get(Campaign, cid))
    sent = select(func.count()).select_from(Recipient).where(Recipient.state == "sent")
    worker = d.start_worker()
    d.wait(lambda: (d.scalar(sent) or 0) >= 4, what="a few messages to go out")
    worker.kill()  # SIGKILL mid-campaign: no cleanup
    worker.wait()
    done_before = d.scalar(sent)
    assert 4 <= done_before < COUNT  # killed part-way
    with d.registry["dbengine"].connect() as c:
        in_flight = set(
            c.execute(select(Recipient.address).where(Recipient.state == "sending")).scalars()
        )
    assert len(in_flight) <= 1  # at most the one being sent
    d.start_worker()
    d.wait(
        lambda: d.scalar(select(Job.state).where(Job.id == job_id)) == "done",
        what="the campaign to finish after the restart",
    )
    assert d.scalar(select(Campaign.status).where(Campaign.id == cid)) == "sent"
    assert d.scalar(sent) == COUNT
    got = Counter(m["To"] for m in smtp_server.messages)
    assert set(got) == {f"p{i}@example.gr" for i in range(COUNT)}  # none lost
    twice = {to for to, n in got.items() if n > 1}
    assert twice <= in_flight  # none twice, but for the one in flight at the kill
    ids = Counter(m["Message-ID"] for m in smtp_server.messages)
    assert len(ids) == COUNT  # a repeat carries the same Message-ID

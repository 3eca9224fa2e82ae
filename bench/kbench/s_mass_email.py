"""Scenario 11 (shared/PERFORMANCE.md, "Mass e-mail"): a campaign e-mail to N people
(20 000; quick 2 000) sent by a real worker process (``kyklos worker INI``) through a real
SMTP server (aiosmtpd), the worker killed with SIGKILL part-way and started again.

Kyklos: the campaigns plugin's whole path - the outbox filled from a static target list
(consent applied), one message rendered per person from a sandboxed template with merge
fields, a tracked link, an open pixel and a signed one-click unsubscribe - from the moment
the worker starts until the campaign is ``sent``, the kill and the restart included.

Baseline, in the same run against the same SMTP server: ``smtplib`` sending messages of
the same size, rendered beforehand, over one persistent connection.

Correctness: every person got the message (missing = 0) and no person got two different
messages; a message handed to the server at the instant of the kill may arrive twice with
the same Message-ID (receivers drop it), reported as ``resent_same_id``.

The scenario has its own database (contacts, activities and campaigns migrated) beside
the run's: ``<results>/kyklos_bench_mail.sqlite`` or the PostgreSQL database
``<KYKLOS_BENCH_PG_DB>_mail``, dropped afterwards.
"""

from __future__ import annotations

import smtplib
import tempfile
import time
from collections import Counter
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from . import env as E
from .harness import Result

PLUGINS = ["contacts", "activities", "campaigns"]
BATCH = 1_000
HTML = (
    "<p>Dear {{ first_name }} {{ last_name }},</p>"
    '<p>Our spring offer is ready: <a href="https://shop.example.com/offer">see it</a>.</p>'
    "<p>Kind regards,<br>Kyklos Trading</p>"
    '<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>'
)


def _database(kind: str) -> str:
    if kind == "sqlite":
        E.RESULTS.mkdir(parents=True, exist_ok=True)
        path = E.RESULTS / "kyklos_bench_mail.sqlite"
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        return f"sqlite:///{path}"
    name = f"{E.PG_DB}_mail"
    admin = create_engine(E.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(E.PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def _drop(kind: str) -> None:
    if kind == "sqlite":
        return
    admin = create_engine(E.PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{E.PG_DB}_mail" WITH (FORCE)'))
    finally:
        admin.dispose()


def _arrange(registry, n: int) -> tuple[int, int]:
    """A campaign manager, ``n`` consenting people on a static list, the template and an
    unthrottled campaign; returns (user id, campaign id)."""
    from kyklos_campaigns.models import Campaign, EmailTemplate, TargetList, TargetMember
    from kyklos_contacts.api import set_consent
    from kyklos_contacts.models import Person

    from kyklos import jobs
    from kyklos.security.models import Role, User

    with jobs.job_request(registry) as request:
        db = request.dbsession
        role = db.execute(select(Role).where(Role.name == "campaignmanager")).scalar_one()
        user = User(email="sender@example.com", name="Sender", roles=[role])
        db.add(user)
        db.flush()
        tl = TargetList(
            name="Everyone", kind="static", channel="email", owner_id=user.id, custom={}
        )
        db.add(tl)
        db.flush()
        for start in range(0, n, BATCH):
            people = [
                Person(
                    first_name=f"Maria{i}",
                    last_name="Papadopoulou",
                    email=f"p{i}@example.gr",
                    language="el",
                    owner_id=user.id,
                    custom={},
                )
                for i in range(start, min(n, start + BATCH))
            ]
            db.add_all(people)
            db.flush()
            for p in people:
                set_consent(db, p.id, "email", "opt_in")
            db.add_all(
                TargetMember(
                    list_id=tl.id,
                    person_id=p.id,
                    address=p.email,
                    name=f"{p.first_name} {p.last_name}",
                    owner_id=user.id,
                    custom={},
                )
                for p in people
            )
            db.flush()
        t = EmailTemplate(
            name="Offer", language="el", subject="Hello {{ first_name }}", body_html=HTML, custom={}
        )
        db.add(t)
        db.flush()
        c = Campaign(
            name="Spring offer",
            list_id=tl.id,
            template_id=t.id,
            channel="email",
            throttle_per_minute=1_000_000,
            status="draft",
            owner_id=user.id,
            custom={},
        )
        db.add(c)
        db.flush()
        return user.id, c.id


def _baseline(sink, n: int, size: int) -> float:
    """Seconds for ``n`` pre-rendered messages of ``size`` bytes over one connection."""
    body = ("x" * 70 + "\n") * max(1, size // 71)
    msgs = []
    for i in range(n):
        m = EmailMessage()
        m["From"] = "Kyklos <kyklos@example.com>"
        m["To"] = f"b{i}@example.gr"
        m["Subject"] = f"Hello {i}"
        m["Message-ID"] = f"<baseline-{i}@example.com>"
        m.set_content(body)
        msgs.append(m)
    t0 = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", sink.port, timeout=30) as s:
        for m in msgs:
            s.send_message(m)
    return time.perf_counter() - t0


def run(ctx) -> Result:
    n = 2_000 if ctx.quick else 20_000
    res = Result(
        11,
        "mass e-mail, kill -9 mid-run",
        ctx.kind,
        target=">= 0.5 of smtplib over one connection; 0 missing, 0 duplicated",
    )
    try:
        from kyklos_campaigns.models import Campaign, Recipient  # noqa: F401

        from kyklos_sdk.testing import SMTPSink, WorkerDeployment
    except ImportError as exc:
        res.status = "skipped"
        res.note = f"campaigns plugin not installed: {exc}"
        return res
    from kyklos_campaigns.sending import start

    from kyklos import jobs
    from kyklos.jobs.models import Job

    sink = SMTPSink()
    sink.controller.start()
    url = _database(ctx.kind)
    tmp = Path(tempfile.mkdtemp(prefix="kbench-mail-"))
    d = WorkerDeployment(
        tmp, url, PLUGINS, {"kyklos.base_url": "http://crm.example.com", **sink.settings}
    )
    try:
        t0 = time.perf_counter()
        user_id, cid = _arrange(d.registry, n)
        setup = time.perf_counter() - t0
        with jobs.job_request(d.registry, user_id) as request:
            job_id = start(request, request.dbsession.get(Campaign, cid))
        sent = select(func.count()).select_from(Recipient).where(Recipient.state == "sent")
        t0 = time.perf_counter()
        worker = d.start_worker()
        d.wait(
            lambda: (d.scalar(sent) or 0) >= n * 2 // 5,
            timeout=1800,
            what="40 % of the campaign to go out",
        )
        worker.kill()  # SIGKILL: no cleanup, rows and the job left as they were
        worker.wait()
        t_kill = time.perf_counter() - t0
        before = d.scalar(sent)
        with d.registry["dbengine"].connect() as c:
            in_flight = set(
                c.execute(select(Recipient.address).where(Recipient.state == "sending")).scalars()
            )
        d.start_worker()
        d.wait(
            lambda: d.scalar(select(Job.state).where(Job.id == job_id)) == "done",
            timeout=3600,
            what="the campaign to finish after the restart",
        )
        total = time.perf_counter() - t0
        status = d.scalar(select(Campaign.status).where(Campaign.id == cid))
        got = list(sink.messages)
        size = len(got[0].as_bytes()) if got else 1000
        by_to = Counter(str(m["To"]) for m in got)
        ids_per_to: dict[str, set] = {}
        for m in got:
            ids_per_to.setdefault(str(m["To"]), set()).add(str(m["Message-ID"]))
        expected = {f"p{i}@example.gr" for i in range(n)}
        missing = len(expected - set(by_to))
        resent = sum(c - 1 for c in by_to.values() if c > 1)
        different = sum(1 for s in ids_per_to.values() if len(s) > 1)
        sink.messages.clear()
        base = _baseline(sink, n, size)
        sink.messages.clear()
        rate = n / total
        base_rate = n / base
        res.kyklos = {
            "headline": f"{rate:,.0f} msg/s",
            "msg_per_s": round(rate, 1),
            "seconds": round(total, 1),
            "before_kill_msg_per_s": round(before / t_kill, 1) if t_kill else None,
            "sent_before_kill": before,
            "messages": n,
            "message_bytes": size,
            "setup_s": round(setup, 1),
        }
        res.baseline = {
            "headline": f"{base_rate:,.0f} msg/s",
            "msg_per_s": round(base_rate, 1),
            "seconds": round(base, 2),
        }
        res.efficiency = round(rate / base_rate, 3)
        res.target_met = res.efficiency >= 0.5
        res.correctness = {
            "ok": missing == 0
            and different == 0
            and status == "sent"
            and set(k for k, c in by_to.items() if c > 1) <= in_flight,
            "missing": missing,
            "different_messages_to_one_person": different,
            "resent_same_id": resent,
            "in_flight_at_kill": len(in_flight),
            "campaign_status": status,
        }
        res.note = (
            f"{n} messages, worker killed at {before} sent; "
            f"{resent} re-sent with the same Message-ID"
        )
        return res
    finally:
        d.close()
        sink.controller.stop()
        _drop(ctx.kind)

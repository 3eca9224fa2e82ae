"""Scenario 10: mail ingestion (issue #22). A real Dovecot mailbox of 50 000 messages
(``--quick``: 500; ``--mail-messages N``) is ingested by the mail plugin's fetch job
(batches of ``kyklos.mail.batch``, each committed with its ledger entries and the
cursor), beside a raw IMAP baseline in the same run: imapclient fetching every
``BODY.PEEK[]`` in the same batches and throwing the bytes away.

Memory must stay bounded: the job's RSS is sampled after each batch, and the growth
from the first tenth of the mailbox to the end must stay under a few MiB per thousand
messages (a leak of the parsed messages or the session's identity map would grow with
the count). Then 100 messages arrive and a second fetch reads only those (incremental).
Correctness: every UID in the ledger once, one stored message per Message-ID, none
failed; the reconciliation finds no gap.

The mail plugin gets a database of its own (so the other scenarios' app and data stay
as they are); the messages are written straight into the account's Maildir, which
Dovecot indexes at the first SELECT (appending 50 000 messages one by one over IMAP
would take longer than the measurement)."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from . import env as E
from .harness import Result, rss_mb

FULL = 50_000
QUICK = 500  # CI runs --quick on both databases: enough to prove nothing is lost
#: messages appended after the first fetch: the second fetch must read exactly these
MORE = 100
#: allowed RSS growth (MiB) per 1 000 messages between the first tenth and the end
GROWTH_PER_1000 = 2.0
PLUGINS = (*E.PLUGINS, "mail")

CONF = """\
instance_name = kyklos-bench-{port}
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
info_log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:{dir}/mail/%u
mail_uid = nobody
mail_gid = nogroup
first_valid_uid = 0
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {dir}/users
}}
userdb {{
  driver = passwd-file
  args = {dir}/users
  default_fields = uid=nobody gid=nogroup home={dir}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""

SENDERS = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self):
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise FileNotFoundError("dovecot is not installed")
        self.dir = Path(tempfile.mkdtemp(prefix="kbm", dir="/tmp"))
        self.dir.chmod(0o755)
        (self.dir / "mail").mkdir()
        (self.dir / "users").write_text("bench:{PLAIN}secret::::::\n")
        self.port = _free_port()
        (self.dir / "dovecot.conf").write_text(CONF.format(dir=self.dir, port=self.port))
        self.maildir = self.dir / "mail" / "bench"
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        self.n = 0
        self.proc = None
        self.binary = binary

    def write(self, messages) -> int:
        """Deliver messages into the Maildir as an MDA would (tmp/, then new/)."""
        count = 0
        for raw in messages:
            self.n += 1
            name = f"{int(time.time())}.M{self.n}P{os.getpid()}.bench"
            tmp = self.maildir / "tmp" / name
            tmp.write_bytes(raw)
            os.rename(tmp, self.maildir / "new" / name)
            count += 1
        subprocess.run(["chown", "-R", "nobody:nogroup", str(self.dir / "mail")], check=True)
        return count

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.dir / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not start")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def messages(seed: int, start: int, n: int):
    """Deterministic mail: a mix of plain, HTML alternative and an attachment, from 200
    senders (the first 100 are people in the CRM, so filing has work to do), threads of
    replies, Greek and Polish subjects."""
    rnd = random.Random(seed + start)
    subjects = ["Προσφορά", "Zamówienie", "Order", "Meeting", "Invoice", "Oferta"]
    for i in range(start, start + n):
        m = EmailMessage()
        s = rnd.randrange(SENDERS)
        m["From"] = f"Sender {s} <sender{s}@client{s % 40}.example>"
        m["To"] = "bench@crm.example"
        m["Subject"] = f"{rnd.choice(subjects)} #{i}"
        m["Date"] = format_datetime(
            dt.datetime(2026, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
        )
        m["Message-ID"] = make_msgid(idstring=f"b{i}", domain="bench.example")
        body = f"Message {i}.\n" + "Lorem ipsum dolor sit amet. " * rnd.randint(5, 60)
        m.set_content(body)
        kind = i % 10
        if kind < 3:
            m.add_alternative(f"<p>{body}</p>", subtype="html")
        elif kind == 3:
            m.add_attachment(
                rnd.randbytes(2048), maintype="application", subtype="pdf", filename=f"d{i}.pdf"
            )
        yield m.as_bytes()


def _people(registry, engine):
    """The first 100 senders are people of the CRM."""
    from kyklos_contacts.models import Person
    from sqlalchemy import insert

    with E.session(registry) as db:
        db.execute(
            insert(Person),
            [
                {
                    "first_name": "Sender",
                    "last_name": str(s),
                    "email": f"sender{s}@client{s % 40}.example",
                }
                for s in range(SENDERS // 2)
            ],
        )


class _Job:
    """What the fetch job needs of its context; notes RSS after each batch."""

    def __init__(self, registry):
        self.registry = registry
        self.samples: list[tuple[float, float]] = []
        self.batch_seconds: list[float] = []
        self._t = time.perf_counter()

    def progress(self, pct, message=""):
        self.samples.append((pct, rss_mb()))
        t = time.perf_counter()
        self.batch_seconds.append(t - self._t)
        self._t = t


def _raw_baseline(port, batch) -> tuple[int, float, int]:
    from imapclient import IMAPClient

    t0 = time.perf_counter()
    c = IMAPClient("127.0.0.1", port=port, ssl=False, timeout=60, use_uid=True)
    c.login("bench", "secret")
    c.select_folder("INBOX", readonly=True)
    uids = sorted(c.search())
    size = 0
    for start in range(0, len(uids), batch):
        chunk = uids[start : start + batch]
        c.fetch(chunk, ["RFC822.SIZE"])
        for data in c.fetch(chunk, ["BODY.PEEK[]"]).values():
            size += len(data.get(b"BODY[]", b""))
    c.logout()
    return len(uids), time.perf_counter() - t0, size


def _tenths(values: list[float]) -> list[float]:
    """The mean of each tenth of ``values`` (rounded), to see a trend at a glance."""
    if not values:
        return []
    k = max(1, len(values) // 10)
    return [
        round(sum(values[i : i + k]) / len(values[i : i + k]), 3) for i in range(0, len(values), k)
    ]


def run(ctx) -> Result:
    n = ctx.mail_messages or (QUICK if ctx.quick else FULL)
    res = Result(
        10,
        "mail ingestion from Dovecot",
        ctx.kind,
        target=f"bounded RSS (<= {GROWTH_PER_1000} MiB / 1000 msgs); 0 lost / 0 duplicated",
    )
    try:
        import kyklos_mail  # noqa: F401
    except ImportError as exc:
        res.status, res.note = "skipped", f"mail plugin not importable: {exc}"
        return res
    try:
        dc = Dovecot()
    except FileNotFoundError as exc:
        res.status, res.note = "skipped", str(exc)
        return res
    url = E.create_database(ctx.kind, "_mail")
    try:
        t0 = time.perf_counter()
        dc.write(messages(ctx.seed, 0, n))
        dc.start()
        t_write = time.perf_counter() - t0
        app = E.build(url, PLUGINS)
        registry = app.registry
        engine = registry["dbengine"]
        try:
            return _measure(ctx, res, dc, registry, engine, n, t_write)
        finally:
            engine.dispose()
    finally:
        dc.stop()
        E.drop_database(ctx.kind, url)


def _measure(ctx, res, dc, registry, engine, n, t_write) -> Result:
    from kyklos_mail.crypto import encrypt
    from kyklos_mail.jobs import fetch
    from kyklos_mail.models import LedgerEntry, Mailbox, Message
    from sqlalchemy import func, select

    batch = int(registry.settings.get("kyklos.mail.batch") or 50)
    _people(registry, engine)
    # the raw path first: it also makes Dovecot index the Maildir, which the mail job
    # would otherwise pay for alone
    _n, t_index, _size = _raw_baseline(dc.port, batch)
    got, t_raw, size = _raw_baseline(dc.port, batch)
    with E.session(registry) as db:
        box = Mailbox(
            name="Bench",
            address="bench@crm.example",
            kind="shared",
            imap_host="127.0.0.1",
            imap_port=dc.port,
            imap_security="none",
            username="bench",
            password_secret=encrypt(registry, "secret"),
            smtp_host="",
        )
        db.add(box)
        db.flush()
        box_id = box.id
    job = _Job(registry)
    rss0 = rss_mb()
    t0 = time.perf_counter()
    if os.environ.get("KYKLOS_BENCH_PROFILE"):
        import cProfile

        prof = cProfile.Profile()
        out = prof.runcall(fetch, job, box_id)
        E.RESULTS.mkdir(parents=True, exist_ok=True)
        prof.dump_stats(E.RESULTS / "mail_fetch.prof")
    else:
        out = fetch(job, box_id)
    t_kyklos = time.perf_counter() - t0
    # incremental: 100 more arrive; the next fetch reads only those
    dc.write(messages(ctx.seed, n, MORE))
    t1 = time.perf_counter()
    out2 = fetch(_Job(registry), box_id)
    t_more = time.perf_counter() - t1
    with E.session(registry) as db:
        ledger = db.execute(
            select(func.count(), func.count(func.distinct(LedgerEntry.uid))).where(
                LedgerEntry.mailbox_id == box_id
            )
        ).one()
        failed = db.scalar(
            select(func.count()).where(
                LedgerEntry.mailbox_id == box_id, LedgerEntry.outcome == "failed"
            )
        )
        stored = db.execute(
            select(func.count(), func.count(func.distinct(Message.message_id))).where(
                Message.mailbox_id == box_id
            )
        ).one()
        filed = db.scalar(
            select(func.count()).where(
                LedgerEntry.mailbox_id == box_id, LedgerEntry.outcome == "filed"
            )
        )
        state = db.get(Mailbox, box_id).state
    total = n + MORE
    samples = job.samples
    tenth = next((r for p, r in samples if p >= 10), rss0)
    end = samples[-1][1] if samples else rss_mb()
    growth = max(0.0, end - tenth)
    allowed = GROWTH_PER_1000 * n / 1000 * 0.9 + 16  # 16 MiB of allocator slack
    res.kyklos = {
        "messages": n,
        "seconds": round(t_kyklos, 1),
        "messages_per_s": round(n / t_kyklos, 1),
        "incremental_100_s": round(t_more, 2),
        "rss_start_mb": round(rss0, 1),
        "rss_at_10pct_mb": round(tenth, 1),
        "rss_end_mb": round(end, 1),
        "rss_growth_mb": round(growth, 1),
        "rss_growth_allowed_mb": round(allowed, 1),
        "rss_samples": [(round(p), round(r, 1)) for p, r in samples[:: max(1, len(samples) // 20)]],
        # seconds per batch over the run: flat when each batch costs the same
        "batch_seconds_by_tenth": _tenths(job.batch_seconds),
        "filed": filed,
        "headline": f"{n / t_kyklos:.0f} msg/s, +{growth:.0f} MiB",
    }
    res.baseline = {
        "messages": got,
        "seconds": round(t_raw, 1),
        "messages_per_s": round(got / t_raw, 1),
        "bytes": size,
        "dovecot_index_s": round(t_index, 1),
        "maildir_write_s": round(t_write, 1),
        "headline": f"{got / t_raw:.0f} msg/s",
    }
    res.efficiency = t_raw / t_kyklos if t_kyklos else None
    res.target_met = growth <= allowed
    res.correctness = {
        "expected": total,
        "ledger_rows": ledger[0],
        "ledger_uids": ledger[1],
        "messages": stored[0],
        "distinct_message_ids": stored[1],
        "failed": failed,
        "first_fetch": out,
        "second_fetch": out2,
        "rows_lost": total - ledger[1],
        "duplicates": (ledger[0] - ledger[1]) + (stored[0] - stored[1]),
        "rows_leaked": 0,
        "state": state,
        "ok": ledger[1] == total
        and ledger[0] == total
        and stored[0] == stored[1] == total
        and failed == 0
        and out2.get("stored") == MORE
        and state == "ok",
    }
    res.note = (
        f"{n} messages in Dovecot (Maildir), fetched in batches of {batch}; baseline = "
        "imapclient FETCH BODY.PEEK[] of the same batches, bytes discarded; "
        f"then {MORE} more fetched incrementally"
    )
    return res

"""Bench databases and the Kyklos app on them: create and drop, migrate, run code as a
user (a real request: security policy, record rules, tm), capture and replay SQL."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import transaction
from pyramid.request import Request
from pyramid.scripting import prepare
from sqlalchemy import create_engine, event, make_url, text

PG_ADMIN_URL = os.environ.get("KYKLOS_BENCH_PG", "postgresql+psycopg:///postgres")
#: the scratch database; its own name per run that shares the server with another
PG_DB = os.environ.get("KYKLOS_BENCH_PG_DB", "kyklos_bench")
#: the SQLite file and scratch files (KYKLOS_BENCH_DIR, default bench/results/)
RESULTS = Path(os.environ.get("KYKLOS_BENCH_DIR")
               or Path(__file__).resolve().parent.parent / "results")
#: plugins enabled in the bench app (the KPI scenario needs sfa)
PLUGINS = ("contacts", "activities", "catalog", "sfa")


def create_database(kind: str, suffix: str = "") -> str:
    """A fresh, empty database; returns its URL. ``suffix`` names a second one beside
    the run's (scenario 10 keeps the mail plugin's tables apart)."""
    db = PG_DB + suffix
    if kind == "sqlite":
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"kyklos_bench{suffix}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(path) + suffix)
            if p.exists():
                p.unlink()
        return f"sqlite:///{path}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{db}"'))
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=db).render_as_string(hide_password=False)


def drop_database(kind: str, url: str) -> None:
    if kind == "sqlite":
        return  # kept under bench/results/ for inspection; replaced by the next run
    db = make_url(url).database
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
    finally:
        admin.dispose()


def postgres_available() -> str | None:
    """``None`` when the PostgreSQL server answers, else the reason."""
    try:
        eng = create_engine(PG_ADMIN_URL)
        with eng.connect() as c:
            c.execute(text("SELECT 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).splitlines()[0]


def settings_for(url: str, plugins=PLUGINS) -> dict:
    return {
        "sqlalchemy.url": url,
        "kyklos.plugins": " ".join(plugins),
        "kyklos.theme": "default",
        "kyklos.files_dir": str(RESULTS / "files"),
        "kyklos.secret": "bench-secret",
        "kyklos.jobs.backend": "immediate",
        "pyramid.reload_templates": "false",
    }


def build(url: str, plugins=PLUGINS):
    """Migrate ``url`` for ``plugins`` and return the WSGI app (as the test kit does)."""
    from kyklos_sdk.testing import build_app

    s = settings_for(url, plugins)
    extra = {k: v for k, v in s.items() if k not in ("sqlalchemy.url", "kyklos.plugins",
                                                     "kyklos.theme", "kyklos.files_dir")}
    return build_app(url, list(plugins), "default", files_dir=RESULTS / "files", **extra)


@contextlib.contextmanager
def session(registry):
    """A committed ORM session outside any request."""
    from kyklos.db import get_tm_session

    tm = transaction.TransactionManager(explicit=True)
    with tm:
        yield get_tm_session(registry["dbsession_factory"], tm)


@contextlib.contextmanager
def request_as(registry, token: str | None, path: str = "/"):
    """A real request authenticated by ``token`` (bearer), in its own transaction, for
    calling service and report functions directly."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    req = Request.blank(path, headers=headers, base_url="http://localhost")
    env = prepare(request=req, registry=registry)
    request = env["request"]
    request.tm = transaction.TransactionManager(explicit=True)
    request.tm.begin()
    try:
        yield request
    finally:
        request.tm.abort()  # reads only: leave nothing behind
        env["closer"]()


def wsgi_get(app, path: str, token: str, method: str = "GET", body: bytes | None = None,
             headers: dict | None = None):
    """One request through the whole WSGI stack (no HTTP server)."""
    req = Request.blank(path, method=method, base_url="http://localhost")
    req.headers["Authorization"] = f"Bearer {token}"
    for k, v in (headers or {}).items():
        req.headers[k] = v
    if body is not None:
        req.body = body
        req.content_type = "application/json"
    return req.get_response(app)


@contextlib.contextmanager
def capture_sql(engine):
    """Collect ``(statement, parameters)`` of every statement run inside the block."""
    out: list[tuple[str, object]] = []

    def before(conn, cursor, statement, params, context, executemany):
        if not executemany:
            out.append((statement, params))

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield out
    finally:
        event.remove(engine, "before_cursor_execute", before)


def replay(engine, statements) -> callable:
    """A function running ``statements`` raw on one DBAPI connection (fetching every
    row), for timing the SQL an ORM path emitted without the ORM."""
    raw = engine.raw_connection()

    def run():
        cur = raw.cursor()
        rows = 0
        for stmt, params in statements:
            cur.execute(stmt, params)
            if cur.description is not None:
                rows += len(cur.fetchall())
        cur.close()
        raw.rollback()
        return rows

    run.close = raw.close
    return run


def is_select(stmt: str) -> bool:
    return stmt.lstrip().upper().startswith(("SELECT", "WITH"))


def make_token(registry, user_id: int, name: str = "bench") -> str:
    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    with session(registry) as db:
        token, _row = create_token(db, db.get(User, user_id), name=name)
    return token


def dialect(engine) -> str:
    return engine.dialect.name

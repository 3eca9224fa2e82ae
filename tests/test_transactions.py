"""One request is one transaction: commits on success, rolls back on error responses and
exceptions, retries transient failures; SQLite runs in WAL mode with a busy timeout."""

import pytest
import transaction.interfaces
import webtest
from pyramid.httpexceptions import HTTPBadRequest
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import func, select, text

from kyklos import migrate
from kyklos.app import make_configurator
from kyklos.security.models import Role


@pytest.fixture
def tm_app(db_url):
    config = make_configurator(
        {"sqlalchemy.url": db_url, "kyklos.secret": "test-secret"}, check_migrations=False
    )
    engine = config.registry["dbengine"]
    migrate.upgrade(engine, migrate.branches_for([]))
    attempts = {"n": 0}

    def add(request, name):
        request.dbsession.add(Role(name=name, title=name, permissions=[]))
        request.dbsession.flush()

    def ok(request):
        add(request, "ok")
        return {"ok": True}

    def bad(request):
        add(request, "bad")
        return HTTPBadRequest()

    def boom(request):
        add(request, "boom")
        raise RuntimeError("boom")

    def flaky(request):
        attempts["n"] += 1
        add(request, f"flaky{attempts['n']}")
        if attempts["n"] < 3:
            raise transaction.interfaces.TransientError("serialization failure")
        return {"attempt": attempts["n"]}

    for name, view in [("ok", ok), ("bad", bad), ("boom", boom), ("flaky", flaky)]:
        config.add_route(f"t.{name}", f"/t/{name}")
        config.add_view(view, route_name=f"t.{name}", renderer="json", require_csrf=False,
                        permission=NO_PERMISSION_REQUIRED)
    app = config.make_wsgi_app()
    yield webtest.TestApp(app, extra_environ={"HTTP_HOST": "localhost"}), engine
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM kyklos_role"))
    engine.dispose()


def role_names(engine):
    with engine.connect() as conn:
        return set(conn.execute(select(Role.name)).scalars())


def test_success_commits(tm_app):
    client, engine = tm_app
    client.post("/t/ok")
    assert role_names(engine) == {"ok"}


def test_error_response_rolls_back(tm_app):
    client, engine = tm_app
    client.post("/t/bad", status=400)
    assert role_names(engine) == set()


def test_exception_rolls_back(tm_app):
    client, engine = tm_app
    with pytest.raises(RuntimeError):
        client.post("/t/boom")
    assert role_names(engine) == set()


def test_transient_errors_are_retried_and_only_the_last_attempt_commits(tm_app):
    client, engine = tm_app
    assert client.post("/t/flaky").json == {"attempt": 3}
    assert role_names(engine) == {"flaky3"}


def test_sqlite_runs_in_wal_mode_with_busy_timeout(tm_app, db_kind):
    if db_kind != "sqlite":
        pytest.skip("SQLite only")
    _, engine = tm_app
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.execute(select(func.count()).select_from(Role)).scalar() == 0

"""pytest plugin (``pytest11`` entry point ``kyklos``) for the core and plugin authors.

Fixtures:

``kyklos_plugins``      override in a test module: the plugin ids to enable (default none)
``kyklos_theme``        override: the theme id (default ``default``)
``db_url``              parametrised: SQLite, plus PostgreSQL when ``TEST_DATABASE_URL`` is set
``kyklos_app``          the WSGI app with only the named plugins, migrated; the database is
                        emptied after each test
``registry``            its Pyramid registry
``testapp``             an anonymous ``webtest.TestApp``
``make_user``           ``make_user(email=..., roles=("user",), password=...)`` -> user id
``login``               ``login(testapp, email, password)`` logs a TestApp in
``client``              ``client(*roles)`` -> a TestApp logged in as a new user holding roles
``api``                 ``api(*roles)`` -> a TestApp sending a bearer token of such a user
``dbsession``           run code in a committed transaction: ``with dbsession() as db: ...``
``query_counter``       ``with query_counter() as q: ...; q.count``

Tests are isolated by emptying every table after each test, not by rolling back: the
app commits through pyramid_tm exactly as in production, so tests see real commits.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import transaction
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError

PASSWORD = "Test-password-2026!"  # noqa: S105 - test users only
_counter = itertools.count(1)


def pytest_addoption(parser):
    group = parser.getgroup("kyklos")
    group.addoption(
        "--kyklos-sqlite-only",
        action="store_true",
        help="Skip the PostgreSQL variant even when TEST_DATABASE_URL is set.",
    )


def _db_params(config) -> list[str]:
    params = ["sqlite"]
    if os.environ.get("TEST_DATABASE_URL") and not config.getoption("kyklos_sqlite_only"):
        params.append("postgresql")
    return params


def pytest_generate_tests(metafunc):
    if "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_kind", _db_params(metafunc.config), indirect=True, scope="session")


def pytest_collection_modifyitems(config, items):
    """Skip browser tests without Chromium, unless CI requires them."""
    have_chromium = shutil.which("chromium") or Path("/usr/bin/chromium").exists()
    required = os.environ.get("KYKLOS_REQUIRE_BROWSER") == "1"
    if have_chromium or required:
        return
    skip = pytest.mark.skip(reason="Chromium is not installed (/usr/bin/chromium)")
    for item in items:
        if "page" in getattr(item, "fixturenames", ()) or item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def db_kind(request):
    return getattr(request, "param", "sqlite")


@pytest.fixture(scope="session")
def _pg_admin_url():
    return os.environ.get("TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def db_url(db_kind, tmp_path_factory, worker_id, _pg_admin_url):
    """A fresh, empty database for this pytest-xdist worker."""
    if db_kind == "sqlite":
        path = tmp_path_factory.mktemp("db") / "kyklos.sqlite"
        yield f"sqlite:///{path}"
        return
    base = make_url(_pg_admin_url)
    name = f"{base.database or 'test'}_kyklos_{worker_id}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            c.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        if os.environ.get("KYKLOS_REQUIRE_POSTGRES") == "1":
            pytest.fail(f"PostgreSQL required but unreachable: {exc.orig}", pytrace=False)
        pytest.skip(f"PostgreSQL unreachable: {exc.orig}")
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def worker_id(request):
    # pytest-xdist provides this fixture; keep a default so the plugin works without it.
    return getattr(request.config, "workerinput", {}).get("workerid", "master")


@pytest.fixture
def kyklos_plugins():
    """Override to enable plugins, e.g. ``return ["contacts"]``."""
    return []


@pytest.fixture
def kyklos_theme():
    return "default"


@pytest.fixture
def kyklos_settings():
    """Override to add settings to the test app."""
    return {}


class _AppCache:
    """Apps by (database, plugins, theme, settings): building one costs start-up and
    migrations, so each combination is built once per session."""

    def __init__(self):
        self.apps = {}
        self.migrated: dict[str, set] = {}


@pytest.fixture(scope="session")
def _app_cache():
    cache = _AppCache()
    yield cache
    for app in cache.apps.values():
        app.registry["dbengine"].dispose()


def build_app(db_url: str, plugins, theme="default", files_dir=None, **extra):
    """Migrate the database for ``plugins`` and return the WSGI app."""
    from kyklos import migrate
    from kyklos.app import make_configurator
    from kyklos.security import sync_roles

    settings = {
        "sqlalchemy.url": db_url,
        "kyklos.plugins": " ".join(plugins),
        "kyklos.theme": theme,
        "kyklos.files_dir": str(files_dir or ""),
        "kyklos.secret": "test-secret",
        "kyklos.login.max_failures": "5",
        "kyklos.jobs.backend": "immediate",
        "pyramid.reload_templates": "false",
    }
    settings.update(extra)
    config = make_configurator(settings, check_migrations=False)
    engine = config.registry["dbengine"]
    migrate.upgrade(engine, migrate.branches_for(config.registry.kyklos_plugins))
    app = config.make_wsgi_app()
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        from kyklos.db import get_tm_session

        db = get_tm_session(config.registry["dbsession_factory"], tm)
        sync_roles(db, config.registry)
    return app


def empty_database(registry) -> None:
    """Delete every row of every table except migration versions, then re-create roles."""
    from kyklos.db import Base, get_tm_session
    from kyklos.security import sync_roles

    engine = registry["dbengine"]
    tables = [t for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        existing = set(engine.dialect.get_table_names(conn))
        names = [t.name for t in tables if t.name in existing]
        if engine.dialect.name == "postgresql" and names:
            quoted = ", ".join(f'"{n}"' for n in names)
            conn.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
        else:
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))
    tm = transaction.TransactionManager(explicit=True)
    with tm:
        sync_roles(get_tm_session(registry["dbsession_factory"], tm), registry)


@pytest.fixture
def kyklos_app(db_url, kyklos_plugins, kyklos_theme, kyklos_settings, _app_cache, tmp_path_factory):
    key = (db_url, tuple(kyklos_plugins), kyklos_theme, tuple(sorted(kyklos_settings.items())))
    app = _app_cache.apps.get(key)
    if app is None:
        files = tmp_path_factory.mktemp("files")
        app = build_app(db_url, kyklos_plugins, kyklos_theme, files_dir=files, **kyklos_settings)
        _app_cache.apps[key] = app
    yield app
    empty_database(app.registry)


@pytest.fixture
def registry(kyklos_app):
    return kyklos_app.registry


@pytest.fixture
def dbsession(registry):
    """``with dbsession() as db:`` runs code in its own committed transaction."""
    from kyklos.db import get_tm_session

    @contextlib.contextmanager
    def run():
        tm = transaction.TransactionManager(explicit=True)
        with tm:
            yield get_tm_session(registry["dbsession_factory"], tm)

    return run


@pytest.fixture
def testapp(kyklos_app):
    import webtest

    return webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})


@pytest.fixture
def make_user(dbsession):
    from sqlalchemy import select

    from kyklos.security.models import Role, User
    from kyklos.security.passwords import hash_password

    hashed = hash_password(PASSWORD)

    def make(email=None, roles=("user",), password=None, name="", **attrs):
        email = email or f"user{next(_counter)}@example.com"
        with dbsession() as db:
            found = {r.name: r for r in db.execute(select(Role)).scalars()}
            missing = [r for r in roles if r not in found]
            if missing:
                raise ValueError(f"unknown roles {missing}; declared: {sorted(found)}")
            user = User(
                email=email,
                name=name or email.split("@")[0],
                password_hash=hash_password(password) if password else hashed,
                roles=[found[r] for r in roles],
                **attrs,
            )
            db.add(user)
            db.flush()
            return user.id

    return make


def csrf_of(testapp) -> str:
    """The CSRF token of a logged-in TestApp's session (from any page's forms)."""
    res = testapp.get("/login") if not testapp.cookies else testapp.get("/")
    m = re.search(r'name="csrf_token" value="([^"]+)"', res.text)
    return m.group(1) if m else ""


@pytest.fixture
def login():
    def do(testapp, email, password=PASSWORD):
        page = testapp.get("/login")
        form = page.forms[-1]
        form["email"] = email
        form["password"] = password
        res = form.submit()
        assert res.status_int == 303, f"login failed for {email}: {res.status}"
        return res

    return do


@pytest.fixture
def client(kyklos_app, make_user, login):
    import webtest

    def make(*roles, email=None):
        email = email or f"user{next(_counter)}@example.com"
        make_user(email=email, roles=roles or ("user",))
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        login(app, email)
        app.email = email
        return app

    return make


@pytest.fixture
def api(kyklos_app, make_user, dbsession):
    import webtest

    from kyklos.security.models import User
    from kyklos.security.tokens import create_token

    def make(*roles, email=None, scopes=()):
        email = email or f"api{next(_counter)}@example.com"
        uid = make_user(email=email, roles=roles or ("user",))
        with dbsession() as db:
            token, _row = create_token(db, db.get(User, uid), name="test", scopes=scopes)
        app = webtest.TestApp(kyklos_app, extra_environ={"HTTP_HOST": "localhost"})
        app.authorization = ("Bearer", token)
        app.user_id = uid
        app.email = email
        return app

    return make


@pytest.fixture
def query_counter(registry):
    """Count the SQL statements the app runs inside the ``with`` block."""

    class Counter:
        def __init__(self):
            self.statements: list[str] = []

        @property
        def count(self):
            return len(self.statements)

    @contextlib.contextmanager
    def counting():
        counter = Counter()

        def before(conn, cursor, statement, params, context, executemany):
            counter.statements.append(statement)

        engine = registry["dbengine"]
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield counter
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


# --- browser tests -----------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Use Debian's Chromium; never a downloaded browser (overrides pytest-playwright)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def live_server(kyklos_app):
    """The app served by a real threaded HTTP server on 127.0.0.1; yields its base URL."""
    from webtest.http import StopableWSGIServer

    server = StopableWSGIServer.create(kyklos_app, host="127.0.0.1", threads=4)
    server.wait()
    try:
        yield server.application_url.rstrip("/")
    finally:
        server.shutdown()


# --- the command line -------------------------------------------------------------------

KYKLOS = [sys.executable, "-m", "kyklos.cli"]

INI_TEMPLATE = """\
[app:main]
use = egg:kyklos
kyklos.plugins = {plugins}
kyklos.theme = {theme}
sqlalchemy.url = {url}
kyklos.files_dir = {files}

[server:main]
use = egg:kyklos#waitress
host = 127.0.0.1
port = 6543
"""


def write_ini(tmp_path: Path, plugins="", url=None, theme="default", name="test.ini") -> Path:
    url = url or f"sqlite:///{tmp_path}/kyklos.sqlite"
    path = tmp_path / name
    """Write a minimal deployment .ini for CLI tests."""
    path.write_text(
        INI_TEMPLATE.format(plugins=plugins, url=url, theme=theme, files=tmp_path / "files")
    )
    return path


def run_cli(
    *args, check=False, input_=None, env_extra=None, pythonpath=()
) -> subprocess.CompletedProcess:
    """Run ``kyklos ARGS`` in a subprocess (with ``pythonpath`` prepended)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [*map(str, pythonpath), env.get("PYTHONPATH")])
    )
    env.pop("KYKLOS_DATABASE_URL", None)
    env.update(env_extra or {})
    proc = subprocess.run(
        [*KYKLOS, *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        input=input_,
        timeout=120,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"kyklos {args} failed ({proc.returncode}):\n{proc.stderr}")
    return proc

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
``smtp_server``         a real SMTP server (aiosmtpd): ``.messages``, ``.port``, ``.settings``

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
import zlib
from pathlib import Path

import pytest
import transaction
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError, OperationalError

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


def _browser_db(metafunc, params: list[str]) -> list[str]:
    """Browser tests run on one database each, half of the modules on each (fixed by the
    module's path). Driving Chromium costs far more than the database under it, and what
    differs between the databases is proven by the API and unit tests, which run on both;
    ``KYKLOS_BROWSER_ALL_DBS=1`` runs every browser test on both."""
    browser = metafunc.definition.get_closest_marker("browser") or "page" in metafunc.fixturenames
    if len(params) < 2 or not browser or os.environ.get("KYKLOS_BROWSER_ALL_DBS") == "1":
        return params
    module = metafunc.definition.nodeid.split("::")[0]
    return [params[zlib.crc32(module.encode()) % len(params)]]


def pytest_generate_tests(metafunc):
    if "db_url" in metafunc.fixturenames:
        params = _browser_db(metafunc, _db_params(metafunc.config))
        metafunc.parametrize("db_kind", params, indirect=True, scope="session")


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
def scratch_db_url(db_kind, tmp_path, worker_id, _pg_admin_url):
    """A fresh, empty database for one test (migration and CLI tests that must start
    from nothing without disturbing the worker's shared database)."""
    if db_kind == "sqlite":
        yield f"sqlite:///{tmp_path}/scratch.sqlite"
        return
    base = make_url(_pg_admin_url)
    name = f"{base.database or 'test'}_scratch_{worker_id}"
    admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        c.execute(text(f'CREATE DATABASE "{name}"'))
    yield base.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


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


def empty_database(registry, resync: bool = True) -> None:
    """Delete every row of every table except migration versions and the authorisation
    counter, then re-create roles."""
    from kyklos.db import Base

    engine = registry["dbengine"]
    # The authorisation counter stays (like the migration versions): deleting the
    # other tables bumps it, and without its row nothing would be cached.
    tables = [
        t for t in reversed(Base.metadata.sorted_tables) if t.name != "kyklos_auth_generation"
    ]
    with engine.begin() as conn:
        existing = set(engine.dialect.get_table_names(conn))
        names = [t.name for t in tables if t.name in existing]
        if engine.dialect.name == "postgresql" and names:
            _empty_postgresql(conn, names)
        else:
            # Self-referencing tables (department trees) cannot be emptied row by row
            # under immediate foreign-key checks; every row goes, so check at commit.
            conn.execute(text("PRAGMA defer_foreign_keys = ON"))
            for n in names:
                conn.execute(text(f'DELETE FROM "{n}"'))
    if resync:
        sync_roles_of(registry)


#: the tables (among those given) that own a sequence a test has drawn from
_USED_SEQUENCES = text(
    """
    SELECT t.relname, s.oid::regclass::text
    FROM pg_sequences ps
    JOIN pg_class s ON s.relname = ps.sequencename
         AND s.relnamespace = ps.schemaname::regnamespace
    JOIN pg_depend d ON d.objid = s.oid AND d.classid = 'pg_class'::regclass
         AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE ps.last_value IS NOT NULL AND t.relname = ANY(:names)
    """
)


def _empty_postgresql(conn, names: list[str]) -> None:
    """Empty the tables a test wrote to and restart the sequences it drew from.

    A TRUNCATE of every table costs seconds per test (each truncated table gets new
    files), while a test writes to a handful: find those in one query, DELETE them in
    dependency order (``names`` is), and fall back to TRUNCATE ... CASCADE when the order
    cannot satisfy the foreign keys (a cycle)."""
    probe = " UNION ALL ".join(f"SELECT '{n}' WHERE EXISTS (SELECT 1 FROM \"{n}\")" for n in names)
    filled = set(conn.execute(text(probe)).scalars())
    if filled:
        try:
            with conn.begin_nested():
                for n in names:
                    if n in filled:
                        conn.execute(text(f'DELETE FROM "{n}"'))
        except DBAPIError:
            quoted = ", ".join(f'"{n}"' for n in names if n in filled)
            conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
    # ids start at 1 again in every test, as TRUNCATE ... RESTART IDENTITY did
    for _table, seq in conn.execute(_USED_SEQUENCES, {"names": names}).all():
        conn.execute(text("SELECT setval(CAST(:s AS regclass), 1, false)"), {"s": seq})


def sync_roles_of(registry) -> None:
    """Create the roles ``registry``'s plugins declare (several apps share a database)."""
    from kyklos.db import get_tm_session
    from kyklos.security import sync_roles

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
    # Apps with other plugins share this database: each test starts with the roles
    # *its* app declares, not those of the module that ran before.
    sync_roles_of(app.registry)
    yield app
    empty_database(app.registry, resync=False)
    forget_custom_fields(app.registry)
    engine = app.registry["dbengine"]
    if engine.dialect.name != "sqlite":
        # Every cached app kept its pool's idle connections: with many plugin sets and
        # per-test settings (a test's own SMTP port) a worker reached PostgreSQL's
        # max_connections ("too many clients"). Idle ones are closed between tests.
        engine.dispose()


def forget_custom_fields(registry) -> None:
    """Custom-field definitions are merged into the app's entity types, and the app
    outlives the test: after emptying the database, merge again so the next test sees
    only the types' own fields."""
    from kyklos.entities.customfields import refresh

    with registry["dbsession_factory"]() as db:
        refresh(registry, db, force=True)


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
        # webtest indexes forms by position and id only (no negative index)
        form = next(f for f in page.forms.values() if f.action.endswith("/login"))
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


# --- mail ---------------------------------------------------------------------------------


class SMTPSink:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

    ``messages``: parsed :class:`email.message.EmailMessage` objects, in arrival order
    (each with ``envelope_from`` / ``envelope_to`` attributes); ``settings``: the
    ``kyklos.mail.*`` settings that point the app at it. ``refuse``: an SMTP reply
    (``"554 5.7.1 Rejected"``) the server gives to every message instead of accepting
    it, to test what the app does with a failing server (``None``: accept; reset for
    each test).
    """

    def __init__(self):
        import socket

        from aiosmtpd.controller import Controller

        # aiosmtpd's readiness probe connects to the port it was given, so port 0 fails:
        # take a free port from the OS first.
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.messages: list = []
        self.refuse: str | None = None
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        from email import message_from_bytes, policy

        if self.refuse:
            return self.refuse
        msg = message_from_bytes(
            envelope.original_content or envelope.content, policy=policy.default
        )
        msg.envelope_from = envelope.mail_from
        msg.envelope_to = list(envelope.rcpt_tos)
        self.messages.append(msg)
        return "250 OK"

    @property
    def settings(self) -> dict:
        return {
            "kyklos.mail.host": "127.0.0.1",
            "kyklos.mail.port": str(self.port),
            "kyklos.mail.sender": "Kyklos <kyklos@example.com>",
            "kyklos.mail.timeout": "10",
        }

    def wait(self, n: int = 1, timeout: float = 5.0) -> list:
        """Wait until ``n`` messages arrived; returns them."""
        import time

        end = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < end:
            time.sleep(0.02)
        return self.messages


@pytest.fixture(scope="session")
def _smtp_sink():
    sink = SMTPSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


@pytest.fixture
def smtp_server(_smtp_sink):
    """A real SMTP server for this test (emptied first). Point the app at it by
    overriding ``kyklos_settings`` in the test module::

        @pytest.fixture
        def kyklos_settings(smtp_server):
            return smtp_server.settings

    The server lives for the whole session, so its settings (and the app built for
    them) are the same in every test.
    """
    _smtp_sink.messages.clear()
    _smtp_sink.refuse = None
    return _smtp_sink


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


# Playwright's assertions wait 5 s by default: on a busy two-core CI machine a form post
# that renders the next page (a server thread, the browser and the other pytest worker
# sharing the cores) has taken longer. A wait only costs time when a test would fail.
try:
    from playwright.sync_api import expect as _expect
except ImportError:  # browser tests are optional for a plugin's own suite
    pass
else:
    _expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Use Debian's Chromium; never a downloaded browser (overrides pytest-playwright)."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


def screenshot_dir() -> Path:
    """Where browser tests leave their screenshots for a reviewer (CI keeps the folder):
    ``$KYKLOS_SCREENSHOTS`` or ``test-artifacts/screenshots`` under the working directory."""
    folder = Path(
        os.environ.get("KYKLOS_SCREENSHOTS") or Path.cwd() / "test-artifacts" / "screenshots"
    )
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshot(page, name: str, *, phone: bool = False) -> Path:
    """A full-page PNG of ``page`` named ``name`` (``-390`` appended for the phone width,
    at which the page is shown 390 px wide and then restored)."""
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    path = screenshot_dir() / (f"{safe}-390.png" if phone else f"{safe}.png")
    if phone:
        size = page.viewport_size
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(path), full_page=True)
        if size:
            page.set_viewport_size(size)
    else:
        page.screenshot(path=str(path), full_page=True)
    return path


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
# signs links; also gives the encryption key on PostgreSQL (docs/deployment.md)
kyklos.secret = test-secret

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


# --- for plugin authors: translations, factories and check_plugin ----------------------


@pytest.fixture(scope="session", autouse=True)
def _kyklos_catalogs():
    """Compile stale translation catalogs (.po -> .mo) of the core and of every installed
    plugin and theme once per session: .mo files are build products, not in git."""
    import importlib.util
    from importlib import metadata

    from kyklos.i18n import compile_catalogs

    packages = {"kyklos"}
    for group in ("kyklos.plugins", "kyklos.themes"):
        packages |= {ep.value.split(":")[0] for ep in metadata.entry_points(group=group)}
    for pkg in sorted(packages):
        try:
            spec = importlib.util.find_spec(pkg)
        except (ImportError, ValueError):
            continue
        for location in (spec.submodule_search_locations or []) if spec else []:
            locale = Path(location) / "locale"
            if locale.is_dir():
                with contextlib.suppress(OSError):  # a read-only install ships its .mo
                    compile_catalogs(locale)


_SAMPLE_VALUES = {
    "string": lambda f, n: f"{f.name} {n}"[: f.max_length or 200],
    "text": lambda f, n: f"{f.name} {n}",
    "richtext": lambda f, n: f"<p>{f.name} {n}</p>",
    "email": lambda f, n: f"record{n}@example.com",
    "phone": lambda f, n: f"+30 210 000 {n:04d}"[:20],
    "url": lambda f, n: f"https://example.com/{n}",
    "integer": lambda f, n: n,
    "decimal": lambda f, n: n,
    "boolean": lambda f, n: False,
    "choice": lambda f, n: (f.choices or [("", "")])[0][0],
}


@pytest.fixture
def make_record(registry, dbsession):
    """``make_record("thing", name="x", ...)`` -> id: a record written straight to the
    database (no hooks, no permission checks), required fields filled in when not given.
    Use it to arrange data; exercise write paths through ``api``/``client`` instead."""
    import datetime as dt

    def make(entity: str, **values) -> int:
        et = registry.kyklos_entities.get(entity)
        if et is None:
            known = sorted(registry.kyklos_entities)
            raise ValueError(f"unknown entity type {entity!r}; known: {known}")
        n = next(_counter)
        for f in et.fields.values():
            if f.name in values or not f.required or f.readonly or f.custom:
                continue
            if f.type in _SAMPLE_VALUES:
                values[f.name] = _SAMPLE_VALUES[f.type](f, n)
            elif f.type == "date":
                values[f.name] = dt.date.today()
            elif f.type == "datetime":
                values[f.name] = dt.datetime.now(dt.UTC)
        with dbsession() as db:
            record = et.model(**values)
            db.add(record)
            db.flush()
            return record.id

    return make


class PluginCheckError(AssertionError):
    """``check_plugin`` found problems; ``problems`` lists them all."""

    def __init__(self, plugin_id: str, problems: list[str]):
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"plugin '{plugin_id}' has {len(problems)} problem(s):\n{lines}")


def _with_depends(pid: str, installed) -> list[str]:
    out: list[str] = []

    def visit(x):
        p = installed.get(x)
        for dep in p.manifest.depends if p and p.manifest else ():
            if dep not in out:
                visit(dep)
        if x not in out:
            out.append(x)

    visit(pid)
    return out


def check_plugin(plugin_id: str, *, raises: bool = True, installed=None) -> list[str]:
    """Validate an installed plugin the way the core will load it.

    Checks: its ``kyklos.plugins`` entry point resolves to a package with a valid
    manifest and ``includeme``; ``requires_core`` admits this core; ``includeme`` loads
    in an app holding only the plugin and what it depends on (no configuration
    conflicts, no unknown hook names); its migrations upgrade to head, downgrade to base
    (leaving none of its tables) and upgrade again on a scratch SQLite database, and
    create every table of its models; every ``.pt`` template compiles and every
    template a view names exists; every permission its entity types, roles and views
    use is declared. Returns the problems (``[]`` when none); with ``raises`` (the
    default) raises :class:`PluginCheckError` listing all of them instead.
    """
    import tempfile

    problems: list[str] = []

    def done():
        if problems and raises:
            raise PluginCheckError(plugin_id, problems)
        return problems

    from kyklos.errors import PluginError
    from kyklos.plugins import check_core_version, discover

    installed = discover() if installed is None else installed
    p = installed.get(plugin_id)
    if p is None:
        problems.append(
            f"no installed distribution has the entry point '{plugin_id}' in group "
            f"kyklos.plugins (installed: {', '.join(sorted(installed)) or 'none'})"
        )
        return done()
    if p.error:
        problems.append(f"entry point: {p.error}")
        return done()
    try:
        check_core_version(p)
    except PluginError as exc:
        problems.append(f"manifest: {exc}")
    for dep in p.manifest.depends:
        if dep not in installed:
            problems.append(f"manifest: depends on '{dep}', which is not installed")
    if problems:
        return done()

    with tempfile.TemporaryDirectory(prefix="kyklos-check-") as tmp:
        _check_loaded(plugin_id, p, installed, f"sqlite:///{tmp}/check.sqlite", problems)
    return done()


def _check_loaded(plugin_id, p, installed, url, problems) -> None:
    from pyramid.exceptions import ConfigurationError

    from kyklos import migrate
    from kyklos.app import make_configurator
    from kyklos.errors import KyklosError

    settings = {
        "sqlalchemy.url": url,
        "kyklos.plugins": " ".join(_with_depends(plugin_id, installed)),
        "kyklos.theme": "default",
        "kyklos.secret": "check-plugin",
        "kyklos.jobs.backend": "immediate",
    }
    try:
        config = make_configurator(settings, installed=installed, check_migrations=False)
    except (KyklosError, ConfigurationError, ImportError, TypeError, ValueError) as exc:
        problems.append(f"includeme: {type(exc).__name__}: {exc}")
        return
    registry = config.registry
    engine = registry["dbengine"]
    try:
        _check_migrations(plugin_id, p, registry, engine, migrate, problems)
    finally:
        engine.dispose()
    _check_templates(p, registry, problems)
    _check_permissions(plugin_id, p, registry, problems)


def _plugin_tables(plugin_id: str, names) -> set[str]:
    return {n for n in names if n.startswith(f"{plugin_id}_")}


def _check_migrations(plugin_id, p, registry, engine, migrate, problems) -> None:
    from sqlalchemy import inspect as sa_inspect

    from kyklos.db import Base

    branches = migrate.branches_for(registry.kyklos_plugins)
    mine = next((b for b in branches if b.id == plugin_id), None)
    model_tables = _plugin_tables(plugin_id, Base.metadata.tables)
    foreign = {
        et.model.__table__.name
        for et in registry.kyklos_entities.values()
        if et.plugin == plugin_id and not et.model.__table__.name.startswith(f"{plugin_id}_")
    }
    for name in sorted(foreign):
        problems.append(f"tables: '{name}' should be named '{plugin_id}_...'")
    if mine is None:
        if model_tables:
            problems.append(
                f"migrations: no migration folder, but models define {sorted(model_tables)}"
            )
        return
    try:
        migrate.upgrade(engine, branches)
        present = _plugin_tables(plugin_id, sa_inspect(engine).get_table_names())
        for name in sorted(model_tables - present):
            problems.append(f"migrations: upgrade to head does not create table '{name}'")
        migrate.downgrade(engine, mine, "base")
        left = _plugin_tables(plugin_id, sa_inspect(engine).get_table_names())
        for name in sorted(left):
            problems.append(f"migrations: downgrade to base leaves table '{name}'")
        if not left:  # upgrading again over leftovers would only repeat that finding
            migrate.upgrade(engine, [mine])
    except Exception as exc:  # noqa: BLE001 - any failure of a migration is the finding
        problems.append(f"migrations: {type(exc).__name__}: {str(exc).splitlines()[0]}")


def _check_templates(p, registry, problems) -> None:
    from importlib import resources

    from chameleon import PageTemplateFile

    root = Path(str(resources.files(p.package)))
    for path in sorted(root.rglob("*.pt")):
        try:
            PageTemplateFile(str(path)).cook_check()
        except Exception as exc:  # noqa: BLE001 - a template that does not compile
            rel = path.relative_to(root)
            problems.append(f"templates: {rel} does not compile: {str(exc).splitlines()[0]}")
    for item in registry.introspector.get_category("templates") or []:
        name = item["introspectable"]["name"]
        if not name.startswith(f"{p.package}:"):
            continue
        rel = name.split(":", 1)[1]
        if not (root / rel).is_file():
            problems.append(f"templates: a view renders '{name}', which does not exist")


def _check_permissions(plugin_id, p, registry, problems) -> None:
    from pyramid.security import NO_PERMISSION_REQUIRED

    declared = set(registry.kyklos_permissions) | {"authenticated", NO_PERMISSION_REQUIRED}
    used: dict[str, str] = {}
    for et in registry.kyklos_entities.values():
        if et.plugin == plugin_id:
            for perm in et.permissions.values():
                used.setdefault(perm, f"entity type '{et.name}'")
    for role in registry.kyklos_roles.values():
        for perm in role.permissions:
            if perm != "*" and perm.startswith(f"{plugin_id}."):
                used.setdefault(perm, f"role '{role.name}'")
    for item in registry.introspector.get_category("views") or []:
        view = item["introspectable"].get("callable")
        if (getattr(view, "__module__", "") or "").split(".")[0] != p.package:
            continue
        # A view's permission is a related introspectable, not a key of the view's own.
        for rel in item["related"]:
            if rel.category_name == "permissions" and isinstance(rel.get("value"), str):
                used.setdefault(rel["value"], f"view {getattr(view, '__name__', view)}()")
    for perm, where in sorted(used.items()):
        if perm not in declared:
            problems.append(f"permissions: {where} uses '{perm}', which nobody declares")


class WorkerDeployment:
    """A deployment on disk for crash tests: an .ini with ``plugins`` and ``settings``
    over a migrated database and a SQLite job queue with short leases, real worker
    processes (``kyklos worker INI``) to start and kill, and, with ``serve``, the app
    served on 127.0.0.1 (``.url``) for callbacks such as delivery receipts."""

    def __init__(self, tmp_path, db_url, plugins, settings=None, serve=False):
        import uuid

        from kyklos import jobs, migrate
        from kyklos.app import make_configurator
        from kyklos.cli import load_settings
        from kyklos.security import sync_roles

        self.tmp = tmp_path
        self.ini = tmp_path / "deploy.ini"
        lines = {
            "use": "egg:kyklos",
            "kyklos.plugins": " ".join(plugins),
            "sqlalchemy.url": db_url,
            "kyklos.files_dir": f"{tmp_path}/files",
            "kyklos.secret": "worker-test",
            "kyklos.jobs.backend": "sqlite",
            "kyklos.jobs.url": f"{tmp_path}/jobs.sqlite",
            "kyklos.jobs.queue": f"kill-{uuid.uuid4().hex[:8]}",
            "kyklos.jobs.lease_seconds": "2",
            "kyklos.jobs.sweep_seconds": "0.5",
            "kyklos.jobs.requeue_seconds": "5",
            **(settings or {}),
        }
        self.ini.write_text("[app:main]\n" + "".join(f"{k} = {v}\n" for k, v in lines.items()))
        self.env = dict(os.environ)
        self.env.pop("KYKLOS_DATABASE_URL", None)
        config = make_configurator(load_settings(str(self.ini)), check_migrations=False)
        self.registry = config.registry
        migrate.upgrade(
            self.registry["dbengine"], migrate.branches_for(self.registry.kyklos_plugins)
        )
        with jobs.job_request(self.registry) as request:
            sync_roles(request.dbsession, self.registry)
        self.server = None
        if serve:
            from webtest.http import StopableWSGIServer

            self.server = StopableWSGIServer.create(config.make_wsgi_app(), host="127.0.0.1")
            self.server.wait()
            self.url = self.server.application_url.rstrip("/")
        self.procs: list[subprocess.Popen] = []

    def start_worker(self) -> subprocess.Popen:
        log = open(self.tmp / f"worker-{len(self.procs)}.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, "-m", "kyklos.cli", "worker", str(self.ini), "--workers", "1"],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        return proc

    def logs(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.tmp.glob("worker-*.log")))

    def scalar(self, stmt):
        with self.registry["dbengine"].connect() as c:
            return c.execute(stmt).scalar()

    def wait(self, predicate, timeout=120, what="condition", diagnose=None):
        """Poll ``predicate``; on timeout fail with ``diagnose()`` (else the workers'
        logs) so the reason shows."""
        import time

        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.05)
        detail = diagnose() if diagnose is not None else self.logs()[-4000:]
        raise AssertionError(f"timed out waiting for {what}\n{detail}")

    def close(self):
        import signal

        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        if self.server is not None:
            self.server.shutdown()
        self.registry["dbengine"].dispose()

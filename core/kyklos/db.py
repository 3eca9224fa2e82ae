"""Database plumbing: one metadata for core and plugins, engine set-up, request sessions.

One request is one transaction (pyramid_tm + zope.sqlalchemy). Error responses roll back
(``tm.commit_veto``); serialization failures and deadlocks are retried (pyramid_retry).
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import logging
import random
import time

import transaction
import zope.sqlalchemy
from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    create_engine,
    event,
    false,
    func,
    insert,
    literal,
    or_,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.sql.functions import GenericFunction

# registers the engine events that keep the authorisation cache true (every engine)
from kyklos import authcache
from kyklos.errors import ConfigError

log = logging.getLogger(__name__)

# Stable constraint names, so migrations written on SQLite apply on PostgreSQL and back.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by the core and every plugin."""

    metadata = MetaData(naming_convention=NAMING)


class JSONType(TypeDecorator):
    """JSON on SQLite, JSONB on PostgreSQL (indexable, compact)."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "postgresql":
            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes stored as UTC on both databases.

    SQLite has no time zones; storing naive UTC and re-attaching UTC on load keeps
    comparisons and sorting identical on both back ends.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware datetime (UTC)")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


#: below this many rows a plain executemany is as fast as COPY
COPY_MIN_ROWS = 50


class DefaultContext:
    """What a Python-side column default may ask of its execution context."""

    def __init__(self, params: dict):
        self.current_parameters = params

    def get_current_parameters(self, isolate_multiinsert_groups=True):
        return self.current_parameters


#: ``fn(db, table, rows)`` called after every :func:`bulk_insert`: how the core keeps
#: derived data (search index, duplicate keys) current for rows that bypassed the ORM,
#: so a plugin that bulk-loads its records need not remember it (kyklos.entities.upkeep)
BULK_INSERT_LISTENERS: list = []


def bulk_insert(db, table, rows: list[dict]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's
    transaction: ``COPY ... FROM STDIN`` on PostgreSQL with psycopg, several times
    faster than an executemany for the thousands of rows of an import batch; Core
    ``executemany`` elsewhere and for a few rows.

    COPY bypasses SQLAlchemy's statement execution, so this does what the insert
    would: Python-side column defaults for the columns not given, the column types'
    bind processing (JSON, UTC datetimes), and database errors re-raised as
    SQLAlchemy's (an ``IntegrityError`` stays an ``IntegrityError``).
    """
    if not rows:
        return
    _bulk_insert(db, table, rows)
    for listener in BULK_INSERT_LISTENERS:
        listener(db, table, rows)


def _bulk_insert(db, table, rows: list[dict]) -> None:
    if isinstance(db, Session):
        conn = db.connection()
        # A Core insert on a table (not an ORM entity) and COPY pass by the session's
        # events: tell the transaction manager this session wrote, or it would not
        # commit a transaction that only bulk-inserted.
        zope.sqlalchemy.mark_changed(db)
    else:
        conn = db  # a Connection: its owner commits
    dialect = conn.dialect
    copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
    if not (copy or dialect.name == "sqlite") or len(rows) < COPY_MIN_ROWS:
        db.execute(insert(table), rows)
        return
    prepared = _raw_rows(dialect, table, rows)
    if prepared is None:
        db.execute(insert(table), rows)  # an SQL-expression default: only INSERT has it
        return
    cols, values = prepared
    raw_insert(conn, table, cols, values)


def raw_insert(conn, table, cols, values) -> None:
    """Insert ``values`` (tuples of DBAPI values, already through the column types'
    bind processing, in the order of ``cols``) on the Connection ``conn``: COPY on
    PostgreSQL with psycopg, one DBAPI executemany on SQLite. The bulk path under
    :func:`bulk_insert` (SQLite, or PostgreSQL with psycopg), and a bench's loader of
    millions of rows."""
    dialect = conn.dialect
    copy = dialect.name == "postgresql" and dialect.driver == "psycopg"
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c.name) for c in cols)
    target = dialect.identifier_preparer.format_table(table)
    if not copy:
        # SQLite: the same rows as one DBAPI executemany of a plain INSERT. Core's
        # executemany compiles the statement and builds every row's parameters through
        # the compiler (a third of an import's insert time); exec_driver_sql still
        # fires the engine's events (statement counters, logging) and wraps errors as
        # SQLAlchemy's (an IntegrityError stays one).
        marks = ", ".join("?" for _c in cols)
        conn.exec_driver_sql(f"INSERT INTO {target} ({names}) VALUES ({marks})", values)
        return
    sql = f"COPY {target} ({names}) FROM STDIN"
    if table.name in authcache.WATCHED or table.name == authcache.USER_TABLE:
        authcache.note_write(conn)  # COPY passes by the engine's statement events
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cur, cur.copy(sql) as cp:
            for row in values:
                cp.write_row(row)
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, dialect.loaded_dbapi.Error) from exc


def _raw_rows(dialect, table, rows: list[dict]):
    """``(columns, [tuple of DBAPI values per row])`` for a raw insert of ``rows``: the
    given columns, then the Python-side defaults of the others, each value through its
    column type's bind processing (JSON, UTC datetimes, booleans) - what the INSERT
    would do. ``None`` when a default is an SQL expression (only an INSERT has it)."""
    given = rows[0].keys()
    cols = [c for c in table.columns if c.key in given]
    defaults = [
        c
        for c in table.columns
        if c.key not in given and c.default is not None and not c.default.is_sequence
    ]
    if any(not (d.default.is_scalar or d.default.is_callable) for d in defaults):
        return None
    n_given = len(cols)
    cols += defaults
    procs = [c.type._cached_bind_processor(dialect) for c in cols]
    # Built column by column, then turned into rows by zip(): a column without a bind
    # processor (most of them: text, integers) is copied, and the others are map()ped,
    # instead of a Python generator per row and cell (an import passes every cell of
    # its people, child rows, search rows and history through here).
    columns = [[row[c.key] for row in rows] for c in cols[:n_given]]
    for d in defaults:
        arg = d.default.arg
        if d.default.is_scalar:
            columns.append([arg] * len(rows))
        else:
            columns.append([arg(DefaultContext(row)) for row in rows])
    # None goes through the processors too: a JSON column stores JSON ``null`` for it,
    # as the INSERT would
    columns = [
        col if p is None else list(map(p, col)) for p, col in zip(procs, columns, strict=True)
    ]
    return cols, list(zip(*columns, strict=True)) if columns else [() for _row in rows]


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


def _sqlite_pragmas(dbapi_conn, _record):
    # WAL lets readers run beside one writer; busy_timeout waits instead of failing
    # with "database is locked"; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()
    # SQLite's own lower() folds ASCII only: "παπα" would never find "Παπαδόπουλος",
    # nor "łódź" "Łódź". kyklos_lower is Python's str.lower (every script, as
    # PostgreSQL's lower()); unicode_lower() below compiles to it on SQLite. It is not
    # registered *as* lower: a Python call per scanned row holds the GIL, and ASCII
    # patterns (most filters) need none.
    dbapi_conn.create_function("kyklos_lower", 1, _unicode_lower, deterministic=True)


def _unicode_lower(value):
    # called for every row a case-insensitive filter scans: the common case first
    try:
        return value.lower()
    except AttributeError:
        return None if value is None else str(value).lower()  # a number: its text


class unicode_lower(GenericFunction):  # noqa: N801 - an SQL function, named as one
    """``lower()`` that folds every script: PostgreSQL's own, ``kyklos_lower`` (Python's
    ``str.lower``) on SQLite."""

    type = String()
    name = "unicode_lower"
    inherit_cache = True


@compiles(unicode_lower)
def _compile_unicode_lower(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(unicode_lower, "sqlite")
def _compile_unicode_lower_sqlite(element, compiler, **kw):
    return f"kyklos_lower({compiler.process(element.clauses, **kw)})"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def ci_contains(expr, value: str, start: bool = False):
    """``expr`` contains (``start``: starts with) ``value``, case-insensitively in
    every script on both databases. An ASCII ``value`` keeps the database's own
    ``lower()`` (on SQLite: no Python call per row; a non-ASCII letter of the column
    cannot match an ASCII pattern anyway)."""
    if value.isascii():
        if start:
            return expr.istartswith(value, autoescape=True)
        return expr.icontains(value, autoescape=True)
    pattern = ("" if start else "%") + _like_escape(value) + "%"
    return unicode_lower(expr).like(unicode_lower(literal(pattern)), escape="\\")


def ci_in(expr, forms: set[str]):
    """``lower(expr)`` among the lower-case ``forms``: ASCII ones through the
    database's ``lower()`` (an index on ``lower(column)`` serves them), the others
    through :class:`unicode_lower`."""
    ascii_forms = sorted(f for f in forms if f.isascii())
    other = sorted(f for f in forms if not f.isascii())
    conds = []
    if ascii_forms:
        conds.append(func.lower(expr).in_(ascii_forms))
    if other:
        conds.append(unicode_lower(expr).in_(other))
    return or_(*conds) if len(conds) > 1 else conds[0] if conds else false()


def _sqlite_begin(conn):
    # pysqlite defers BEGIN to the first write, which lets two writers read the same
    # row and then race. BEGIN at transaction start gives serializable-like behaviour.
    # A retried request (see _sqlite_locked) takes the write lock at once instead, so
    # it waits its turn rather than losing to other writers again.
    immediate = conn.get_execution_options().get("kyklos_immediate")
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _sqlite_locked(exc) -> bool:
    # A transaction that read a snapshot and then writes after another writer committed
    # gets SQLITE_BUSY at once (the busy timeout cannot help): like a serialization
    # failure, the request is retried from the start (pyramid_retry).
    return "database is locked" in str(exc)


def is_locked_error(exc: BaseException | None) -> bool:
    """``exc`` (or an exception it wraps) is SQLite's "database is locked": another
    connection held the write lock, or this transaction's snapshot went stale."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if "database is locked" in str(exc) or "database table is locked" in str(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or exc.__context__
    return False


# --- SQLite's one writer outside requests ----------------------------------------------
#
# Requests are retried by pyramid_retry, their second attempt taking the write lock at
# BEGIN. Work outside a request (jobs, the worker's housekeeping, CLI imports) follows
# the same discipline: a transaction that will write takes the lock at BEGIN (it then
# waits up to busy_timeout for it, instead of failing at its first write because another
# writer committed after it read), write transactions stay short (one import batch, one
# job claim), and whatever still meets a lock is retried with backoff.

_IMMEDIATE = contextvars.ContextVar("kyklos_sqlite_immediate", default=False)


@contextlib.contextmanager
def immediate_writes():
    """Within this block, background transactions that do not say otherwise
    (:func:`kyklos.jobs.job_request` without ``write=``) begin IMMEDIATE on SQLite: for
    code that writes in every transaction, like an import's batches."""
    token = _IMMEDIATE.set(True)
    try:
        yield
    finally:
        _IMMEDIATE.reset(token)


def prefers_immediate() -> bool:
    return _IMMEDIATE.get()


#: attempts of :func:`retry_locked`; the busy timeout already waited within each one
LOCKED_ATTEMPTS = 8


def retry_locked(
    fn,
    *args,
    attempts: int = LOCKED_ATTEMPTS,
    first_delay: float = 0.05,
    max_delay: float = 2.0,
    what: str = "",
    **kwargs,
):
    """``fn(*args, **kwargs)``, run again (with exponential backoff and jitter) while it
    fails with "database is locked". ``fn`` must be one whole transaction, safe to
    repeat: its failed attempts rolled back. Other errors pass through at once."""
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            if attempt == attempts or not is_locked_error(exc):
                raise
            # A retry that then succeeds is routine on SQLite (the embedded worker and the
            # web threads share one file): only the later attempts are worth a line.
            log.log(
                logging.DEBUG if attempt < 3 else logging.INFO,
                "%s: database is locked, attempt %d of %d again in %.2f s",
                what or getattr(fn, "__name__", "write"),
                attempt + 1,
                attempts,
                delay,
            )
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311 - jitter, not crypto
            delay = min(delay * 2, max_delay)
    raise AssertionError("unreachable")  # pragma: no cover


@contextlib.contextmanager
def write_transaction(engine):
    """``with write_transaction(engine) as conn:`` one transaction that will write: on
    SQLite it takes the write lock at BEGIN (elsewhere a plain transaction)."""
    with engine.connect() as conn:
        conn.execution_options(kyklos_immediate=True)
        with conn.begin():
            yield conn


try:  # teach zope.sqlalchemy which SQLite errors are transient
    import sqlite3

    from zope.sqlalchemy import datamanager as _zdm

    if not any(t is sqlite3.OperationalError for t, _f in _zdm._retryable_errors):
        _zdm._retryable_errors.append((sqlite3.OperationalError, _sqlite_locked))
except (ImportError, AttributeError):  # pragma: no cover - another zope.sqlalchemy
    pass


def make_engine(settings: dict, prefix: str = "sqlalchemy.") -> Engine:
    url = settings.get(prefix + "url")
    if not url:
        raise ConfigError(f"setting {prefix}url is missing (the database to use)")
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"check_same_thread": False})
        else:
            engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    except (ArgumentError, ImportError) as exc:
        raise ConfigError(f"cannot use database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        # Take over transaction control from pysqlite (SQLAlchemy docs, "Serializable
        # isolation / Savepoints / Transactional DDL").
        @event.listens_for(engine, "connect")
        def _connect(dbapi_conn, record):
            dbapi_conn.isolation_level = None
            _sqlite_pragmas(dbapi_conn, record)

        event.listen(engine, "begin", _sqlite_begin)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


def get_tm_session(session_factory, transaction_manager, request=None, bind=None):
    """A session joined to ``transaction_manager``: it commits or aborts with it."""
    extra = {} if bind is None else {"bind": bind}
    dbsession = session_factory(info={"request": request}, **extra)
    zope.sqlalchemy.register(dbsession, transaction_manager=transaction_manager)
    return dbsession


def includeme(config):
    settings = config.get_settings()
    settings["tm.commit_veto"] = "pyramid_tm.default_commit_veto"
    config.include("pyramid_tm")
    config.include("pyramid_retry")
    engine = make_engine(settings)
    factory = make_session_factory(engine)
    config.registry["dbengine"] = engine
    config.registry["dbsession_factory"] = factory
    sqlite = engine.dialect.name == "sqlite"
    # the same engine and pool; its transactions BEGIN IMMEDIATE (see _sqlite_begin)
    immediate = engine.execution_options(kyklos_immediate=True) if sqlite else None

    def dbsession(request):
        # pyramid_tm ties the session to the request's transaction; outside a request
        # (scripts, shell) bootstrap() provides request.tm as well.
        tm = getattr(request, "tm", None) or transaction.manager
        environ = request.environ or {}
        if sqlite and (environ.get("retry.attempt") or environ.get("kyklos.immediate")):
            # A retried request (or background work that said it will write, see
            # kyklos.jobs.job_request) takes the write lock when it first touches the
            # database, not when the session is made: a side write the view makes on
            # its own connection before that (a rate-limit counter, an audit event)
            # must not wait for a lock its own request holds.
            return get_tm_session(factory, tm, request=request, bind=immediate)
        return get_tm_session(factory, tm, request=request)

    config.add_request_method(dbsession, "dbsession", reify=True)

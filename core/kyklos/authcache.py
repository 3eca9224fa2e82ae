"""A process-wide cache of authorisation data, kept true by a counter in the database.

Every API request used to read again who may do what: the roles' record rules and field
permissions, the departments tree, the owners of a department scope, the delegations to
the user (issue #19: five of a list request's eleven statements). These change rarely,
so each process keeps them, keyed by ``kyklos_auth_generation.value``:

- **Reading**: a request reads the counter once (in the bearer token's statement, or
  one tiny row read) and uses only entries stored under that value.
- **Writing**: every statement that writes to a table the answers come from bumps the
  counter *in the same transaction*, once per transaction. The check is one engine
  event (``before_cursor_execute``) on every engine of the process, so ORM flushes,
  Core and bulk statements, ``text()`` SQL, CLI commands and migrations are all caught
  in one place; :func:`kyklos.db.bulk_insert`'s COPY, which bypasses statement
  execution, calls :func:`note_write` itself. The watched writes are: any write to
  roles, users' roles, record rules, field permissions, departments, delegations,
  site settings (:mod:`kyklos.sitesettings` keeps its rows here too), and edited
  workflows, automation rules and webhooks (:mod:`kyklos.workflow.configured`),
  inserting or deleting a user, and an UPDATE of a user's department, active or portal
  flag (:func:`touches`).
- **Several processes** (app and job workers on PostgreSQL): the counter is in the
  database, so a change committed by one is seen by the next request of every other.
  A reader reads the counter before the data, so an entry never holds data older than
  its key.
- **A transaction that wrote** such data (an administrator's request changing a rule,
  then checking it) neither reads nor fills the cache until it ends: its own changes
  are not committed, and might be rolled back. A rolled-back bump leaves the counter as
  it was, and its entries were never stored.
- **Bounded**: one counter value per database (the newest seen), each kind of entry an
  LRU of at most :data:`MAX_ENTRIES` keys.

Not watched: a write that reaches these tables other than through an INSERT, UPDATE,
DELETE or TRUNCATE statement of its own (a ``WITH ... UPDATE``, a trigger, a psql
session). Such a change shows once anything else bumps the counter, or after
``UPDATE kyklos_auth_generation SET value = value + 1``.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from sqlalchemy import event, text
from sqlalchemy.engine import Engine

#: any write to these changes an answer the cache holds
WATCHED = frozenset(
    {
        "kyklos_role",
        "kyklos_user_role",
        "kyklos_record_rule",
        "kyklos_field_permission",
        "kyklos_department",
        "kyklos_delegation",
        # not authorisation, but as rarely written and read by every write request
        # (kyklos.sitesettings keeps its rows under the same counter)
        "kyklos_site_setting",
        # which types have an edited workflow, automation rules, webhooks
        # (kyklos.workflow.configured): read by every write request
        "kyklos_workflow",
        "kyklos_automation_rule",
        "kyklos_webhook",
    }
)
#: users: a new or removed user changes department owner lists; these columns too
USER_TABLE = "kyklos_user"
USER_COLUMNS = ("department_id", "is_active", "is_portal")
TABLE = "kyklos_auth_generation"
#: entries per kind (rules per role set, owner lists per department set, ...)
MAX_ENTRIES = 512
#: databases a process keeps entries for (tests open many; an app one)
MAX_DATABASES = 8

_NAME = r'(?:"?\w+"?\.)?"?(\w+)"?'
_TARGET = re.compile(
    r"\s*(INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+(?:ONLY\s+)?" + _NAME, re.I
)
_TRUNCATE = re.compile(r"\s*TRUNCATE\b(.*)", re.I | re.S)
_SET = re.compile(r"\bSET\b(.*?)(?:\bWHERE\b|\bFROM\b|\bRETURNING\b|$)", re.I | re.S)
_BUMPED = "kyklos_auth_bumped"
_GEN = "kyklos_auth_generation"


def touches(statement: str) -> bool:
    """Whether ``statement`` writes data the cache holds (see the module docstring)."""
    m = _TARGET.match(statement)
    if m is not None:
        table = m.group(2).lower()
        if table in WATCHED:
            return True
        if table != USER_TABLE:
            return False
        if not m.group(1).upper().startswith("UPDATE"):
            return True  # a user added or removed
        found = _SET.search(statement, m.end())
        assigned = (found.group(1) if found else statement).lower()
        return any(col in assigned for col in USER_COLUMNS)
    m = _TRUNCATE.match(statement)
    if m is not None:
        names = set(re.findall(r"\w+", m.group(1).lower()))
        return bool(names & (WATCHED | {USER_TABLE}))
    return False


def _exists_sql(dialect_name: str) -> str:
    if dialect_name == "postgresql":
        return f"SELECT to_regclass('{TABLE}') IS NOT NULL"
    return f"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{TABLE}'"


def note_write(conn) -> None:
    """Bump the counter in ``conn``'s transaction (once per transaction).

    Runs on the DBAPI connection, not through the engine: it is called from inside the
    engine's own statement event. Before the migration that creates the table (a
    migration run from scratch), there is nothing to bump."""
    tx = conn.get_transaction()
    info = conn.info
    if tx is not None and info.get(_BUMPED) is tx:
        return
    cur = conn.connection.dbapi_connection.cursor()
    try:
        cur.execute(_exists_sql(conn.dialect.name))
        if cur.fetchone()[0]:
            cur.execute(f"UPDATE {TABLE} SET value = value + 1 WHERE id = 1")  # noqa: S608
    finally:
        cur.close()
    if tx is not None:
        info[_BUMPED] = tx


@event.listens_for(Engine, "before_cursor_execute")
def _watch(conn, cursor, statement, parameters, context, executemany):
    # SELECTs are the bulk of statements: one anchored regex that fails on the first word
    if touches(statement):
        note_write(conn)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _ended(conn):
    conn.info.pop(_BUMPED, None)


@event.listens_for(Engine, "rollback_savepoint")
def _savepoint_undone(conn, name, context):
    # the bump may have been inside the savepoint: bump again on the next write
    conn.info.pop(_BUMPED, None)


# --- reading ------------------------------------------------------------------------


def remember(db, value) -> None:
    """The counter ``value`` read by another statement of ``db``'s transaction (the
    bearer token's): spares the request a statement of its own."""
    db.info[_GEN] = (db.get_transaction(), value)


def key(db):
    """The key ``db``'s transaction may use the cache under, or ``None``: not cached
    (this transaction wrote authorisation data, or the database has no counter)."""
    if db.autoflush and (db.new or db.deleted or db.dirty):
        # What the query this cache replaces did first: pending writes are flushed
        # (and, if they touch authorisation data, bump the counter in this transaction).
        db.flush()
    conn = db.connection()
    tx = conn.get_transaction()
    if tx is not None and conn.info.get(_BUMPED) is tx:
        return None
    memo = db.info.get(_GEN)
    if memo is None or memo[0] is not db.get_transaction():
        value = db.execute(text(f"SELECT value FROM {TABLE} WHERE id = 1")).scalar()  # noqa: S608
        memo = (db.get_transaction(), value)
        db.info[_GEN] = memo
    if memo[1] is None:
        return None
    return (conn.engine.url.render_as_string(hide_password=True), memo[1])


class _Store:
    """``{database: (counter value, {kind: LRU of entries})}``, thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._dbs: OrderedDict = OrderedDict()

    def get(self, cache_key, kind: str, item):
        if cache_key is None:
            return None
        url, gen = cache_key
        with self._lock:
            found = self._dbs.get(url)
            if found is None or found[0] != gen:
                return None
            entries = found[1].get(kind)
            if entries is None or item not in entries:
                return None
            entries.move_to_end(item)
            return entries[item]

    def put(self, cache_key, kind: str, item, value) -> None:
        if cache_key is None:
            return
        url, gen = cache_key
        with self._lock:
            found = self._dbs.get(url)
            if found is None or found[0] != gen:
                # a newer counter (or an older one still in flight: it is replaced back
                # by the next reader of the newer one): entries of other values go
                found = (gen, {})
                self._dbs[url] = found
            self._dbs.move_to_end(url)
            while len(self._dbs) > MAX_DATABASES:
                self._dbs.popitem(last=False)
            entries = found[1].setdefault(kind, OrderedDict())
            entries[item] = value
            entries.move_to_end(item)
            while len(entries) > MAX_ENTRIES:
                entries.popitem(last=False)

    def size(self) -> int:
        with self._lock:
            return sum(len(e) for _g, kinds in self._dbs.values() for e in kinds.values())

    def clear(self) -> None:
        with self._lock:
            self._dbs.clear()


STORE = _Store()
get = STORE.get
put = STORE.put

"""The per-request security look-ups of an API call (issue #19, mixed HTTP load).

The bearer token, its user, the user's roles and the authorisation counter are read in
one statement; the roles' record rules and field permissions, the departments, the
owners of a department scope and the delegations to the user come from the process-wide
cache (:mod:`kyklos.authcache`) while the counter stands still. Every change to them -
through the ORM, a Core UPDATE, a second engine standing for another process - bumps
the counter in its own transaction and counts on the very next request."""

from __future__ import annotations

import pytest
from secsupport import add_delegation, add_department, add_role
from sqlalchemy import create_engine, delete, insert, select, text, update

from kyklos import authcache
from kyklos.db import utcnow
from kyklos.security.models import (
    Delegation,
    Department,
    FieldPermission,
    RecordRule,
    Role,
    User,
    UserRole,
)

#: statements of a warm list of things, by a user whose records a department scope
#: selects: token + user + roles + counter, the page, the count
LIST_STATEMENTS = 3
#: the authorisation reads the cache replaces
AUTH_TABLES = (
    "kyklos_record_rule",
    "kyklos_field_permission",
    "kyklos_department",
    "kyklos_delegation",
)


def _names(res):
    return sorted(t["name"] for t in res.json["items"])


def _counter(registry) -> int:
    with registry["dbengine"].connect() as conn:
        return conn.execute(text("SELECT value FROM kyklos_auth_generation")).scalar_one()


@pytest.fixture
def other_engine(db_url):
    """A second engine on the same database: what another app or worker process sees
    and does (its own pool and connections)."""
    engine = create_engine(db_url)
    yield engine
    engine.dispose()


def test_token_user_and_roles_in_one_statement(api, dbsession, query_counter):
    with dbsession() as db:
        add_role(db, "readers a", ("read",), {"read": ["all"]})
        add_role(db, "readers b", ("read",), {"read": ["all"]})
    client = api("readers a", "readers b")
    client.get("/api/v1/things")  # warm: custom fields, first plans
    with query_counter() as qc:
        client.get("/api/v1/things")
    token_reads = [s for s in qc.statements if "kyklos_api_token" in s]
    role_reads = [s for s in qc.statements if "kyklos_user_role" in s]
    assert len(token_reads) == 1, token_reads
    # the roles and the counter come with the token (a join, a sub-select)
    assert role_reads == token_reads, role_reads
    assert "kyklos_auth_generation" in token_reads[0]
    # every role of the user is loaded by the join, and the roles are read again for
    # every request: removing one role leaves the other's right, removing both ends it
    for name, status in (("readers a", 200), ("readers b", 403)):
        with dbsession() as db:
            rid = db.query(Role.id).filter(Role.name == name).scalar()
            db.execute(
                delete(UserRole).where(UserRole.user_id == client.user_id, UserRole.role_id == rid)
            )
        client.get("/api/v1/things", status=status)


def test_warm_list_reads_no_authorisation_table(api, dbsession, registry, make_user, query_counter):
    with dbsession() as db:
        add_role(db, "team, no size", ("read",), {"read": ["team"]})
        role_id = db.query(Role.id).filter(Role.name == "team, no size").scalar()
        db.add(FieldPermission(role_id=role_id, entity="thing", field="size", access="none"))
        team = add_department(db, "Team").id
    client = api("team, no size")
    mate = make_user(email="mate@example.com")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        for uid in (client.user_id, mate):
            db.get(User, uid).department_id = team
        db.add(model(name="mine", size=3, owner_id=client.user_id))
        db.add(model(name="mate's", size=4, owner_id=mate))
        db.add(model(name="nobody's", size=5, owner_id=None))
    assert _names(client.get("/api/v1/things")) == ["mate's", "mine"]  # fills the cache
    with query_counter() as qc:
        items = client.get("/api/v1/things").json["items"]
    assert sorted(t["name"] for t in items) == ["mate's", "mine"]  # the record rule
    assert all("size" not in t and "name" in t for t in items)  # the field permission
    assert not [s for s in qc.statements if any(t in s for t in AUTH_TABLES)], qc.statements
    sql = [s for s in qc.statements if s.strip().upper() != "BEGIN"]  # SQLite's, explicit
    assert len(sql) == LIST_STATEMENTS, sql


def test_record_rules_and_field_permissions_in_one_statement(
    api, dbsession, registry, query_counter
):
    with dbsession() as db:
        role = add_role(db, "own, no size", ("read",), {"read": ["own"]})
        db.add(FieldPermission(role_id=role.id, entity="thing", field="size", access="none"))
    client = api("own, no size")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add(model(name="mine", size=3, owner_id=client.user_id))
        db.add(model(name="not mine", size=4, owner_id=None))
    authcache.STORE.clear()  # a cold process
    with query_counter() as qc:
        items = client.get("/api/v1/things").json["items"]
    assert [t["name"] for t in items] == ["mine"]  # the record rule applied
    assert "size" not in items[0] and "name" in items[0]  # the field permission too
    reads = [
        s for s in qc.statements if "kyklos_record_rule" in s or "kyklos_field_permission" in s
    ]
    assert len(reads) == 1, reads
    assert "kyklos_record_rule" in reads[0] and "kyklos_field_permission" in reads[0]


def test_rule_change_counts_on_the_next_request(api, dbsession, registry, other_engine):
    with dbsession() as db:
        role = add_role(db, "own", ("read",), {"read": ["own"]})
        role_id = role.id
    client = api("own")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add(model(name="mine", size=3, owner_id=client.user_id))
        db.add(model(name="theirs", size=4, owner_id=None))
    assert _names(client.get("/api/v1/things")) == ["mine"]
    before = _counter(registry)
    # the ORM: a rule added
    with dbsession() as db:
        db.add(RecordRule(role_id=role_id, entity="thing", action="read", scope="all"))
    assert _counter(registry) == before + 1  # once per transaction
    assert _names(client.get("/api/v1/things")) == ["mine", "theirs"]
    # a Core UPDATE on another engine (another process): the rule disabled
    with other_engine.begin() as conn:
        conn.execute(
            update(RecordRule)
            .where(RecordRule.role_id == role_id, RecordRule.scope == "all")
            .values(enabled=False)
        )
    assert _names(client.get("/api/v1/things")) == ["mine"]
    # a field permission inserted by plain SQL text on the other engine
    with other_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO kyklos_field_permission (role_id, entity, field, access) "
                "VALUES (:r, 'thing', 'size', 'none')"
            ),
            {"r": role_id},
        )
    items = client.get("/api/v1/things").json["items"]
    assert "size" not in items[0]
    # the role removed from the user by a Core DELETE: no right at all
    with other_engine.begin() as conn:
        conn.execute(delete(UserRole).where(UserRole.user_id == client.user_id))
    client.get("/api/v1/things", status=403)


def test_department_move_counts_on_the_next_request(
    api, dbsession, registry, make_user, other_engine
):
    with dbsession() as db:
        add_role(db, "team", ("read",), {"read": ["team"]})
        team = add_department(db, "Team").id
        other = add_department(db, "Other").id
    client = api("team")
    mate = make_user(email="mate@example.com")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.get(User, client.user_id).department_id = team
        db.get(User, mate).department_id = team
        db.add(model(name="mate's", owner_id=mate))
    assert _names(client.get("/api/v1/things")) == ["mate's"]
    # the colleague moves to another department (Core UPDATE, another engine)
    with other_engine.begin() as conn:
        conn.execute(update(User).where(User.id == mate).values(department_id=other))
    assert _names(client.get("/api/v1/things")) == []
    # back through the ORM
    with dbsession() as db:
        db.get(User, mate).department_id = team
    assert _names(client.get("/api/v1/things")) == ["mate's"]
    # a new user joins the team (an INSERT into kyklos_user changes the owner lists)
    with other_engine.begin() as conn:
        newcomer = conn.execute(
            insert(User)
            .values(
                email="new@example.com",
                name="new",
                department_id=team,
                is_active=True,
                is_portal=False,
                timezone="UTC",
                failed_logins=0,
            )
            .returning(User.id)
        ).scalar_one()
    with dbsession() as db:
        db.add(model(name="newcomer's", owner_id=newcomer))
    assert _names(client.get("/api/v1/things")) == ["mate's", "newcomer's"]
    # the tree changes: the team's department is deleted, the user has none
    with other_engine.begin() as conn:
        conn.execute(update(User).where(User.department_id == team).values(department_id=None))
        conn.execute(delete(Department).where(Department.id == team))
    assert _names(client.get("/api/v1/things")) == []


def test_delegation_counts_on_the_next_request(
    api, dbsession, registry, other_engine, query_counter
):
    with dbsession() as db:
        add_role(db, "own", ("read",), {"read": ["own"]})
    client, absent = api("own"), api("own")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.add(model(name="absent's", owner_id=absent.user_id))
    assert _names(client.get("/api/v1/things")) == []
    with query_counter() as qc:
        client.get("/api/v1/things")
    assert not [s for s in qc.statements if "kyklos_delegation" in s]  # none, cached
    with dbsession() as db:
        delegation = add_delegation(db, absent.user_id, client.user_id).id
    assert _names(client.get("/api/v1/things")) == ["absent's"]
    # ended early by another process
    with other_engine.begin() as conn:
        conn.execute(
            update(Delegation).where(Delegation.id == delegation).values(ended_at=utcnow())
        )
    assert _names(client.get("/api/v1/things")) == []


def test_a_transaction_that_wrote_bypasses_the_cache(registry):
    """Uncommitted authorisation data is never stored for others, nor a stale entry
    served to the transaction that changed it; a rollback leaves the counter."""
    before = _counter(registry)
    with registry["dbsession_factory"]() as db:
        assert authcache.key(db)[1] == before
        db.add(Role(name="temporary", title="t", permissions=[]))
        # pending: key() flushes it, as the query it replaces would, and stops caching
        assert authcache.key(db) is None
        assert db.execute(select(Role.id).where(Role.name == "temporary")).scalar()
        db.rollback()
        assert authcache.key(db)[1] == before  # a new transaction
    assert _counter(registry) == before


@pytest.mark.parametrize(
    ("statement", "watched"),
    [
        ("INSERT INTO kyklos_record_rule (role_id) VALUES (?)", True),
        ('DELETE FROM "kyklos_role"', True),
        ("UPDATE public.kyklos_department SET path=%(p)s WHERE id = 1", True),
        ("TRUNCATE kyklos_api_token, kyklos_user_role CASCADE", True),
        ("UPDATE kyklos_user SET department_id=? WHERE kyklos_user.id = ?", True),
        ("UPDATE kyklos_user SET is_active=false", True),
        ("INSERT INTO kyklos_user (email) VALUES (?)", True),
        ("UPDATE kyklos_user SET last_login_at=? WHERE kyklos_user.id = ?", False),
        ("UPDATE kyklos_api_token SET last_used_at=? WHERE id = ?", False),
        ("INSERT INTO kyklos_user_territory (user_id) VALUES (?)", False),
        ("SELECT * FROM kyklos_record_rule", False),
        ("UPDATE samplea_thing SET department_id=? WHERE id=?", False),
    ],
)
def test_watched_statements(statement, watched):
    assert authcache.touches(statement) is watched


def test_the_cache_is_bounded():
    store = authcache._Store()
    for i in range(authcache.MAX_ENTRIES * 3):
        store.put(("db", 1), "rules", i, i)
    assert store.size() == authcache.MAX_ENTRIES
    assert store.get(("db", 1), "rules", 0) is None
    assert store.get(("db", 1), "rules", authcache.MAX_ENTRIES * 3 - 1) is not None
    store.put(("db", 2), "rules", "x", 1)  # a new counter value: the old entries go
    assert store.size() == 1 and store.get(("db", 1), "rules", 5) is None
    for n in range(authcache.MAX_DATABASES * 2):
        store.put((f"db{n}", 1), "rules", "x", 1)
    assert store.size() == authcache.MAX_DATABASES


def test_owner_department_of_a_write_check_counts_on_the_next_request(
    api, dbsession, registry, make_user, other_engine, query_counter
):
    """A write checked against a department scope reads the owner's department once per
    process; moving the owner elsewhere counts on the next request."""
    with dbsession() as db:
        add_role(
            db, "see all, change team", ("read", "update"), {"read": ["all"], "write": ["team"]}
        )
        team = add_department(db, "Team").id
        other = add_department(db, "Other").id
    client = api("see all, change team")
    mate = make_user(email="mate@example.com")
    model = registry.kyklos_entities["thing"].model
    with dbsession() as db:
        db.get(User, client.user_id).department_id = team
        db.get(User, mate).department_id = team
        thing = model(name="mate's", owner_id=mate)
        db.add(thing)
        db.flush()
        thing_id = thing.id
    client.patch_json(f"/api/v1/things/{thing_id}", {"size": 1})
    with query_counter() as qc:
        client.patch_json(f"/api/v1/things/{thing_id}", {"size": 2})
    assert not [s for s in qc.statements if "kyklos_user.department_id" in s], qc.statements
    with other_engine.begin() as conn:
        conn.execute(update(User).where(User.id == mate).values(department_id=other))
    client.patch_json(f"/api/v1/things/{thing_id}", {"size": 3}, status=403)
    with dbsession() as db:
        assert db.get(model, thing_id).size == 2

"""The per-request security look-ups of an API call (issue #19, mixed HTTP load): the
bearer token, its user and the user's roles are read in one statement, and a change
of roles still counts on the very next request (nothing is cached across requests)."""

from __future__ import annotations

from secsupport import add_role
from sqlalchemy import delete

from kyklos.security.models import FieldPermission, Role, UserRole


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
    # the roles come with the token (a join), not in a statement of their own
    assert role_reads == token_reads, role_reads
    # every role of the user is loaded by the join, and the roles are read again for
    # every request: removing one role leaves the other's right, removing both ends it
    for name, status in (("readers a", 200), ("readers b", 403)):
        with dbsession() as db:
            rid = db.query(Role.id).filter(Role.name == name).scalar()
            db.execute(
                delete(UserRole).where(UserRole.user_id == client.user_id, UserRole.role_id == rid)
            )
        client.get("/api/v1/things", status=status)


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
    client.get("/api/v1/things")  # warm
    with query_counter() as qc:
        items = client.get("/api/v1/things").json["items"]
    assert [t["name"] for t in items] == ["mine"]  # the record rule applied
    assert "size" not in items[0] and "name" in items[0]  # the field permission too
    reads = [
        s for s in qc.statements if "kyklos_record_rule" in s or "kyklos_field_permission" in s
    ]
    assert len(reads) == 1, reads
    assert "kyklos_record_rule" in reads[0] and "kyklos_field_permission" in reads[0]

"""The org chart as activities need it: subordinates and department members (ACT-03/04).

Sub-departments come from the SDK's ``department_subtree`` (the core's one definition of
the org chart's shape), so a department calendar and "assign to subordinates" agree with
the record rules' "subtree" scope.
"""

from __future__ import annotations

from sqlalchemy import select

from kyklos_sdk import Department, User, department_subtree


def subordinates(db, user_id: int) -> set[int]:
    """Active users in the departments ``user_id`` manages, and below them."""
    managed = db.execute(select(Department.id).where(Department.manager_id == user_id)).scalars()
    depts = department_subtree(db, list(managed))
    if not depts:
        return set()
    rows = db.execute(
        select(User.id).where(User.department_id.in_(depts), User.is_active.is_(True))
    ).scalars()
    return set(rows) - {user_id}


def department_members(db, department_id: int, with_subtree: bool = True) -> list[User]:
    depts = department_subtree(db, [department_id]) if with_subtree else {department_id}
    if not depts:
        return []
    return list(
        db.execute(
            select(User)
            .where(User.department_id.in_(depts), User.is_active.is_(True))
            .order_by(User.name, User.id)
        ).scalars()
    )


def departments(db) -> list[Department]:
    return list(db.execute(select(Department).order_by(Department.path)).scalars())

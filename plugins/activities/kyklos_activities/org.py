"""The org chart as activities need it: subordinates and department members (ACT-03/04).

Departments keep a materialised ``path`` ("/1/4/9/"), so a subtree is one prefix match.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from kyklos_sdk import Department, User


def subtree_ids(db, department_ids) -> set[int]:
    """The departments and every department below them."""
    ids = set(department_ids)
    if not ids:
        return set()
    paths = db.execute(select(Department.path).where(Department.id.in_(ids))).scalars().all()
    if not paths:
        return set()
    stmt = select(Department.id).where(or_(*(Department.path.startswith(p) for p in paths)))
    return ids | set(db.execute(stmt).scalars())


def subordinates(db, user_id: int) -> set[int]:
    """Active users in the departments ``user_id`` manages, and below them."""
    managed = db.execute(select(Department.id).where(Department.manager_id == user_id)).scalars()
    depts = subtree_ids(db, list(managed))
    if not depts:
        return set()
    rows = db.execute(
        select(User.id).where(User.department_id.in_(depts), User.is_active.is_(True))
    ).scalars()
    return set(rows) - {user_id}


def department_members(db, department_id: int, with_subtree: bool = True) -> list[User]:
    depts = subtree_ids(db, [department_id]) if with_subtree else {department_id}
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

"""The org chart (ACT-03): departments as a tree with managers, positions, and users
placed in them. Departments keep a materialised path ("/1/4/9/") so that "this
department and everything below it" is a prefix match, used by the subtree rule."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import String, func, literal, select, update

from kyklos.i18n import _
from kyklos.security.models import Department, Position, User


class OrgError(ValueError):
    def __init__(self, errors: dict, status: int = 400):
        super().__init__(str(errors))
        self.errors = errors
        self.status = status


def _parent(db, parent_id, key: str = "parent_id") -> Department | None:
    if parent_id in (None, ""):
        return None
    try:
        parent = db.get(Department, int(parent_id))
    except (TypeError, ValueError):
        parent = None
    if parent is None:
        raise OrgError({key: _("No such department.")})
    return parent


def _manager(db, manager_id) -> int | None:
    if manager_id in (None, ""):
        return None
    try:
        user = db.get(User, int(manager_id))
    except (TypeError, ValueError):
        user = None
    if user is None:
        raise OrgError({"manager_id": _("No such user.")})
    return user.id


def _name(value) -> str:
    name = str(value or "").strip()[:200]
    if not name:
        raise OrgError({"name": _("Required")})
    return name


def create_department(db, name, parent_id=None, manager_id=None) -> Department:
    parent = _parent(db, parent_id)
    dept = Department(
        name=_name(name),
        parent_id=parent.id if parent else None,
        manager_id=_manager(db, manager_id),
        path="/",
    )
    db.add(dept)
    db.flush()
    dept.path = (parent.path if parent else "/") + f"{dept.id}/"
    db.flush()
    return dept


def update_department(db, dept: Department, data: dict) -> Department:
    """Apply ``name``, ``manager_id`` and ``parent_id`` (a move re-roots the subtree)."""
    if "name" in data:
        dept.name = _name(data["name"])
    if "manager_id" in data:
        dept.manager_id = _manager(db, data["manager_id"])
    if "parent_id" in data:
        parent = _parent(db, data["parent_id"])
        if parent is not None and parent.path.startswith(dept.path):
            raise OrgError({"parent_id": _("A department cannot move below itself.")})
        new_path = (parent.path if parent else "/") + f"{dept.id}/"
        old_path = dept.path
        if new_path != old_path:
            dept.parent_id = parent.id if parent else None
            db.flush()
            # Re-root the whole subtree in one statement.
            db.execute(
                update(Department)
                .where(Department.path.startswith(old_path, autoescape=True))
                .values(
                    path=literal(new_path, String) + func.substr(Department.path, len(old_path) + 1)
                )
                .execution_options(synchronize_session=False)
            )
            db.expire_all()
    db.flush()
    return dept


def delete_department(db, dept: Department) -> None:
    children = db.execute(
        select(func.count()).select_from(Department).where(Department.parent_id == dept.id)
    ).scalar_one()
    if children:
        raise OrgError({"id": _("Move or delete its sub-departments first.")}, status=409)
    db.delete(dept)
    db.flush()


def subtree_ids(db, dept_ids) -> set[int]:
    """The departments ``dept_ids`` and every department below them."""
    rows = db.execute(select(Department.id, Department.path)).all()
    roots = [p for i, p in rows if i in set(dept_ids)]
    return {i for i, p in rows if any(p.startswith(r) for r in roots)}


@dataclass
class Node:
    dept: Department
    children: list = field(default_factory=list)
    members: list = field(default_factory=list)


def tree(db, with_members: bool = False) -> list[Node]:
    """The departments as a forest, ordered by name at each level."""
    depts = db.execute(select(Department).order_by(Department.name)).scalars().all()
    nodes = {d.id: Node(d) for d in depts}
    roots = []
    for d in depts:
        parent = nodes.get(d.parent_id)
        (parent.children if parent else roots).append(nodes[d.id])
    if with_members:
        for u in db.execute(
            select(User).where(User.department_id.is_not(None)).order_by(User.name)
        ).scalars():
            if u.department_id in nodes:
                nodes[u.department_id].members.append(u)
    return roots


def flatten(nodes: list[Node], depth: int = 0) -> list[tuple[int, Node]]:
    out = []
    for n in nodes:
        out.append((depth, n))
        out.extend(flatten(n.children, depth + 1))
    return out


def department_json(d: Department) -> dict:
    return {
        "id": d.id,
        "name": d.name,
        "parent_id": d.parent_id,
        "manager_id": d.manager_id,
        "path": d.path,
    }


def position_json(p: Position) -> dict:
    return {"id": p.id, "title": p.title, "department_id": p.department_id}


def save_position(db, pos: Position | None, data: dict) -> Position:
    title = str(data.get("title", pos.title if pos else "") or "").strip()[:200]
    if not title:
        raise OrgError({"title": _("Required")})
    dept_id = data.get("department_id", pos.department_id if pos else None)
    parent = _parent(db, dept_id, "department_id")
    if pos is None:
        pos = Position(title=title)
        db.add(pos)
    pos.title = title
    pos.department_id = parent.id if parent else None
    db.flush()
    return pos


def assign_user(db, user: User, data: dict) -> None:
    """Place a user: ``department_id`` and ``position_id`` (either may be null)."""
    if "department_id" in data:
        dept = _parent(db, data["department_id"], "department_id")
        user.department_id = dept.id if dept else None
    if "position_id" in data:
        value = data["position_id"]
        if value in (None, ""):
            user.position_id = None
        else:
            try:
                pos = db.get(Position, int(value))
            except (TypeError, ValueError):
                pos = None
            if pos is None:
                raise OrgError({"position_id": _("No such position.")})
            user.position_id = pos.id
    db.flush()

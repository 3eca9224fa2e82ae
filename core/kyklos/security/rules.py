"""Record visibility and field access: the one filter every path applies (D3).

Interface used by the entity registry (lists, detail, related lists, search, export,
reports, API and jobs all go through these functions):

``visibility_clause(request, et, action)``  SQL criterion for records the user may
    ``action`` ("read", "update", "delete", ...); ``true()`` means all, ``false()`` none
``can_access(request, et, record, action)``  the same decision for one record, loaded or
    not yet flushed (evaluated in Python on the record's current attribute values)
``field_access(request, et)``               ``(readable, writable)`` field-name sets

How a decision is made:

1. The verb's permission (``et.permission(verb)``) must be held (roles, token scopes,
   delegations: :class:`kyklos.security.policy.Identity`).
2. Record rules (:class:`RecordRule`, declared with ``config.add_record_rule`` or edited
   by administrators) say which records: for each *subject* (the user, plus every user
   who currently delegates to them) the scopes of the subject's roles for the entity
   type (or ``*``) and the rule action (``read`` / ``write`` / ``delete``) are united.
   No rule: nothing. Administrators (``*``) see everything.
3. Scopes: ``own`` (owner is the subject), ``team`` (owner in the subject's
   department), ``department`` (owner in a department the subject belongs to or
   manages), ``subtree`` (that, plus every department below: managers see their
   subordinates' records), ``territory`` (the record's ``territory_field`` holds a value
   of one of the subject's territories; a type declaring several paths, e.g.
   ``("account.country", "country")``, is placed by the first one whose own column is
   set), ``all``. A territory rule on a type without a territory field is refused when
   saved (:func:`has_territory`). ``customer`` and ``self`` serve the customer
   portal (:mod:`kyklos.portal`): ``customer`` reaches the records whose declared
   portal path (``config.add_portal_access``) leads to the portal user's customer (the
   first path whose own column is set decides, as for territories), ``self`` the one
   record the portal user is tied to. A type without a portal path gives none of its
   records, and staff users have no customer: both scopes give them nothing. For a
   portal user only the declared portal fields are readable (and writable, if listed).

The SQL is one criterion of ``IN`` lists over ``owner_id`` (indexed on every entity
table) and an ``IN`` list on the territory column. The department scopes are resolved
to their owners before the query, once per request (the department subtree through the
materialised ``path``, then two bounded reads of the users inside and outside those
departments): a literal ``IN`` list of owners, or, when nearly everyone is inside,
``NOT IN`` the few outside it
(``owner_id IS NOT NULL`` for the whole org). Only an org too large for a literal list
either way keeps the sub-select on ``kyklos_user.department_id``. SQLite plans the
literal list far better than the sub-select, and no recursive query runs per row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import and_, false, literal_column, or_, select, true, union_all

from kyklos import authcache
from kyklos.security.models import (
    Department,
    FieldPermission,
    RecordRule,
    TerritoryValue,
    User,
    UserTerritory,
)

SCOPES = ("own", "team", "department", "subtree", "territory", "customer", "self", "all")
RULE_ACTIONS = ("read", "write", "delete")
FIELD_ACCESS = ("none", "read", "write")
_LEVEL = {"none": 0, "read": 1, "write": 2}
_READ_VERBS = frozenset({"read", "export", "search", "report", "list"})
_CTX = "_kyklos_rules_ctx"
#: longest owner list rendered literally (beyond it, the sub-select on departments)
MAX_OWNER_LIST = 1000


def rule_action(action: str) -> str:
    """The rule action that governs an entity verb."""
    if action in _READ_VERBS:
        return "read"
    if action == "delete":
        return "delete"
    return "write"


def verb_permission(et, action: str) -> str:
    if action in et.permissions:
        return et.permissions[action]
    if rule_action(action) == "read":
        return et.permissions["read"]
    return et.permissions["update"]


@dataclass
class Subject:
    """Whose rights are applied: the user, or a user delegating to them."""

    user_id: int
    department_id: int | None
    permissions: frozenset[str]
    roles: tuple  # Role rows
    #: the subject is an administrator: every record of every type it covers
    all_records: bool = False
    #: entity type names a delegation covers (None: not limited by type)
    types: frozenset[str] | None = None

    def holds(self, permission: str, et_name: str) -> bool:
        if self.types is not None and et_name not in self.types:
            return False
        return self.all_records or permission in self.permissions


@dataclass
class Grant:
    """The resolved rule of one (entity type, rule action) for the request's user."""

    everything: bool = False
    owners: set[int] = field(default_factory=set)
    departments: set[int] = field(default_factory=set)
    territory: set[str] = field(default_factory=set)
    #: customer ids (scope ``customer``) and records of the portal user (scope ``self``)
    customers: set[int] = field(default_factory=set)
    selves: set[int] = field(default_factory=set)

    @property
    def nothing(self) -> bool:
        return not (
            self.everything
            or self.owners
            or self.departments
            or self.territory
            or self.customers
            or self.selves
        )


class _Context:
    """Per-request cache of everything the rules need. The roles' rules and field
    permissions, the departments and the owners of department scopes come from the
    process-wide :mod:`kyklos.authcache` when the database's counter has not moved."""

    def __init__(self, request, ident):
        self.request = request
        self.ident = ident
        self.db = request.dbsession
        user = ident.user
        portal = getattr(ident, "portal", None)
        self.portal = portal
        self.subjects = [
            Subject(
                user_id=user.id,
                department_id=user.department_id,
                permissions=ident.own_permissions,
                # a portal login: only the portal roles' rules, never other roles'
                roles=tuple(portal.roles) if portal is not None else tuple(user.roles),
                all_records="*" in ident.own_permissions,
            )
        ]
        for d in ident.delegations:
            self.subjects.append(
                Subject(
                    user_id=d.from_user.id,
                    department_id=d.from_user.department_id,
                    permissions=d.permissions,
                    roles=tuple(d.from_user.roles),
                    all_records=d.all_records,
                    types=d.types,
                )
            )
        self._rules: dict | None = None
        self._departments: list | None = None
        self._territories: dict[int, set[str]] | None = None
        self._fields: dict | None = None
        self._owner_dept: dict[int, int | None] = {}
        self._dept_owners: dict = {}
        self._grants: dict = {}

    # -- loaded lazily, once per request
    def _load_role_rules(self) -> None:
        """The record rules and field permissions of the subjects' roles, in one
        statement: nearly every request that needs one needs the other (a list checks
        the rows' visibility and the readable fields), and each was a round trip."""
        role_ids = tuple(sorted({r.id for s in self.subjects for r in s.roles}))
        cache_key = authcache.key(self.db) if role_ids else None
        found = authcache.get(cache_key, "role_rules", role_ids)
        if found is not None:
            self._rules, self._fields = found
            return
        rules: dict[tuple, set[str]] = {}
        fields: dict[tuple, dict[str, str]] = {}
        if role_ids:
            record_rules = select(
                literal_column("'r'").label("kind"),
                RecordRule.role_id,
                RecordRule.entity,
                RecordRule.action.label("name"),
                RecordRule.scope.label("value"),
            ).where(RecordRule.role_id.in_(role_ids), RecordRule.enabled.is_(True))
            field_rules = select(
                literal_column("'f'"),
                FieldPermission.role_id,
                FieldPermission.entity,
                FieldPermission.field,
                FieldPermission.access,
            ).where(FieldPermission.role_id.in_(role_ids))
            for kind, rid, entity, name, value in self.db.execute(
                union_all(record_rules, field_rules)
            ):
                if kind == "r":
                    rules.setdefault((rid, entity, name), set()).add(value)
                else:
                    fields.setdefault((rid, entity), {})[name] = value
        # frozen: the same objects serve every request of the process
        frozen = {k: frozenset(v) for k, v in rules.items()}
        self._rules, self._fields = frozen, fields
        authcache.put(cache_key, "role_rules", role_ids, (frozen, fields))

    @property
    def rules(self) -> dict:
        if self._rules is None:
            self._load_role_rules()
        return self._rules

    @property
    def departments(self) -> list:
        if self._departments is None:
            cache_key = authcache.key(self.db)
            found = authcache.get(cache_key, "departments", None)
            if found is None:
                found = tuple(
                    self.db.execute(
                        select(Department.id, Department.path, Department.manager_id)
                    ).all()
                )
                authcache.put(cache_key, "departments", None, found)
            self._departments = found
        return self._departments

    def territory_values(self, user_id: int) -> set[str]:
        if self._territories is None:
            ids = sorted({s.user_id for s in self.subjects})
            rows = self.db.execute(
                select(UserTerritory.user_id, TerritoryValue.value)
                .join(TerritoryValue, TerritoryValue.territory_id == UserTerritory.territory_id)
                .where(UserTerritory.user_id.in_(ids))
            ).all()
            self._territories = {}
            for uid, value in rows:
                self._territories.setdefault(uid, set()).add(value)
        return self._territories.get(user_id, set())

    def field_rules(self) -> dict:
        if self._fields is None:
            self._load_role_rules()
        return self._fields

    def department_owners(self, departments: set[int]) -> tuple[str, tuple[int, ...]]:
        """How to select the owners placed in ``departments``: ``("in", ids)``,
        ``("not_in", ids)`` (the users outside, fewer than those inside) or
        ``("select", [])`` when both lists are too long to render."""
        key = frozenset(departments)
        if key not in self._dept_owners:
            cache_key = authcache.key(self.db)
            # the cap is part of the answer (tests lower it)
            item = (key, MAX_OWNER_LIST)
            found = authcache.get(cache_key, "department_owners", item)
            if found is not None:
                self._dept_owners[key] = found
                return found
            # Two bounded reads in one statement (one round trip per request, not two):
            # a large org never loads all its users per request.
            depts = sorted(key)
            cap = MAX_OWNER_LIST + 1
            ins = (
                select(User.id, literal_column("1").label("inside"))
                .where(User.department_id.in_(depts))
                .limit(cap)
                .subquery()
            )
            outs = (
                select(User.id, literal_column("0").label("inside"))
                .where(or_(User.department_id.is_(None), User.department_id.not_in(depts)))
                .limit(cap)
                .subquery()
            )
            inside, outside = [], []
            for uid, flag in self.db.execute(
                union_all(select(ins.c.id, ins.c.inside), select(outs.c.id, outs.c.inside))
            ):
                (inside if flag else outside).append(uid)
            if len(inside) <= MAX_OWNER_LIST and len(inside) <= len(outside):
                found = ("in", sorted(inside))
            elif len(outside) <= MAX_OWNER_LIST:
                found = ("not_in", sorted(outside))
            else:
                found = ("select", ())
            found = (found[0], tuple(found[1]))
            self._dept_owners[key] = found
            authcache.put(cache_key, "department_owners", item, found)
        return self._dept_owners[key]

    def owner_department(self, owner_id: int) -> int | None:
        if owner_id not in self._owner_dept:
            # a user's department (or their removal) bumps the counter: process-wide
            cache_key = authcache.key(self.db)
            found = authcache.get(cache_key, "owner_department", owner_id)
            if found is None:
                dept = self.db.execute(
                    select(User.department_id).where(User.id == owner_id)
                ).scalar_one_or_none()
                found = (dept,)
                authcache.put(cache_key, "owner_department", owner_id, found)
            self._owner_dept[owner_id] = found[0]
        return self._owner_dept[owner_id]

    # -- scopes
    def scopes(self, subject: Subject, et, action: str) -> set[str]:
        if subject.all_records:
            return {"all"}
        out: set[str] = set()
        for role in subject.roles:
            out |= self.rules.get((role.id, et.name, action), set())
            out |= self.rules.get((role.id, "*", action), set())
        if action == "delete" and not out:
            return self.scopes(subject, et, "write")
        return out

    def department_set(self, subject: Subject, scope: str) -> set[int]:
        base: set[int] = set()
        if subject.department_id is not None:
            base.add(subject.department_id)
        if scope == "team":
            return base
        base |= {d.id for d in self.departments if d.manager_id == subject.user_id}
        if scope == "department":
            return base
        paths = [d.path for d in self.departments if d.id in base]
        return {d.id for d in self.departments if any(d.path.startswith(p) for p in paths)}

    def grant(self, et, action: str, only: int | None = None) -> Grant:
        """The union of the subjects' scopes (``only``: one subject's, by user id)."""
        key = (et.name, action, only)
        if key in self._grants:
            return self._grants[key]
        g = Grant()
        perm = verb_permission(et, action)
        if not self.ident.has(perm):
            self._grants[key] = g
            return g
        raction = rule_action(action)
        for s in self.subjects:
            if only is not None and s.user_id != only:
                continue
            if not s.holds(perm, et.name):
                continue
            for scope in self.scopes(s, et, raction):
                if scope == "all":
                    g.everything = True
                elif scope == "own":
                    g.owners.add(s.user_id)
                elif scope in ("team", "department", "subtree"):
                    g.departments |= self.department_set(s, scope)
                elif scope == "territory":
                    g.territory |= self.territory_values(s.user_id)
                elif scope == "customer" and self.portal is not None:
                    if self.portal.customer_id is not None:
                        g.customers.add(self.portal.customer_id)
                elif scope == "self" and self.portal is not None:
                    if self.portal.entity == et.name:
                        g.selves.add(self.portal.record_id)
        self._grants[key] = g
        return g


def _context(request) -> _Context | None:
    ident = request.identity
    if ident is None:
        return None
    ctx = request.__dict__.get(_CTX)
    if ctx is None or ctx.ident is not ident:
        ctx = _Context(request, ident)
        request.__dict__[_CTX] = ctx
    return ctx


def forget_cache(request) -> None:
    """Drop the request's cached rules (after changing roles or rules mid-request)."""
    request.__dict__.pop(_CTX, None)


# --- territory columns ----------------------------------------------------------------


def _coerce(column, values: set[str]) -> list:
    """Territory values are stored as text; compare them in the column's own type."""
    try:
        pytype = column.type.python_type
    except NotImplementedError:
        pytype = str
    out = []
    for v in values:
        try:
            out.append(pytype(v) if pytype is not str else v)
        except (TypeError, ValueError):
            continue
    return sorted(out, key=str)


def _resolve(request, et, path: str):
    """``(local column, target model, target column)`` of one territory path.

    ``"region"`` is a column of the type itself (target model ``None``);
    ``"account.country"`` follows the reference field ``account_id`` (or
    ``related_filters["account.country"]``) to the referenced type's column.
    """
    if "." not in path:
        col = getattr(et.model, path, None)
        return None if col is None else (col, None, None)
    head, rest = path.split(".", 1)
    local = et.related_filters.get(path) or f"{head}_id"
    info = et.fields.get(local)
    target = request.registry.kyklos_entities.get(info.reference) if info else None
    if target is None or getattr(target.model, rest, None) is None:
        return None
    return getattr(et.model, local), target.model, getattr(target.model, rest)


def territory_paths(request, et) -> list[tuple]:
    """The resolved paths of ``et.territory_field``, in order of precedence (empty: the
    type has no territory, and a ``territory`` scope gives none of its records)."""
    out = []
    for path in et.territory_paths:
        found = _resolve(request, et, path)
        if found is not None:
            out.append(found)
    return out


def has_territory(request, et) -> bool:
    return bool(territory_paths(request, et))


def customer_paths(request, et) -> list[tuple]:
    """The resolved portal paths of ``et`` to the customer (``config.add_portal_access``),
    in order of precedence; empty: portal users see none of its records."""
    portal = getattr(request.registry, "kyklos_portal", None)
    access = portal.access.get(et.name) if portal is not None else None
    if access is None:
        return []
    out = []
    for path in access.paths:
        found = _resolve(request, et, path)
        if found is not None:
            out.append(found)
    return out


def _territory_clause(request, et, values: set[str], paths=None):
    """Records whose deciding path holds one of ``values``: the first path whose own
    column is set decides (a person with an account lies in the account's country,
    one without in their own). ``paths``: other paths than the territory's (the
    portal's paths to the customer)."""
    paths = territory_paths(request, et) if paths is None else paths
    if not paths or not values:
        return None
    crit, unset = [], []
    for local, model, column in paths:
        if model is None:
            here = local.in_(_coerce(local, values))
        else:
            here = local.in_(select(model.id).where(column.in_(_coerce(column, values))))
        crit.append(and_(*unset, here) if unset else here)
        unset.append(local.is_(None))
    return crit[0] if len(crit) == 1 else or_(*crit)


def _record_territory(request, et, record, paths=None):
    """``(value, column)`` placing one record (loaded or not yet saved)."""
    for local, model, column in territory_paths(request, et) if paths is None else paths:
        value = getattr(record, local.key, None)
        if value is None:
            continue
        if model is None:
            return value, local
        return request.dbsession.execute(
            select(column).where(model.id == value)
        ).scalar_one_or_none(), column
    return None, None


def territories_of(request, entity: str, record_id: int) -> set[int]:
    """The ids of the territories a record lies in, by the same rule as the ``territory``
    record rules: the first path of the type's ``territory_field`` whose own column is
    set gives the value (an account's country), and every territory listing that value
    holds the record. Empty for a type without a territory field or an unplaced record.
    Two queries at most (the record's value, the territories)."""
    et = request.registry.kyklos_entities.get(entity)
    if et is None or record_id is None:
        return set()
    paths = territory_paths(request, et)
    if not paths:
        return set()
    record = request.dbsession.execute(
        select(*[local for local, _m, _c in paths]).where(et.model.id == record_id)
    ).first()
    if record is None:
        return set()
    value = None
    for (_local, model, column), own in zip(paths, record, strict=True):
        if own is None:
            continue
        if model is None:
            value = own
        else:
            value = request.dbsession.execute(
                select(column).where(model.id == own)
            ).scalar_one_or_none()
        break
    if value is None:
        return set()
    return set(
        request.dbsession.execute(
            select(TerritoryValue.territory_id).where(TerritoryValue.value == str(value))
        ).scalars()
    )


# --- the interface --------------------------------------------------------------------


def restrictions(request, et, action: str) -> list:
    """Criteria plugins add through ``kyklos_visibility_restrictions`` (ANDed)."""
    pm = request.registry.kyklos_pm
    found = pm.hook.kyklos_visibility_restrictions(request=request, entity_type=et, action=action)
    return [c for group in found if group for c in group]


def visibility_clause(request, et, action: str = "read"):
    """One SQL criterion selecting the records of ``et`` the user may ``action``."""
    base = _rule_clause(request, et, action)
    extra = restrictions(request, et, action)
    return and_(base, *extra) if extra else base


def _rule_clause(request, et, action: str):
    ctx = _context(request)
    if ctx is None:
        return false()
    g = ctx.grant(et, action)
    if g.everything:
        return true()
    owner = getattr(et.model, "owner_id", None)
    crit = []
    if owner is not None and g.owners:
        crit.append(owner.in_(sorted(g.owners)))
    if owner is not None and g.departments:
        how, ids = ctx.department_owners(g.departments)
        if how == "in":
            owners = sorted(set(ids) | g.owners)
            crit = [owner.in_(owners)] if owners else []
        elif how == "not_in":
            # NOT IN keeps NULL owners out, exactly as IN (...) does.
            others = [i for i in ids if i not in g.owners]
            crit = [owner.not_in(others) if others else owner.is_not(None)]
        else:
            depts = sorted(g.departments)
            crit.append(owner.in_(select(User.id).where(User.department_id.in_(depts))))
    terr = _territory_clause(request, et, g.territory)
    if terr is not None:
        crit.append(terr)
    if g.customers:
        mine = _territory_clause(request, et, g.customers, customer_paths(request, et))
        if mine is not None:
            crit.append(mine)
    if g.selves:
        crit.append(et.model.id.in_(sorted(g.selves)))
    if not crit:
        return false()
    return crit[0] if len(crit) == 1 else or_(*crit)


def can_access(request, et, record, action: str = "read") -> bool:
    """Whether the user may ``action`` this record, judged on its current values
    (so a record about to be created or changed is checked as it would be saved)."""
    ctx = _context(request)
    if ctx is None:
        return False
    if not _matches(request, ctx, ctx.grant(et, action), et, record):
        return False
    return _passes_restrictions(request, et, record, action)


def _passes_restrictions(request, et, record, action) -> bool:
    """Plugin restrictions, checked in the database for a stored record (a record not
    yet saved is judged by the record rules alone)."""
    extra = restrictions(request, et, action)
    if not extra or getattr(record, "id", None) is None:
        return True
    stmt = select(et.model.id).where(et.model.id == record.id, *extra)
    return request.dbsession.execute(stmt).first() is not None


def can_access_as(request, et, record, action="read", own_only=False, subject_id=None):
    """:func:`can_access` with only the user's own rights (``own_only``) or only those
    a given delegator hands over (``subject_id``)."""
    ctx = _context(request)
    if ctx is None:
        return False
    only = ctx.subjects[0].user_id if own_only else subject_id
    if not _matches(request, ctx, ctx.grant(et, action, only=only), et, record):
        return False
    return _passes_restrictions(request, et, record, action)


def _matches(request, ctx, g: Grant, et, record) -> bool:
    if g.everything:
        return True
    owner_id = getattr(record, "owner_id", None)
    if owner_id is not None and owner_id in g.owners:
        return True
    if owner_id is not None and g.departments:
        if ctx.owner_department(owner_id) in g.departments:
            return True
    if g.territory:
        value, column = _record_territory(request, et, record)
        if value is not None and value in _coerce(column, g.territory):
            return True
    if g.selves and getattr(record, "id", None) in g.selves:
        return True
    if g.customers:
        value, _column = _record_territory(request, et, record, customer_paths(request, et))
        if value is not None and value in g.customers:
            return True
    return False


def field_access(request, et) -> tuple[set[str], set[str]]:
    """``(readable, writable)`` field names of ``et`` for the user.

    A role counts for a type when it grants the type's read permission; per field the
    most generous of those roles wins; a field a role does not restrict is writable.
    ``id`` stays readable. ``writable`` never contains server-owned fields.
    """
    ctx = _context(request)
    if ctx is None:
        return set(), set()
    # asked once per merged message, exported row or serialized record by some paths:
    # the answer only changes with the request's identity, which owns ``ctx``
    memo = ctx.__dict__.setdefault("_field_access", {})
    if et.name not in memo:
        memo[et.name] = _field_access(request, ctx, et)
    readable, writable = memo[et.name]
    return set(readable), set(writable)  # copies: callers may add to them


def _field_access(request, ctx, et) -> tuple[set[str], set[str]]:
    names = set(et.fields)
    base_writable = {f.name for f in et.writable_fields()}
    read_perm = et.permission("read")
    if not ctx.ident.has(read_perm):
        return set(), set()
    level = dict.fromkeys(names, 0)
    rules = None
    for s in ctx.subjects:
        if not s.holds(read_perm, et.name):
            continue
        if s.all_records:
            return names, base_writable
        rules = rules if rules is not None else ctx.field_rules()
        for role in s.roles:
            perms = role.permissions or ()
            if "*" not in perms and read_perm not in perms:
                continue
            if "*" in perms and s.types is None:
                return names, base_writable
            restricted = rules.get((role.id, et.name), {})
            for name in names:
                level[name] = max(level[name], _LEVEL.get(restricted.get(name, "write"), 0))
    readable = {n for n, lv in level.items() if lv >= 1}
    writable = {n for n, lv in level.items() if lv >= 2} & base_writable
    if ctx.portal is not None:
        # Deny by default for customers: only the fields the type declares for the
        # portal (a custom field added later stays staff-only).
        portal = getattr(request.registry, "kyklos_portal", None)
        access = portal.access.get(et.name) if portal is not None else None
        if access is None:
            return set(), set()
        readable &= set(access.fields)
        writable &= set(access.writable)
    if readable:
        readable.add("id")
    return readable, writable


def explain(request, et, action: str = "read") -> dict:
    """What the user's grant for ``(et, action)`` consists of (admin diagnostics)."""
    ctx = _context(request)
    if ctx is None:
        return {"everything": False, "owners": [], "departments": [], "territory": []}
    g = ctx.grant(et, action)
    return {
        "everything": g.everything,
        "owners": sorted(g.owners),
        "departments": sorted(g.departments),
        "territory": sorted(g.territory),
    }

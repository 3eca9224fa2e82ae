"""The role editor in words: permissions as a matrix of entity types (by their
translated titles, grouped per plugin) and verbs, record rules and field permissions
described for a manager rather than by their stored names.

Stored values stay those of :mod:`kyklos.security.rules` (``own``, ``write``...); this
module only says what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kyklos.entities import VERBS
from kyklos.i18n import _

VERB_WORDS = {
    "read": _("View"),
    "create": _("Create"),
    "update": _("Edit"),
    "delete": _("Delete"),
    "export": _("Export"),
    "import": _("Import"),
    "assign": _("Assign"),
}
#: record rule actions: which verbs a rule opens
ACTION_WORDS = {
    "read": _("See"),
    "write": _("Change"),
    "delete": _("Delete"),
}
ACTION_HINTS = {
    "read": _("view, search, export and report on them"),
    "write": _("edit them (and delete, unless a delete rule says otherwise)"),
    "delete": _("delete them"),
}
SCOPE_WORDS = {
    "own": _("Own records"),
    "team": _("Records of my team"),
    "department": _("Records of my department"),
    "subtree": _("Records of my department and below"),
    "territory": _("Records in my territories"),
    "customer": _("Records of my customer (portal)"),
    "self": _("My own person record (portal)"),
    "all": _("All records"),
}
SCOPE_HINTS = {
    "own": _("Records the user owns."),
    "team": _("Records owned by anyone in the user's own department."),
    "department": _("Records owned by anyone in a department the user belongs to or manages."),
    "subtree": _(
        "Records owned by anyone in the user's departments or in any department below "
        "them: managers reach their subordinates' records."
    ),
    "territory": _("Records placed in one of the user's territories (e.g. by country)."),
    "customer": _(
        "For customer portal logins: records of the portal user's company. Staff have no "
        "customer, so this gives them nothing."
    ),
    "self": _("For customer portal logins: the one record the portal user is tied to."),
    "all": _("Every record of the type."),
}
FIELD_ACCESS_WORDS = {
    "write": _("Can change"),
    "read": _("Read only"),
    "none": _("Hidden"),
}
EVERY_TYPE = _("Every record type")
CORE = _("Core")


@dataclass
class MatrixRow:
    et: object
    #: (verb, permission name or None when the type has no such verb, shown here:
    #: False when another cell already holds the same permission)
    cells: list = field(default_factory=list)


@dataclass
class PluginGroup:
    id: str
    title: object
    rows: list = field(default_factory=list)  # MatrixRow
    others: list = field(default_factory=list)  # kyklos.directives.Permission

    @property
    def empty(self) -> bool:
        return not (self.rows or self.others)


def plugin_titles(request) -> dict:
    titles = {"kyklos": CORE}
    for p in request.registry.kyklos_plugins:
        titles[p.id] = p.manifest.title if p.manifest else p.id
    return titles


def _t(request, text) -> str:
    return request.localizer.translate(text)


def permission_title(request, perm) -> str:
    """A permission's title in the user's language; a plain title (not marked for
    translation) is looked up in the core's catalog."""
    title = perm.title
    if isinstance(title, str) and not hasattr(title, "domain"):
        return _t(request, _(title))
    return _t(request, title)


def permission_matrix(request) -> list[PluginGroup]:
    """Every permission, by plugin: each entity type a row of its verbs, then the
    plugin's other permissions (by title)."""
    reg = request.registry
    titles = plugin_titles(request)
    groups: dict[str, PluginGroup] = {pid: PluginGroup(pid, title) for pid, title in titles.items()}
    seen: set[str] = set()
    for et in sorted(reg.kyklos_entities.values(), key=lambda e: _t(request, e.plural).casefold()):
        group = groups.setdefault(et.plugin, PluginGroup(et.plugin, et.plugin))
        row = MatrixRow(et)
        for verb in VERBS:
            perm = et.permissions.get(verb)
            if perm is None or perm not in reg.kyklos_permissions:
                row.cells.append((verb, None, False))
                continue
            row.cells.append((verb, perm, perm not in seen))
            seen.add(perm)
        group.rows.append(row)
    for perm in sorted(reg.kyklos_permissions.values(), key=lambda p: p.name):
        if perm.name in seen:
            continue
        pid = perm.name.split(".")[0]
        groups.setdefault(pid, PluginGroup(pid, titles.get(pid, pid))).others.append(perm)
    for g in groups.values():
        g.others.sort(key=lambda p: permission_title(request, p).casefold())
    return [g for g in groups.values() if not g.empty]


def entity_groups(request) -> list[tuple[object, list]]:
    """Entity types by plugin (translated plurals): for the rule form and the field
    permission links."""
    titles = plugin_titles(request)
    by: dict[str, list] = {}
    for et in request.registry.kyklos_entities.values():
        by.setdefault(et.plugin, []).append(et)
    order = list(titles)
    out = []
    for pid in sorted(by, key=lambda p: (order.index(p) if p in order else len(order), p)):
        ets = sorted(by[pid], key=lambda e: _t(request, e.plural).casefold())
        out.append((titles.get(pid, pid), ets))
    return out


def entity_title(request, name: str) -> str:
    if name == "*":
        return _t(request, EVERY_TYPE)
    et = request.registry.kyklos_entities.get(name)
    return _t(request, et.plural) if et is not None else name


def rule_rows(request, rules) -> list[dict]:
    """Record rules as sentences' parts: what (type), may do what, on which records."""
    return [
        {
            "rule": r,
            "entity": entity_title(request, r.entity),
            "action": ACTION_WORDS.get(r.action, r.action),
            "scope": SCOPE_WORDS.get(r.scope, r.scope),
            "scope_hint": SCOPE_HINTS.get(r.scope, ""),
        }
        for r in sorted(
            rules,
            key=lambda r: (
                r.entity != "*",
                entity_title(request, r.entity).casefold(),
                r.action,
                r.scope,
            ),
        )
    ]


def granted_count_text(request, role) -> str:
    perms = role.permissions or []
    if "*" in perms:
        return _t(request, _("Everything"))
    return request.localizer.pluralize(
        "${n} permission",
        "${n} permissions",
        len(perms),
        domain="kyklos",
        mapping={"n": len(perms)},
    )


def role_title(request, role) -> str:
    """A role's title in the user's language: a declared role's title comes from its
    plugin's catalog unless an administrator renamed it."""
    decl = request.registry.kyklos_roles.get(role.name)
    if decl is not None and decl.title and str(decl.title) == (role.title or ""):
        return _t(request, decl.title)
    return role.title or role.name

"""Configuration directives for declarations that must exist exactly once.

Each directive records an action with a tuple discriminator (duplicates are conflicts
at start-up) and an introspectable (``GET /api/v1/_meta/plugins`` shows them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kyklos.i18n import _


@dataclass(frozen=True)
class Permission:
    name: str
    title: str
    description: str = ""


@dataclass(frozen=True)
class RoleDecl:
    name: str
    title: str
    permissions: tuple[str, ...] = field(default_factory=tuple)


def declare_permission(config, name: str, title=None, description: str = ""):
    """Declare a permission ``<plugin>.<entity>.<verb>`` that roles can grant.

    (Named ``declare_permission`` because Pyramid's Configurator already has an
    ``add_permission``: a deprecated alias of ``set_default_permission``.)
    """
    perm = Permission(name, title or name, description)
    intr = config.introspectable("kyklos permissions", name, perm.title, "kyklos permission")
    intr["permission"] = perm

    def register():
        config.registry.kyklos_permissions[name] = perm

    config.action(("kyklos.permission", name), register, introspectables=(intr,))


def add_role(config, name: str, title=None, permissions=()):
    """Declare a default role. ``kyklos init`` and ``migrate`` create it in the database;
    afterwards administrators may grant it more. Declaring the same role twice is a
    conflict; to add permissions to another plugin's role use :func:`extend_role`."""
    decl = RoleDecl(name, title or name, tuple(permissions))
    intr = config.introspectable("kyklos roles", name, decl.title, "kyklos role")
    intr["role"] = decl

    def register():
        roles = config.registry.kyklos_roles
        extra = roles.get(name, RoleDecl(name, "", ())).permissions
        roles[name] = RoleDecl(name, decl.title, tuple(dict.fromkeys(decl.permissions + extra)))

    config.action(("kyklos.role", name), register, introspectables=(intr,))


def extend_role(config, name: str, permissions=()):
    """Grant more permissions to a role declared elsewhere (e.g. a plugin's verbs to
    the core's ``manager`` role)."""

    def register():
        roles = config.registry.kyklos_roles
        base = roles.get(name, RoleDecl(name, name, ()))
        roles[name] = RoleDecl(
            name, base.title, tuple(dict.fromkeys(base.permissions + tuple(permissions)))
        )

    config.action(None, register, order=1)


def includeme(config):
    config.registry.kyklos_permissions = {}
    config.registry.kyklos_roles = {}
    config.add_directive("declare_permission", declare_permission)
    config.add_directive("add_role", add_role)
    config.add_directive("extend_role", extend_role)
    config.declare_permission("kyklos.admin", _("Administer Kyklos"))
    config.declare_permission("kyklos.users.manage", _("Manage users and roles"))
    config.add_role("admin", _("Administrator"), ["*"])
    config.add_role("user", _("User"), [])

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


#: HTTP methods an OpenAPI path item may describe (other keys are shared parameters etc.)
OPENAPI_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
#: contributed paths are expanded after every other action of the commit, so a factory
#: sees the entity types, settings and translations it may describe
_OPENAPI_ORDER = 10_000


def _probe_request(registry):
    """A request with no user, enough for a paths factory at start-up."""
    from pyramid.request import Request, apply_request_extensions

    request = Request.blank("/")
    request.registry = registry
    apply_request_extensions(request)
    return request


def add_openapi_paths(config, factory):
    """Describe API routes in ``/api/openapi.json``: ``factory(request)`` returns
    ``{path: {method: operation}}`` (OpenAPI 3.1 path items). It runs for every request
    of the document, so enums may follow the registry (entity types, custom fields,
    currencies). Two factories describing the same ``(path, method)`` are a
    configuration conflict; so is one that repeats a path of an entity type's
    generated operations. The keys are taken once at start-up, by calling the factory
    with a request without a user: a factory must not need the database.
    """
    registry = config.registry
    state = config.action_state
    info = config.action_info
    includepath = config.includepath
    name = f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"
    intr = config.introspectable("kyklos openapi paths", name, name, "kyklos openapi paths")
    intr["factory"] = factory

    def register(path, method):
        from kyklos.entities.openapi import entity_operations

        owner = registry.kyklos_openapi_operations.get((path, method))
        if (owner is not None and owner is not factory) or (
            (path, method) in entity_operations(registry)
        ):
            # an earlier commit (another plugin) described it: Pyramid only compares
            # the actions of one commit
            from pyramid.exceptions import ConfigurationConflictError

            raise ConfigurationConflictError({("kyklos.openapi", path, method): [info]})
        registry.kyklos_openapi_operations[(path, method)] = factory

    def expand():
        registry.kyklos_openapi_factories.append(factory)
        for path, item in factory(_probe_request(registry)).items():
            for method in item:
                if method not in OPENAPI_METHODS:
                    continue
                # re-entrant: Pyramid resolves conflicts among actions added here too
                state.action(
                    discriminator=("kyklos.openapi", path, method),
                    callable=register,
                    args=(path, method),
                    order=_OPENAPI_ORDER,
                    info=info,
                    includepath=includepath,
                )

    config.action(None, expand, order=_OPENAPI_ORDER, introspectables=(intr,))


def includeme(config):
    config.registry.kyklos_permissions = {}
    config.registry.kyklos_roles = {}
    config.registry.kyklos_openapi_factories = []
    config.registry.kyklos_openapi_operations = {}
    config.add_directive("declare_permission", declare_permission)
    config.add_directive("add_role", add_role)
    config.add_directive("extend_role", extend_role)
    config.add_directive("add_openapi_paths", add_openapi_paths)
    config.declare_permission("kyklos.admin", _("Administer Kyklos"))
    config.declare_permission("kyklos.users.manage", _("Manage users and roles"))
    config.add_role("admin", _("Administrator"), ["*"])
    config.add_role("user", _("User"), [])

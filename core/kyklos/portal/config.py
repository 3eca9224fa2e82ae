"""What plugins declare about the portal: who a portal user is (``set_portal_identity``)
and which entity types portal users may see, by which path to their customer and with
which fields (``add_portal_access``). Nothing declared: nothing visible."""

from __future__ import annotations

from dataclasses import dataclass, field

from kyklos.errors import ConfigError


@dataclass(frozen=True)
class PortalIdentity:
    """Portal users are tied to records of ``entity``; the customer is the record the
    reference field ``customer_field`` points at (a person's ``account_id``)."""

    entity: str
    customer_field: str
    email_field: str = "email"


@dataclass(frozen=True)
class PortalAccess:
    """An entity type portal users may see: ``paths`` lead from a record to its customer
    (``"id"`` for the customer type itself, ``"account_id"``, ``"person.account_id"``;
    the first path whose own column is set decides, as territory paths do); ``fields``
    are readable, ``writable`` (a subset) writable where a write rule allows."""

    entity: str
    paths: tuple[str, ...]
    fields: frozenset[str] = field(default_factory=frozenset)
    writable: frozenset[str] = field(default_factory=frozenset)


class PortalRegistry:
    """``registry.kyklos_portal``: the identity and the access declarations."""

    def __init__(self):
        self.identity: PortalIdentity | None = None
        self.access: dict[str, PortalAccess] = {}

    @property
    def enabled(self) -> bool:
        return self.identity is not None


def set_portal_identity(config, entity: str, customer_field: str, email_field: str = "email"):
    """Declare which entity type portal users are tied to (one per deployment: a second
    declaration is a conflict) and the reference field naming their customer::

        config.set_portal_identity("person", customer_field="account_id")
    """
    decl = PortalIdentity(entity, customer_field, email_field)
    intr = config.introspectable("kyklos portal", "identity", entity, "kyklos portal identity")
    intr["identity"] = decl

    def register():
        et = config.registry.kyklos_entities.get(entity)
        if et is None:
            raise ConfigError(f"portal identity: unknown entity type {entity!r}")
        info = et.fields.get(customer_field)
        if info is None or not info.reference:
            raise ConfigError(
                f"portal identity: {entity}.{customer_field} is not a reference field"
            )
        if email_field not in et.fields:
            raise ConfigError(f"portal identity: {entity} has no field {email_field!r}")
        config.registry.kyklos_portal.identity = decl

    config.action(("kyklos.portal.identity",), register, introspectables=(intr,), order=20)


def add_portal_access(config, entity: str, path, fields=(), writable=()):
    """Let portal users see records of ``entity`` that belong to their customer through
    ``path`` (a string or several, in order of precedence), with the ``fields`` listed
    readable and ``writable`` writable. Which records a portal user reaches is still
    decided by the portal role's record rules (scopes ``customer`` and ``self``)::

        config.add_portal_access("quote", "account_id", fields=("number", "status"))
    """
    paths = (path,) if isinstance(path, str) else tuple(path)
    decl = PortalAccess(entity, paths, frozenset(fields), frozenset(writable))
    if not paths:
        raise ConfigError(f"portal access for {entity!r} needs a path to the customer")
    if not decl.writable <= decl.fields:
        raise ConfigError(f"portal access for {entity!r}: writable fields must be readable")
    intr = config.introspectable(
        "kyklos portal", ("access", entity), entity, "kyklos portal access"
    )
    intr["access"] = decl

    def register():
        et = config.registry.kyklos_entities.get(entity)
        if et is None:
            raise ConfigError(f"portal access: unknown entity type {entity!r}")
        unknown = sorted(decl.fields - set(et.fields))
        if unknown:
            raise ConfigError(f"portal access for {entity!r}: unknown fields {unknown}")
        config.registry.kyklos_portal.access[entity] = decl

    config.action(("kyklos.portal.access", entity), register, introspectables=(intr,), order=20)

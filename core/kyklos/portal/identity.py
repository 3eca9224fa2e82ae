"""Who a portal user is: the record they are tied to, their customer, and what the
security policy lets a portal identity reach."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kyklos.security.models import Role
from kyklos.security.sessions import is_portal_path

#: the role every portal login holds (declared by the core; plugins extend it)
PORTAL_ROLE = "portal"
#: the permission of the portal's own pages
PORTAL_PERMISSION = "kyklos.portal.use"
#: staff: invite customers, disable, re-enable and reset their logins
MANAGE_PERMISSION = "kyklos.portal.manage"
#: generic API routes (login-only, authorized per entity type inside) a portal token may
#: call; every other login-only route is closed to portal identities
API_ROUTES = frozenset(
    {
        "api.entity.collection",
        "api.entity.item",
        "api.entity.export",
        "api.search",
    }
)


@dataclass(frozen=True)
class PortalLink:
    """A portal identity's place: ``entity``/``record_id`` (the person), ``customer_id``
    (the record of the customer type the person belongs to; ``None``: no customer, so
    no "records of my customer"), and the portal roles whose rules apply."""

    account_id: int
    entity: str
    record_id: int
    customer_id: int | None
    roles: tuple


def customer_of(request, entity: str, record_id: int) -> int | None:
    """The customer id of a record of the portal identity type (one indexed read)."""
    reg = request.registry.kyklos_portal
    ident = reg.identity
    et = request.registry.kyklos_entities.get(entity)
    if ident is None or et is None or ident.entity != entity:
        return None
    column = getattr(et.model, ident.customer_field)
    return request.dbsession.execute(
        select(column).where(et.model.id == record_id)
    ).scalar_one_or_none()


def portal_identity(request, user, token=None):
    """The :class:`~kyklos.security.policy.Identity` of a portal login, or ``None`` when
    its portal account is missing or disabled. Only the portal roles count, whatever
    else an administrator granted the user."""
    from kyklos.portal.models import PortalAccount
    from kyklos.security.policy import Identity

    db = request.dbsession
    acc = db.execute(
        select(PortalAccount).where(PortalAccount.user_id == user.id)
    ).scalar_one_or_none()
    if acc is None or acc.disabled_at is not None or acc.accepted_at is None:
        return None
    roles = tuple(r for r in user.roles if r.name == PORTAL_ROLE)
    if not roles:
        roles = tuple(db.execute(select(Role).where(Role.name == PORTAL_ROLE)).scalars())
    perms = set()
    for r in roles:
        perms.update(r.permissions or ())
    perms.discard("*")  # never an administrator, whatever the role was edited to hold
    perms.add(PORTAL_PERMISSION)
    link = PortalLink(
        account_id=acc.id,
        entity=acc.entity,
        record_id=acc.record_id,
        customer_id=customer_of(request, acc.entity, acc.record_id),
        roles=roles,
    )
    perms = frozenset(perms)
    return Identity(user=user, permissions=perms, token=token, own_permissions=perms, portal=link)


def portal_permits(request, permission: str) -> bool:
    """Whether a portal identity may pass a view guarded by ``permission`` here: the
    portal's pages, and on the API the entity routes (the record rules decide there)
    and routes guarded by a permission the portal role holds. Staff pages never."""
    path = request.path_info
    if is_portal_path(path):
        return True
    if not path.startswith("/api/"):
        return False
    if permission != "authenticated":
        return True
    route = request.matched_route
    return route is not None and route.name in API_ROUTES

"""The customer portal (CORE-11): customers' own logins, tied to a record (a person)
and, through it, to a customer (an account); pages contributed by plugins; the same
record rules as staff, with the scopes ``customer`` and ``self``.

The core knows no module vocabulary: a plugin declares who portal users are
(``config.set_portal_identity``), which types they may see and by which path to the
customer (``config.add_portal_access``), grants the ``portal`` role its permissions and
rules (``config.extend_role``, ``config.add_record_rule``) and contributes pages
(``kyklos_portal_pages``). See docs/portal.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyramid.renderers import get_renderer

from kyklos.portal.config import PortalRegistry, add_portal_access, set_portal_identity
from kyklos.portal.identity import MANAGE_PERMISSION, PORTAL_PERMISSION, PORTAL_ROLE


@dataclass
class PortalPage:
    """A page of the customer portal (see the ``kyklos_portal_pages`` hook)."""

    id: str
    title: object
    url: str
    description: object = ""
    icon: str = "file-earmark"
    order: int = 100
    count: int | None = None
    permission: str | None = None


class PortalLayout:
    """``request.portal_layout``: the portal's shell (a theme overrides
    ``kyklos:web/templates/portal_layout.pt`` as it does the staff layout)."""

    def __init__(self, request):
        self.request = request

    @property
    def macro(self):
        return (
            get_renderer("kyklos:web/templates/portal_layout.pt").implementation().macros["layout"]
        )

    @property
    def user(self):
        ident = self.request.identity
        return ident.user if ident is not None and ident.portal is not None else None

    def pages(self) -> list[PortalPage]:
        """The pages plugins contribute, for the logged-in portal user, in order."""
        if "_pages" in self.__dict__:
            return self._pages
        from kyklos.hooks import collect

        request = self.request
        found = []
        if self.user is not None:
            pm = request.registry.kyklos_pm
            for page in collect(pm, "kyklos_portal_pages", request=request):
                if page.permission and not request.has_permission(page.permission):
                    continue
                found.append(page)
        self._pages = sorted(found, key=lambda p: (p.order, str(p.title)))
        return self._pages


def includeme(config):
    from kyklos.i18n import _

    config.registry.kyklos_portal = PortalRegistry()
    config.add_directive("set_portal_identity", set_portal_identity)
    config.add_directive("add_portal_access", add_portal_access)
    config.declare_permission(
        PORTAL_PERMISSION, _("Use the customer portal"), _("Held by portal logins only")
    )
    config.declare_permission(
        MANAGE_PERMISSION,
        _("Manage portal logins"),
        _("Invite customers to the portal, disable, re-enable and reset their logins"),
    )
    config.add_role(PORTAL_ROLE, _("Portal customer"), [])
    config.add_request_method(PortalLayout, "portal_layout", reify=True)
    config.include(".views")

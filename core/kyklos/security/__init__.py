"""Authentication, sessions, API tokens, the org chart, roles, record rules, field
permissions, delegation and the security log.

Public entry points for the rest of the core and for plugins (through the SDK):

- :func:`kyklos.security.rules.visibility_clause`, ``can_access``, ``field_access``:
  the one record filter every path applies
- :func:`kyklos.security.delegation.acting_for`: on whose behalf the user acts
- :func:`kyklos.security.audit.log_event`: record a security event
- directives ``config.add_record_rule`` and ``config.add_field_permission``
"""

from __future__ import annotations

from pyramid.security import NO_PERMISSION_REQUIRED

from kyklos.security.auth import (  # noqa: F401 - re-exported
    authenticate,
    find_user,
    forgot_view,
    login_code_view,
    login_view,
    logout_view,
    reset_view,
)
from kyklos.security.policy import CSRFPolicy, SecurityPolicy
from kyklos.security.roles import sync_roles  # noqa: F401 - re-exported
from kyklos.security.sessions import make_session_factory

T = "kyklos:web/templates/"


def includeme(config):
    settings = config.get_settings()
    config.set_security_policy(SecurityPolicy())
    factory = make_session_factory(settings, config.registry["dbengine"])
    config.registry["kyklos.session_store"] = factory.store
    config.set_session_factory(factory)
    config.set_csrf_storage_policy(CSRFPolicy())
    config.set_default_csrf_options(require_csrf=True)
    # Deny by default: a view registered without a permission still needs a login.
    config.set_default_permission("authenticated")
    config.include(".roles")
    config.include(".audit")
    from .encryption import add_encrypted_column

    config.add_directive("add_encrypted_column", add_encrypted_column, action_wrap=False)

    public = NO_PERMISSION_REQUIRED
    config.add_route("login", "/login")
    config.add_view(login_view, route_name="login", renderer=T + "login.pt", permission=public)
    config.add_route("login_code", "/login/code")
    config.add_view(
        login_code_view,
        route_name="login_code",
        renderer=T + "security_totp_login.pt",
        permission=public,
    )
    config.add_route("logout", "/logout", request_method="POST")
    config.add_view(logout_view, route_name="logout", permission=public)
    config.add_route("password_forgot", "/password/forgot")
    config.add_view(
        forgot_view,
        route_name="password_forgot",
        renderer=T + "security_forgot.pt",
        permission=public,
    )
    config.add_route("password_reset", "/password/reset")
    config.add_view(
        reset_view, route_name="password_reset", renderer=T + "security_reset.pt", permission=public
    )
    config.include(".account")
    config.include(".admin")
    config.include(".api")

"""Reports (RPT-03): ad-hoc grouped reports over any entity type, saved, shared with
roles or people, pinned to the home page, exported.

Every declared entity type is reportable: its list filters, its readable fields and
its custom fields are what a report may filter, group and sum (see
:mod:`kyklos.reports.engine` and docs/reports.md). A saved report keeps only its
specification: whoever opens it sees it through their own record rules and field
permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, JSONType, TimestampMixin
from kyklos.entities import RecordError
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _

MAX_SHARES = 200


class Report(IdMixin, TimestampMixin, Base):
    __tablename__ = "kyklos_report"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    entity: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    spec: Mapped[dict] = mapped_column(JSONType, nullable=False, default=dict)
    #: role names and user ids the report is shared with (besides its author)
    shared_roles: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    shared_users: Mapped[list] = mapped_column(JSONType, nullable=False, default=list)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL"), index=True
    )
    #: the key of the plugin's definition a shipped report came from (``None``: a
    #: user's own report); see :class:`ShippedReport`
    shipped_key: Mapped[str | None] = mapped_column(String(100), unique=True)


@dataclass(frozen=True)
class ShippedReport:
    """A saved report a plugin ships (hook ``kyklos_report_definitions``): ``key``
    names it for good (``"helpdesk.failures"``), ``name`` is a translation string shown
    in the viewer's language, ``spec`` a specification as the API takes it, and
    ``shared_roles`` the roles it is shared with."""

    key: str
    name: str
    spec: dict
    shared_roles: tuple = field(default_factory=tuple)


class ReportPin(Base):
    """A report a user pinned to their home page."""

    __tablename__ = "kyklos_report_pin"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="CASCADE"), primary_key=True
    )
    report_id: Mapped[int] = mapped_column(
        ForeignKey("kyklos_report.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


def _user(request):
    ident = getattr(request, "identity", None)
    return ident.user if ident is not None else None


def role_names(request) -> set[str]:
    user = _user(request)
    return {r.name for r in user.roles} if user is not None else set()


def may_see(request, rep: Report) -> bool:
    """The author, administrators, and the people and roles it is shared with; and
    only while they may read its records at all."""
    user = _user(request)
    et = request.registry.kyklos_entities.get(rep.entity)
    if user is None or et is None or not request.has_permission(et.permission("read")):
        return False
    if rep.created_by_id == user.id or request.has_permission("kyklos.admin"):
        return True
    return user.id in (rep.shared_users or []) or bool(
        role_names(request) & set(rep.shared_roles or [])
    )


def may_edit(request, rep: Report) -> bool:
    user = _user(request)
    return user is not None and (
        rep.created_by_id == user.id or bool(request.has_permission("kyklos.admin"))
    )


def shipped_definitions(request) -> dict[str, ShippedReport]:
    """The plugins' report definitions by key (once per request)."""
    cache = request.__dict__.get("_kyklos_shipped_reports")
    if cache is None:
        from kyklos.hooks import collect

        cache = {
            d.key: d
            for d in collect(
                request.registry.kyklos_pm, "kyklos_report_definitions", request=request
            )
        }
        request.__dict__["_kyklos_shipped_reports"] = cache
    return cache


def ensure_shipped(request) -> None:
    """Create the shipped reports that are not saved yet. Two first visits at once
    meet the unique key: the loser's savepoint rolls back, the winner's row stays."""
    from sqlalchemy.exc import IntegrityError

    defs = shipped_definitions(request)
    if not defs:
        return
    db = request.dbsession
    have = set(
        db.execute(select(Report.shipped_key).where(Report.shipped_key.in_(list(defs)))).scalars()
    )
    entities = request.registry.kyklos_entities
    for key, d in defs.items():
        if key in have or d.spec.get("entity") not in entities:
            continue
        try:
            with db.begin_nested():
                db.add(
                    Report(
                        name=str(d.name),
                        entity=d.spec["entity"],
                        spec=dict(d.spec),
                        shared_roles=sorted(set(d.shared_roles)),
                        shared_users=[],
                        shipped_key=key,
                    )
                )
        except IntegrityError:
            continue


def shipped_report_id(request, key: str) -> int | None:
    """The id of the report a plugin shipped under ``key`` (saved on first need), when
    the user may open it: what a plugin links to instead of reading the core's table."""
    ensure_shipped(request)
    rep = request.dbsession.execute(select(Report).where(Report.shipped_key == key)).scalar()
    return rep.id if rep is not None and may_see(request, rep) else None


def report_name(request, rep: Report) -> str:
    """The name to show: a shipped report's in the viewer's language, while an
    administrator has not renamed it."""
    d = shipped_definitions(request).get(rep.shipped_key) if rep.shipped_key else None
    if d is not None and rep.name == str(d.name):
        return request.localizer.translate(d.name)
    return rep.name


def visible_reports(request) -> list[Report]:
    """The reports the user may open, by name (the list is short: filtered here)."""
    ensure_shipped(request)
    rows = request.dbsession.execute(select(Report).order_by(Report.name, Report.id)).scalars()
    return [r for r in rows if may_see(request, r)]


def get_report(request, report_id) -> Report:
    """The report if the user may see it; 404 otherwise (existence is not revealed)."""
    from pyramid.httpexceptions import HTTPNotFound

    try:
        rep = request.dbsession.get(Report, int(report_id))
    except (TypeError, ValueError):
        rep = None
    if rep is None or not may_see(request, rep):
        raise HTTPNotFound()
    return rep


def _shares(request, data: dict, errors: dict) -> tuple[list, list]:
    from kyklos.security.models import Role, User

    roles = data.get("shared_roles", [])
    users = data.get("shared_users", [])
    if not isinstance(roles, list) or len(roles) > MAX_SHARES:
        errors["shared_roles"] = _("Send a list of roles.")
        roles = []
    if not isinstance(users, list) or len(users) > MAX_SHARES:
        errors["shared_users"] = _("Send a list of people.")
        users = []
    db = request.dbsession
    names = [r for r in roles if isinstance(r, str)]
    known = set(db.execute(select(Role.name).where(Role.name.in_(names))).scalars())
    if len(names) != len(roles) or known != set(names):
        errors["shared_roles"] = _("Unknown role.")
    ids = [u for u in users if isinstance(u, int) and not isinstance(u, bool) and 0 < u < 2**31]
    found = set(db.execute(select(User.id).where(User.id.in_(ids))).scalars())
    if len(ids) != len(users) or found != set(ids):
        errors["shared_users"] = _("Unknown person.")
    return sorted(set(names)), sorted(set(ids))


def save_report(request, data: dict, rep: Report | None = None) -> Report:
    """Create or update a report from ``{name, spec, shared_roles, shared_users}``
    (the spec checked with the author's rights). Raises :class:`RecordError`."""
    from kyklos.problem import Problem
    from kyklos.reports import engine

    if not isinstance(data, dict):
        raise RecordError({"": _("Send an object.")})
    errors: dict = {}
    name = data.get("name", rep.name if rep else "")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors["name"] = _("Give a name of at most 200 characters.")
    spec = None
    if "spec" in data or rep is None:
        try:
            spec = engine.parse_spec(request, data.get("spec"))
        except Problem as exc:
            for k, v in (exc.errors or {}).items():
                errors[f"spec.{k}".rstrip(".")] = v
    roles, users = (rep.shared_roles, rep.shared_users) if rep else ([], [])
    if "shared_roles" in data or "shared_users" in data:
        roles, users = _shares(
            request,
            {
                "shared_roles": data.get("shared_roles", roles),
                "shared_users": data.get("shared_users", users),
            },
            errors,
        )
    if errors:
        raise RecordError(errors, title=_("Invalid report"))
    if rep is None:
        ident = request.identity
        rep = Report(created_by_id=ident.user.id if ident else None)
        request.dbsession.add(rep)
    rep.name = name.strip()
    if spec is not None:
        rep.entity = spec.et.name
        rep.spec = spec.raw
    rep.shared_roles, rep.shared_users = roles, users
    request.dbsession.flush()
    return rep


def is_pinned(request, rep: Report) -> bool:
    user = _user(request)
    return user is not None and request.dbsession.get(ReportPin, (user.id, rep.id)) is not None


def pin(request, rep: Report, on: bool) -> None:
    user = _user(request)
    db = request.dbsession
    row = db.get(ReportPin, (user.id, rep.id))
    if on and row is None:
        db.add(ReportPin(user_id=user.id, report_id=rep.id))
    elif not on and row is not None:
        db.delete(row)
    db.flush()


def pinned_reports(request) -> list[Report]:
    user = _user(request)
    if user is None:
        return []
    ids = request.dbsession.execute(
        select(ReportPin.report_id)
        .where(ReportPin.user_id == user.id)
        .order_by(ReportPin.position, ReportPin.report_id)
    ).scalars()
    out = []
    for rid in ids:
        rep = request.dbsession.get(Report, rid)
        if rep is not None and may_see(request, rep):
            out.append(rep)
    return out


from kyklos.reports import schedules as _schedules  # noqa: E402,F401 - its model


class Hooks:
    @hookimpl
    def kyklos_menu_items(self, request):
        from kyklos.web import MenuItem

        return [
            MenuItem(
                _("Reports"), request.route_url("reports"), "authenticated", "bar-chart", order=910
            )
        ]

    @hookimpl
    def kyklos_dashboard_widgets(self, request):
        from kyklos.reports.views import pinned_widgets

        return pinned_widgets(request)


def includeme(config):
    from kyklos.jobs import crontab
    from kyklos.reports import schedules

    config.add_hooks(Hooks(), name="kyklos.reports")
    config.add_job(
        "kyklos.reports.deliver",
        schedules.deliver_due,
        retries=1,
        periodic=crontab(minute="5"),
        title=_("Send scheduled reports"),
    )
    config.include(".views")

"""Scheduled maintenance visits (HD-11): a contract with a visit frequency gets its
visits as activities of the type "visit" (in the calendar, on the customer's timeline,
about the contract) for its term, or the next twelve months when it is open-ended.

Each visit's idempotency key (the activity's ``external_uid``) names the contract and
the visit's day, so generating again creates nothing twice; when the frequency or the
term changes, the future visits still open that the new schedule does not hold are
removed (visits done, cancelled or past stay: they happened or were decided)."""

from __future__ import annotations

import calendar
import datetime as dt
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape
from sqlalchemy import select

from kyklos_sdk import (
    Panel,
    Problem,
    delete_record,
    format_datetime,
    get_entity_type,
    get_record,
    hookimpl,
    record_created,
    utcnow,
)

from . import PERMISSIONS, _
from .models import Contract

MONTHS = {"monthly": 1, "quarterly": 3, "halfyearly": 6, "yearly": 12}
#: visits start at this local time; a person moves one in the calendar when needed
START = dt.time(9, 0)
HORIZON_MONTHS = 12


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def schedule(contract: Contract, today: dt.date) -> list[dt.date]:
    """The visit days of the contract's term: every ``n`` months from its start."""
    months = MONTHS.get(contract.visit_frequency or "")
    if not months:
        return []
    last = contract.ends_on or _add_months(max(today, contract.starts_on), HORIZON_MONTHS)
    out, k = [], 0
    while True:
        day = _add_months(contract.starts_on, k * months)
        if day > last:
            return out
        out.append(day)
        k += 1


def key_prefix(contract_id: int) -> str:
    return f"helpdesk:visit:{contract_id}:"


def visits_of(db, contract_id: int):
    from kyklos_activities.models import Activity

    q = (
        select(Activity)
        .where(Activity.external_uid.like(key_prefix(contract_id) + "%"))
        .order_by(Activity.starts_at, Activity.id)
    )
    return list(db.execute(q).scalars())


def _zone(request, contract) -> str:
    from kyklos_activities.validation import default_zone

    return default_zone(request)


def generate_visits(request, contract: Contract, now: dt.datetime | None = None) -> dict:
    """Create the missing visits, remove the open future ones the schedule no longer
    holds; ``{"created": n, "removed": n, "kept": n}``."""
    from kyklos_activities.defaults import ensure_defaults
    from kyklos_activities.models import (
        ACCEPTED,
        Activity,
        ActivityType,
        Participant,
    )
    from kyklos_activities.validation import default_status, statuses_of

    from kyklos_sdk import User, translate_for

    db = request.dbsession
    now = now or utcnow()
    zone = _zone(request, contract)
    tz = ZoneInfo(zone)
    today = now.astimezone(tz).date()
    wanted = set(schedule(contract, today))
    existing = visits_of(db, contract.id)
    by_day = {}
    removed = 0
    et_activity = get_entity_type(request, "activity")
    for act in existing:
        day = dt.date.fromisoformat(act.external_uid.rsplit(":", 1)[1])
        if day in wanted:
            by_day[day] = act
        elif act.state == "open" and (act.starts_at is None or act.starts_at > now):
            delete_record(request, et_activity, act)
            removed += 1
    created = 0
    if wanted - set(by_day):
        ensure_defaults(db)
        atype = db.execute(select(ActivityType).where(ActivityType.code == "visit")).scalar()
        status = default_status(statuses_of(db, atype))
        owner = db.get(User, contract.owner_id) if contract.owner_id else None
        subject = translate_for(
            request,
            _("Maintenance visit: ${name}", mapping={"name": contract.name}),
            getattr(owner, "locale", None),
        )
        minutes = atype.default_duration or 90
        for day in sorted(wanted - set(by_day)):
            if day < today:
                continue  # a term started in the past: no visits back in time
            starts = dt.datetime.combine(day, START, tzinfo=tz).astimezone(dt.UTC)
            ends = starts + dt.timedelta(minutes=minutes)
            act = Activity(
                type_id=atype.id,
                subject=subject,
                status=status.code if status else "",
                state=status.category if status else "open",
                priority="normal",
                starts_at=starts,
                ends_at=ends,
                span_start=starts,
                span_end=ends,
                timezone=zone,
                private=False,
                responsible_id=contract.owner_id,
                owner_id=contract.owner_id,
                account_id=contract.account_id,
                about_type="supportcontract",
                about_id=contract.id,
                reminders=[],
                exdates=[],
                external_uid=key_prefix(contract.id) + day.isoformat(),
            )
            rows = [Participant(kind="account", account_id=contract.account_id, status=ACCEPTED)]
            if contract.owner_id:
                rows.append(Participant(kind="user", user_id=contract.owner_id, status=ACCEPTED))
            act.participant_rows = rows
            db.add(act)
            db.flush()
            record_created(request, et_activity, act, source="job")
            created += 1
    return {"created": created, "removed": removed, "kept": len(by_day)}


# --- API, page action, panel, hooks ---------------------------------------------------


def api_generate(request):
    """``POST /api/v1/support-contracts/{id}/visits``: (re)generate the visits."""
    et = get_entity_type(request, "supportcontract")
    contract = get_record(request, et, request.matchdict["id"], action="update")
    if not contract.visit_frequency:
        raise Problem(
            400,
            _("Invalid parameters"),
            errors={"visit_frequency": _("Choose how often the visits are.")},
        )
    out = generate_visits(request, contract)
    out["visits"] = [
        {"id": a.id, "starts_at": a.starts_at.isoformat(), "state": a.state}
        for a in visits_of(request.dbsession, contract.id)
    ]
    return out


def generate_page(request):
    """The contract page's "Plan the visits" button (POST with the form's token)."""
    from pyramid.httpexceptions import HTTPFound

    et = get_entity_type(request, "supportcontract")
    contract = get_record(request, et, request.matchdict["id"], action="update")
    url = request.route_url("entity.detail", slug="support-contracts", id=contract.id)
    if request.POST.get("csrf_token") != request.session.get_csrf_token():
        request.session.flash(
            request.localizer.translate(_("The form expired; send it again.")), "danger"
        )
        return HTTPFound(url)
    out = generate_visits(request, contract)
    request.session.flash(
        request.localizer.translate(
            _(
                "Visits planned: ${created} new, ${removed} removed.",
                mapping={"created": out["created"], "removed": out["removed"]},
            )
        ),
        "success",
    )
    return HTTPFound(url)


def visits_panel(request, contract) -> Panel | None:
    acts = visits_of(request.dbsession, contract.id)
    if not contract.visit_frequency and not acts:
        return None
    from kyklos_sdk import display_text

    rows = []
    for a in acts[:24]:
        url = request.route_path("entity.detail", slug="activities", id=a.id)
        when = format_datetime(request, a.starts_at, "short") if a.starts_at else ""
        rows.append(
            Markup(
                '<li class="list-group-item d-flex justify-content-between">'
                '<a href="{}">{}</a><span class="text-muted small">{}</span></li>'
            ).format(url, when, display_text(request, "activity", "state", a.state))
        )
    form = ""
    if (
        request.has_permission(PERMISSIONS["supportcontract"]["update"])
        and contract.visit_frequency
    ):
        form = Markup(
            '<form method="post" action="{}" class="card-body pt-2">'
            '<input type="hidden" name="csrf_token" value="{}">'
            '<button class="btn btn-sm btn-outline-primary" id="hd-plan-visits">{}</button>'
            "</form>"
        ).format(
            request.route_path("helpdesk.contract.visits", id=contract.id),
            request.session.get_csrf_token(),
            request.localizer.translate(_("Plan the visits")),
        )
    body = (
        Markup('<ul class="list-group list-group-flush" id="hd-visits">{}</ul>').format(
            Markup("").join(rows)
        )
        if rows
        else Markup('<p class="card-body text-muted mb-0">{}</p>').format(
            escape(request.localizer.translate(_("No visits planned yet.")))
        )
    )
    return Panel(_("Maintenance visits"), html=str(body + form), count=len(acts), order=7)


class VisitHooks:
    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name != "supportcontract":
            return None
        panel = visits_panel(request, record)
        return [panel] if panel is not None else None

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        # a new term or frequency: the schedule follows at once
        if entity_type.name != "supportcontract" or record.deleted_at is not None:
            return
        if not ({"visit_frequency", "starts_on", "ends_on"} & set(changes or ())):
            return
        if record.visit_frequency or visits_of(request.dbsession, record.id):
            generate_visits(request, record)


def includeme(config):
    ID = r"{id:\d{1,18}}"
    update = PERMISSIONS["supportcontract"]["update"]
    config.add_route(
        "helpdesk.api.visits", f"/api/v1/support-contracts/{ID}/visits", request_method="POST"
    )
    config.add_view(
        api_generate, route_name="helpdesk.api.visits", permission=update, renderer="json"
    )
    config.add_route(
        "helpdesk.contract.visits", f"/helpdesk/contracts/{ID}/visits", request_method="POST"
    )
    config.add_view(generate_page, route_name="helpdesk.contract.visits", permission=update)
    config.add_hooks(VisitHooks(), name="kyklos_helpdesk.visits")
    config.add_openapi_paths(lambda request: OPENAPI)


OPENAPI = {
    "/api/v1/support-contracts/{id}/visits": {
        "post": {
            "operationId": "helpdesk_contract_visits",
            "tags": ["Helpdesk"],
            "summary": "Plan the contract's maintenance visits (again): idempotent",
            "parameters": [
                {
                    "name": "id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer", "minimum": 1},
                }
            ],
            "responses": {
                "200": {
                    "description": "{created, removed, kept, visits: [...]}",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": {
                    "description": "the contract has no visit frequency",
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                },
                "403": {"description": "not allowed"},
                "404": {"description": "no such contract"},
            },
        }
    }
}

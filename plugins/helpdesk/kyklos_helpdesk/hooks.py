"""Hook implementations: checks on every write path; a new case's number and routing;
the dates a case was resolved and closed; titles of team members and case links kept in
step; the merge action; a customer's open cases on the account page."""

from __future__ import annotations

from sqlalchemy import delete, select

from kyklos_sdk import Action, Panel, get_entity_type, hookimpl, utcnow, visible_select

from . import MERGE, _
from .contracts import (
    before_entry_save,
    burn_down,
    contract_line,
    contracts_of_account,
    refresh_used,
    validate_case_contract,
    validate_contract,
    validate_entry,
)
from .models import OPEN_STATUSES, Case, CaseLink, TeamMember
from .portal import is_portal, portal_defaults
from .service import assign_number, cases_of_account, route
from .sla import follow_status, set_targets, sla_items
from .survey import satisfaction_panel_items, send_survey


def _merged(record, data, name):
    return data[name] if name in data else getattr(record, name, None)


def link_title(case: Case | None) -> str:
    if case is None:
        return ""
    return f"{case.number} · {case.subject}" if case.number else case.subject


def refresh_link_titles(db, case_id: int) -> None:
    """Links pointing at ``case_id`` show its current number and subject."""
    case = db.get(Case, case_id)
    for link in db.execute(select(CaseLink).where(CaseLink.related_id == case_id)).scalars():
        link.title = link_title(case)


def validate_case(request, record, data, errors) -> None:
    if record is None and is_portal(request):
        portal_defaults(request, data)
    if record is None and not errors:
        route(request, data)
    if "subject" in data:
        subject = (data["subject"] or "").strip()
        if not subject:
            errors["subject"] = _("Give the case a subject.")
        else:
            data["subject"] = subject
    if data.get("serial_number") is not None:
        data["serial_number"] = data["serial_number"].strip() or None
    person_id = _merged(record, data, "person_id")
    account_id = _merged(record, data, "account_id")
    if person_id and "person_id" in data and not account_id:
        # the contact's account, when the person typing left it empty
        from kyklos_contacts.models import Person

        data["account_id"] = request.dbsession.execute(
            select(Person.account_id).where(Person.id == person_id)
        ).scalar()


def validate_link(request, record, data, errors) -> None:
    case_id = _merged(record, data, "case_id")
    related = _merged(record, data, "related_id")
    if case_id and related and case_id == related:
        errors["related_id"] = _("A case cannot be related to itself.")
        return
    if related and "related_id" in data:
        from kyklos_sdk import get_entity_type

        # the related case must be one the user may see: no linking by guessed ids
        et = get_entity_type(request, "case")
        seen = request.dbsession.execute(
            visible_select(request, et).with_only_columns(Case.id).where(Case.id == related)
        ).scalar()
        if seen is None:
            errors["related_id"] = _("No such case, or you may not see it.")
            return
    if case_id and related:
        q = select(CaseLink.id).where(CaseLink.case_id == case_id, CaseLink.related_id == related)
        if record is not None:
            q = q.where(CaseLink.id != record.id)
        if request.dbsession.execute(q).scalar():
            errors["related_id"] = _("These cases are already related.")


def validate_member(request, record, data, errors) -> None:
    team, user = _merged(record, data, "team_id"), _merged(record, data, "user_id")
    if team and user:
        q = select(TeamMember.id).where(TeamMember.team_id == team, TeamMember.user_id == user)
        if record is not None:
            q = q.where(TeamMember.id != record.id)
        if request.dbsession.execute(q).scalar():
            errors["user_id"] = _("Already a member of this team.")


def validate_rule(data, errors) -> None:
    country = data.get("country")
    if country:
        country = country.strip().upper()
        if len(country) != 2 or not country.isalpha():
            errors["country"] = _("Give a two-letter country code, e.g. GR.")
        else:
            data["country"] = country


def validate_hours(record, data, errors) -> None:
    from .hours import validate_week

    validate_rule(data, errors)
    validate_week(record, data, errors)


def validate_policy(data, errors) -> None:
    for name in ("first_response_hours", "resolution_hours"):
        value = data.get(name)
        if value is not None and value <= 0:
            errors[name] = _("Give a number of hours above zero, or leave it empty.")


def stamp(case: Case) -> None:
    """When the case was resolved and closed; reopening forgets both."""
    now = utcnow()
    if case.status == "resolved" and case.resolved_at is None:
        case.resolved_at = now
    if case.status == "closed":
        case.closed_at = case.closed_at or now
        case.resolved_at = case.resolved_at or now
    if case.status in OPEN_STATUSES:
        case.resolved_at = case.closed_at = None


def contract_panel(request, contract) -> Panel:
    """The bank's balance in words and its burn-down: what was left after each day."""
    from markupsafe import Markup, escape

    from kyklos_sdk import CHART_SCRIPTS, ChartData, Series, format_date, render_chart

    points = burn_down(request.dbsession, contract)
    chart = ChartData(
        kind="line",
        labels=[format_date(request, day, "short") for day, _left in points],
        series=[
            Series(
                request.localizer.translate(_("Left in the bank")),
                [float(left) for _day, left in points],
            )
        ],
    )
    scripts = Markup("").join(
        Markup('<script src="{}" defer></script>').format(request.static_url(s))
        for s in CHART_SCRIPTS
    )
    html = Markup(
        '<div class="card-body"><p class="mb-2" id="hd-contract-balance">{}</p>{}{}</div>'
    )
    html = html.format(
        escape(contract_line(request, contract)),
        Markup(
            render_chart(
                request,
                chart,
                f"hd-burn-{contract.id}",
                request.localizer.translate(_("Burn-down")),
            )
        ),
        scripts,
    )
    return Panel(_("Bank of hours"), html=str(html), order=5)


class Hooks:
    @hookimpl
    def kyklos_workflow_transition(self, request, entity_type, record):
        if entity_type.name == "case":
            stamp(record)
            follow_status(request.dbsession, record)
            if record.status == "closed":
                send_survey(request, record)

    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.plugin != "helpdesk":
            return
        name = entity_type.name
        if name == "case":
            validate_case(request, record, data, errors)
            validate_case_contract(request, record, data, errors)
        elif name == "caselink":
            validate_link(request, record, data, errors)
        elif name == "supportteammember":
            validate_member(request, record, data, errors)
        elif name == "caserule":
            validate_rule(data, errors)
        elif name == "businesshours":
            validate_hours(record, data, errors)
        elif name == "slapolicy":
            validate_policy(data, errors)
        elif name == "supportcontract":
            validate_contract(record, data, errors)
        elif name == "timeentry":
            validate_entry(request, record, data, errors)

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.plugin != "helpdesk":
            return
        db = request.dbsession
        name = entity_type.name
        if name == "case":
            if created:
                if not record.number:
                    assign_number(request, record)
            if not created:
                # the core writes the new values after this hook: the dates and the SLA
                # need them now
                for field in ("priority", "type_id", "team_id", "status", "contract_id"):
                    if field in changes:
                        setattr(record, field, changes[field][1])
            if "status" in changes or created:
                stamp(record)
            if created or {"priority", "type_id", "team_id", "contract_id"} & set(changes):
                set_targets(db, record)
            if "status" in changes:
                follow_status(db, record)
                if record.status == "closed":
                    send_survey(request, record)
        elif name == "timeentry":
            before_entry_save(db, record, changes)
        elif name == "supportteammember" and ("user_id" in changes or created):
            from kyklos_sdk import User

            user = db.get(User, record.user_id)
            record.name = (user.name or user.email) if user is not None else ""
        elif name == "caselink" and (created or "related_id" in changes):
            record.title = link_title(db.get(Case, record.related_id))

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created):
        if entity_type.plugin != "helpdesk":
            return
        db = request.dbsession
        if entity_type.name == "timeentry":
            refresh_used(db, record.contract_id)
        elif entity_type.name == "caselink" and created:
            # a link is listed on both cases: its mirror is kept with it
            mirror = db.execute(
                select(CaseLink.id).where(
                    CaseLink.case_id == record.related_id, CaseLink.related_id == record.case_id
                )
            ).scalar()
            if mirror is None:
                db.add(
                    CaseLink(
                        case_id=record.related_id,
                        related_id=record.case_id,
                        note=record.note,
                        owner_id=record.owner_id,
                        title=link_title(db.get(Case, record.case_id)),
                    )
                )
                db.flush()
        elif (
            entity_type.name == "case"
            and not created
            and ("subject" in changes or "number" in changes)
        ):
            refresh_link_titles(db, record.id)

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record):
        if entity_type.name == "timeentry":
            refresh_used(request.dbsession, record.contract_id)
        elif entity_type.name == "caselink":
            request.dbsession.execute(
                delete(CaseLink).where(
                    CaseLink.case_id == record.related_id, CaseLink.related_id == record.case_id
                )
            )

    @hookimpl
    def kyklos_record_merge(self, request, entity_type, winner, loser):
        # the core's generic merge (duplicates) deletes the loser: its activities, which
        # name the case by type and id rather than a foreign key, follow the winner
        if entity_type.name == "case":
            from kyklos_activities.models import Activity
            from sqlalchemy import update

            request.dbsession.execute(
                update(Activity)
                .where(Activity.about_type == "case", Activity.about_id == loser.id)
                .values(about_id=winner.id)
            )

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name != "case" or record.merged_into_id is not None:
            return None
        if record.status == "closed" or not request.has_permission(MERGE):
            return None
        return [
            Action(
                _("Merge into another case"),
                request.route_url("helpdesk.case.merge", id=record.id),
                permission=MERGE,
            )
        ]

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name == "case":
            items = sla_items(request, record)
            return [Panel(_("Service level"), items=items, order=5)] if items else None
        if entity_type.name == "supportteam":
            items = satisfaction_panel_items(request, record)
            return [Panel(_("Customer satisfaction"), items=items, order=30)] if items else None
        if entity_type.name == "supportcontract":
            return [contract_panel(request, record)]
        if entity_type.name != "account":
            return None
        panels = []
        if request.has_permission("helpdesk.supportcontract.read"):
            contracts = contracts_of_account(request, record.id)
            if contracts:
                items = [
                    (
                        c.name,
                        request.route_path("entity.detail", slug="support-contracts", id=c.id),
                        contract_line(request, c),
                    )
                    for c in contracts[:10]
                ]
                panels.append(
                    Panel(_("Support contracts"), items=items, count=len(contracts), order=21)
                )
        if not request.has_permission("helpdesk.case.read"):
            return panels or None
        cases = cases_of_account(request, record.id, open_only=True)
        if not cases:
            return panels or None
        from kyklos_sdk import display_text

        items = [
            (
                link_title(c),
                request.route_path("entity.detail", slug="cases", id=c.id),
                display_text(request, "case", "status", c.status),
            )
            for c in cases[:10]
        ]
        return [Panel(_("Open cases"), items=items, count=len(cases), order=20), *panels]

    # the mail plugin's hooks (kyklos_mail.hookspecs): optional, since helpdesk works
    # without mail; mail knows nothing of cases, it asks through these

    @hookimpl(optionalhook=True)
    def kyklos_mail_support_message(self, request, mailbox, message, parsed):
        from email.utils import parseaddr

        from .service import open_case_from_message

        name, sender = parseaddr(message.sender or "")
        case, _created = open_case_from_message(
            request,
            sender=sender,
            sender_name=name,
            subject=message.subject or "",
            body=message.body_text or "",
            message_id=message.message_id or None,
            received_at=message.sent_at,
            in_reply_to=message.in_reply_to or None,
            references=list(message.references or ()),
        )
        return ("case", case.id)

    @hookimpl(optionalhook=True)
    def kyklos_mail_subject_tag(self, request, entity, record_id):
        if entity != "case":
            return None
        number = request.dbsession.execute(
            visible_select(request, get_entity_type(request, "case"))
            .with_only_columns(Case.number)
            .where(Case.id == record_id)
        ).scalar()
        return f"[{number}]" if number else None


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_helpdesk.hooks")

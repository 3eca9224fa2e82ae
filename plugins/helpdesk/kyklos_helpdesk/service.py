"""What cases do, in one place for the pages, the API, the (future) portal and the mail
plugin: numbers, routing to a team and an assignee, opening a case from an inbound
e-mail, merging two cases, a customer's cases.

Every function takes the request and acts as its user: record rules and field
permissions apply (the mail plugin calls :func:`open_case_from_message` with a request
of its service user).
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from kyklos_sdk import (
    RecordError,
    create_record,
    get_entity_type,
    update_record,
    utcnow,
    visible_select,
)

from . import _
from .models import (
    OPEN_STATUSES,
    AssignmentRule,
    Case,
    CaseSequence,
    CaseType,
    Team,
    TeamMember,
)

#: a case number quoted in an e-mail subject: "Re: [CS-2026-00042] printer"
NUMBER_IN_SUBJECT = re.compile(r"\[([A-Z]{1,8}-\d{4}-\d{5,})\]")


# --- numbers --------------------------------------------------------------------------------


def next_number(db, year: int) -> int:
    """The next case number of ``year``. The UPDATE locks the year's row until the
    transaction ends, so concurrent cases queue and never share a number; the first case
    of a year inserts the row in a savepoint and retries if another transaction won."""
    for _attempt in range(3):
        got = db.execute(
            update(CaseSequence)
            .where(CaseSequence.year == year)
            .values(last=CaseSequence.last + 1)
            .returning(CaseSequence.last)
        ).scalar_one_or_none()
        if got is not None:
            return got
        try:
            with db.begin_nested():
                db.execute(insert(CaseSequence).values(year=year, last=1))
            return 1
        except IntegrityError:
            continue
    raise RuntimeError(f"could not allocate a case number for {year}")


def format_number(prefix: str, year: int, seq: int) -> str:
    return f"{prefix}-{year}-{seq:05d}"


def assign_number(request, case: Case, today: dt.date | None = None) -> None:
    prefix = request.registry.settings.get("kyklos.helpdesk.number_prefix") or "CS"
    year = (today or dt.date.today()).year
    case.number = format_number(prefix, year, next_number(request.dbsession, year))


# --- routing --------------------------------------------------------------------------------


def _customer_country(db, account_id, person_id) -> str | None:
    from kyklos_contacts.models import Account, Person

    if account_id:
        country = db.execute(select(Account.country).where(Account.id == account_id)).scalar()
        if country:
            return country
    if person_id:
        return db.execute(select(Person.country).where(Person.id == person_id)).scalar()
    return None


def matching_rule(db, data: dict) -> AssignmentRule | None:
    """The first active rule (by position) whose conditions all hold for a new case's
    values ``data``."""
    country = _customer_country(db, data.get("account_id"), data.get("person_id"))
    rules = db.execute(
        select(AssignmentRule)
        .where(AssignmentRule.active.is_(True))
        .order_by(AssignmentRule.position, AssignmentRule.id)
    ).scalars()
    for rule in rules:
        if rule.type_id is not None and rule.type_id != data.get("type_id"):
            continue
        if rule.product_id is not None and rule.product_id != data.get("product_id"):
            continue
        if rule.country and (country or "").upper() != rule.country.upper():
            continue
        return rule
    return None


def next_in_turn(db, team: Team) -> int | None:
    """Round-robin: the available member after the one who got the team's last case
    (by user id, wrapping around). Locks the team's row so two cases created at once
    go to two people."""
    db.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    members = list(
        db.execute(
            select(TeamMember.user_id)
            .where(TeamMember.team_id == team.id, TeamMember.available.is_(True))
            .order_by(TeamMember.user_id)
        ).scalars()
    )
    if not members:
        return None
    last = team.last_assigned_id
    after = [m for m in members if last is not None and m > last]
    chosen = after[0] if after else members[0]
    team.last_assigned_id = chosen
    return chosen


def route(request, data: dict) -> None:
    """Fill in the team and assignee of a new case (its values ``data``, as the client
    sent them) that were left empty: an assignment rule gives the team (and maybe the
    assignee), then the team's members take turns."""
    db = request.dbsession
    if not data.get("team_id"):
        rule = matching_rule(db, data)
        if rule is None:
            return
        data["team_id"] = rule.team_id
        if not data.get("owner_id") and rule.assignee_id is not None:
            data["owner_id"] = rule.assignee_id
    if data.get("owner_id"):
        return
    team = db.get(Team, data["team_id"])
    if team is not None and team.active:
        chosen = next_in_turn(db, team)
        if chosen is not None:
            data["owner_id"] = chosen


# --- inbound e-mail -------------------------------------------------------------------------


def _case_by_number(request, number: str) -> Case | None:
    et = get_entity_type(request, "case")
    return request.dbsession.execute(
        visible_select(request, et).where(Case.number == number)
    ).scalar_one_or_none()


def _log_message(request, case: Case, subject: str, body: str, when, person_id) -> int:
    """The message as an e-mail activity about the case (shown on its timeline)."""
    from kyklos_activities.defaults import ensure_defaults

    types = ensure_defaults(request.dbsession)
    data = {
        "type_id": types["email"].id,
        "subject": subject[:250] or "—",
        "description": body,
        "about_type": "case",
        "about_id": case.id,
        "status": "received",
        "due_at": (when or utcnow()).isoformat(),
    }
    if person_id:
        data["person_id"] = person_id
    act = create_record(request, get_entity_type(request, "activity"), data, source="mail")
    return act.id


def open_case_from_message(
    request,
    *,
    sender: str,
    subject: str,
    body: str = "",
    sender_name: str = "",
    message_id: str | None = None,
    received_at: dt.datetime | None = None,
    channel: str = "email",
    in_reply_to: str | None = None,
    references: list[str] | tuple = (),
) -> tuple[Case, bool]:
    """An inbound e-mail becomes a case, or joins the case it answers.

    - a ``message_id`` already seen returns that case (a message delivered twice is not
      two cases);
    - an answer to one of the case's e-mailed replies (``in_reply_to`` /
      ``references`` name its Message-ID), or a subject quoting a case number the user
      may see, e.g. ``Re: [CS-2026-00042]``, adds the message to that case: an e-mail
      activity about it and a customer reply on its conversation
      (:func:`kyklos_helpdesk.reply_mail.customer_reply_from_mail`), and a case waiting
      on the customer goes back to its assignee;
    - otherwise a new case: the sender is looked up among the people (by e-mail) to set
      the contact and its account; the assignment rules choose team and assignee.

    Returns ``(case, created)``. Raises :class:`kyklos_sdk.RecordError` naming the bad
    field (no sender, no subject). Runs in the caller's transaction."""
    sender = (sender or "").strip().lower()
    errors = {}
    if not sender or "@" not in sender:
        errors["sender"] = _("Give the sender's e-mail address.")
    if not (subject or "").strip() and not (body or "").strip():
        errors["subject"] = _("An empty message opens no case.")
    if errors:
        raise RecordError(errors)
    db = request.dbsession
    et = get_entity_type(request, "case")
    if message_id:
        seen = db.execute(
            visible_select(request, et).where(Case.message_id == message_id)
        ).scalar_one_or_none()
        if seen is not None:
            return seen, False
    person = _person_by_email(request, sender)
    person_id = person.id if person is not None else None
    from .reply_mail import answer_text, case_of_answer, customer_reply_from_mail

    case = case_of_answer(request, [in_reply_to, *reversed(list(references or ()))], subject)
    if case is not None:
        _log_message(request, case, subject, body, received_at, person_id)
        customer_reply_from_mail(
            request, case, body=answer_text(body), message_id=message_id, person_id=person_id
        )
        if case.status == "waiting":
            update_record(request, et, case, {"status": "assigned"}, source="mail")
        return case, False
    data = {
        "subject": (subject or "").strip()[:250] or body.strip()[:80],
        "description": body,
        "channel": channel,
    }
    if person is not None:
        data["person_id"] = person.id
        if person.account_id:
            data["account_id"] = person.account_id
    elif sender_name:
        data["description"] = f"{sender_name} <{sender}>\n\n{body}"
    case = create_record(request, et, data, source="mail")
    # read-only for clients: only a message sets them
    case.from_email, case.message_id = sender, message_id
    request.dbsession.flush()
    _log_message(request, case, subject, body, received_at, person_id)
    return case, True


def _person_by_email(request, email: str):
    from kyklos_contacts.models import Person

    et = get_entity_type(request, "person")
    from sqlalchemy import func

    return (
        request.dbsession.execute(
            visible_select(request, et)
            .where(func.lower(Person.email) == email)
            .order_by(Person.id)
            .limit(1)
        )
        .scalars()
        .first()
    )


# --- merging --------------------------------------------------------------------------------


def merge_cases(request, loser: Case, winner: Case) -> None:
    """Merge ``loser`` into ``winner``: its activities and related cases move to the
    winner, it is closed with ``merged_into_id`` pointing at the winner (kept, so its
    number still leads somewhere). Both must be cases the user may change."""
    from kyklos_activities.models import Activity

    from .models import CaseLink

    if loser.id == winner.id:
        raise RecordError({"into_id": _("A case cannot be merged into itself.")})
    if loser.merged_into_id is not None:
        raise RecordError({"into_id": _("This case was already merged into another.")})
    if winner.merged_into_id is not None or winner.status == "closed":
        raise RecordError({"into_id": _("Merge into an open case.")})
    et = get_entity_type(request, "case")
    db = request.dbsession
    db.execute(
        update(Activity)
        .where(Activity.about_type == "case", Activity.about_id == loser.id)
        .values(about_id=winner.id)
    )
    linked = set(
        db.execute(select(CaseLink.related_id).where(CaseLink.case_id == winner.id)).scalars()
    )
    for link in db.execute(
        select(CaseLink).where(or_(CaseLink.case_id == loser.id, CaseLink.related_id == loser.id))
    ).scalars():
        other = link.related_id if link.case_id == loser.id else link.case_id
        db.delete(link)
        if other != winner.id and other not in linked:
            linked.add(other)
            db.add(CaseLink(case_id=winner.id, related_id=other, title=""))
            db.add(CaseLink(case_id=other, related_id=winner.id, title=""))
    db.flush()
    from .hooks import refresh_link_titles

    refresh_link_titles(db, winner.id)
    # read-only for clients: only a merge sets it
    loser.merged_into_id = winner.id
    if loser.status != "closed":
        update_record(request, et, loser, {"status": "closed"}, source="ui")
    # the winner's description keeps what the merged case said
    note = _("Merged from ${number}", mapping={"number": loser.number or str(loser.id)})
    text = request.localizer.translate(note)
    desc = (winner.description or "").rstrip()
    add = f"{text}: {loser.subject}\n{loser.description or ''}".strip()
    update_record(request, et, winner, {"description": f"{desc}\n\n{add}".strip()}, source="ui")


# --- for the portal and other plugins -------------------------------------------------------


def cases_of_account(request, account_id: int, open_only: bool = False) -> list[Case]:
    """The cases of one customer the user may see, newest first (the portal's "my
    cases", the account's panel)."""
    et = get_entity_type(request, "case")
    q = visible_select(request, et).where(
        Case.account_id == account_id, Case.merged_into_id.is_(None)
    )
    if open_only:
        q = q.where(Case.status.in_(OPEN_STATUSES))
    return list(request.dbsession.execute(q.order_by(Case.created_at.desc())).scalars())


def type_id_by_code(db, code: str) -> int | None:
    return db.execute(select(CaseType.id).where(CaseType.code == code)).scalar()


#: the case types the plugin ships (the initial migration seeds a frozen copy); the
#: titles are msgids of this plugin's catalog, shown in the user's language
DEFAULT_TYPES = [
    ("complaint", "Complaint"),
    ("request", "Request"),
    ("incident", "Incident"),
    ("question", "Question"),
]
SEEDED_TITLES = (_("Complaint"), _("Request"), _("Incident"), _("Question"))


def ensure_types(db) -> dict[str, int]:
    """Create the shipped case types that are missing; returns every type's id by code."""
    have = dict(db.execute(select(CaseType.code, CaseType.id)).all())
    for pos, (code, name) in enumerate(DEFAULT_TYPES):
        if code not in have:
            t = CaseType(code=code, name=name, position=pos, active=True, custom={})
            db.add(t)
            db.flush()
            have[code] = t.id
    return have

"""The satisfaction survey (HD-16): when a case is closed its contact gets an e-mail with
a signed link to a public page (no login) where they rate the help 1-5 and may add a
comment. The rating shows on the case; averages per team and per agent show on the
team's page and through the API.

The link carries the case id and an HMAC of it keyed with ``kyklos.secret``: it cannot
be guessed for another case, and it rates only once.
"""

from __future__ import annotations

import hashlib
import hmac

from pyramid.httpexceptions import HTTPFound, HTTPNotFound
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import func, select

from kyklos_sdk import (
    MailError,
    Problem,
    get_entity_type,
    send_mail,
    translate,
    translate_for,
    utcnow,
    visible_select,
)

from . import PERMISSIONS, _
from .models import RATINGS, Case, Team

SALT = b"kyklos-helpdesk-survey:"


def _key(request) -> bytes:
    secret = request.registry.settings.get("kyklos.secret") or ""
    return hashlib.sha256(SALT + secret.encode()).digest()


def survey_token(request, case_id: int) -> str:
    sig = hmac.new(_key(request), str(case_id).encode(), hashlib.sha256).hexdigest()[:32]
    return f"{case_id}-{sig}"


def case_of_token(request, token: str) -> Case | None:
    """The case a survey link names, or ``None`` for a forged or mangled link."""
    head, _sep, sig = (token or "").partition("-")
    if not head.isdigit() or len(head) > 18 or not sig:
        return None
    if not hmac.compare_digest(survey_token(request, int(head)), token):
        return None
    case = request.dbsession.get(Case, int(head))
    if case is None or case.deleted_at is not None:
        return None
    return case


def recipient(db, case: Case) -> tuple[str | None, str | None]:
    """Whom the survey goes to: the contact's e-mail (and language), else the address
    the case came from."""
    if case.person_id:
        from kyklos_contacts.models import Person

        person = db.get(Person, case.person_id)
        if person is not None and person.email:
            return person.email, person.language
    return case.from_email, None


def send_survey(request, case: Case) -> bool:
    """Once per case, when it is closed (not for a case merged into another)."""
    if case.survey_sent_at is not None or case.merged_into_id is not None:
        return False
    to, lang = recipient(request.dbsession, case)
    if not to:
        return False
    link = request.route_url("helpdesk.survey", token=survey_token(request, case.id))
    if lang:
        link += f"?_LOCALE_={lang}"
    mapping = {"number": case.number or "", "subject": case.subject, "link": link}
    subject = translate_for(request, _("How did we do? ${number}", mapping=mapping), lang)
    body = translate_for(
        request,
        _(
            "Your case ${number} “${subject}” is closed.\n\n"
            "How happy are you with the help you got? One click rates it:\n${link}\n\n"
            "Thank you.",
            mapping=mapping,
        ),
        lang,
    )
    try:
        send_mail(request, to, subject, body)
    except MailError:
        return False  # a bad address on file: the case closes all the same
    case.survey_sent_at = utcnow()
    return True


def survey_page(request):
    """``/portal/survey/{token}``: the public rating form, and its answer."""
    case = case_of_token(request, request.matchdict["token"])
    if case is None:
        raise HTTPNotFound()
    errors: dict = {}
    values = {"rating": "", "comment": ""}
    if request.method == "POST" and case.rated_at is None:
        values = {
            "rating": request.POST.get("rating", ""),
            "comment": (request.POST.get("comment") or "").strip(),
        }
        if request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["rating"] = _("The form expired; send it again.")
        elif values["rating"] not in {str(v) for v, _t in RATINGS}:
            errors["rating"] = _("Choose a rating from 1 to 5.")
        elif len(values["comment"]) > 4000:
            errors["comment"] = _("Keep the comment under 4000 characters.")
        else:
            case.rating = int(values["rating"])
            case.rating_comment = values["comment"] or None
            case.rated_at = utcnow()
            # the link's language stays with the answer page
            query = {"_LOCALE_": request.GET["_LOCALE_"]} if "_LOCALE_" in request.GET else {}
            return HTTPFound(
                request.route_url("helpdesk.survey", token=request.matchdict["token"], _query=query)
            )
    return {
        "case": case,
        "ratings": [(v, translate(request, t)) for v, t in RATINGS],
        "errors": {k: translate(request, v) for k, v in errors.items()},
        "values": values,
        "done": case.rated_at is not None,
    }


def satisfaction(request, team_id: int | None = None) -> dict:
    """Average ratings of the cases the user may see: per team and per agent."""
    et = get_entity_type(request, "case")
    base = visible_select(request, et).where(Case.rating.is_not(None))
    if team_id is not None:
        base = base.where(Case.team_id == team_id)
    rated = base.with_only_columns(Case.id, Case.team_id, Case.owner_id, Case.rating).subquery()
    db = request.dbsession

    def rows(column):
        q = select(column, func.avg(rated.c.rating), func.count()).group_by(column).order_by(column)
        return db.execute(q).all()

    from kyklos_sdk import User

    teams, agents = [], []
    for tid, avg, n in rows(rated.c.team_id):
        team = db.get(Team, tid) if tid else None
        teams.append(
            {"team_id": tid, "team": team.name if team else None, "average": _avg(avg), "count": n}
        )
    for uid, avg, n in rows(rated.c.owner_id):
        user = db.get(User, uid) if uid else None
        agents.append(
            {
                "user_id": uid,
                "user": (user.name or user.email) if user else None,
                "average": _avg(avg),
                "count": n,
            }
        )
    total = db.execute(select(func.avg(rated.c.rating), func.count()).select_from(rated)).one()
    return {"average": _avg(total[0]), "count": total[1], "teams": teams, "agents": agents}


def _avg(value) -> float | None:
    return None if value is None else round(float(value), 2)


def api_satisfaction(request):
    """``GET /api/v1/helpdesk/satisfaction[?team_id=]``: average ratings per team/agent."""
    raw = request.params.get("team_id")
    team_id = None
    if raw:
        if not raw.isdigit() or len(raw) > 18:
            raise Problem(
                400,
                _("Invalid parameters"),
                errors={"team_id": _("Give the team's id as a whole number.")},
            )
        team_id = int(raw)
    return satisfaction(request, team_id)


def satisfaction_panel_items(request, team: Team) -> list[tuple]:
    from kyklos_sdk import format_number

    stats = satisfaction(request, team.id)
    if not stats["count"]:
        return []

    def words(avg, n):
        return request.localizer.pluralize(
            "${avg} of 5 from ${n} rating",
            "${avg} of 5 from ${n} ratings",
            n,
            domain="kyklos_helpdesk",
            mapping={"avg": format_number(request, avg), "n": n},
        )

    items = [(translate(request, _("The team")), None, words(stats["average"], stats["count"]))]
    for row in stats["agents"]:
        name = row["user"] or translate(request, _("Nobody assigned"))
        items.append((name, None, words(row["average"], row["count"])))
    return items


def includeme(config):
    config.add_route("helpdesk.survey", "/portal/survey/{token}")
    config.add_view(
        survey_page,
        route_name="helpdesk.survey",
        renderer="kyklos_helpdesk:templates/survey.pt",
        permission=NO_PERMISSION_REQUIRED,
    )
    config.add_route(
        "helpdesk.api.satisfaction", "/api/v1/helpdesk/satisfaction", request_method="GET"
    )
    config.add_view(
        api_satisfaction,
        route_name="helpdesk.api.satisfaction",
        permission=PERMISSIONS["case"]["read"],
        renderer="json",
    )

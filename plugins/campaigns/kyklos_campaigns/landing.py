"""Responses by a landing form (MKT-08): a public page per campaign where a recipient
answers accepted, interested or refused, with an optional message.

Each recipient reaches the page through their own link (the ``response_url`` merge field
of e-mails and letters): a token signed with ``kyklos.secret``, so nobody can answer for
someone else and an unknown or forged token is a 404 that says nothing. The page
protects itself as web-to-lead does: a CSRF token of the visitor's session, a rate
limit per client address (``kyklos.campaigns.landing.rate_limit`` posts a minute,
counted in its own transaction so a refused post counts too), a body size limit and a
length limit on the message; after answering it shows a thank-you on the same page, so
there is no redirect to send anyone elsewhere.

The answer is the recipient's ``response`` (counted in the campaign's results), with
``response_source`` "landing". "Interested" and "accepted" make a lead tied to the
campaign when the sfa plugin is loaded: the visitor has no account, so the
``campaigns.response_lead`` job makes it as the campaign's owner, through the same
:func:`kyklos_campaigns.hooks.make_lead` as a response recorded by hand (the lead type
is found in the entity registry: campaigns never imports sfa).
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED
from sqlalchemy import delete, func, insert, select

from kyklos_sdk import request_as, utcnow

from . import _
from .models import LANDING_RESPONSES, RESPONSES, Campaign, LandingHit, Recipient
from .tracking import _recipient

LEAD_JOB = "campaigns.response_lead"
MAX_BODY = 16 * 1024
MAX_MESSAGE = 2000
WINDOW = dt.timedelta(minutes=1)
DEFAULT_RATE_LIMIT = 10


def rate_limit(registry) -> int:
    raw = registry.settings.get("kyklos.campaigns.landing.rate_limit")
    try:
        return int(raw) if raw not in (None, "") else DEFAULT_RATE_LIMIT
    except ValueError:
        return DEFAULT_RATE_LIMIT


def count_hit(engine, client: str, limit: int) -> bool:
    """Record a post from ``client``; whether it is within the limit. Its own connection,
    committed at once: the request's transaction is rolled back on a refusal."""
    now = utcnow()
    with engine.begin() as conn:
        conn.execute(
            delete(LandingHit).where(LandingHit.client == client, LandingHit.at < now - 10 * WINDOW)
        )
        n = conn.execute(
            select(func.count(LandingHit.id)).where(
                LandingHit.client == client, LandingHit.at > now - WINDOW
            )
        ).scalar_one()
        conn.execute(insert(LandingHit).values(client=client, at=now))
    return n < limit


def record_response(request, rec: Recipient, response: str, message: str) -> None:
    """Keep the recipient's answer, and queue the lead for an interested one."""
    rec.response = response
    rec.response_message = message or None
    rec.response_source = "landing"
    rec.responded_at = utcnow()
    campaign = request.dbsession.get(Campaign, rec.campaign_id)
    lead_type = request.registry.kyklos_entities.get("lead")
    if lead_type is not None and response in ("accepted", "interested") and rec.lead_id is None:
        owner = campaign.owner_id or campaign.created_by_id if campaign else None
        if owner is not None:
            request.enqueue_job(
                LEAD_JOB,
                args={"recipient_id": rec.id},
                key=f"{LEAD_JOB}:{rec.id}",
                user_id=owner,
            )


def response_lead_job(ctx, recipient_id: int):
    """The lead of a response given on the landing page, made as the campaign's owner
    (their permissions decide, as when they record a response by hand)."""
    from .hooks import make_lead

    with request_as(ctx.registry, ctx.user_id, job_id=ctx.job_id, write=True) as request:
        rec = request.dbsession.get(Recipient, int(recipient_id))
        if rec is None or rec.response not in ("accepted", "interested"):
            return {"lead_id": None}
        make_lead(request, rec)
        request.dbsession.flush()
        return {"lead_id": rec.lead_id}


def _choices(request):
    titles = dict(RESPONSES)
    return [(k, request.localizer.translate(titles[k])) for k in LANDING_RESPONSES]


def respond_view(request):
    """GET: the question; POST: the answer (the page again, thanking)."""
    if request.method == "POST":
        # counted first, on its own connection, before this request reads anything:
        # on SQLite a reading transaction would hold up the count's commit
        client = (request.client_addr or "unknown")[:64]
        if not count_hit(request.registry["dbengine"], client, rate_limit(request.registry)):
            resp = Response(
                status=429,
                content_type="text/plain",
                charset="utf-8",
                body=request.localizer.translate(
                    _("Too many answers from your address. Try again in a minute.")
                ).encode(),
            )
            resp.headers["Retry-After"] = "60"
            return resp
    rec, _p = _recipient(request, "r", request.matchdict["token"])
    campaign = request.dbsession.get(Campaign, rec.campaign_id) if rec is not None else None
    if rec is None or campaign is None or campaign.deleted_at is not None:
        raise HTTPNotFound()
    errors: dict = {}
    message = ""
    done = False
    if request.method == "POST":
        if (request.content_length or 0) > MAX_BODY:
            errors["message"] = _("The message is too long.")
        elif request.POST.get("csrf_token") != request.session.get_csrf_token():
            errors["csrf"] = _("The form expired; send it again.")
        else:
            answer = request.POST.get("response") or ""
            message = (request.POST.get("message") or "").strip()
            if answer not in LANDING_RESPONSES:
                errors["response"] = _("Choose your answer.")
            if len(message) > MAX_MESSAGE:
                errors["message"] = _(
                    "The message is longer than ${n} characters.", mapping={"n": MAX_MESSAGE}
                )
            if not errors:
                record_response(request, rec, answer, message)
                done = True
        if errors:
            request.response.status = 400
    translate = request.localizer.translate
    current = dict(_choices(request)).get(rec.response or "")
    request.response.headers["Cache-Control"] = "no-store"
    request.response.headers["Referrer-Policy"] = "no-referrer"
    return {
        "title": _("Your answer: ${name}", mapping={"name": campaign.name}),
        "campaign_name": campaign.name,
        "name": rec.name,
        "choices": _choices(request),
        "current": current,
        "selected": request.POST.get("response") if errors else rec.response,
        "message": message if errors else (rec.response_message or ""),
        "errors": {k: translate(v) for k, v in errors.items()},
        "done": done,
        "action": request.route_url("campaigns.respond", token=request.matchdict["token"]),
    }


def includeme(config):
    config.add_route("campaigns.respond", "/t/r/{token}")
    config.add_view(
        respond_view,
        route_name="campaigns.respond",
        request_method=("GET", "POST"),
        renderer="kyklos_campaigns:templates/respond.pt",
        permission=NO_PERMISSION_REQUIRED,
        # the view checks the session's CSRF token itself, in words on the page
        require_csrf=False,
    )
    config.add_job(
        LEAD_JOB,
        response_lead_job,
        retries=3,
        retry_delay=30,
        title=_("Make a lead from a campaign response"),
    )

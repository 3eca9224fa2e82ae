"""The occasions page (CON-09/10, D8): birthdays, anniversaries and name days of today,
this week, this month or a date range, with one-click greetings."""

from __future__ import annotations

import datetime as dt
from itertools import groupby

from pyramid.httpexceptions import HTTPForbidden, HTTPSeeOther
from sqlalchemy import select

from kyklos_sdk import Problem, get_record, safe_redirect_target, visible_select

from .. import _, greetings
from ..models import Account, Consent, Greeting
from ..occasions import MAX_DAYS, find_occasions, readable_kinds
from ..settings import calendars
from .common import entity, flash, parse_day

RANGES = {"today": 0, "week": 6, "month": 29}
KINDS = ("birthday", "anniversary", "name_day")


def window(request) -> tuple[str, dt.date, dt.date]:
    params = request.GET
    rng = params.get("range", "week")
    day = parse_day(params.get("date"), "date", dt.date.today())
    if rng in RANGES:
        return rng, day, day + dt.timedelta(days=RANGES[rng])
    if rng != "custom":
        raise Problem(400, _("Invalid parameters"), errors={"range": _("Unknown range.")})
    start = parse_day(params.get("start"), "start", day)
    end = parse_day(params.get("end"), "end", start)
    if end < start:
        raise Problem(400, _("Invalid parameters"),
                      errors={"end": _("The end date is before the start date.")})
    if (end - start).days >= MAX_DAYS:
        raise Problem(400, _("Invalid parameters"),
                      errors={"end": _("At most ${n} days.", mapping={"n": MAX_DAYS})})
    return rng, start, end


PAGE = 200
MAX_PAGE = 1000


def paging(request) -> tuple[int, int]:
    out = []
    for key, default, top in (("limit", PAGE, MAX_PAGE), ("offset", 0, 10**9)):
        raw = request.GET.get(key)
        if raw is None:
            out.append(default)
        elif not raw.isdigit() or int(raw) > top or (key == "limit" and int(raw) < 1):
            raise Problem(400, _("Invalid parameters"),
                          errors={key: _("Not one of the allowed values.")})
        else:
            out.append(int(raw))
    return out[0], out[1]


def collect_occasions(request, start, end, kinds=KINDS):
    et = entity(request, "person")
    base = visible_select(request, et)
    kinds = readable_kinds(request, kinds)
    limit, offset = paging(request)
    return find_occasions(request.dbsession, start, end, calendars(request), base, kinds,
                          limit=limit, offset=offset)


def occasions_view(request):
    rng, start, end = window(request)
    kinds = [k for k in request.GET.getall("kind") if k in KINDS] or list(KINDS)
    page = collect_occasions(request, start, end, kinds)
    found = page.items
    db = request.dbsession
    people = {f.person.id: f.person for f in found}
    ids = list(people)
    accounts = {}
    account_ids = {p.account_id for p in people.values() if p.account_id}
    if account_ids and request.has_permission("contacts.account.read"):
        accounts = dict(
            db.execute(select(Account.id, Account.name).where(Account.id.in_(account_ids))).all()
        )
    consents = {}
    greeted = set()
    if ids:
        for pid, channel, status in db.execute(
            select(Consent.person_id, Consent.channel, Consent.status).where(
                Consent.person_id.in_(ids)
            )
        ):
            consents[(pid, channel)] = status
        for pid, kind, day, channel in db.execute(
            select(Greeting.person_id, Greeting.kind, Greeting.occasion_date, Greeting.channel)
            .where(Greeting.person_id.in_(ids), Greeting.occasion_date.between(start, end))
        ):
            greeted.add((pid, kind, day, channel))
    chans = greetings.channels(request)
    groups = [(day, list(items)) for day, items in groupby(found, key=lambda f: f.occasion.date)]
    return {
        "title": _("Occasions"),
        "range": rng,
        "start": start,
        "end": end,
        "day": parse_day(request.GET.get("date"), "date", dt.date.today()),
        "kinds": kinds,
        "groups": groups,
        "count": page.total,
        "shown": len(found),
        "accounts": accounts,
        "consents": consents,
        "greeted": greeted,
        "channels": chans,
        "consent_channel": greetings.CONSENT_CHANNEL,
        "recipient_for": greetings.recipient_for,
        "can_greet": request.has_permission("contacts.occasions.greet"),
        "person_url": lambda p: request.route_url("entity.detail", slug="persons", id=p.id),
        "came_from": request.path_qs,
    }


def greet_view(request):
    if not request.has_permission("contacts.occasions.greet"):
        raise HTTPForbidden()
    post = request.POST
    back = safe_redirect_target(post.get("came_from"), request.route_url("contacts.occasions"))
    kind = post.get("kind")
    if kind not in KINDS:
        raise Problem(400, _("Invalid data"), errors={"kind": _("Unknown occasion.")})
    day = parse_day(post.get("date"), "date")
    et = entity(request, "person")
    person = get_record(request, et, post.get("person_id"))
    chans = greetings.channels(request)
    channel = chans.get(post.get("channel", ""))
    if channel is None:
        flash(request, _("No message channel is configured for greetings."), "warning")
        return HTTPSeeOther(back)
    try:
        sent = greetings.send_greeting(request, person, kind, day, channel)
    except PermissionError:
        flash(
            request,
            _("${name} has not consented to ${channel}, or has no address for it.",
              mapping={"name": person.full_name, "channel": channel.id}),
            "danger",
        )
        return HTTPSeeOther(back)
    except greetings.GreetingRefused as exc:
        flash(request, _("The greeting could not be sent: ${why}", mapping={"why": str(exc)}),
              "danger")
        return HTTPSeeOther(back)
    if sent is None:
        flash(request, _("This greeting was already sent."), "info")
    else:
        flash(request, _("Greeting sent to ${name}.", mapping={"name": person.full_name}))
    return HTTPSeeOther(back)


def includeme(config):
    config.add_view(
        occasions_view,
        route_name="contacts.occasions",
        request_method="GET",
        renderer="kyklos_contacts:templates/occasions.pt",
        permission="contacts.person.read",
    )
    config.add_view(greet_view, route_name="contacts.greet", permission="contacts.occasions.greet")

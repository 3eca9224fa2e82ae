"""The SMS plugin's pages and API: "Send SMS" from a person or an account (with the
live character and part count), the gateway's settings with "Send a test", sending
again a failed message, and the gateway's callbacks (receipts, inbound messages).
The messages themselves are served by the core (entity type ``smsmessage``)."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.response import Response
from pyramid.security import NO_PERMISSION_REQUIRED

from kyklos_sdk import (
    Problem,
    display_text,
    get_entity_type,
    get_record,
    read_json,
    record_titles,
    serialize,
    visible_select,
)

from . import MANAGE, SEND, _
from .encoding import MAX_PARTS, count
from .models import SmsMessage
from .numbers import BadNumber, normalise
from .service import (
    GatewayError,
    SmsRefused,
    check_body,
    gateway,
    inbound_url,
    mobile_numbers,
    person_country,
    queue,
    save_gateway,
    store_inbound,
    submit,
)

ID = r"{id:\d{1,18}}"
ACK = "ACK/Jasmin"
PHONE_KINDS = {
    "mobile": _("Mobile"),
    "work": _("Work"),
    "home": _("Home"),
    "other": _("Other"),
    "fax": _("Fax"),
    "pager": _("Pager"),
}
#: people of an account offered on its "Send SMS" page
ACCOUNT_PEOPLE = 200


# --- the live count -----------------------------------------------------------------------


def describe_count(request, text: str) -> dict:
    """The count in words for the form (the same function the outbox uses)."""
    c = count(text)
    loc = request.localizer
    chars = loc.pluralize(
        "${n} character", "${n} characters", c.units, domain="kyklos_sms", mapping={"n": c.units}
    )
    parts = loc.pluralize(
        "${n} message", "${n} messages", c.parts, domain="kyklos_sms", mapping={"n": c.parts}
    )
    enc = loc.translate(_("GSM 7-bit") if c.encoding == "gsm7" else _("Unicode (UCS-2)"))
    words = [chars, parts, enc]
    words.append(loc.translate(_("${n} left in this message", mapping={"n": c.remaining})))
    text_out = " · ".join(words)
    if c.unicode_chars:
        text_out += " — " + loc.translate(
            _("Unicode because of: ${c}", mapping={"c": " ".join(c.unicode_chars)})
        )
    too_long = c.parts > MAX_PARTS
    if too_long:
        text_out += " — " + loc.translate(
            _("At most ${n} parts: shorten the message.", mapping={"n": MAX_PARTS})
        )
    return {
        "encoding": c.encoding,
        "units": c.units,
        "parts": c.parts,
        "remaining": c.remaining,
        "too_long": too_long,
        "text": text_out,
    }


def api_count(request):
    text = request.params.get("text", "")
    if len(text) > 5000:
        raise Problem(400, _("Invalid parameters"), errors={"text": _("At most 5000 characters.")})
    return describe_count(request, text)


# --- sending ----------------------------------------------------------------------------------


def _record(request, name):
    raw = request.params.get(name, "")
    if not raw.isdigit() or len(raw) > 18:
        return None
    return get_record(request, get_entity_type(request, name), raw)


def choices_for(request, person=None, account=None) -> list[tuple[str, str, object]]:
    """``[(value, label, person)]``: the person's numbers, or the numbers of the
    account's people the user may see; value is ``person_id:number``."""
    loc = request.localizer
    pet = get_entity_type(request, "person")
    people = [person] if person is not None else []
    if account is not None:
        from kyklos_contacts.models import Person

        people = (
            request.dbsession.execute(
                visible_select(request, pet)
                .where(Person.account_id == account.id)
                .limit(ACCOUNT_PEOPLE)
            )
            .scalars()
            .all()
        )
    titles = record_titles(request, pet, people)
    out = []
    for p in people:
        kinds = {ph["number"]: ph.get("type") for ph in p.phones or []}
        for number in mobile_numbers(p):
            kind = loc.translate(PHONE_KINDS.get(kinds.get(number), _("Other")))
            shown = display_text(request, "smsmessage", "number", number)
            label = f"{titles.get(p.id, '')} · {kind} · {shown}"
            out.append((f"{p.id}:{number}", label, p))
    return out


def _send_from_choice(request, choices, choice, body) -> SmsMessage:
    found = next((c for c in choices if c[0] == choice), None)
    if found is None:
        raise SmsRefused({"recipient": _("Choose a number from the list.")})
    number = found[0].partition(":")[2]
    return queue(request, number, body, person=found[2], source="manual")


def send_page(request):
    person, account = _record(request, "person"), None
    if person is None:
        account = _record(request, "account")
    if person is None and account is None:
        raise HTTPNotFound()
    record = person or account
    et = get_entity_type(request, "person" if person is not None else "account")
    back = request.route_path("entity.detail", slug=et.slug, id=record.id)
    choices = choices_for(request, person, account)
    values = {"recipient": choices[0][0] if choices else "", "body": ""}
    errors: dict = {}
    if request.method == "POST":
        values = {
            "recipient": request.POST.get("recipient", ""),
            "body": request.POST.get("body", ""),
        }
        try:
            _send_from_choice(request, choices, values["recipient"], values["body"])
        except SmsRefused as exc:
            errors = exc.errors
        else:
            request.session.flash(_("The SMS is queued; it leaves in a moment."), "success")
            return HTTPSeeOther(back)
    return {
        "record_title": record_titles(request, et, [record]).get(record.id, ""),
        "back": back,
        "choices": [(v, label) for v, label, _p in choices],
        "values": values,
        "errors": errors,
        "count": describe_count(request, values["body"]),
        "count_url": request.route_path("sms.api.count"),
        "has_gateway": gateway(request.dbsession) is not None,
    }


def _message_json(request, msg: SmsMessage) -> dict:
    return serialize(request, get_entity_type(request, "smsmessage"), msg)


def api_send(request):
    data = read_json(request)
    if not isinstance(data, dict):
        raise Problem(400, _("Invalid data"), errors={"": _("Send a JSON object.")})
    unknown = set(data) - {"person_id", "number", "body"}
    if unknown:
        raise Problem(
            400,
            _("Invalid data"),
            errors={k: _("Unknown field.") for k in sorted(unknown)},
        )
    person = None
    errors: dict = {}
    pid = data.get("person_id")
    if pid is not None:
        if not isinstance(pid, int) or isinstance(pid, bool):
            errors["person_id"] = _("Give a person's id.")
        else:
            try:
                person = get_record(request, get_entity_type(request, "person"), pid)
            except HTTPNotFound:
                errors["person_id"] = _("No such person, or you may not see them.")
    number = data.get("number")
    if number is not None and not isinstance(number, str):
        errors["number"] = _("Give the number as text.")
    if number is None and person is not None:
        mobiles = mobile_numbers(person)
        number = mobiles[0] if mobiles else None
        if number is None:
            errors["number"] = _("This person has no mobile number.")
    if number is None and "number" not in errors and "person_id" not in errors:
        errors["number"] = _("Give a mobile number or a person.")
    if isinstance(number, str) and "number" not in errors:
        try:
            normalise(number, *person_country(request, person))
        except BadNumber as exc:
            errors["number"] = exc.reason
    if not isinstance(data.get("body"), str):
        errors["body"] = _("Write the message.")
    else:
        try:
            check_body(data["body"])
        except SmsRefused as exc:
            errors.update(exc.errors)
    if errors:
        raise Problem(400, _("Invalid data"), errors=errors)
    try:
        msg = queue(request, number, data["body"], person=person, source="api")
    except SmsRefused as exc:
        raise Problem(400, _("Invalid data"), errors=exc.errors) from None
    request.response.status = 201
    return _message_json(request, msg)


def _resend(request) -> SmsMessage:
    et = get_entity_type(request, "smsmessage")
    old = get_record(request, et, request.matchdict["id"])
    if old.direction != "out" or old.state != "failed":
        raise Problem(
            409, _("Not sent again"), errors={"state": _("Only a failed message is sent again.")}
        )
    person = None
    if old.person_id:
        from kyklos_contacts.models import Person

        person = request.dbsession.get(Person, old.person_id)
    try:
        return queue(request, old.number, old.body, person=person, source=old.source)
    except SmsRefused as exc:
        raise Problem(400, _("Invalid data"), errors=exc.errors) from None


def api_resend(request):
    msg = _resend(request)
    request.response.status = 201
    return _message_json(request, msg)


def resend_page(request):
    try:
        msg = _resend(request)
    except Problem as p:
        request.session.flash(next(iter(p.errors.values()), p.title), "danger")
        return HTTPSeeOther(
            request.route_path("entity.detail", slug="sms-messages", id=request.matchdict["id"])
        )
    request.session.flash(_("The SMS is queued again."), "success")
    return HTTPSeeOther(request.route_path("entity.detail", slug="sms-messages", id=msg.id))


# --- the gateway's settings -------------------------------------------------------------------


def gateway_json(request) -> dict:
    gw = gateway(request.dbsession)
    if gw is None:
        return {"configured": False}
    return {
        "configured": True,
        "url": gw.url,
        "username": gw.username,
        "password_set": bool(gw.password_secret),
        "sender": gw.sender,
        "per_minute": gw.per_minute,
        "callback_base": gw.callback_base,
        "active": gw.active,
        "inbound_url": inbound_url(request, gw),
    }


def api_gateway(request):
    if request.method == "PUT":
        data = read_json(request)
        if not isinstance(data, dict):
            raise Problem(400, _("Invalid data"), errors={"": _("Send a JSON object.")})
        allowed = {"url", "username", "password", "sender", "per_minute", "callback_base", "active"}
        unknown = set(data) - allowed
        if unknown:
            raise Problem(
                400, _("Invalid data"), errors={k: _("Unknown field.") for k in sorted(unknown)}
            )
        try:
            save_gateway(request, data)
        except SmsRefused as exc:
            raise Problem(400, _("Invalid data"), errors=exc.errors) from None
    return gateway_json(request)


def test_send(request, number) -> SmsMessage:
    """Hand one test message to the gateway now (not through the outbox), so the
    administrator sees at once whether the settings work; it is kept as a message."""
    gw = gateway(request.dbsession)
    if gw is None:
        raise SmsRefused({"url": _("Save the gateway's settings first.")})
    text = request.localizer.translate(_("Test message from Kyklos: the SMS gateway works."))
    msg = queue(request, number or "", text, source="manual")
    msg.state = "sending"
    request.dbsession.flush()
    try:
        gid = submit(request.registry, request, gw, msg)
    except GatewayError as exc:
        raise SmsRefused(
            {"number": _("The gateway refused: ${e}", mapping={"e": str(exc)[:300]})}
        ) from None
    from kyklos_sdk import utcnow

    msg.state, msg.gateway_id, msg.sent_at = "sent", gid[:80], utcnow()
    return msg


def api_gateway_test(request):
    data = read_json(request)
    number = data.get("number") if isinstance(data, dict) else None
    if not isinstance(number, str):
        raise Problem(400, _("Invalid data"), errors={"number": _("Give a mobile number.")})
    try:
        msg = test_send(request, number)
    except SmsRefused as exc:
        raise Problem(400, _("Invalid data"), errors=exc.errors) from None
    return _message_json(request, msg)


def gateway_page(request):
    gw = gateway(request.dbsession)
    values = {
        "url": gw.url if gw else "http://127.0.0.1:1401",
        "username": gw.username if gw else "",
        "sender": gw.sender if gw else "",
        "per_minute": str(gw.per_minute) if gw else "60",
        "callback_base": gw.callback_base if gw else "",
        "active": gw.active if gw else True,
        "test_number": "",
    }
    errors: dict = {}
    if request.method == "POST":
        post = request.POST
        if post.get("action") == "test":
            values["test_number"] = post.get("test_number", "")
            try:
                test_send(request, values["test_number"])
            except SmsRefused as exc:
                errors = exc.errors
                if "number" in errors:
                    errors["test_number"] = errors.pop("number")
            else:
                request.session.flash(_("The gateway accepted the test message."), "success")
                return HTTPSeeOther(request.route_path("sms.gateway"))
        else:
            values.update(
                {
                    k: post.get(k, "")
                    for k in ("url", "username", "sender", "per_minute", "callback_base")
                }
            )
            values["active"] = post.get("active") == "on"
            try:
                save_gateway(request, {**values, "password": post.get("password") or None})
            except SmsRefused as exc:
                errors = exc.errors
            else:
                request.session.flash(_("The SMS gateway's settings are saved."), "success")
                return HTTPSeeOther(request.route_path("sms.gateway"))
    return {
        "gw": gw,
        "values": values,
        "errors": errors,
        "inbound": inbound_url(request, gw) if gw else "",
    }


# --- the gateway's callbacks ------------------------------------------------------------------


def callback_params(request) -> dict:
    """The gateway's fields (the core drops a field that is not UTF-8: see ``__init__``)."""
    return dict(request.params)


def receipt(request):
    """Jasmin's delivery receipt (``dlr-url``): the URL names our row and its token."""
    from .service import apply_receipt

    msg = request.dbsession.get(SmsMessage, int(request.matchdict["id"]))
    if msg is None or not apply_receipt(
        request.dbsession, msg, request.matchdict["token"], callback_params(request)
    ):
        return Response("unknown message", status=404, content_type="text/plain")
    return Response(ACK, content_type="text/plain")


def inbound(request):
    """Jasmin's HTTP client connector posts each inbound message here (MO route); it
    retries until the answer is ``ACK/Jasmin``."""
    import hmac

    gw = gateway(request.dbsession)
    if gw is None or not hmac.compare_digest(gw.inbound_token, request.matchdict["token"]):
        return Response("unknown", status=404, content_type="text/plain")
    store_inbound(request, callback_params(request))
    return Response(ACK, content_type="text/plain")


def includeme(config):
    tpl = "kyklos_sms:templates/"
    config.add_static_view("sms/static", "kyklos_sms:static/", cache_max_age=3600)
    routes = [
        ("sms.send", "/sms/send", None),
        ("sms.gateway", "/admin/sms", None),
        ("sms.resend", f"/sms/messages/{ID}/resend", "POST"),
        ("sms.receipt", f"/sms/receipt/{ID}/{{token:[A-Za-z0-9_-]{{1,64}}}}", None),
        ("sms.inbound", "/sms/inbound/{token:[A-Za-z0-9_-]{1,64}}", None),
        ("sms.api.count", "/api/v1/sms/count", "GET"),
        ("sms.api.send", "/api/v1/sms/send", "POST"),
        ("sms.api.gateway", "/api/v1/sms/gateway", ("GET", "PUT")),
        ("sms.api.gateway.test", "/api/v1/sms/gateway/test", "POST"),
        ("sms.api.resend", f"/api/v1/sms-messages/{ID}/resend", "POST"),
    ]
    for name, pattern, method in routes:
        # the method on the route too: the core's /api/v1/{slug}/{id} must not swallow it
        config.add_route(name, pattern, request_method=method)
    config.add_view(
        send_page,
        route_name="sms.send",
        renderer=tpl + "send.pt",
        permission=SEND,
        request_method=("GET", "POST"),
    )
    config.add_view(
        gateway_page,
        route_name="sms.gateway",
        renderer=tpl + "gateway.pt",
        permission=MANAGE,
        request_method=("GET", "POST"),
    )
    config.add_view(resend_page, route_name="sms.resend", permission=SEND, request_method="POST")
    for name, view in (("sms.receipt", receipt), ("sms.inbound", inbound)):
        # the gateway is no user: the token in the URL is its credential
        config.add_view(
            view,
            route_name=name,
            permission=NO_PERMISSION_REQUIRED,
            require_csrf=False,
            request_method=("GET", "POST"),
        )
    config.add_view(api_count, route_name="sms.api.count", permission=SEND, renderer="json")
    config.add_view(api_send, route_name="sms.api.send", permission=SEND, renderer="json")
    config.add_view(api_gateway, route_name="sms.api.gateway", permission=MANAGE, renderer="json")
    config.add_view(
        api_gateway_test, route_name="sms.api.gateway.test", permission=MANAGE, renderer="json"
    )
    config.add_view(api_resend, route_name="sms.api.resend", permission=SEND, renderer="json")

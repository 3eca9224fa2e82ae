"""Sequences' pages and API beyond the core's record pages: the steps in words with
their results (the step editor: add, change, remove through the record forms), start
and pause; the validation hooks of sequences, steps and enrolments."""

from __future__ import annotations

from markupsafe import Markup, escape
from pyramid.httpexceptions import HTTPFound

from kyklos_sdk import (
    Action,
    Panel,
    Problem,
    RecordError,
    display_text,
    format_datetime,
    format_number,
    get_entity_type,
    get_record,
    hookimpl,
)

from . import PERMISSIONS, SEND, _
from .sequences_models import CONDITIONS, SequenceStep

ID = r"{id:\d{1,18}}"


def _tr(request, text):
    return request.localizer.translate(text)


def step_words(request, step: SequenceStep, steps=None) -> str:
    """The step as one sentence in the user's language."""
    from kyklos_contacts.models import Person  # noqa: F401 - the mapper of Recipient

    from .models import EmailTemplate, LetterTemplate

    db = request.dbsession
    kind = step.kind
    if kind == "email":
        t = db.get(EmailTemplate, step.template_id) if step.template_id else None
        return _tr(
            request,
            _("Send the e-mail “${template}”", mapping={"template": t.name if t else "?"}),
        )
    if kind == "message":
        channel = display_text(request, "sequencestep", "channel", step.channel) or "?"
        text = (step.message or "").strip()
        short = text if len(text) <= 60 else text[:57] + "..."
        return _tr(
            request,
            _(
                "Send the ${channel} message “${text}”",
                mapping={"channel": channel, "text": short},
            ),
        )
    if kind == "letter":
        t = db.get(LetterTemplate, step.letter_template_id) if step.letter_template_id else None
        return _tr(
            request, _("Make the letter “${template}”", mapping={"template": t.name if t else "?"})
        )
    if kind in ("call", "meeting"):
        days = step.due_days or 0
        when = (
            _tr(request, _("the same day"))
            if not days
            else request.localizer.pluralize(
                "${n} day later",
                "${n} days later",
                days,
                domain="kyklos_campaigns",
                mapping={"n": format_number(request, days)},
            )
        )
        msg = (
            _(
                "Create a call “${subject}” for the owner, due ${when}",
                mapping={"subject": step.subject or "", "when": when},
            )
            if kind == "call"
            else _(
                "Create a meeting “${subject}” for the owner, ${when}",
                mapping={"subject": step.subject or "", "when": when},
            )
        )
        return _tr(request, msg)
    if kind == "wait":
        n = step.wait_amount or 0
        mapping = {"n": format_number(request, n)}
        loc = request.localizer
        if step.wait_unit == "days":
            return loc.pluralize(
                "Wait ${n} day", "Wait ${n} days", n, domain="kyklos_campaigns", mapping=mapping
            )
        return loc.pluralize(
            "Wait ${n} hour", "Wait ${n} hours", n, domain="kyklos_campaigns", mapping=mapping
        )
    if kind == "condition":
        cond = _tr(request, dict(CONDITIONS).get(step.condition, step.condition or ""))
        if step.otherwise == "jump" and step.jump_step_id:
            target = db.get(SequenceStep, step.jump_step_id)
            where = _tr(
                request,
                _(
                    "go to step ${n} “${name}”",
                    mapping={
                        "n": target.position if target else "?",
                        "name": target.name if target else "",
                    },
                ),
            )
        else:
            where = _tr(request, _("stop"))
        return _tr(
            request,
            _(
                "If the person ${condition}: go on; otherwise ${where}",
                mapping={"condition": cond, "where": where},
            ),
        )
    return kind


def kind_titles(request, kind: str) -> set:
    """The kind's title in every language: a step's default name, not worth repeating
    under its sentence."""
    from kyklos_sdk import LANGUAGES, translate_for

    from .sequences_models import STEP_KINDS

    title = dict(STEP_KINDS).get(kind)
    if title is None:
        return set()
    return {translate_for(request, title, lang) for lang in LANGUAGES} | {str(title)}


def render_step(request, field, value):
    """A step reference (an enrolled person's next step) in words."""
    step = request.dbsession.get(SequenceStep, value) if value else None
    if step is None:
        return ""
    return escape(f"{step.position}. {step_words(request, step)}")


def outcome_words(request, row: dict) -> str:
    """What a step did, in words: "3 done, 1 skipped" / "2 met, 1 not met"."""
    from .sequences_models import RUN_OUTCOMES

    titles = dict(RUN_OUTCOMES)
    parts = [
        f"{format_number(request, n)} {_tr(request, titles.get(k, k)).lower()}"
        for k, n in sorted(row["outcomes"].items())
    ]
    return ", ".join(parts)


# --- API -----------------------------------------------------------------------------


def _sequence(request, action="read"):
    et = get_entity_type(request, "sequence")
    return et, get_record(request, et, request.matchdict["id"], action=action)


def _problem(exc: RecordError) -> Problem:
    return Problem(exc.status or 400, exc.title, errors=exc.errors)


def api_start(request):
    """``POST /api/v1/sequences/{id}/start``: enrol the list's people and run."""
    from .sequences import start

    _et, seq = _sequence(request, "update")
    try:
        out = start(request, seq)
    except RecordError as exc:
        raise _problem(exc) from None
    return {"status": seq.status, **out}


def api_pause(request):
    """``POST /api/v1/sequences/{id}/pause``: nobody moves on until it starts again."""
    from .sequences import pause

    _et, seq = _sequence(request, "update")
    try:
        pause(request, seq)
    except RecordError as exc:
        raise _problem(exc) from None
    return {"status": seq.status}


def api_results(request):
    """``GET /api/v1/sequences/{id}/results``: each step in words with its numbers."""
    from .sequences import step_results

    _et, seq = _sequence(request)
    rows = step_results(request, seq)
    db = request.dbsession
    for row in rows:
        row["words"] = step_words(request, db.get(SequenceStep, row["id"]))
    return {"id": seq.id, "status": seq.status, "steps": rows}


# --- pages ---------------------------------------------------------------------------


def steps_page(request):
    """The step editor: the steps in words, who waits at each, what each did."""
    from .sequences import step_results

    et, seq = _sequence(request)
    db = request.dbsession
    step_et = get_entity_type(request, "sequencestep")
    can_edit = request.has_permission(step_et.permission("update")) and seq.status != "running"
    rows = []
    for row in step_results(request, seq):
        step = db.get(SequenceStep, row["id"])
        m = row["messages"]
        numbers = ""
        if m is not None:
            numbers = _tr(
                request,
                _(
                    "${sent} sent, ${opened} opened, ${clicked} clicked, ${responded} responded",
                    mapping={k: format_number(request, m[k]) for k in m},
                ),
            )
        rows.append(
            {
                "position": step.position,
                "words": step_words(request, step),
                "name": "" if step.name in kind_titles(request, step.kind) else step.name,
                "waiting": format_number(request, row["waiting"]),
                "done": outcome_words(request, row),
                "numbers": numbers,
                "campaign_url": (
                    request.route_url("campaigns.results", id=step.campaign_id)
                    if step.campaign_id
                    else ""
                ),
                "edit_url": request.route_url("entity.edit", slug=step_et.slug, id=step.id),
                "delete_url": request.route_url("entity.delete", slug=step_et.slug, id=step.id),
                "detail_url": request.route_url("entity.detail", slug=step_et.slug, id=step.id),
            }
        )
    enrol_et = get_entity_type(request, "sequenceenrolment")
    return {
        "title": _("Steps: ${name}", mapping={"name": seq.name}),
        "seq": seq,
        "status": display_text(request, "sequence", "status", seq.status),
        "rows": rows,
        "can_edit": can_edit,
        "can_run": request.has_permission(SEND),
        "running": seq.status == "running",
        "started_at": (format_datetime(request, seq.started_at) if seq.started_at else ""),
        "add_url": request.route_url(
            "entity.new", slug=step_et.slug, _query={"sequence_id": seq.id}
        ),
        "detail_url": request.route_url("entity.detail", slug=et.slug, id=seq.id),
        "list_url": request.route_url("entity.list", slug=et.slug),
        "people_url": request.route_url(
            "entity.list", slug=enrol_et.slug, _query={"sequence_id": seq.id}
        ),
    }


def start_page(request):
    from .sequences import pause, start

    _et, seq = _sequence(request, "update")
    back = request.route_url("sequences.steps", id=seq.id)
    if request.POST.get("csrf_token") != request.session.get_csrf_token():
        request.session.flash(_tr(request, _("The form expired; send it again.")), "danger")
        return HTTPFound(back)
    try:
        if request.matched_route.name == "sequences.pause":
            pause(request, seq)
            request.session.flash(_tr(request, _("The sequence is paused.")), "success")
        else:
            out = start(request, seq)
            request.session.flash(
                _tr(
                    request,
                    _(
                        "The sequence is running: ${n} people enrolled.",
                        mapping={"n": format_number(request, out["enrolled"])},
                    ),
                ),
                "success",
            )
    except RecordError as exc:
        for msg in exc.errors.values():
            request.session.flash(_tr(request, msg), "danger")
    return HTTPFound(back)


# --- hooks ---------------------------------------------------------------------------


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        from .sequences import validate_enrolment, validate_sequence, validate_step

        name = entity_type.name
        if name == "sequence":
            validate_sequence(request, record, data, errors)
        elif name == "sequencestep":
            validate_step(request, record, data, errors)
        elif name == "sequenceenrolment":
            validate_enrolment(request, record, data, errors)

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "sequenceenrolment" and created:
            from .sequences import enrol_defaults

            enrol_defaults(request, record)

    @hookimpl
    def kyklos_record_before_delete(self, request, entity_type, record):
        if entity_type.name == "sequencestep":
            from .sequences import check_step_delete

            check_step_delete(request, record)

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name == "sequence":
            return [
                Action(
                    _("Steps and results"),
                    request.route_url("sequences.steps", id=record.id),
                    style="primary",
                )
            ]
        if entity_type.name == "sequencestep":
            return [
                Action(
                    _("All the steps"),
                    request.route_url("sequences.steps", id=record.sequence_id),
                )
            ]
        return None

    @hookimpl
    def kyklos_record_form_panels(self, request, entity_type, record, mode):
        if entity_type.name != "sequencestep":
            return None
        script = request.static_url("kyklos_campaigns:static/sequence_step.js")
        text = _tr(
            request,
            _(
                "Choose the kind of step: the form shows its fields. Steps run in their "
                "order; a condition looks at the nearest e-mail or text message before it."
            ),
        )
        html = Markup('<p class="small mb-0">{}</p><script src="{}" defer></script>').format(
            text, script
        )
        return [Panel(_("The step"), html=str(html), id="campaigns-step-help", order=10)]


def includeme(config):
    tpl = "kyklos_campaigns:templates/"
    r = config.add_route
    v = config.add_view
    p = PERMISSIONS
    r("sequences.api.start", f"/api/v1/sequences/{ID}/start", request_method="POST")
    r("sequences.api.pause", f"/api/v1/sequences/{ID}/pause", request_method="POST")
    r("sequences.api.results", f"/api/v1/sequences/{ID}/results", request_method="GET")
    r("sequences.steps", f"/sequences/{ID}/steps")
    r("sequences.start", f"/sequences/{ID}/start", request_method="POST")
    r("sequences.pause", f"/sequences/{ID}/pause", request_method="POST")
    v(api_start, route_name="sequences.api.start", renderer="json", permission=SEND)
    v(api_pause, route_name="sequences.api.pause", renderer="json", permission=SEND)
    v(
        api_results,
        route_name="sequences.api.results",
        renderer="json",
        permission=p["sequence"]["read"],
    )
    v(
        steps_page,
        route_name="sequences.steps",
        renderer=tpl + "sequence_steps.pt",
        permission=p["sequence"]["read"],
    )
    v(start_page, route_name="sequences.start", permission=SEND)
    v(start_page, route_name="sequences.pause", permission=SEND)
    config.add_hooks(Hooks(), name="kyklos_campaigns.sequences")
    config.add_display_kind("sequence_step", render_step)

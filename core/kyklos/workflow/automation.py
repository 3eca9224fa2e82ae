"""Automation rules (WF-03, WF-04, WF-06, D7): trigger -> conditions -> actions.

Triggers: ``created``, ``updated``, ``field_changed`` (a field, optionally ``to`` one
value: "when an opportunity's status becomes won"), ``state`` (the record moved to a
state of its workflow), ``transition`` (a workflow transition), ``time`` (a moment
relative to a date or date-time field, custom ones included: "1 day after the meeting
ends", "30 days before the contract ends").

A field the server derives (an opportunity's status follows its stage) changes without
being written: its value is noted before the save and compared after, so a rule on it
fires like one on a typed field. A computed field that is not stored cannot drive a
time rule: such a rule is refused when saved, with the reason.

When a trigger's event happens the conditions are evaluated at once, in the writing
transaction, and the outcome is logged in ``kyklos_automation_run`` under a key unique
per (rule, record, event): a rule fires at most once per event, however often the
event is seen. A fired rule's actions run in a job after the commit. Time triggers are
found by a periodic scan of the records whose due moment has come; their event key
holds the date value, so each (rule, record, date) fires once, and a scan after a
restart catches up on what came due meanwhile.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyklos.db import utcnow
from kyklos.entities import query, values
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.workflow.actions import ActionError, action_types
from kyklos.workflow.conditions import ConditionError, compile_conditions, evaluate
from kyklos.workflow.configured import configured
from kyklos.workflow.models import (
    DONE,
    FAILED,
    FIRED,
    SKIPPED,
    AutomationRule,
    AutomationRun,
)

log = logging.getLogger("kyklos.workflow.automation")

TRIGGERS = ("created", "updated", "field_changed", "state", "transition", "time")
UNITS = {"minutes": 60, "hours": 3600, "days": 86400}
DIRECTIONS = ("before", "after")
MAX_ACTIONS = 20
#: a rule's action causing another rule to fire, and so on, stops at this depth
MAX_DEPTH = 5
DEPTH = "kyklos.automation.depth"
RUN_JOB = "kyklos.automation.run"
SCAN_JOB = "kyklos.automation.scan"
#: records per rule per scan; the next scan continues
SCAN_BATCH = 500
#: a due moment slightly before the last scan is looked at again (edits, clock skew)
SCAN_GRACE = dt.timedelta(hours=1)


# --- validation ----------------------------------------------------------------------------


def validate_rule(request, doc: dict) -> tuple[dict, dict]:
    """Check a rule document (``entity``, ``name``, ``enabled``, ``trigger``,
    ``conditions``, ``actions``). Returns ``(clean, errors)``; errors map a key to a
    message."""
    from kyklos.workflow.runtime import get_workflow

    errors: dict = {}
    clean: dict = {}
    if not isinstance(doc, dict):
        return {}, {"": "send a rule object"}
    et = request.registry.kyklos_entities.get(doc.get("entity"))
    if et is None:
        return {}, {"entity": "unknown entity type"}
    clean["entity"] = et.name
    name = doc.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors["name"] = "a name of 1 to 200 characters"
    else:
        clean["name"] = name.strip()
    clean["enabled"] = bool(doc.get("enabled", True))
    trig = doc.get("trigger")
    if isinstance(trig, str):
        trig = {"kind": trig}
    if not isinstance(trig, dict) or trig.get("kind") not in TRIGGERS:
        errors["trigger"] = f"trigger kind must be one of {', '.join(TRIGGERS)}"
    else:
        problem, trig = _trigger_problem(request, et, trig, get_workflow(request, et.name))
        if problem:
            errors["trigger"] = problem
        clean["trigger"] = trig
    conditions = doc.get("conditions") or {}
    try:
        compile_conditions(et, conditions)
        clean["conditions"] = conditions
    except ConditionError as exc:
        errors["conditions"] = str(exc)
    actions = doc.get("actions") or []
    types = action_types(request.registry)
    if not isinstance(actions, list) or not actions or len(actions) > MAX_ACTIONS:
        errors["actions"] = f"1 to {MAX_ACTIONS} actions"
    else:
        for i, a in enumerate(actions):
            if not isinstance(a, dict) or a.get("type") not in types:
                errors[f"actions.{i}"] = f"unknown action type (one of {', '.join(types)})"
                continue
            problems = types[a["type"]].validate(request.registry, et, a)
            if problems:
                errors[f"actions.{i}"] = "; ".join(problems)
        clean["actions"] = actions
    return clean, errors


def _trigger_problem(request, et, trig, wf):
    kind = trig["kind"]
    out = {"kind": kind}
    if kind == "field_changed":
        f = et.fields.get(trig.get("field") or "")
        if f is None:
            return "field_changed needs a field of the record", out
        out["field"] = f.name
        if trig.get("to") not in (None, ""):
            try:
                out["to"] = values.to_json(
                    f, values.parse_value(f, trig["to"], values.column_of(et, f))
                )
            except values.Invalid as exc:
                return f"to: {exc.msg}", out
            except (TypeError, ValueError) as exc:
                return f"to: {exc}", out
    elif kind == "state":
        name = trig.get("state")
        if wf is None:
            return "this record type has no workflow: use field_changed", out
        if not isinstance(name, str) or wf.state(name) is None:
            return "state needs a state of the record's workflow", out
        out["state"] = name
    elif kind == "transition":
        name = trig.get("transition")
        if not isinstance(name, str) or wf is None or wf.transition(name) is None:
            return "transition needs a transition of the record's workflow", out
        out["transition"] = name
    elif kind == "time":
        f = et.fields.get(trig.get("field") or "")
        if f is None or f.type not in ("date", "datetime"):
            return "a time trigger needs a date or date-time field of the record", out
        if getattr(f, "virtual", False):
            return (
                f"{f.name!r} is computed when read, not stored: no time rule can "
                "find the records it comes due for"
            ), out
        offset = trig.get("offset", 0)
        if (
            isinstance(offset, bool)
            or not isinstance(offset, int | float)
            or not (0 <= offset <= 3650)
        ):
            return "offset must be a number from 0 to 3650", out
        unit = trig.get("unit", "days")
        direction = trig.get("direction", "after")
        if unit not in UNITS:
            return f"unit must be one of {', '.join(UNITS)}", out
        if direction not in DIRECTIONS:
            return "direction must be 'before' or 'after'", out
        out.update(field=f.name, offset=offset, unit=unit, direction=direction)
    return None, out


def apply_rule(rule: AutomationRule, clean: dict) -> None:
    """Save a validated rule document onto ``rule``. A changed trigger or a rule
    switched back on starts its time window now: it does not fire for the past."""
    restart = rule.id is not None and (
        clean.get("trigger") != rule.trigger or (clean.get("enabled") and not rule.enabled)
    )
    for k, v in clean.items():
        setattr(rule, k, v)
    if restart:
        rule.scanned_until = utcnow()


def describe_trigger(trig) -> str:
    if isinstance(trig, str):
        trig = {"kind": trig}
    kind = (trig or {}).get("kind")
    if kind == "field_changed":
        if trig.get("to") is not None:
            return f"when {trig.get('field')} changes to {trig.get('to')}"
        return f"when {trig.get('field')} changes"
    if kind == "state":
        return f"when moved to state {trig.get('state')}"
    if kind == "transition":
        return f"on transition {trig.get('transition')}"
    if kind == "time":
        return (
            f"{trig.get('offset')} {trig.get('unit')} {trig.get('direction')} {trig.get('field')}"
        )
    if kind == "created":
        return "when a record is created"
    if kind == "updated":
        return "when a record is updated"
    return str(kind)


# --- firing --------------------------------------------------------------------------------


def rules_for(request, entity: str) -> list[AutomationRule]:
    cache = request.__dict__.setdefault("_kyklos_rules", {})
    if entity not in cache:
        known = configured(request)
        if known is not None and entity not in known.rules:
            cache[entity] = []  # no enabled rule for the type: no statement
            return cache[entity]
        cache[entity] = list(
            request.dbsession.execute(
                select(AutomationRule)
                .where(AutomationRule.entity == entity, AutomationRule.enabled.is_(True))
                .order_by(AutomationRule.id)
            ).scalars()
        )
    return cache[entity]


def forget_rules(request) -> None:
    request.__dict__.pop("_kyklos_rules", None)


def fire(request, rule, et, record, event_key: str) -> AutomationRun | None:
    """Evaluate ``rule`` for one event and log the outcome; queue the actions when it
    fires. Returns the run, or None when this event was handled already."""
    depth = request.environ.get(DEPTH, 0)
    if depth >= MAX_DEPTH:
        outcome, reason = SKIPPED, f"stopped: rules triggering rules {MAX_DEPTH} deep"
    else:
        try:
            ok, reason = evaluate(et, record, compile_conditions(et, rule.conditions))
            outcome = FIRED if ok else SKIPPED
        except ConditionError as exc:
            outcome, reason = FAILED, f"invalid conditions: {exc}"
    run = AutomationRun(
        rule_id=rule.id,
        entity=et.name,
        record_id=record.id,
        event_key=event_key[:200],
        outcome=outcome,
        reason=reason,
        results=[],
        created_at=utcnow(),
    )
    db = request.dbsession
    try:
        with db.begin_nested():
            db.add(run)
    except IntegrityError:
        return None  # this event already fired (or was skipped) for this rule
    if outcome == FIRED:
        from kyklos.jobs import enqueue

        # The actions run as the rule's author: a plugin's action type may then use
        # the ordinary write path with that person's rights (built-in actions act on
        # the rule's own authority either way).
        run.job_id = enqueue(
            request,
            RUN_JOB,
            args={"run_id": run.id, "depth": depth + 1},
            key=f"automation-run:{run.id}",
            user_id=rule.created_by_id,
        )
    return run


BEFORE = "_kyklos_automation_before"


def watched_fields(request, et) -> set[str]:
    """The fields whose change some enabled rule of ``et`` waits for."""
    wf = None
    out = set()
    for rule in rules_for(request, et.name):
        trig = rule.trigger or {}
        if trig.get("kind") == "field_changed":
            out.add(trig.get("field"))
        elif trig.get("kind") == "state":
            from kyklos.workflow.runtime import get_workflow

            wf = wf or get_workflow(request, et.name)
            if wf is not None:
                out.add(wf.field)
    return {n for n in out if n in et.fields}


def note_before(request, et, record) -> None:
    """Keep the watched fields' values before a save: the fields the server derives
    change without appearing among the written changes."""
    names = watched_fields(request, et)
    if not names:
        return
    seen = request.__dict__.setdefault(BEFORE, {})
    seen[(et.name, id(record))] = {
        n: values.to_json(et.fields[n], values.read_value(et, et.fields[n], record)) for n in names
    }


def changed_fields(request, et, record, changes) -> dict:
    """``{name: new JSON value}`` of the watched fields this save changed, written or
    derived."""
    before = request.__dict__.get(BEFORE, {}).pop((et.name, id(record)), None)
    out = {}
    for name in watched_fields(request, et):
        f = et.fields[name]
        now = values.to_json(f, values.read_value(et, f, record))
        if name in changes or (before is not None and before.get(name) != now):
            out[name] = now
    return out


def on_save(request, et, record, changes, created) -> None:
    rules = rules_for(request, et.name)
    if not rules:
        return
    changed = {} if created else changed_fields(request, et, record, changes)
    wf = None
    for rule in rules:
        trig = rule.trigger or {}
        kind = trig.get("kind")
        if created and kind == "created":
            fire(request, rule, et, record, "created")
        elif not created and kind == "updated":
            fire(request, rule, et, record, f"updated:v{record.version}")
        elif not created and kind == "field_changed":
            name = trig.get("field")
            if name in changed and ("to" not in trig or changed[name] == trig["to"]):
                fire(request, rule, et, record, f"changed:{name}:v{record.version}")
        elif not created and kind == "state":
            from kyklos.workflow.runtime import get_workflow

            wf = wf or get_workflow(request, et.name)
            if wf is not None and changed.get(wf.field) == trig.get("state"):
                fire(request, rule, et, record, f"state:{trig['state']}:v{record.version}")


class Hooks:
    """Notes the watched fields before every save (before other plugins derive values)."""

    @hookimpl(tryfirst=True)
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if not created:
            note_before(request, entity_type, record)


def on_transition(request, et, record, transition) -> None:
    for rule in rules_for(request, et.name):
        trig = rule.trigger or {}
        if trig.get("kind") == "transition" and trig.get("transition") == transition.name:
            fire(request, rule, et, record, f"transition:{transition.name}:v{record.version}")


# --- running actions -----------------------------------------------------------------------


def run_actions(ctx, run_id: int, depth: int = 1):
    """Job: run a fired rule's actions, all in the job's one transaction."""
    db = ctx.dbsession
    run = db.get(AutomationRun, run_id)
    if run is None or run.outcome != FIRED:
        return {"skipped": "nothing to run"}
    et = ctx.registry.kyklos_entities.get(run.entity)
    record = db.get(et.model, run.record_id) if et is not None else None
    if record is not None and getattr(record, "deleted_at", None) is not None:
        record = None
    if record is None:
        run.outcome = FAILED
        run.reason = f"{run.reason}; the record no longer exists"
        run.finished_at = utcnow()
        return {"failed": "record gone"}
    ctx.request.environ[DEPTH] = depth
    types = action_types(ctx.registry)
    results = []
    for i, action in enumerate(run.rule.actions or []):
        atype = types.get(action.get("type"))
        if atype is None:
            raise ActionError(f"action {i + 1}: unknown type {action.get('type')!r}")
        try:
            result = atype.run(ctx.request, et, record, dict(action, _index=i), run) or {}
        except ActionError as exc:
            raise ActionError(f"action {i + 1} ({action['type']}): {exc}") from exc
        except Exception as exc:
            # The job records this text and the run log shows it: say which action
            # failed and why, whatever the exception.
            raise ActionError(
                f"action {i + 1} ({action['type']}): {type(exc).__name__}: {exc}"
            ) from exc
        results.append({"type": action["type"], **_jsonable(result)})
        ctx.progress(100 * (i + 1) / max(1, len(run.rule.actions)), action["type"])
    run.outcome = DONE
    run.results = results
    run.finished_at = utcnow()
    return {"run": run.id, "actions": len(results)}


def _jsonable(result: dict) -> dict:
    out = {}
    for k, v in result.items():
        out[str(k)] = (
            v if isinstance(v, str | int | float | bool | list | dict) or v is None else str(v)
        )
    return out


# --- time triggers -------------------------------------------------------------------------


def _delta(trig) -> dt.timedelta:
    seconds = float(trig.get("offset") or 0) * UNITS[trig.get("unit", "days")]
    sign = 1 if trig.get("direction", "after") == "after" else -1
    return dt.timedelta(seconds=sign * seconds)


def due_moment(et, field, record, trig) -> tuple[dt.datetime | None, str | None]:
    """When the rule comes due for ``record``, and the event key (None: no date)."""
    value = values.read_value(et, field, record)
    if value is None:
        return None, None
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    else:
        moment = dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return moment + _delta(trig), f"time:{field.name}:{value.isoformat()}"


def scan_rule(request, rule, now) -> int:
    """Fire ``rule`` for the records that came due since its last scan."""
    et = request.registry.kyklos_entities.get(rule.entity)
    trig = rule.trigger or {}
    field = et.fields.get(trig.get("field") or "") if et else None
    if field is None or getattr(field, "virtual", False):
        return 0
    delta = _delta(trig)
    start = rule.created_at
    if rule.scanned_until is not None:
        start = max(start, rule.scanned_until - SCAN_GRACE)
    low, high = start - delta, now - delta
    if field.type == "date":
        low, high = low.date(), high.date()
    # the list filters' own condition: a column, or a custom field's indexed mirror
    # (or its JSON value while the mirror is being filled)
    column = query.expr_of(et, field)
    where = query.path_condition(
        request, et, query.FilterPath(field.name, field), "between", [low, high]
    )
    stmt = select(et.model).where(where)
    if et.soft_delete:
        stmt = stmt.where(et.model.deleted_at.is_(None))
    records = (
        request.dbsession.execute(stmt.order_by(column, et.model.id).limit(SCAN_BATCH))
        .scalars()
        .all()
    )
    fired = 0
    last_due = None
    for record in records:
        due, key = due_moment(et, field, record, trig)
        if due is None or due > now or due < start:
            continue
        last_due = due
        if fire(request, rule, et, record, key) is not None:
            fired += 1
    rule.scanned_until = last_due if len(records) == SCAN_BATCH and last_due else now
    return fired


def scan(ctx, now: str | None = None):
    """Job (periodic): fire the time rules that came due."""
    moment = dt.datetime.fromisoformat(now) if now else utcnow()
    rules = ctx.dbsession.execute(
        select(AutomationRule).where(AutomationRule.enabled.is_(True))
    ).scalars()
    fired = 0
    for rule in rules:
        if (rule.trigger or {}).get("kind") == "time":
            fired += scan_rule(ctx.request, rule, moment)
    return {"fired": fired}


# --- explaining ----------------------------------------------------------------------------


def dry_run(request, rule_doc: dict, et, record) -> dict:
    """What a rule would do for ``record`` now, without doing it."""
    out = {
        "trigger": describe_trigger(rule_doc.get("trigger") or {}),
        "would_fire": False,
        "reason": "",
        "actions": [],
    }
    try:
        ok, reason = evaluate(et, record, compile_conditions(et, rule_doc.get("conditions")))
    except ConditionError as exc:
        out["reason"] = f"invalid conditions: {exc}"
        return out
    out["would_fire"], out["reason"] = ok, reason
    types = action_types(request.registry)
    for a in rule_doc.get("actions") or []:
        atype = types.get(a.get("type")) if isinstance(a, dict) else None
        if atype is None:
            out["actions"].append(f"unknown action {a!r}")
            continue
        try:
            out["actions"].append(atype.describe(request, et, record, a))
        except Exception as exc:  # noqa: BLE001 - a dry run reports, never fails
            out["actions"].append(f"{a.get('type')}: cannot describe ({exc})")
    if (rule_doc.get("trigger") or {}).get("kind") == "time":
        field = et.fields.get(rule_doc["trigger"].get("field") or "")
        if field is not None:
            due, _key = due_moment(et, field, record, rule_doc["trigger"])
            out["due"] = due.isoformat() if due else None
    return out


def runs_for(request, et, record_id, limit=50) -> list[AutomationRun]:
    return (
        request.dbsession.execute(
            select(AutomationRun)
            .where(AutomationRun.entity == et.name, AutomationRun.record_id == record_id)
            .order_by(AutomationRun.created_at.desc(), AutomationRun.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )


RETRYING = "retrying"


def _job_of(request, run):
    if run.outcome != FIRED or not run.job_id:
        return None
    from kyklos.jobs.models import Job

    return request.dbsession.get(Job, run.job_id)


def run_state(request, run: AutomationRun) -> str:
    """The run's outcome, with its action job's failure (or retry) shown."""
    job = _job_of(request, run)
    if job is not None and job.state == "failed":
        return FAILED
    if job is not None and job.state == "retrying":
        return RETRYING
    return run.outcome


def run_reason(request, run: AutomationRun) -> str:
    """Why the run ended as it did: the conditions' verdict, and for failed or retried
    actions the exact error (which action, and what it said)."""
    job = _job_of(request, run)
    if job is not None and job.state in ("failed", "retrying") and job.error:
        error = job.error.strip().splitlines()[-1]
        # "kyklos.workflow.actions.ActionError: action 1 (...): ..." -> the message
        head, sep, rest = error.partition(": ")
        if sep and " " not in head and ("." in head or head.endswith("Error")):
            error = rest
        return f"{run.reason}; {error}"
    return run.reason or ""


def includeme(config):
    settings = config.get_settings()
    every = float(settings.get("kyklos.automation.scan_seconds") or 60)
    config.add_job(
        RUN_JOB, run_actions, retries=3, retry_delay=30, title=_("Run an automation rule's actions")
    )
    config.add_job(
        SCAN_JOB, scan, retries=0, every=every, title=_("Fire time-based automation rules")
    )
    config.add_hooks(Hooks(), name="kyklos.workflow.automation")


# --- in words (the rule builder) -------------------------------------------------------------

#: an operator as the sentence of a condition (``f``: the field, ``v``: the value)
OP_SENTENCES = {
    "eq": _("“${f}” is “${v}”"),
    "ne": _("“${f}” is not “${v}”"),
    "lt": _("“${f}” is less than “${v}”"),
    "lte": _("“${f}” is at most “${v}”"),
    "gt": _("“${f}” is more than “${v}”"),
    "gte": _("“${f}” is at least “${v}”"),
    # ${v}: the values, each in quotes, listed the language's way ("“a”, “b” or “c”")
    "in": _("“${f}” is one of ${v}"),
    # a whole sentence of its own, so each language orders its two ends as it needs
    "between": _("“${f}” is between “${low}” and “${high}”"),
    "contains": _("“${f}” contains “${v}”"),
    "startswith": _("“${f}” starts with “${v}”"),
    "empty": _("“${f}” is empty"),
    "notempty": _("“${f}” is not empty"),
}


def _t(request, msg) -> str:
    return request.localizer.translate(msg) if msg not in (None, "") else ""


def amount_words(request, offset, unit) -> str:
    n = int(offset) if float(offset or 0).is_integer() else offset
    count = int(float(n or 0))
    loc = request.localizer
    # literal messages in each call: the extractor only sees pluralize()'s own arguments
    if unit == "hours":
        return loc.pluralize("${n} hour", "${n} hours", count, domain="kyklos", mapping={"n": n})
    if unit == "minutes":
        return loc.pluralize(
            "${n} minute", "${n} minutes", count, domain="kyklos", mapping={"n": n}
        )
    return loc.pluralize("${n} day", "${n} days", count, domain="kyklos", mapping={"n": n})


def trigger_words(request, et, trig) -> str:
    from kyklos.workflow.actions import field_title, value_words
    from kyklos.workflow.runtime import get_workflow

    if isinstance(trig, str):
        trig = {"kind": trig}
    trig = trig or {}
    kind = trig.get("kind")
    e = _t(request, et.title)
    f = et.fields.get(trig.get("field") or "")
    fname = field_title(request, f) if f is not None else str(trig.get("field") or "")
    wf = get_workflow(request, et.name)
    if kind == "created":
        msg = _("When a “${e}” record is created", mapping={"e": e})
    elif kind == "updated":
        msg = _("When a “${e}” record is changed", mapping={"e": e})
    elif kind == "field_changed" and trig.get("to") is not None and f is not None:
        msg = _(
            "When “${f}” of a “${e}” record becomes “${v}”",
            mapping={"f": fname, "e": e, "v": value_words(request, et, f, trig["to"])},
        )
    elif kind == "field_changed":
        msg = _("When “${f}” of a “${e}” record changes", mapping={"f": fname, "e": e})
    elif kind == "state":
        state = _t(request, wf.state_label(trig.get("state"))) if wf else trig.get("state")
        msg = _("When a “${e}” record moves to the state “${s}”", mapping={"e": e, "s": state})
    elif kind == "transition":
        t = wf.transition(trig.get("transition")) if wf else None
        step = _t(request, t.label) if t else trig.get("transition")
        msg = _("When the step “${t}” is taken on a “${e}” record", mapping={"t": step, "e": e})
    elif kind == "time":
        amount = amount_words(request, trig.get("offset", 0), trig.get("unit", "days"))
        mapping = {"a": amount, "f": fname, "e": e}
        if trig.get("direction") == "before":
            msg = _("${a} before “${f}” of a “${e}” record", mapping=mapping)
        else:
            msg = _("${a} after “${f}” of a “${e}” record", mapping=mapping)
    else:
        return str(kind or "")
    return _t(request, msg)


def condition_rows(doc) -> tuple[list[tuple[str, str, object]], dict]:
    """The builder's rows ``(field, op, value)`` of a conditions document, and the
    part it cannot show as rows (``any`` groups), kept as is."""
    from kyklos.workflow.conditions import _split

    rows, kept = [], {}
    for key, raw in (doc or {}).items():
        if key == "any" or not isinstance(key, str):
            kept[key] = raw
            continue
        name, op = _split(key)
        if op == "isnull":
            rows.append((name, "empty" if raw else "notempty", None))
        else:
            rows.append((name, op, raw))
    return rows, kept


def one_of_words(request, words) -> str:
    """``["a", "b", "c"]`` as the user's language lists alternatives, each quoted:
    "“a”, “b” or “c”" (en), "«a», «b» ή «c»"-like (el), "“a”, “b” lub “c”" (pl)."""
    from babel.lists import format_list

    from kyklos.i18n import babel_locale

    quoted = [_t(request, _("“${v}”", mapping={"v": w})) for w in words]
    if not quoted:
        return ""
    try:
        return format_list(quoted, style="or", locale=babel_locale(request))
    except (ValueError, KeyError):
        return ", ".join(quoted)


def conditions_words(request, et, doc) -> str:
    from kyklos.workflow.actions import field_title, value_words

    rows, kept = condition_rows(doc)
    parts = []
    for name, op, raw in rows:
        f = et.fields.get(name)
        if f is None:
            parts.append(name)
            continue
        mapping = {"f": field_title(request, f)}
        if op == "between" and isinstance(raw, list) and len(raw) == 2:
            mapping["low"] = value_words(request, et, f, raw[0])
            mapping["high"] = value_words(request, et, f, raw[1])
        elif isinstance(raw, list):
            mapping["v"] = one_of_words(request, [value_words(request, et, f, v) for v in raw])
        else:
            mapping["v"] = value_words(request, et, f, raw)
        if op == "between" and "low" not in mapping:
            op = "in"
            mapping["v"] = one_of_words(request, [mapping.get("v", "")])
        parts.append(_t(request, _(OP_SENTENCES.get(op, OP_SENTENCES["eq"]), mapping=mapping)))
    for group in kept.get("any") or []:
        if isinstance(group, dict):
            parts.append(
                "("
                + _t(
                    request,
                    _(
                        "one of: ${g}",
                        mapping={"g": any_of_words(request, et, kept["any"])},
                    ),
                )
                + ")"
            )
            break
    return all_of_words(request, parts)


def any_of_words(request, et, groups) -> str:
    """Groups of conditions of which one must hold, listed the language's way with its
    "or" ("a, b or c"), not joined with a sign a reader has to decode."""
    from babel.lists import format_list

    from kyklos.i18n import babel_locale

    parts = [conditions_words(request, et, g) for g in groups if isinstance(g, dict)]
    try:
        return format_list(parts, style="or", locale=babel_locale(request))
    except (ValueError, KeyError):
        return " | ".join(parts)


def all_of_words(request, parts) -> str:
    """Conditions that must all hold, listed the user's language's way: "a, b and c"
    (en), "a, b και c" (el), "a, b i c" (pl), not "a and b and c"."""
    from babel.lists import format_list

    from kyklos.i18n import babel_locale

    if not parts:
        return ""
    try:
        return format_list(parts, style="standard", locale=babel_locale(request))
    except (ValueError, KeyError):
        return _t(request, _(" and ")).join(parts)


def action_words(request, et, config) -> str:
    from kyklos.workflow.actions import action_types

    atype = action_types(request.registry).get((config or {}).get("type"))
    if atype is None:
        return str((config or {}).get("type"))
    summary = getattr(atype, "summary", None)
    try:
        words = summary(request, et, config) if summary else atype.title
    except Exception:  # noqa: BLE001 - a summary never fails the page
        words = atype.title
    return _t(request, words)


def summarize(request, doc: dict) -> str:
    """The rule in one plain sentence, in the user's language: "When “Status” of an
    “Opportunity” record becomes “Won”, create a task “Hand over” for its owner"."""
    et = request.registry.kyklos_entities.get(doc.get("entity"))
    if et is None:
        return ""
    trig = trigger_words(request, et, doc.get("trigger") or {})
    acts = _t(request, _(", then ")).join(
        action_words(request, et, a) for a in doc.get("actions") or [] if isinstance(a, dict)
    ) or _t(request, _("do nothing"))
    conds = conditions_words(request, et, doc.get("conditions") or {})
    if conds:
        return _t(
            request,
            _(
                "${trigger}, if ${conditions}: ${actions}.",
                mapping={"trigger": trig, "conditions": conds, "actions": acts},
            ),
        )
    return _t(request, _("${trigger}: ${actions}.", mapping={"trigger": trig, "actions": acts}))


def dry_run_records(request, doc: dict, et, records) -> list[dict]:
    """For each record: would the rule fire now, why, and what it would do, in words
    (reads only; nothing is written or queued)."""
    from kyklos.entities.display import record_titles
    from kyklos.workflow.actions import render, template_vars

    out = []
    titles = record_titles(request, et, records)
    trig = doc.get("trigger") or {}
    for record in records:
        try:
            ok, reason = evaluate(et, record, compile_conditions(et, doc.get("conditions")))
        except ConditionError as exc:
            ok, reason = False, f"invalid conditions: {exc}"
        tv = template_vars(request, et, record)
        item = {
            "id": record.id,
            "title": titles.get(record.id) or et.record_title(record),
            "url": request.route_url("entity.detail", slug=et.slug, id=record.id),
            "would_fire": ok,
            "reason": reason,
            "actions": [
                render(action_words(request, et, a), tv)
                for a in doc.get("actions") or []
                if isinstance(a, dict)
            ]
            if ok
            else [],
            "due": None,
        }
        if trig.get("kind") == "time":
            field = et.fields.get(trig.get("field") or "")
            if field is not None:
                item["due"], _key = due_moment(et, field, record, trig)
        out.append(item)
    return out

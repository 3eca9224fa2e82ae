"""The automation rule builder (``/admin/automation``): a rule's trigger, conditions and
actions chosen from lists in the user's language, with the record forms' own inputs for
values (pickers for references, drop-downs for choices, dates in the user's time zone),
the rule in one plain sentence, a dry run against real records and the rule's run log.

The page is a plain form: choosing another record type, trigger, field or action type
re-renders it with the matching inputs (``automation.js`` does that on change; without
JavaScript the "Update the form" button does). Nothing is saved before "Save"; every
state change is a POST with a CSRF token.
"""

from __future__ import annotations

import datetime as dt

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther
from pyramid.renderers import render
from sqlalchemy import select

from kyklos.entities import SYSTEM_FIELDS, service
from kyklos.entities.display import parse_form_value
from kyklos.i18n import _
from kyklos.workflow import MANAGE, automation
from kyklos.workflow.actions import Param, action_types, field_options, field_title, tr
from kyklos.workflow.models import AutomationRule, AutomationRun

TPL = "kyklos:web/templates/"
#: condition operators the builder offers, as the drop-down says them
OP_TITLES = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "lt": _("is less than / before"),
    "lte": _("is at most"),
    "gt": _("is more than / after"),
    "gte": _("is at least"),
    "between": _("is between"),
    "contains": _("contains"),
    "startswith": _("starts with"),
    "empty": _("is empty"),
    "notempty": _("is not empty"),
}
TRIGGER_TITLES = {
    "created": _("A record is created"),
    "updated": _("A record is changed"),
    "field_changed": _("A field changes"),
    "state": _("A record moves to a workflow state"),
    "transition": _("A workflow step is taken"),
    "time": _("A time before or after a date"),
}
UNIT_TITLES = {"days": _("days"), "hours": _("hours"), "minutes": _("minutes")}
DIRECTION_TITLES = {"after": _("after"), "before": _("before")}
OUTCOME_TITLES = {
    "fired": _("Fired, actions queued"),
    "done": _("Done"),
    "skipped": _("Skipped"),
    "failed": _("Failed"),
    "retrying": _("Failed, will be retried"),
}
BLANK_CONDITIONS = 1
DRY_RUN_RECORDS = 20


# --- what the lists offer --------------------------------------------------------------------


def _entities(request) -> list:
    out = [et for et in request.registry.kyklos_entities.values() if not et.lookup]
    return sorted(out, key=lambda et: tr(request, et.title).casefold())


def _condition_fields(request, et) -> list[tuple[str, str]]:
    from kyklos.entities.query import ops_for

    return field_options(
        request,
        et,
        lambda f: (
            f.type != "json"
            and f.name not in ("custom", "version")
            and not getattr(f, "virtual", False)
            and bool(ops_for(f))
        ),
    )


#: field types whose "is one of" is picked from a list (a multi-picker); others would
#: need values typed one by one, which the list filters already do better
IN_TYPES = ("choice", "multichoice", "reference")
#: tests that take several values: "in" any number, "between" two
MULTI_OPS = ("in", "between")


def _ops(request, f) -> list[tuple[str, str]]:
    from kyklos.entities.query import ops_for

    have = set(ops_for(f)) if f is not None else {"eq"}
    if (
        f is None
        or f.type not in IN_TYPES
        or (f.type in ("choice", "multichoice") and not f.choices)
    ):
        have.discard("in")
    names = [o for o in OP_TITLES if o in have]
    if "isnull" in have:
        names += ["empty", "notempty"]
    return [(o, tr(request, OP_TITLES[o])) for o in names]


def _date_fields(request, et) -> list[tuple[str, str]]:
    return field_options(
        request,
        et,
        lambda f: f.type in ("date", "datetime") and not getattr(f, "virtual", False),
    )


def _change_fields(request, et) -> list[tuple[str, str]]:
    return field_options(request, et, lambda f: f.name not in SYSTEM_FIELDS and f.type != "json")


def _workflow(request, et):
    from kyklos.workflow.runtime import get_workflow

    return get_workflow(request, et.name) if et is not None else None


# --- a value with the record forms' input ------------------------------------------------------


def value_input(request, et, f, name: str, value, multiple: bool = False) -> dict:
    """How the value of ``f`` is entered under ``name``: the template's description of
    the input (a drop-down, a picker, a date, a number or a text box). ``multiple``:
    several values are picked (the test "is one of"); ``value`` is then a list."""
    from kyklos.entities import uirecord

    many = list(value) if isinstance(value, list | tuple) else ([] if value is None else [value])
    if not multiple:
        value = many[0] if isinstance(value, list | tuple) and many else value
    out = {
        "name": name,
        "kind": "text",
        "value": "" if value is None or multiple else str(value),
        "values": [str(v) for v in many] if multiple else [],
        "multiple": multiple,
        "options": [],
        "lookup": "",
    }
    if f is None:
        return out
    t = request.localizer.translate
    if f.type in ("choice", "multichoice") and f.choices:
        out["kind"] = "select"
        blank = [] if multiple else [("", "—")]
        out["options"] = blank + [(str(c), t(label)) for c, label in f.choices]
    elif f.type == "boolean":
        out["kind"] = "select"
        out["options"] = [("", "—"), ("true", t(_("Yes"))), ("false", t(_("No")))]
        out["value"] = {True: "true", False: "false"}.get(value, "")
    elif f.type == "reference":
        picked = many if multiple else [value]
        chosen = {int(v) for v in picked if str(v).isdigit() and not isinstance(v, bool)}
        target = request.registry.kyklos_entities.get(f.reference)
        if f.reference == "user":
            widget = uirecord._user_picker(request, chosen)
        elif target is not None and target.lookup:
            widget = uirecord._lookup_select(request, target, chosen)
        elif target is not None:
            widget = uirecord._record_picker(request, target, chosen)
        else:
            return out
        out["kind"] = "picker" if getattr(widget, "lookup_url", "") else "select"
        out["lookup"] = getattr(widget, "lookup_url", "")
        out["options"] = [
            (str(item[0]), str(item[1]))
            for item in widget.values
            if not (multiple and item[0] == "")
        ]
    elif f.type == "date":
        out["kind"] = "date"
    elif f.type == "datetime":
        out["kind"] = "datetime-local"
        if value:
            try:
                moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
                out["value"] = moment.astimezone(request.timezone).strftime("%Y-%m-%dT%H:%M")
            except ValueError:
                pass
    elif f.type in ("integer", "decimal", "money"):
        out["kind"] = "number"
        if isinstance(value, dict):
            out["value"] = str(value.get("amount", ""))
    return out


def _parse_value(request, f, text: str):
    """A value typed or picked in the builder, as the rule stores it (JSON form)."""
    if f is None or text is None:
        return None
    if f.type == "money" and text.strip():
        return text.strip()  # conditions compare the amount
    return parse_form_value(f, text, request.timezone)


# --- the builder's state <-> a rule document ---------------------------------------------------


def _params(request, atype, et) -> list[Param]:
    """The action type's params as :class:`Param` (plugins may give dicts)."""
    raw = getattr(atype, "params", None)
    items = raw(request, et) if raw is not None else []
    out = []
    for p in items or []:
        out.append(p if isinstance(p, Param) else Param(**p))
    return out


def _list(text: str) -> list[str]:
    return [a.strip() for a in text.replace(";", ",").replace("\n", ",").split(",") if a.strip()]


def read_post(request, post) -> tuple[dict, dict]:
    """The rule document the builder's form describes, and the problems of values that
    did not parse (key -> message)."""
    errors: dict = {}
    et = request.registry.kyklos_entities.get(post.get("entity", ""))
    doc: dict = {
        "entity": post.get("entity", ""),
        "name": post.get("name", "").strip(),
        "enabled": post.get("enabled") == "1",
    }
    kind = post.get("trigger_kind", "created")
    trig: dict = {"kind": kind}
    if kind == "field_changed":
        trig["field"] = post.get("trigger_field", "")
        f = et.fields.get(trig["field"]) if et is not None else None
        raw = post.get("trigger_to", "")
        if f is not None and raw.strip():
            try:
                trig["to"] = _parse_value(request, f, raw)
            except (TypeError, ValueError):
                errors["trigger"] = _(
                    "The value “${v}” is not valid for this field.", mapping={"v": raw}
                )
    elif kind == "state":
        trig["state"] = post.get("trigger_state", "")
    elif kind == "transition":
        trig["transition"] = post.get("trigger_transition", "")
    elif kind == "time":
        trig["field"] = post.get("trigger_date_field", "")
        try:
            offset = float(post.get("trigger_offset", "0") or 0)
            trig["offset"] = int(offset) if offset.is_integer() else offset
        except ValueError:
            trig["offset"] = -1
        trig["unit"] = post.get("trigger_unit", "days")
        trig["direction"] = post.get("trigger_direction", "after")
    doc["trigger"] = trig

    conditions: dict = {}
    pending = []  # rows still without a value: drawn again with their field and test
    count = _count(post, "cond_count")
    for i in range(count):
        if post.get("action") == f"remove-cond-{i}":
            continue
        name = post.get(f"cond-{i}-field", "")
        op = post.get(f"cond-{i}-op", "eq")
        raw = post.get(f"cond-{i}-value", "")
        f = et.fields.get(name) if et is not None else None
        if f is None:
            continue
        if op in ("empty", "notempty"):
            conditions[f"{name}__isnull"] = op == "empty"
            continue
        if op not in OP_TITLES:
            op = "eq"
        if op in MULTI_OPS:
            value, problem = _multi_value(request, f, op, post, i)
            if problem is not None:
                errors[f"cond-{i}"] = problem
            if value is None:
                pending.append((name, op, None))
            else:
                conditions[f"{name}__{op}"] = value
            continue
        if not raw.strip():
            pending.append((name, op, None))  # not a condition yet
            continue
        try:
            value = _parse_value(request, f, raw) if op not in ("contains", "startswith") else raw
        except (TypeError, ValueError):
            errors[f"cond-{i}"] = _(
                "The value “${v}” is not valid for “${f}”.",
                mapping={"v": raw, "f": field_title(request, f)},
            )
            continue
        conditions[name if op == "eq" else f"{name}__{op}"] = value
    kept = post.get("conditions_kept", "")
    if kept:
        import json

        try:
            extra = json.loads(kept)
            if isinstance(extra, dict):
                conditions.update(extra)
        except ValueError:
            pass
    doc["conditions"] = conditions
    doc["pending_conditions"] = pending

    actions = []
    types = action_types(request.registry)
    for i in range(_count(post, "act_count")):
        if post.get("action") == f"remove-act-{i}":
            continue
        atype = types.get(post.get(f"act-{i}-type", ""))
        if atype is None:
            continue
        config: dict = {"type": atype.type}
        params = _params(request, atype, et) if et is not None else []
        for p in params:
            key = f"act-{i}-{p.name}"
            if p.kind in ("recipients", "choices"):
                config[p.name] = [v for v in post.getall(key) if v]
            elif p.kind == "addresses":
                config.setdefault(p.of, [])
                config[p.of] = list(config[p.of]) + _list(post.get(key, ""))
            elif p.kind == "number":
                raw = post.get(key, "").strip()
                if raw:
                    try:
                        config[p.name] = int(raw)
                    except ValueError:
                        errors[f"actions.{len(actions)}"] = _(
                            "“${p}” must be a whole number.", mapping={"p": tr(request, p.title)}
                        )
            elif p.kind == "value":
                f = et.fields.get(config.get(p.of) or "")
                raw = post.get(key, "")
                try:
                    config[p.name] = _parse_value(request, f, raw) if f is not None else None
                except (TypeError, ValueError):
                    errors[f"actions.{len(actions)}"] = _(
                        "The value “${v}” is not valid for this field.", mapping={"v": raw}
                    )
            else:
                raw = post.get(key, "")
                if raw.strip() or p.required:
                    config[p.name] = raw.strip() if p.kind != "textarea" else raw
        actions.append(config)
    doc["actions"] = actions
    return doc, errors


def _multi_value(request, f, op, post, i):
    """The values of an "is one of" (every value picked) or "between" (two values,
    lowest first) condition row, and the problem to show, if any."""
    if op == "in":
        raws = [r for r in post.getall(f"cond-{i}-value") if r.strip()]
    else:
        raws = [post.get(f"cond-{i}-value", ""), post.get(f"cond-{i}-value2", "")]
        if not any(r.strip() for r in raws):
            return None, None
        if not all(r.strip() for r in raws):
            return None, _("Give both ends of “${f}”.", mapping={"f": field_title(request, f)})
    if not raws:
        return None, None
    out = []
    for raw in raws:
        try:
            out.append(_parse_value(request, f, raw))
        except (TypeError, ValueError):
            return None, _(
                "The value “${v}” is not valid for “${f}”.",
                mapping={"v": raw, "f": field_title(request, f)},
            )
    if op == "between":
        try:
            low, high = (_sortable(v) for v in out)
            if low > high:
                return None, _(
                    "The first value of “${f}” must not be after the second.",
                    mapping={"f": field_title(request, f)},
                )
        except (TypeError, ValueError, ArithmeticError):
            pass  # the condition check names what is wrong
    return out, None


def _sortable(value):
    from decimal import Decimal

    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return Decimal(value)
    return value


def _count(post, key) -> int:
    raw = post.get(key, "0")
    return min(int(raw), automation.MAX_ACTIONS + 50) if raw.isdigit() else 0


def builder(request, doc: dict, add_condition=False, add_action=False) -> dict:
    """What the template needs to draw the builder for ``doc``."""
    et = request.registry.kyklos_entities.get(doc.get("entity") or "")
    trig = doc.get("trigger") or {}
    if isinstance(trig, str):
        trig = {"kind": trig}
    out: dict = {"et": et, "trig": trig, "conditions": [], "actions": [], "kept": ""}
    if et is None:
        return out
    wf = _workflow(request, et)
    out["change_fields"] = _change_fields(request, et)
    out["date_fields"] = _date_fields(request, et)
    out["states"] = [(s.name, tr(request, wf.state_label(s.name))) for s in wf.states] if wf else []
    out["transitions"] = [(t.name, tr(request, t.label)) for t in wf.transitions] if wf else []
    tf = et.fields.get(trig.get("field") or "") if trig.get("kind") == "field_changed" else None
    out["trigger_to"] = value_input(request, et, tf, "trigger_to", trig.get("to")) if tf else None
    rows, kept = automation.condition_rows(doc.get("conditions") or {})
    if kept:
        import json

        out["kept"] = json.dumps(kept, ensure_ascii=False)
        out["kept_words"] = automation.conditions_words(request, et, kept)
    fields = _condition_fields(request, et)
    blank = (
        BLANK_CONDITIONS + (1 if add_condition else 0) if not rows else (1 if add_condition else 0)
    )
    pending = list(doc.get("pending_conditions") or [])
    if pending:
        blank = 1 if add_condition else 0
    for i, (name, op, raw) in enumerate(rows + pending + [("", "eq", None)] * blank):
        f = et.fields.get(name) or (et.fields.get(fields[0][0]) if fields else None)
        ops = _ops(request, f)
        if op not in {o for o, _t in ops} and op not in ("empty", "notempty"):
            op = "eq"  # another field was chosen: its first test
        many = raw if isinstance(raw, list) else ([] if raw is None else [raw])
        if op != "in" and isinstance(raw, list):
            raw = raw[0] if raw else None
        row = {
            "i": i,
            "field": f.name if f else "",
            "op": op,
            "ops": ops,
            "value": value_input(
                request, et, f, f"cond-{i}-value", many if op == "in" else raw, multiple=op == "in"
            ),
            "needs_value": op not in ("empty", "notempty"),
            "value2": None,
        }
        if op == "between":
            row["value2"] = value_input(
                request, et, f, f"cond-{i}-value2", many[1] if len(many) > 1 else None
            )
        out["conditions"].append(row)
    out["fields"] = fields
    types = action_types(request.registry)
    out["action_types"] = sorted(
        [
            (t.type, tr(request, t.title))
            for t in types.values()
            if getattr(t, "params", None) is not None and _params(request, t, et)
        ],
        key=lambda o: o[1].casefold(),
    )
    actions = list(doc.get("actions") or [])
    if add_action or not actions:
        default = "create_activity" if "create_activity" in types else "notify"
        actions.append({"type": default})
    for i, config in enumerate(actions):
        atype = types.get(config.get("type"))
        params = []
        for p in _params(request, atype, et) if atype is not None else []:
            value = config.get(p.name, p.default)
            item = {
                "p": p,
                "name": f"act-{i}-{p.name}",
                "value": value,
                "title": tr(request, p.title),
                "help": tr(request, p.help),
            }
            if p.kind == "value":
                f = et.fields.get(config.get(p.of) or "")
                if f is None and p.of:
                    first = next((q for q in _params(request, atype, et) if q.name == p.of), None)
                    f = et.fields.get(first.choices[0][0]) if first and first.choices else None
                item["input"] = value_input(request, et, f, item["name"], value)
            if p.kind == "addresses":
                item["value"] = ", ".join(
                    a for a in config.get(p.of) or [] if "@" in a and ":" not in a
                )
            params.append(item)
        out["actions"].append(
            {"i": i, "type": config.get("type"), "params": params, "known": atype is not None}
        )
    return out


# --- pages -------------------------------------------------------------------------------------


def _page(request, rule, doc, errors, dry=None, add_condition=False, add_action=False):
    et = request.registry.kyklos_entities.get(doc.get("entity") or "")
    runs = []
    if rule is not None:
        runs = (
            request.dbsession.execute(
                select(AutomationRun)
                .where(AutomationRun.rule_id == rule.id)
                .order_by(AutomationRun.created_at.desc(), AutomationRun.id.desc())
                .limit(50)
            )
            .scalars()
            .all()
        )
    return {
        "title": rule.name if rule is not None else request.localizer.translate(_("New rule")),
        "rule": rule,
        "doc": doc,
        "errors": {k: tr(request, v) for k, v in errors.items()},
        "b": builder(request, doc, add_condition, add_action),
        "entities": [(e.name, tr(request, e.title)) for e in _entities(request)],
        "et": et,
        "summary": automation.summarize(request, doc) if et is not None else "",
        "trigger_titles": [(k, tr(request, v)) for k, v in TRIGGER_TITLES.items()],
        "units": [(k, tr(request, v)) for k, v in UNIT_TITLES.items()],
        "directions": [(k, tr(request, v)) for k, v in DIRECTION_TITLES.items()],
        "dry": dry,
        "runs": [_run_row(request, r) for r in runs],
        "render_value": lambda v: render(TPL + "automation_value.pt", {"v": v}, request=request),
    }


def _run_row(request, run) -> dict:
    et = request.registry.kyklos_entities.get(run.entity)
    state = automation.run_state(request, run)
    url = None
    title = f"#{run.record_id}"
    if et is not None:
        record = request.dbsession.get(et.model, run.record_id)
        if record is not None:
            from kyklos.entities.display import record_title

            title = record_title(request, et, record)
            url = request.route_url("entity.detail", slug=et.slug, id=record.id)
    return {
        "when": run.created_at.astimezone(request.timezone).strftime("%Y-%m-%d %H:%M"),
        "record": title,
        "url": url,
        "state": state,
        "outcome": tr(request, OUTCOME_TITLES.get(state, state)),
        "reason": automation.run_reason(request, run),
    }


def _dry_run(request, doc) -> dict:
    """The rule tried on the most recently changed records the manager may see (and a
    record picked), without writing anything."""
    et = request.registry.kyklos_entities[doc["entity"]]
    stmt = service.visible_select(request, et)
    order = getattr(et.model, "updated_at", None) or et.model.id
    records = list(
        request.dbsession.execute(
            stmt.order_by(order.desc(), et.model.id.desc()).limit(DRY_RUN_RECORDS)
        ).scalars()
    )
    items = automation.dry_run_records(request, doc, et, records)
    for item in items:
        if item["due"] is not None:
            item["due"] = item["due"].astimezone(request.timezone).strftime("%Y-%m-%d %H:%M")
    return {
        "items": items,
        "matching": sum(1 for i in items if i["would_fire"]),
        "total": len(items),
    }


def _handle(request, rule):
    """The builder's POST: update the form, add a row, dry run, or save."""
    post = request.POST
    doc, errors = read_post(request, post)
    action = post.get("action", "")
    if action in ("refresh", "add_condition", "add_action") or action.startswith("remove-"):
        return _page(
            request,
            rule,
            doc,
            {},
            add_condition=action == "add_condition",
            add_action=action == "add_action",
        )
    if not errors:
        clean, problems = automation.validate_rule(request, doc)
        errors.update(problems)
    if errors:
        request.response.status = 400
        return _page(request, rule, doc, errors)
    if action == "dry_run":
        return _page(request, rule, doc, {}, dry=_dry_run(request, clean))
    if rule is None:
        rule = AutomationRule(**clean, created_by_id=request.identity.user.id)
        request.dbsession.add(rule)
        request.dbsession.flush()
        request.session.flash(request.localizer.translate(_("Rule created.")), "success")
    else:
        automation.apply_rule(rule, clean)
        request.session.flash(request.localizer.translate(_("Rule saved.")), "success")
    return HTTPSeeOther(request.route_url("automation.rule", id=rule.id))


def rules_view(request):
    """The rules, each in a sentence."""
    rules = (
        request.dbsession.execute(
            select(AutomationRule).order_by(AutomationRule.entity, AutomationRule.id)
        )
        .scalars()
        .all()
    )
    rows = []
    for r in rules:
        et = request.registry.kyklos_entities.get(r.entity)
        rows.append(
            {
                "rule": r,
                "entity": tr(request, et.title) if et else r.entity,
                "summary": automation.summarize(request, r.as_dict()) if et else "",
            }
        )
    return {"title": request.localizer.translate(_("Automation rules")), "rows": rows}


def rule_new_view(request):
    if request.method == "POST":
        return _handle(request, None)
    entity = request.GET.get("entity", "")
    if entity not in request.registry.kyklos_entities:
        ents = _entities(request)
        entity = ents[0].name if ents else ""
    doc = {
        "entity": entity,
        "name": "",
        "enabled": True,
        "trigger": {"kind": "created"},
        "conditions": {},
        "actions": [],
    }
    return _page(request, None, doc, {})


def rule_view(request):
    db = request.dbsession
    try:
        rule = db.get(AutomationRule, int(request.matchdict["id"]))
    except ValueError:
        rule = None
    if rule is None:
        raise HTTPNotFound()
    if request.method == "POST" and request.POST.get("action") == "delete":
        db.delete(rule)
        request.session.flash(request.localizer.translate(_("Rule deleted.")), "info")
        return HTTPSeeOther(request.route_url("automation.rules"))
    if request.method == "POST":
        return _handle(request, rule)
    return _page(request, rule, rule.as_dict(), {})


def includeme(config):
    config.add_route("automation.rules", "/admin/automation")
    config.add_view(
        rules_view,
        route_name="automation.rules",
        renderer=TPL + "automation_rules.pt",
        permission=MANAGE,
    )
    config.add_route("automation.new", "/admin/automation/new")
    config.add_view(
        rule_new_view,
        route_name="automation.new",
        renderer=TPL + "automation_rule.pt",
        permission=MANAGE,
    )
    config.add_route("automation.rule", r"/admin/automation/{id:\d+}")
    config.add_view(
        rule_view,
        route_name="automation.rule",
        renderer=TPL + "automation_rule.pt",
        permission=MANAGE,
    )

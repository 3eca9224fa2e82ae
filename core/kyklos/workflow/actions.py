"""Automation action types: the built-in ones, and the registry plugins extend through
the ``kyklos_automation_actions`` hook.

Each action type validates its configuration when a rule is saved, describes what it
would do (dry run) and runs inside the automation job's transaction, as no user, on
the rule's authority. Texts are ``string.Template`` strings (``$name``, ``$status``,
``$record_title``, ``$record_url``): substitution only, no expressions, no attribute
access, output capped (SECURITY.md class 6).
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass

from sqlalchemy import select

from kyklos.entities import SYSTEM_FIELDS, values
from kyklos.hooks import collect
from kyklos.i18n import _
from kyklos.security.models import Role, User, UserRole
from kyklos.sitesettings import public_base_url

MAX_TEXT = 10000
MAX_SUBJECT = 300


class ActionError(Exception):
    """An action could not run (it is retried with the job)."""


# --- texts ---------------------------------------------------------------------------------


def record_values(et, record) -> dict:
    """Every field of ``record`` in JSON form (no user rights apply: rule authority)."""
    out = {"id": record.id}
    for name, field in et.fields.items():
        out[name] = values.to_json(field, values.read_value(et, field, record))
    return out


def template_vars(request, et, record, rule=None) -> dict:
    out = {}
    for k, v in record_values(et, record).items():
        out[k] = "" if v is None else str(v)
    out["record_title"] = et.record_title(record)
    out["record_url"] = record_url(request, et, record)
    out["entity"] = et.name
    out["rule"] = rule.name if rule is not None else ""
    return out


def render(text, variables: dict, limit: int = MAX_TEXT) -> str:
    """Substitute ``$name`` placeholders; unknown ones stay as written."""
    return string.Template(str(text or "")).safe_substitute(variables)[:limit]


def record_url(request, et, record) -> str:
    base = public_base_url(request)
    try:
        return base + request.route_path("entity.detail", slug=et.slug, id=record.id)
    except KeyError:
        return base + f"/{et.slug}/{record.id}"


# --- recipients ----------------------------------------------------------------------------


RECIPIENT_HELP = "owner, field:NAME, role:NAME, user:EMAIL or an e-mail address"


def recipient_problem(et, ref, allow_address: bool) -> str | None:
    ref = str(ref)
    if ref == "owner":
        return None
    kind, _sep, value = ref.partition(":")
    if kind == "field":
        f = et.fields.get(value)
        if f is None or not (f.reference == "user" or f.type == "email"):
            return f"field {value!r} is not a user or e-mail field"
        return None
    if kind in ("role", "user") and value:
        return None
    if allow_address and "@" in ref and ":" not in ref:
        return None
    return f"unknown recipient {ref!r} (use {RECIPIENT_HELP})"


def recipients(request, et, record, refs) -> tuple[list[User], list[str]]:
    """Users and bare addresses the references stand for."""
    db = request.dbsession
    users: dict[int, User] = {}
    addresses: list[str] = []
    for ref in refs or []:
        ref = str(ref)
        kind, _sep, value = ref.partition(":")
        if ref == "owner":
            uid = getattr(record, "owner_id", None)
            if uid:
                u = db.get(User, uid)
                if u is not None:
                    users[u.id] = u
        elif kind == "field":
            f = et.fields.get(value)
            v = values.read_value(et, f, record) if f else None
            if f is not None and f.reference == "user" and v:
                u = db.get(User, v)
                if u is not None:
                    users[u.id] = u
            elif v:
                addresses.append(str(v))
        elif kind == "role":
            rows = db.execute(
                select(User)
                .join(UserRole, UserRole.user_id == User.id)
                .join(Role, Role.id == UserRole.role_id)
                .where(Role.name == value)
            ).scalars()
            users.update({u.id: u for u in rows})
        elif kind == "user":
            from kyklos.workflow.approvals import find_user_ref

            u = find_user_ref(db, value)
            if u is not None:
                users[u.id] = u
        elif "@" in ref:
            addresses.append(ref)
    active = [u for u in users.values() if u.is_active]
    return active, list(dict.fromkeys(addresses))


# --- words for the rule builder ---------------------------------------------------------------


def tr(request, msg) -> str:
    return request.localizer.translate(msg) if msg not in (None, "") else ""


def field_title(request, f) -> str:
    return tr(request, f.title) or f.name


def field_options(request, et, keep=lambda f: True) -> list[tuple[str, str]]:
    """``(name, title)`` of the fields of ``et`` that ``keep`` accepts, by title."""
    out = [(f.name, field_title(request, f)) for f in et.fields.values() if keep(f)]
    return sorted(out, key=lambda o: o[1].casefold())


def value_words(request, et, f, value) -> str:
    """A configured value as people read it (a choice's label, a record's title)."""
    from kyklos.entities.display import display_text

    if value is None or value == "":
        return tr(request, _("empty"))
    try:
        return display_text(request, et, f, value) or str(value)
    except Exception:  # noqa: BLE001 - words for a summary never fail the page
        return str(value)


def _role_titles(request) -> dict:
    declared = getattr(request.registry, "kyklos_roles", {})
    out = {}
    for r in request.dbsession.execute(select(Role).order_by(Role.name)).scalars():
        decl = declared.get(r.name)
        out[r.name] = (
            tr(request, decl.title) if decl is not None and decl.title else (r.title or r.name)
        )
    return out


def _recipient_field(f) -> bool:
    return f.reference == "user" or f.type == "email"


def recipient_options(request, et) -> list[tuple[str, str]]:
    """Who an action may address, in words: the owner, the record's user and e-mail
    fields, everyone with a role, one user."""
    t = request.localizer.translate
    out = [("owner", t(_("the record's owner")))]
    for name, title in field_options(request, et, _recipient_field):
        if name != "owner_id":
            out.append((f"field:{name}", t(_("the person in “${f}”", mapping={"f": title}))))
    for name, title in _role_titles(request).items():
        out.append((f"role:{name}", t(_("everyone with the role “${r}”", mapping={"r": title}))))
    users = request.dbsession.execute(
        select(User).where(User.is_active.is_(True)).order_by(User.name, User.email).limit(500)
    ).scalars()
    out += [(f"user:{u.email}", u.title) for u in users]
    return out


def recipient_words(request, et, refs) -> str:
    known = dict(recipient_options(request, et))
    words = [known.get(str(r), str(r)) for r in refs or []]
    return ", ".join(words) or tr(request, _("nobody"))


# --- the action types ----------------------------------------------------------------------


@dataclass
class Param:
    """One setting of an action as the rule builder asks for it.

    ``kind``: ``text``, ``textarea``, ``number``, ``url``, ``choice`` (one of
    ``choices``), ``choices`` (several of ``choices``), ``field`` (a field of the record,
    offered from ``choices``), ``value`` (a value of the field named by the param
    ``of``, entered with that field's own input), ``recipients`` (people picked from
    the record's owner, its user and e-mail fields, roles and users) or ``addresses``
    (e-mail addresses typed, added to the param ``of``)."""

    name: str
    title: object
    kind: str = "text"
    choices: list = dataclasses.field(default_factory=list)
    required: bool = False
    help: object = ""
    of: str = ""
    default: object = None


@dataclass
class ActionType:
    """Base for action types: override ``validate``, ``describe`` and ``run``; for the
    rule builder also ``params`` (what to ask) and ``summary`` (the action in words)."""

    type: str = ""
    title: object = ""

    def validate(self, registry, entity_type, config) -> list[str]:
        return []

    def describe(self, request, entity_type, record, config) -> str:
        return self.type

    def run(self, request, entity_type, record, config, run) -> dict:
        raise NotImplementedError

    def params(self, request, entity_type) -> list[Param]:
        return []

    def summary(self, request, entity_type, config):
        return self.title


def _workflow_field(registry, et):
    wf = registry.kyklos_workflows.get(et.name)
    return wf.field if wf else None


class SetField(ActionType):
    def __init__(self):
        super().__init__("set_field", _("Set a field"))

    def validate(self, registry, et, config):
        name = config.get("field")
        f = et.fields.get(name) if isinstance(name, str) else None
        if f is None or name in SYSTEM_FIELDS or f.readonly:
            return [f"set_field: {name!r} is not a writable field"]
        if name == _workflow_field(registry, et):
            return [f"set_field: {name!r} is the workflow's status; use a 'transition' action"]
        value = config.get("value")
        if value is not None:
            try:
                values.parse_value(f, value, values.column_of(et, f))
            except values.Invalid as exc:
                return [f"set_field {name}: {exc.msg}"]
        return []

    def describe(self, request, et, record, config):
        return f"set {config['field']} to {config.get('value')!r}"

    def params(self, request, et):
        wf_field = _workflow_field(request.registry, et)
        fields = field_options(
            request,
            et,
            lambda f: (
                f.name not in SYSTEM_FIELDS
                and not f.readonly
                and f.form
                and f.type != "json"
                and f.name != wf_field
            ),
        )
        return [
            Param("field", _("Field"), "field", fields, required=True),
            Param("value", _("New value"), "value", of="field"),
        ]

    def summary(self, request, et, config):
        f = et.fields.get(config.get("field") or "")
        if f is None:
            return self.title
        return _(
            "set “${f}” to “${v}”",
            mapping={
                "f": field_title(request, f),
                "v": value_words(request, et, f, config.get("value")),
            },
        )

    def run(self, request, et, record, config, run):
        from kyklos.workflow import writes

        changes = writes.write(
            request,
            et,
            record,
            {config["field"]: config.get("value")},
            {},
            source="job",
            system=True,
        )
        return {"changed": sorted(changes)}


class RunTransition(ActionType):
    def __init__(self):
        super().__init__("transition", _("Run a workflow step"))

    def validate(self, registry, et, config):
        wf = registry.kyklos_workflows.get(et.name)
        name = config.get("transition")
        if not isinstance(name, str) or not name:
            return ["transition: name the transition"]
        if wf is not None and wf.transition(name) is None:
            return [f"transition: no transition {name!r} in the workflow of {et.name}"]
        return []

    def describe(self, request, et, record, config):
        return f"run transition {config['transition']}"

    def params(self, request, et):
        return [Param("transition", _("Step"), "choice", _transitions(request, et), required=True)]

    def summary(self, request, et, config):
        return _(
            "run the workflow step “${t}”",
            mapping={"t": _transition_title(request, et, config.get("transition"))},
        )

    def run(self, request, et, record, config, run):
        from kyklos.workflow import runtime

        wf = runtime.get_workflow(request, et.name)
        t = wf.transition(config["transition"]) if wf else None
        if t is None:
            raise ActionError(f"no transition {config['transition']!r}")
        state = runtime.current_state(wf, record)
        if not t.allowed_from(state):
            return {"skipped": f"not possible from state {state!r}"}
        runtime.system_transition(request, et, record, t.name, comment=f"rule #{run.rule_id}")
        return {"state": t.target}


class _TextAction(ActionType):
    def _text_problems(self, config, keys):
        out = []
        for k in keys:
            v = config.get(k)
            if v is not None and (not isinstance(v, str) or len(v) > MAX_TEXT):
                out.append(f"{self.type}: {k} must be text of at most {MAX_TEXT} characters")
        return out

    def _to_problems(self, et, config, allow_address):
        to = config.get("to")
        if not isinstance(to, list) or not to or len(to) > 50:
            return [f"{self.type}: 'to' must list 1 to 50 recipients ({RECIPIENT_HELP})"]
        return [p for p in (recipient_problem(et, r, allow_address) for r in to) if p]


class Notify(_TextAction):
    def __init__(self):
        super().__init__("notify", _("Notify people in Kyklos"))

    def validate(self, registry, et, config):
        return self._to_problems(et, config, False) + self._text_problems(config, ("title", "body"))

    def describe(self, request, et, record, config):
        users, _a = recipients(request, et, record, config.get("to"))
        names = ", ".join(u.title for u in users) or "nobody"
        title = render(config.get("title"), template_vars(request, et, record), MAX_SUBJECT)
        return f"notify {names}: {title}"

    def params(self, request, et):
        return [
            Param(
                "to",
                _("Who"),
                "recipients",
                recipient_options(request, et),
                required=True,
                default=["owner"],
            ),
            Param("title", _("Title"), "text", help=_PLACEHOLDER_HELP),
            Param("body", _("Text"), "textarea"),
        ]

    def summary(self, request, et, config):
        return _(
            "notify ${who}: “${t}”",
            mapping={
                "who": recipient_words(request, et, config.get("to")),
                "t": config.get("title") or "$record_title",
            },
        )

    def run(self, request, et, record, config, run):
        from kyklos.notifications import notify

        users, _a = recipients(request, et, record, config.get("to"))
        tv = template_vars(request, et, record)
        ids = notify(
            request,
            [u.id for u in users],
            render(config.get("title") or "$record_title", tv, MAX_SUBJECT),
            render(config.get("body"), tv),
            url=tv["record_url"],
            kind="automation",
        )
        return {"notified": len(ids)}


class SendEmail(_TextAction):
    def __init__(self):
        super().__init__("send_email", _("Send an e-mail"))

    def validate(self, registry, et, config):
        return self._to_problems(et, config, True) + self._text_problems(
            config, ("subject", "body")
        )

    def _render(self, request, et, record, config):
        tv = template_vars(request, et, record)
        subject = render(config.get("subject") or "$record_title", tv, MAX_SUBJECT)
        # A header must not break lines, whatever the record's values hold.
        subject = " ".join(subject.split())
        return subject, render(config.get("body"), tv)

    def describe(self, request, et, record, config):
        users, addresses = recipients(request, et, record, config.get("to"))
        to = [u.email for u in users] + addresses
        subject, _b = self._render(request, et, record, config)
        return f"e-mail {', '.join(to) or 'nobody'}: {subject}"

    def params(self, request, et):
        return [
            Param("to", _("To"), "recipients", recipient_options(request, et), default=["owner"]),
            Param(
                "addresses",
                _("Other addresses"),
                "addresses",
                of="to",
                help=_("E-mail addresses, separated by commas."),
            ),
            Param("subject", _("Subject"), "text", help=_PLACEHOLDER_HELP),
            Param("body", _("Text"), "textarea"),
        ]

    def summary(self, request, et, config):
        return _(
            "e-mail ${who}: “${t}”",
            mapping={
                "who": recipient_words(request, et, config.get("to")),
                "t": config.get("subject") or "$record_title",
            },
        )

    def run(self, request, et, record, config, run):
        from kyklos.mail import MailError, send_mail

        users, addresses = recipients(request, et, record, config.get("to"))
        to = [u.email for u in users if u.email] + addresses
        subject, body = self._render(request, et, record, config)
        sent, refused = 0, []
        for addr in dict.fromkeys(to):
            try:
                send_mail(request, addr, subject, body)
                sent += 1
            except MailError as exc:
                refused.append(f"{addr}: {exc}")
        return {"sent": sent, "refused": refused}


def channels(registry) -> dict:
    return {c.id: c for c in collect(registry.kyklos_pm, "kyklos_message_channels")}


class SendMessage(_TextAction):
    """Through a channel a plugin provides (SMS, chat, ...)."""

    def __init__(self):
        super().__init__("send_message", _("Send a message (SMS, chat...)"))

    def validate(self, registry, et, config):
        out = []
        if config.get("channel") not in channels(registry):
            out.append(f"send_message: unknown channel {config.get('channel')!r}")
        return (
            out
            + self._to_problems(et, config, True)
            + self._text_problems(config, ("subject", "body"))
        )

    def describe(self, request, et, record, config):
        users, addresses = recipients(request, et, record, config.get("to"))
        names = [u.title for u in users] + addresses
        return f"{config['channel']} message to {', '.join(names) or 'nobody'}"

    def params(self, request, et):
        chans = [
            (c.id, tr(request, getattr(c, "title", "") or c.id))
            for c in channels(request.registry).values()
        ]
        return [
            Param("channel", _("Channel"), "choice", chans, required=True),
            Param("to", _("To"), "recipients", recipient_options(request, et), default=["owner"]),
            Param("subject", _("Subject"), "text"),
            Param("body", _("Text"), "textarea", help=_PLACEHOLDER_HELP),
        ]

    def summary(self, request, et, config):
        chan = channels(request.registry).get(config.get("channel"))
        name = tr(request, getattr(chan, "title", "")) if chan else config.get("channel")
        return _(
            "send a message through ${c} to ${who}",
            mapping={
                "c": name or config.get("channel"),
                "who": recipient_words(request, et, config.get("to")),
            },
        )

    def run(self, request, et, record, config, run):
        channel = channels(request.registry).get(config["channel"])
        if channel is None:
            raise ActionError(f"channel {config['channel']!r} is not available")
        users, addresses = recipients(request, et, record, config.get("to"))
        tv = template_vars(request, et, record)
        subject = " ".join(render(config.get("subject"), tv, MAX_SUBJECT).split())
        body = render(config.get("body"), tv)
        for r in [*users, *addresses]:
            channel.send(request, r, subject, body)
        return {"sent": len(users) + len(addresses)}


class Webhook(ActionType):
    def __init__(self):
        super().__init__("webhook", _("Call a web address (webhook)"))

    def validate(self, registry, et, config):
        from kyklos.workflow.webhooks import WebhookRefused, check_url

        try:
            check_url(config.get("url"))
        except WebhookRefused as exc:
            return [f"webhook: {exc}"]
        return []

    def describe(self, request, et, record, config):
        return f"POST the record to {config['url']}"

    def params(self, request, et):
        return [
            Param(
                "url",
                _("Web address"),
                "url",
                required=True,
                help=_("The record is sent there as JSON (POST)."),
            )
        ]

    def summary(self, request, et, config):
        return _("send the record to ${u}", mapping={"u": config.get("url")})

    def run(self, request, et, record, config, run):
        from kyklos.workflow.webhooks import post_json

        payload = {
            "event": run.event_key,
            "rule": {"id": run.rule_id, "name": run.rule.name if run.rule else None},
            "entity": et.name,
            "record": record_values(et, record),
            "run_id": run.id,
        }
        # Receivers deduplicate on this header: a retried job calls again.
        headers = {"Idempotency-Key": f"kyklos-run-{run.id}-{config.get('_index', 0)}"}
        return post_json(request.registry.settings, config["url"], payload, headers)


class StartApproval(ActionType):
    def __init__(self):
        super().__init__("start_approval", _("Ask for approval of a step"))

    def validate(self, registry, et, config):
        wf = registry.kyklos_workflows.get(et.name)
        t = wf.transition(config.get("transition")) if wf else None
        if wf is not None and (t is None or t.approval is None):
            return [
                f"start_approval: {config.get('transition')!r} is not a transition that "
                "needs approval"
            ]
        return []

    def describe(self, request, et, record, config):
        return f"ask for approval of {config['transition']} (requested by the owner)"

    def params(self, request, et):
        return [
            Param(
                "transition",
                _("Step"),
                "choice",
                _transitions(request, et, approval=True),
                required=True,
            )
        ]

    def summary(self, request, et, config):
        return _(
            "ask for approval of “${t}” on behalf of the owner",
            mapping={"t": _transition_title(request, et, config.get("transition"))},
        )

    def run(self, request, et, record, config, run):
        from kyklos.workflow import approvals, runtime

        wf = runtime.get_workflow(request, et.name)
        t = wf.transition(config["transition"]) if wf else None
        if t is None or t.approval is None:
            raise ActionError(f"{config['transition']!r} needs no approval")
        if not t.allowed_from(runtime.current_state(wf, record)):
            return {"skipped": "not possible from the record's state"}
        if runtime.pending_approval(request, et, record) is not None:
            return {"skipped": "an approval is already pending"}
        owner = request.dbsession.get(User, record.owner_id) if record.owner_id else None
        if owner is None:
            raise ActionError("the record has no owner to request the approval")
        req = approvals.open_request(
            request, et, record, wf, t, {}, f"rule #{run.rule_id}", requester=owner
        )
        return {"approval_id": req.id}


class AdvanceParent(ActionType):
    """WF-04: when every child (records of this type pointing at the same parent) is
    in one of ``children_states``, move the parent to ``target``."""

    def __init__(self):
        super().__init__("advance_parent", _("Move the parent when all children are done"))

    def validate(self, registry, et, config):
        out = []
        f = et.fields.get(config.get("parent_field") or "")
        if f is None or f.type != "reference" or f.reference in (None, "user"):
            out.append("advance_parent: parent_field must reference another record")
        states = config.get("children_states")
        if not isinstance(states, list) or not states:
            out.append("advance_parent: children_states lists the states that count as done")
        if not (config.get("target") or config.get("transition")):
            out.append("advance_parent: give the parent's target state or transition")
        return out

    def describe(self, request, et, record, config):
        return (
            f"move the parent ({config['parent_field']}) to "
            f"{config.get('transition') or config.get('target')} when every child is in "
            f"{', '.join(config['children_states'])}"
        )

    def params(self, request, et):
        from kyklos.workflow import runtime

        parents = field_options(
            request, et, lambda f: f.type == "reference" and f.reference not in (None, "user")
        )
        wf = runtime.get_workflow(request, et.name)
        states = [(st.name, tr(request, wf.state_label(st.name))) for st in wf.states] if wf else []
        targets: dict = {}
        for name, _title in parents:
            pet = request.registry.kyklos_entities.get(et.fields[name].reference)
            pwf = runtime.get_workflow(request, pet.name) if pet is not None else None
            for st in pwf.states if pwf else ():
                targets.setdefault(st.name, tr(request, pwf.state_label(st.name)))
        return [
            Param("parent_field", _("Parent"), "field", parents, required=True),
            Param(
                "children_states", _("Children count as done in"), "choices", states, required=True
            ),
            Param(
                "target",
                _("Move the parent to the state"),
                "choice",
                sorted(targets.items()),
                required=True,
            ),
        ]

    def summary(self, request, et, config):
        f = et.fields.get(config.get("parent_field") or "")
        return _(
            "move “${p}” to “${s}” once all its children are done",
            mapping={
                "p": field_title(request, f) if f else config.get("parent_field"),
                "s": config.get("transition") or config.get("target"),
            },
        )

    def run(self, request, et, record, config, run):
        from kyklos.workflow import runtime

        field = et.fields[config["parent_field"]]
        parent_id = getattr(record, field.name)
        if not parent_id:
            return {"skipped": "no parent"}
        pet = request.registry.kyklos_entities[field.reference]
        parent = request.dbsession.get(pet.model, parent_id)
        if parent is None or getattr(parent, "deleted_at", None) is not None:
            return {"skipped": "parent not found"}
        wf_child = runtime.get_workflow(request, et.name)
        state_field = wf_child.field if wf_child else config.get("state_field", "status")
        column = getattr(et.model, field.name)
        stmt = select(getattr(et.model, state_field)).where(column == parent_id)
        if et.soft_delete:
            stmt = stmt.where(et.model.deleted_at.is_(None))
        states = list(request.dbsession.execute(stmt).scalars())
        done = set(config["children_states"])
        waiting = [s for s in states if s not in done]
        if waiting:
            return {"skipped": f"{len(waiting)} of {len(states)} children not done"}
        wf = runtime.get_workflow(request, pet.name)
        if wf is None:
            raise ActionError(f"{pet.name} has no workflow")
        state = runtime.current_state(wf, parent)
        if config.get("transition"):
            t = wf.transition(config["transition"])
        else:
            if state == config["target"]:
                return {"skipped": f"parent already {state}"}
            t = runtime.transition_to(wf, state, config["target"])
        if t is None or not t.allowed_from(state):
            return {"skipped": f"parent in state {state!r}: no way to move it"}
        runtime.system_transition(
            request, pet, parent, t.name, comment=f"all children done (rule #{run.rule_id})"
        )
        return {"parent": parent.id, "state": t.target}


_PLACEHOLDER_HELP = _("You may use $record_title, $record_url and $name-of-a-field, e.g. $subject.")


def _transitions(request, et, approval: bool = False) -> list[tuple[str, str]]:
    from kyklos.workflow import runtime

    wf = runtime.get_workflow(request, et.name)
    if wf is None:
        return []
    return [
        (t.name, tr(request, t.label))
        for t in wf.transitions
        if not approval or t.approval is not None
    ]


def _transition_title(request, et, name) -> str:
    return dict(_transitions(request, et)).get(name, str(name or ""))


BUILTIN = (
    SetField(),
    RunTransition(),
    Notify(),
    SendEmail(),
    SendMessage(),
    Webhook(),
    StartApproval(),
    AdvanceParent(),
)


def action_types(registry) -> dict:
    """Built-in action types plus those of plugins (a plugin may not replace one)."""
    out = {a.type: a for a in BUILTIN}
    for a in collect(registry.kyklos_pm, "kyklos_automation_actions"):
        out.setdefault(a.type, a)
    return out

"""Workflow definitions: states, guarded transitions and their approvals, as plain data
that round-trips through JSON (administrators edit it; the database keeps it).

A plugin declares one with ``config.add_workflow(entity, states=..., transitions=...)``;
dicts work as well as the dataclasses, so plugins need not import the core::

    config.add_workflow(
        "opportunity",
        states=["open", "priced", "won", "lost"],
        initial="open",
        transitions=[
            {"name": "price", "source": "open", "target": "priced"},
            {"name": "close", "source": "priced", "target": "won",
             "roles": ["salesdirector"], "required": ["closed_on"],
             "approval": {"levels": [{"approvers": ["manager"], "mode": "any"},
                                     {"approvers": ["role:finance"], "mode": "all"}]}},
        ],
    )

Approvers are ``role:<name>``, ``user:<e-mail or id>``, ``manager`` (the requester's
line manager) or ``department_head`` (the head of the requester's top department).

A state may carry ``titles`` per language (``{"el": "Ανοιχτή"}``; the plain ``title`` is
the catalog's msgid) and ``steps``, a checklist that must be ticked off before a record
leaves the state (WF-01)::

    {"name": "priced", "title": "Priced", "titles": {"el": "Τιμολογημένη"},
     "steps": [{"name": "check_margin", "title": "Check the margin"}]}

Problems found by :func:`validate` are translation strings; the caller translates them.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from dataclasses import field as dc_field

from kyklos.i18n import LANGUAGES, _

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
APPROVER_KINDS = ("role", "user", "manager", "department_head")
MODES = ("any", "all")
ANY_STATE = "*"


class DefinitionError(ValueError):
    """A workflow definition is invalid; ``problems`` lists every reason."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Approver:
    kind: str
    value: str | None = None

    @classmethod
    def parse(cls, item) -> Approver:
        if isinstance(item, Approver):
            return item
        if isinstance(item, dict):
            return cls(str(item.get("kind", "")), _opt_str(item.get("value")))
        text = str(item).strip()
        kind, _sep, value = text.partition(":")
        return cls(kind.strip(), value.strip() or None)

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind


@dataclass(frozen=True)
class Level:
    approvers: tuple[Approver, ...]
    mode: str = "any"

    @classmethod
    def parse(cls, item) -> Level:
        if isinstance(item, Level):
            return item
        if not isinstance(item, dict):
            raise DefinitionError([f"an approval level must be an object, got {item!r}"])
        raw = item.get("approvers") or []
        if isinstance(raw, str):
            raw = [raw]
        return cls(tuple(Approver.parse(a) for a in raw), str(item.get("mode") or "any"))


@dataclass(frozen=True)
class ApprovalSpec:
    levels: tuple[Level, ...]
    #: beneficiaries told of the outcome besides the requester (same forms as approvers)
    notify: tuple[Approver, ...] = ()

    @classmethod
    def parse(cls, item) -> ApprovalSpec | None:
        if item is None or isinstance(item, ApprovalSpec):
            return item
        if not isinstance(item, dict):
            raise DefinitionError([f"an approval must be an object, got {item!r}"])
        raw = item.get("notify") or []
        if isinstance(raw, str):
            raw = [raw]
        return cls(
            tuple(Level.parse(lv) for lv in item.get("levels") or []),
            tuple(Approver.parse(a) for a in raw),
        )

    def to_dict(self) -> dict:
        return {
            "levels": [
                {"approvers": [str(a) for a in lv.approvers], "mode": lv.mode} for lv in self.levels
            ],
            "notify": [str(a) for a in self.notify],
        }


@dataclass(frozen=True)
class Step:
    """One item of a state's checklist (WF-01)."""

    name: str
    title: str = ""

    @classmethod
    def parse(cls, item) -> Step:
        if isinstance(item, Step):
            return item
        if isinstance(item, dict):
            return cls(str(item.get("name", "")), str(item.get("title") or ""))
        return cls(str(item))

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title}


@dataclass(frozen=True)
class State:
    name: str
    title: str = ""
    #: the title per language other than the catalog's (``{"el": "..."}``), as sorted pairs
    titles: tuple[tuple[str, str], ...] = ()
    #: the checklist to finish before leaving the state (WF-01)
    steps: tuple[Step, ...] = ()

    @classmethod
    def parse(cls, item) -> State:
        if isinstance(item, State):
            return item
        if isinstance(item, dict):
            raw = item.get("titles") or {}
            titles = tuple(
                sorted(
                    (str(k), str(v).strip())
                    for k, v in (raw.items() if isinstance(raw, dict) else ())
                    if str(v or "").strip()
                )
            )
            steps = item.get("steps") or ()
            if isinstance(steps, (str, dict)):
                steps = [steps]
            return cls(
                str(item.get("name", "")),
                str(item.get("title") or ""),
                titles,
                tuple(Step.parse(s) for s in steps),
            )
        return cls(str(item))

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    def title_in(self, locale: str | None) -> str | None:
        """The title an administrator gave in ``locale`` (None: use the catalog)."""
        return dict(self.titles).get(locale) if locale else None

    def to_dict(self) -> dict:
        out: dict = {"name": self.name, "title": self.title}
        if self.titles:
            out["titles"] = dict(self.titles)
        if self.steps:
            out["steps"] = [s.to_dict() for s in self.steps]
        return out


@dataclass(frozen=True)
class Transition:
    name: str
    source: tuple[str, ...]
    target: str
    title: str = ""
    #: a permission the user must hold
    permission: str | None = None
    #: the user must hold one of these roles (WF-05: "only the sales director")
    roles: tuple[str, ...] = ()
    #: fields that must have a value once the transition is done
    required: tuple[str, ...] = ()
    approval: ApprovalSpec | None = None

    @classmethod
    def parse(cls, item) -> Transition:
        if isinstance(item, Transition):
            return item
        if not isinstance(item, dict):
            raise DefinitionError([f"a transition must be an object, got {item!r}"])
        source = item.get("source", ())
        if isinstance(source, str):
            source = [s.strip() for s in source.split(",") if s.strip()]
        roles = item.get("roles") or ()
        if isinstance(roles, str):
            roles = [r.strip() for r in roles.split(",") if r.strip()]
        required = item.get("required") or ()
        if isinstance(required, str):
            required = [r.strip() for r in required.split(",") if r.strip()]
        return cls(
            name=str(item.get("name", "")),
            source=tuple(str(s) for s in source),
            target=str(item.get("target", "")),
            title=str(item.get("title") or ""),
            permission=_opt_str(item.get("permission")),
            roles=tuple(str(r) for r in roles),
            required=tuple(str(r) for r in required),
            approval=ApprovalSpec.parse(item.get("approval")),
        )

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()

    def allowed_from(self, state) -> bool:
        return (ANY_STATE in self.source and state != self.target) or state in self.source

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "source": list(self.source),
            "target": self.target,
            "permission": self.permission,
            "roles": list(self.roles),
            "required": list(self.required),
            "approval": self.approval.to_dict() if self.approval else None,
        }


@dataclass(frozen=True)
class Workflow:
    entity: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    initial: str
    field: str = "status"
    version: int = 0
    #: "declared" (by a plugin) or "database" (edited by an administrator)
    origin: str = "declared"
    _by_name: dict = dc_field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def build(
        cls, entity, states, transitions, initial=None, field="status", version=0, origin="declared"
    ) -> Workflow:
        parsed_states = tuple(State.parse(s) for s in states or ())
        parsed = tuple(Transition.parse(t) for t in transitions or ())
        if initial is None and parsed_states:
            initial = parsed_states[0].name
        return cls(
            entity,
            parsed_states,
            parsed,
            str(initial or ""),
            str(field),
            version,
            origin,
            {t.name: t for t in parsed},
        )

    @classmethod
    def from_dict(cls, entity, doc: dict, version=0, origin="database") -> Workflow:
        if not isinstance(doc, dict):
            raise DefinitionError(["the definition must be an object"])
        return cls.build(
            entity,
            doc.get("states") or (),
            doc.get("transitions") or (),
            doc.get("initial"),
            doc.get("field") or "status",
            version,
            origin,
        )

    def to_dict(self) -> dict:
        return {
            "field": self.field,
            "initial": self.initial,
            "states": [s.to_dict() for s in self.states],
            "transitions": [t.to_dict() for t in self.transitions],
        }

    def transition(self, name) -> Transition | None:
        return self._by_name.get(name)

    def state(self, name) -> State | None:
        return next((s for s in self.states if s.name == name), None)

    def state_label(self, name) -> str:
        s = self.state(name)
        return s.label if s else str(name or "")

    def from_state(self, state) -> list[Transition]:
        return [t for t in self.transitions if t.allowed_from(state)]


def _opt_str(value) -> str | None:
    return None if value in (None, "") else str(value)


def validate(wf: Workflow, entity_type=None, roles=None, users=None) -> list:
    """Every problem with ``wf`` as translation strings, one sentence each (empty: valid).

    :param entity_type: checks the status field and required fields exist
    :param roles: the known role names (None: not checked)
    :param users: a callable telling whether a ``user:`` approver exists (None: not checked)
    """
    problems: list = []
    names = [s.name for s in wf.states]
    if not names:
        problems.append(_("A workflow needs at least one state."))
    for s in names:
        if not NAME_RE.match(s):
            problems.append(
                _(
                    "state name '${s}' must be lower-case letters, digits and '_' "
                    "(starting with a letter)",
                    mapping={"s": s},
                )
            )
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(_("state '${s}' is declared twice", mapping={"s": dup}))
    for st in wf.states:
        steps = [p.name for p in st.steps]
        for p in steps:
            if not NAME_RE.match(p):
                problems.append(
                    _(
                        "state '${s}': the step name '${p}' must be lower-case "
                        "letters, digits and '_'",
                        mapping={"s": st.name, "p": p},
                    )
                )
        for dup in sorted({n for n in steps if steps.count(n) > 1}):
            problems.append(
                _("state '${s}' has the step '${p}' twice", mapping={"s": st.name, "p": dup})
            )
        for loc, _text in st.titles:
            if loc not in LANGUAGES:
                problems.append(
                    _(
                        "state '${s}' has a title in an unknown language '${l}'",
                        mapping={"s": st.name, "l": loc},
                    )
                )
    known = set(names)
    if not wf.initial:
        problems.append(_("Choose the state new records start in."))
    elif wf.initial not in known:
        problems.append(
            _("initial state '${s}' is not one of the states", mapping={"s": wf.initial})
        )
    tnames = [t.name for t in wf.transitions]
    for dup in sorted({n for n in tnames if tnames.count(n) > 1}):
        problems.append(_("transition '${t}' is declared twice", mapping={"t": dup}))
    for t in wf.transitions:
        m = {"t": t.name}
        if not NAME_RE.match(t.name):
            problems.append(
                _(
                    "transition '${t}': the name must be lower-case letters, digits and '_'",
                    mapping=m,
                )
            )
        if not t.source:
            problems.append(_("transition '${t}' has no source state", mapping=m))
        for s in t.source:
            if s != ANY_STATE and s not in known:
                problems.append(
                    _("transition '${t}' starts from unknown state '${s}'", mapping={**m, "s": s})
                )
        if t.target not in known:
            problems.append(
                _("transition '${t}' goes to unknown state '${s}'", mapping={**m, "s": t.target})
            )
        if t.source == (t.target,):
            problems.append(
                _("transition '${t}' goes from '${s}' to itself", mapping={**m, "s": t.target})
            )
        if entity_type is not None:
            for f in t.required:
                if f not in entity_type.fields:
                    problems.append(
                        _("transition '${t}' requires unknown field '${f}'", mapping={**m, "f": f})
                    )
        if roles is not None:
            for r in t.roles:
                if r not in roles:
                    problems.append(
                        _("transition '${t}' names unknown role '${r}'", mapping={**m, "r": r})
                    )
        if t.approval is not None:
            if not t.approval.levels:
                problems.append(
                    _("transition '${t}': an approval needs at least one level", mapping=m)
                )
            for i, lv in enumerate(t.approval.levels, 1):
                lm = {**m, "n": i}
                if lv.mode not in MODES:
                    problems.append(
                        _(
                            "transition '${t}', approval level ${n}: mode must be 'any' or 'all'",
                            mapping=lm,
                        )
                    )
                if not lv.approvers:
                    problems.append(
                        _("transition '${t}', approval level ${n} has no approver", mapping=lm)
                    )
                problems += _approver_problems(lm, lv.approvers, roles, users)
            problems += _approver_problems({**m, "n": 0}, t.approval.notify, roles, users)
    if entity_type is not None and wf.field not in entity_type.fields:
        problems.append(
            _(
                "the status field '${f}' is not a field of entity type '${e}'",
                mapping={"f": wf.field, "e": entity_type.name},
            )
        )
    if wf.initial in known and not problems:
        reached = _reachable(wf)
        for s in names:
            if s not in reached:
                problems.append(
                    _(
                        "state '${s}' cannot be reached from '${i}'",
                        mapping={"s": s, "i": wf.initial},
                    )
                )
    return problems


def _approver_problems(m, approvers, roles, users) -> list:
    """Problems of ``approvers`` of transition ``m["t"]``, level ``m["n"]`` (0: the
    people told of the outcome)."""
    level = bool(m["n"])
    out = []
    for a in approvers:
        am = {**m, "a": str(a), "k": a.kind, "v": a.value or ""}
        if a.kind not in APPROVER_KINDS:
            out.append(
                _("transition '${t}', approval level ${n}: unknown approver '${a}'", mapping=am)
                if level
                else _("transition '${t}', approval notify: unknown approver '${a}'", mapping=am)
            )
        elif a.kind in ("role", "user") and not a.value:
            out.append(
                _(
                    "transition '${t}', approval level ${n}: approver '${k}' needs a value",
                    mapping=am,
                )
                if level
                else _("transition '${t}', approval notify: '${k}' needs a value", mapping=am)
            )
        elif a.kind == "role" and roles is not None and a.value not in roles:
            out.append(
                _("transition '${t}', approval level ${n}: unknown role '${v}'", mapping=am)
                if level
                else _("transition '${t}', approval notify: unknown role '${v}'", mapping=am)
            )
        elif a.kind == "user" and users is not None and not users(a.value):
            out.append(
                _("transition '${t}', approval level ${n}: unknown user '${v}'", mapping=am)
                if level
                else _("transition '${t}', approval notify: unknown user '${v}'", mapping=am)
            )
    return out


def _reachable(wf: Workflow) -> set[str]:
    seen = {wf.initial}
    todo = deque([wf.initial])
    while todo:
        state = todo.popleft()
        for t in wf.from_state(state):
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen

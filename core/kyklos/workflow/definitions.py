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
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from dataclasses import field as dc_field

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
                {"approvers": [str(a) for a in lv.approvers], "mode": lv.mode}
                for lv in self.levels
            ],
            "notify": [str(a) for a in self.notify],
        }


@dataclass(frozen=True)
class State:
    name: str
    title: str = ""

    @classmethod
    def parse(cls, item) -> State:
        if isinstance(item, State):
            return item
        if isinstance(item, dict):
            return cls(str(item.get("name", "")), str(item.get("title") or ""))
        return cls(str(item))

    @property
    def label(self) -> str:
        return self.title or self.name.replace("_", " ").capitalize()


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
            entity, parsed_states, parsed, str(initial or ""), str(field), version, origin,
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
            "states": [{"name": s.name, "title": s.title} for s in self.states],
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


def validate(wf: Workflow, entity_type=None, roles=None, users=None) -> list[str]:
    """Every problem with ``wf``, as readable sentences (empty: valid).

    :param entity_type: checks the status field and required fields exist
    :param roles: the known role names (None: not checked)
    :param users: a callable telling whether a ``user:`` approver exists (None: not checked)
    """
    problems: list[str] = []
    names = [s.name for s in wf.states]
    if not names:
        problems.append("a workflow needs at least one state")
    for s in names:
        if not NAME_RE.match(s):
            problems.append(
                f"state name {s!r} must be lower-case letters, digits and '_' "
                "(starting with a letter)"
            )
    for dup in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"state {dup!r} is declared twice")
    known = set(names)
    if wf.initial not in known:
        problems.append(f"initial state {wf.initial!r} is not one of the states")
    tnames = [t.name for t in wf.transitions]
    for dup in sorted({n for n in tnames if tnames.count(n) > 1}):
        problems.append(f"transition {dup!r} is declared twice")
    for t in wf.transitions:
        where = f"transition {t.name!r}"
        if not NAME_RE.match(t.name):
            problems.append(f"{where}: the name must be lower-case letters, digits and '_'")
        if not t.source:
            problems.append(f"{where} has no source state")
        for s in t.source:
            if s != ANY_STATE and s not in known:
                problems.append(f"{where} starts from unknown state {s!r}")
        if t.target not in known:
            problems.append(f"{where} goes to unknown state {t.target!r}")
        if t.source == (t.target,):
            problems.append(f"{where} goes from {t.target!r} to itself")
        if entity_type is not None:
            for f in t.required:
                if f not in entity_type.fields:
                    problems.append(f"{where} requires unknown field {f!r}")
        if roles is not None:
            for r in t.roles:
                if r not in roles:
                    problems.append(f"{where} names unknown role {r!r}")
        if t.approval is not None:
            if not t.approval.levels:
                problems.append(f"{where}: an approval needs at least one level")
            for i, lv in enumerate(t.approval.levels, 1):
                if lv.mode not in MODES:
                    problems.append(f"{where}, approval level {i}: mode must be 'any' or 'all'")
                if not lv.approvers:
                    problems.append(f"{where}, approval level {i} has no approver")
                problems += _approver_problems(f"{where}, approval level {i}", lv.approvers,
                                               roles, users)
            problems += _approver_problems(f"{where}, approval notify", t.approval.notify,
                                           roles, users)
    if entity_type is not None and wf.field not in entity_type.fields:
        problems.append(
            f"the status field {wf.field!r} is not a field of entity type {entity_type.name!r}"
        )
    if wf.initial in known and not problems:
        reached = _reachable(wf)
        for s in names:
            if s not in reached:
                problems.append(f"state {s!r} cannot be reached from {wf.initial!r}")
    return problems


def _approver_problems(where, approvers, roles, users) -> list[str]:
    out = []
    for a in approvers:
        if a.kind not in APPROVER_KINDS:
            out.append(
                f"{where}: unknown approver {str(a)!r} (use role:NAME, user:EMAIL, manager "
                "or department_head)"
            )
        elif a.kind in ("role", "user") and not a.value:
            out.append(f"{where}: approver {a.kind!r} needs a value ({a.kind}:...)")
        elif a.kind == "role" and roles is not None and a.value not in roles:
            out.append(f"{where}: unknown role {a.value!r}")
        elif a.kind == "user" and users is not None and not users(a.value):
            out.append(f"{where}: unknown user {a.value!r}")
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

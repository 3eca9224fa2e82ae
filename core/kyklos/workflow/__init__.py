"""Workflow: state machines per entity type with guarded transitions, approvals in
levels, automation rules, and the pages and API around them.

Plugins declare a workflow once with ``config.add_workflow`` (validated at start-up);
administrators may replace it in the UI (validated before it is saved). Everything
else reaches the engine through these functions and the record pages' hooks.
"""

from __future__ import annotations

from pyramid.exceptions import ConfigurationError

from kyklos.i18n import _
from kyklos.workflow.definitions import (
    ApprovalSpec,
    Approver,
    DefinitionError,
    Level,
    State,
    Transition,
    Workflow,
    validate,
)
from kyklos.workflow.runtime import available, get_workflow, system_transition, transition

__all__ = [
    "ApprovalSpec",
    "Approver",
    "DefinitionError",
    "Level",
    "State",
    "Transition",
    "Workflow",
    "add_workflow",
    "available",
    "get_workflow",
    "system_transition",
    "transition",
    "validate",
]

MANAGE = "kyklos.workflow.manage"


def add_workflow(config, entity: str, states, transitions, initial=None, field="status"):
    """Directive ``config.add_workflow``: the state machine of entity type ``entity``.

    :param states: state names, or :class:`State` / ``{"name", "title"}`` items
    :param transitions: :class:`Transition` or dicts with ``name``, ``source`` (a state,
        a list, or ``"*"`` for any), ``target``, and optionally ``title``,
        ``permission``, ``roles``, ``required`` (fields) and ``approval``
    :param initial: the state of a new record (default: the first state)
    :param field: the record's column holding the state
    :raises ConfigurationError: naming every problem (unknown or unreachable states,
        duplicate names, unknown fields or roles, approvals without approvers)
    """
    try:
        wf = Workflow.build(entity, states, transitions, initial, field)
    except DefinitionError as exc:
        raise ConfigurationError(f"workflow of {entity!r}: {exc}") from None
    intr = config.introspectable(
        "kyklos workflows", entity, f"{entity} workflow", "kyklos workflow"
    )
    intr["workflow"] = wf

    def register():
        reg = config.registry
        et = reg.kyklos_entities.get(entity)
        if et is None:
            raise ConfigurationError(f"workflow for unknown entity type {entity!r}")
        problems = validate(wf, et, roles=set(reg.kyklos_roles))
        if problems:
            raise ConfigurationError(
                f"workflow of {entity!r}: " + "; ".join(p.interpolate() for p in problems)
            )
        reg.kyklos_workflows[entity] = wf

    # order=20: after the entity types (10) it refers to
    config.action(("kyklos.workflow", entity), register, introspectables=(intr,), order=20)


def includeme(config):
    from kyklos.workflow.hooks import Hooks

    config.registry.kyklos_workflows = {}
    config.add_directive("add_workflow", add_workflow, action_wrap=False)
    config.declare_permission(MANAGE, _("Edit workflows and automation rules"))
    # Managers run the business rules (issue #17). Declared here as a role so a core
    # without plugins has it too; a plugin declaring "manager" later (contacts: "Sales
    # manager") keeps this permission, as add_role merges what was declared before.
    config.add_role("manager", _("Manager"), [MANAGE])
    config.add_hooks(Hooks(), name="kyklos.workflow.hooks")
    config.include(".automation")
    config.include(".views")
    config.include(".rules_views")
    config.include(".api")
    config.include(".webhook_admin")

"""Which entity types an administrator gave a workflow, automation rules or webhooks.

Every write request asked the database three questions about its record's type: is its
workflow edited, has it enabled automation rules, is a webhook subscribed to this event
(issue #19: three of an update's statements). On most sites the answer to all three is
"no" for most types, and these tables change rarely, so each process keeps the answer
under the authorisation counter (:mod:`kyklos.authcache` watches these three tables):
a type with nothing configured costs no statement, and only the types that have
something read their rows, as before. The rows themselves (ORM objects, bound to one
session) are never kept across requests.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from kyklos import authcache
from kyklos.workflow.models import AutomationRule, WebhookSubscription, WorkflowOverride

_KIND = "workflow_configured"


@dataclass(frozen=True)
class Configured:
    #: entity types with an administrator's workflow (``kyklos_workflow``)
    workflows: frozenset
    #: entity types with at least one enabled automation rule
    rules: frozenset
    #: ``"entity:event"`` keys some active webhook subscribes to
    webhook_events: frozenset


def _load(db) -> Configured:
    workflows = db.execute(select(WorkflowOverride.entity)).scalars()
    rules = db.execute(
        select(AutomationRule.entity).where(AutomationRule.enabled.is_(True))
    ).scalars()
    events = db.execute(
        select(WebhookSubscription.events).where(WebhookSubscription.active.is_(True))
    ).scalars()
    return Configured(
        frozenset(workflows),
        frozenset(rules),
        frozenset(e for evs in events for e in (evs or ()) if isinstance(e, str)),
    )


def configured(request) -> Configured | None:
    """What is configured, as of this request's transaction: from the process's cache,
    else read (three small statements) and kept. ``None`` when the cache may not be
    used (this transaction changed such data, or the database has no counter): the
    caller then reads its rows as it always did."""
    db = request.dbsession
    ck = authcache.key(db)
    if ck is None:
        return None
    found = authcache.get(ck, _KIND, None)
    if found is None:
        found = _load(db)
        authcache.put(ck, _KIND, None, found)
    return found

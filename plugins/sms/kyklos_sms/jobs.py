"""The outbox's jobs: ``sms.send`` (enqueued when a message is queued) and its periodic
twin, which also settles messages a dead worker left half-sent."""

from __future__ import annotations

from . import _
from .service import SEND_JOB, poll, send_batch

POLL_JOB = "sms.poll"


def _send(ctx):
    return send_batch(ctx)


def includeme(config):
    try:
        seconds = max(5.0, float(config.registry.settings.get("kyklos.sms.poll_seconds") or 30))
    except ValueError:
        seconds = 30.0
    # no retries: a run that failed half-way is taken up by the next one from the
    # outbox's states, never by repeating the hand-over of a message
    config.add_job(SEND_JOB, _send, retries=0, title=_("Send queued SMS"))
    config.add_job(POLL_JOB, poll, retries=0, every=seconds, title=_("Check the SMS outbox"))

"""Drip sequences: enrolment and the durable timers that move each person on.

**Timers.** Each enrolment carries the step it is at and ``next_at``, the time that step
runs. The ``campaigns.sequences.advance`` job (every minute, and once right after a
start) takes the enrolments that are due, step by step, in batches. Nothing lives in
memory: a restart or a ``kill -9`` of the worker loses no timer, the next run finds the
same rows due.

**Once per person.** A batch is one transaction that (1) moves each enrolment on with a
conditional ``UPDATE ... WHERE step_id = <this step> AND state = 'active'`` (of two
workers, one wins each row), (2) inserts a ``campaigns_steprun`` row per person (unique
per enrolment and step: the last guard) and (3) does the step's work in the database:
outbox rows of the step's campaign (e-mail, letter), the channel's own outbox (SMS:
queued, throttled by its plugin's job), activities (calls, meetings). Killed before the
commit, none of it happened and the batch runs again; after the commit, none of it runs
again. E-mail then leaves through the campaigns' outbox job (``sending.py``), whose
delivery rules apply (at most the one message in flight at a kill is sent again, with
the same Message-ID).

**Steps that send** have a campaign of their own (made when the sequence starts, named
after the sequence and step), so tracking (opens, clicks), unsubscribe, bounces,
replies and results work as for any campaign; conditions read that campaign's row
for the person.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import case, func, select, update

from kyklos_sdk import MailError, RecordError, bulk_insert, get_entity_type, request_as, utcnow

from . import _
from .models import Campaign, Recipient, TargetList
from .sequences_models import (
    MESSAGE_KINDS,
    STEP_KINDS,
    Enrolment,
    Sequence,
    SequenceStep,
    StepRun,
)

log = logging.getLogger("kyklos_campaigns.sequences")

JOB = "campaigns.sequences.advance"
BATCH = 200
#: a meeting created by a step lasts this long (its type needs an end)
MEETING_MINUTES = 30


def steps_of(db, sequence_id: int) -> list[SequenceStep]:
    return list(
        db.execute(
            select(SequenceStep)
            .where(SequenceStep.sequence_id == sequence_id)
            .order_by(SequenceStep.position, SequenceStep.id)
        ).scalars()
    )


def following(steps: list[SequenceStep], step: SequenceStep) -> SequenceStep | None:
    ids = [s.id for s in steps]
    i = ids.index(step.id)
    return steps[i + 1] if i + 1 < len(steps) else None


def reference_step(steps: list[SequenceStep], step: SequenceStep) -> SequenceStep | None:
    """The message a condition is about: the nearest e-mail or text message before it."""
    before = steps[: [s.id for s in steps].index(step.id)]
    return next((s for s in reversed(before) if s.kind in ("email", "message")), None)


# --- validation (every write path: API, pages, import) -----------------------------------


def validate_step(request, record, data, errors) -> None:
    """Each kind needs its own fields; a jump goes to a later step of the same sequence;
    the steps of a running sequence stay as they are (people are on them)."""
    db = request.dbsession

    def val(name):
        return data[name] if name in data else getattr(record, name, None)

    seq_id = val("sequence_id")
    seq = db.get(Sequence, seq_id) if seq_id else None
    if seq is None or seq.deleted_at is not None:
        errors.setdefault("sequence_id", _("Choose the sequence."))
        return
    if record is not None and "sequence_id" in data and data["sequence_id"] != record.sequence_id:
        errors["sequence_id"] = _("A step stays in its sequence.")
    if seq.status == "running":
        errors.setdefault("sequence_id", _("Pause the sequence before changing its steps."))
    if record is None and data.get("position") is None:
        last = db.execute(
            select(func.max(SequenceStep.position)).where(SequenceStep.sequence_id == seq.id)
        ).scalar()
        data["position"] = (last or 0) + 1
    kind = val("kind") or "email"
    if kind not in {k for k, _t in STEP_KINDS}:
        errors["kind"] = _("Choose a kind of step.")
        return
    if kind == "email":
        if not val("template_id"):
            errors["template_id"] = _("Choose the e-mail template.")
    elif kind == "message":
        from .sending import channels

        if val("channel") not in channels(request) or val("channel") == "email":
            errors["channel"] = _("Choose a channel.")
        text = (val("message") or "").strip()
        if not text:
            errors["message"] = _("Write the message.")
        else:
            from .rendering import TEXT_ENV, TemplateError, _render

            try:
                _render(TEXT_ENV, "message", text, {})
            except TemplateError as exc:
                errors["message"] = exc.message
    elif kind == "letter":
        from .letters import content_of

        if not val("letter_template_id"):
            errors["letter_template_id"] = _("Choose the letter template.")
        elif content_of(db, val("letter_template_id")) is None:
            errors["letter_template_id"] = _("Upload the letter template's Word document first.")
    elif kind in ("call", "meeting"):
        if not (val("subject") or "").strip():
            errors["subject"] = _("Say what the call or meeting is about.")
        days = val("due_days")
        if days is not None and not (0 <= days <= 365):
            errors["due_days"] = _("Between 0 and 365 days.")
    elif kind == "wait":
        amount = val("wait_amount")
        if amount is None or not (1 <= amount <= 10_000):
            errors["wait_amount"] = _("Between 1 and 10000.")
        if val("wait_unit") not in ("hours", "days"):
            errors["wait_unit"] = _("Choose hours or days.")
    elif kind == "condition":
        if not val("condition"):
            errors["condition"] = _("Choose what the person must have done.")
        otherwise = val("otherwise") or "stop"
        if otherwise == "jump":
            target = db.get(SequenceStep, val("jump_step_id")) if val("jump_step_id") else None
            position = val("position")
            if target is None or target.sequence_id != seq.id:
                errors["jump_step_id"] = _("Choose a later step of this sequence.")
            elif record is not None and target.id == record.id:
                errors["jump_step_id"] = _("Choose a later step of this sequence.")
            elif position is not None and target.position <= position:
                # only forwards: a person never goes through a step twice
                errors["jump_step_id"] = _("Choose a later step of this sequence.")
    if not errors and not (val("name") or "").strip():
        data["name"] = request.localizer.translate(dict(STEP_KINDS)[kind])
    if not errors and kind == "condition" and "otherwise" not in data and record is None:
        data["otherwise"] = "stop"
    if not errors and kind == "wait" and record is None and not data.get("wait_unit"):
        data["wait_unit"] = "days"


def check_step_delete(request, step: SequenceStep) -> None:
    """A step goes only from a sequence that is not running, and only when nobody is
    waiting at it (they would be left without a next step)."""
    db = request.dbsession
    seq = db.get(Sequence, step.sequence_id)
    if seq is not None and seq.status == "running":
        raise RecordError({"": _("Pause the sequence before changing its steps.")}, status=409)
    waiting = db.execute(
        select(func.count())
        .select_from(Enrolment)
        .where(Enrolment.step_id == step.id, Enrolment.state == "active")
    ).scalar()
    if waiting:
        raise RecordError(
            {"": _("${n} people are at this step.", mapping={"n": waiting})}, status=409
        )


def validate_enrolment(request, record, data, errors) -> None:
    """A person enrolled by hand: into a running sequence, once. An enrolment stays the
    same person's in the same sequence (enrol someone else instead)."""
    if record is not None:
        for name in ("sequence_id", "person_id"):
            if name in data and data[name] != getattr(record, name):
                errors[name] = _("An enrolment stays as it is: enrol the person anew.")
        return
    db = request.dbsession
    seq = db.get(Sequence, data.get("sequence_id")) if data.get("sequence_id") else None
    if seq is None or seq.deleted_at is not None:
        errors["sequence_id"] = _("Choose the sequence.")
        return
    if seq.status != "running":
        errors["sequence_id"] = _("Start the sequence first.")
    pid = data.get("person_id")
    if not pid:
        errors["person_id"] = _("Choose the person.")
        return
    if db.execute(
        select(Enrolment.id).where(Enrolment.sequence_id == seq.id, Enrolment.person_id == pid)
    ).first():
        errors["person_id"] = _("This person is in the sequence already.")
        return
    if not steps_of(db, seq.id):
        errors["sequence_id"] = _("The sequence has no steps.")


def enrol_defaults(request, record) -> None:
    """A person enrolled by hand starts at the first step, now."""
    from kyklos_contacts.models import Person

    db = request.dbsession
    person = db.get(Person, record.person_id)
    record.name = person.full_name if person is not None else ""
    record.state = "active"
    record.step_id = steps_of(db, record.sequence_id)[0].id
    record.next_at = utcnow()


def validate_sequence(request, record, data, errors) -> None:
    throttle = data.get("throttle_per_minute")
    if throttle is not None and not (1 <= throttle <= 100_000):
        errors["throttle_per_minute"] = _("Between 1 and 100000 messages per minute.")
    if record is not None and record.status == "running" and "list_id" in data:
        if data["list_id"] != record.list_id:
            errors["list_id"] = _("Pause the sequence before changing its list.")


# --- starting ------------------------------------------------------------------------------


def _step_campaign(request, seq: Sequence, step: SequenceStep) -> Campaign:
    """The campaign that carries a sending step's messages (made once)."""
    db = request.dbsession
    if step.campaign_id:
        found = db.get(Campaign, step.campaign_id)
        if found is not None:
            found.template_id = step.template_id
            found.letter_template_id = step.letter_template_id
            return found
    channel = {"email": "email", "letter": "letter"}.get(step.kind, step.channel or "sms")
    now = utcnow()
    campaign = Campaign(
        name=f"{seq.name} · {step.position}. {step.name}"[:200],
        list_id=seq.list_id,
        template_id=step.template_id,
        letter_template_id=step.letter_template_id,
        channel=channel,
        throttle_per_minute=seq.throttle_per_minute or 600,
        status="sending",
        started_at=now,
        owner_id=seq.owner_id,
        version=1,
        custom={},
    )
    db.add(campaign)
    db.flush()
    step.campaign_id = campaign.id
    return campaign


def list_people(request, tl: TargetList) -> list[tuple[int, str]]:
    """``(person id, name)`` of everyone the list names that the user may see: a static
    list's frozen members, a dynamic list's segment now. Consent is not checked here:
    each step checks the consent of its own channel (e-mail, SMS, post) when it runs."""
    from kyklos_contacts.models import Person

    from .models import TargetMember
    from .targets import segment_people

    db = request.dbsession
    if tl.kind == "static":
        from kyklos_sdk import visible_select

        ids = (
            visible_select(request, get_entity_type(request, "person"))
            .with_only_columns(Person.id)
            .where(
                Person.id.in_(select(TargetMember.person_id).where(TargetMember.list_id == tl.id))
            )
        )
    else:
        if tl.segment_id is None:
            raise RecordError({"list_id": _("Choose a list with a segment.")})
        ids = segment_people(request, tl.segment_id)
    rows = db.execute(
        select(Person.id, Person.full_name).where(Person.id.in_(ids)).order_by(Person.id)
    ).all()
    return [(pid, name or "") for pid, name in rows]


def start(request, seq: Sequence) -> dict:
    """Start (or resume) a sequence: enrol the people its list reaches now (those not
    enrolled yet) at the first step, due now; queue a run of the timers. Returns
    ``{"enrolled": n, "job_id": id}``."""
    db = request.dbsession
    errors = {}
    if seq.status == "running":
        errors["status"] = _("The sequence is running already.")
    tl = db.get(TargetList, seq.list_id) if seq.list_id else None
    if tl is None or tl.deleted_at is not None:
        errors["list_id"] = _("Choose the target list.")
    steps = steps_of(db, seq.id)
    if not steps:
        errors["steps"] = _("Add at least one step.")
    for step in steps:
        found: dict = {}
        validate_step(request, step, {}, found)
        found.pop("sequence_id", None)
        if found:
            errors[f"steps.{step.position}"] = next(iter(found.values()))
    if errors:
        raise RecordError(errors)
    for step in steps:
        if step.kind in MESSAGE_KINDS:
            _step_campaign(request, seq, step)
    people = list_people(request, tl)
    have = set(
        db.execute(select(Enrolment.person_id).where(Enrolment.sequence_id == seq.id)).scalars()
    )
    now = utcnow()
    rows = [
        {
            "sequence_id": seq.id,
            "person_id": pid,
            "name": name,
            "state": "active",
            "step_id": steps[0].id,
            "next_at": now,
            "version": 1,
            "custom": {},
            "owner_id": seq.owner_id,
            "created_at": now,
            "updated_at": now,
        }
        for pid, name in people
        if pid not in have
    ]
    if rows:
        bulk_insert(db, Enrolment.__table__, rows)  # indexed for the list's search
    seq.status = "running"
    seq.started_at = seq.started_at or now
    ident = getattr(request, "identity", None)
    if ident is not None and ident.user is not None:
        seq.started_by_id = ident.user.id
    seq.version += 1
    job_id = request.enqueue_job(JOB, args={}, user_id=None)
    return {"enrolled": len(rows), "job_id": job_id}


def pause(request, seq: Sequence) -> None:
    if seq.status != "running":
        raise RecordError({"status": _("Only a running sequence can be paused.")})
    seq.status = "paused"
    seq.version += 1


# --- the timers ---------------------------------------------------------------------------


def advance(registry, now: dt.datetime | None = None, batch: int = BATCH) -> dict:
    """Run every step that is due at ``now`` (default: the current time), until no
    enrolment is due. Returns counts by outcome. Tests pass a later ``now`` to move time
    forward."""
    now = now or utcnow()
    totals: dict = {}
    broken: set = set()
    rounds = 0
    while True:
        with request_as(registry, None) as request:
            groups = request.dbsession.execute(
                select(Enrolment.sequence_id, Enrolment.step_id, Sequence.started_by_id)
                .join(Sequence, Sequence.id == Enrolment.sequence_id)
                .where(
                    Enrolment.state == "active",
                    Enrolment.next_at <= now,
                    Enrolment.step_id.is_not(None),
                    Sequence.status == "running",
                    Sequence.deleted_at.is_(None),
                )
                .group_by(Enrolment.sequence_id, Enrolment.step_id, Sequence.started_by_id)
            ).all()
        if not groups:
            break
        rounds += 1
        if rounds > 1000:  # a safety net: each round moves people forward
            log.warning("sequences: stopping after %s rounds", rounds)
            break
        groups = [g for g in groups if (g[0], g[1]) not in broken]
        if not groups:
            break
        for seq_id, step_id, user_id in groups:
            try:
                with request_as(registry, user_id, write=True) as request:
                    done = run_batch(request, seq_id, step_id, now, batch)
            except Exception as exc:  # noqa: BLE001 - one broken step must not stop the rest
                # nothing of the batch was written (rolled back): the people stay due and
                # the step is tried again at the next run; the others move on now
                log.warning(
                    "sequence %s step %s failed: %s %s",
                    seq_id,
                    step_id,
                    exc,
                    getattr(exc, "errors", ""),
                )
                broken.add((seq_id, step_id))
                totals["errors"] = totals.get("errors", 0) + 1
                continue
            for k, v in done.items():
                totals[k] = totals.get(k, 0) + v
    rekick(registry)
    return totals


def rekick(registry) -> None:
    """E-mail rows of step campaigns left queued (a send job that finished just as a new
    batch came) get a send job again."""
    from .sending import JOB as SEND_JOB

    with request_as(registry, None, write=True) as request:
        db = request.dbsession
        stuck = db.execute(
            select(Campaign.id, Sequence.started_by_id)
            .join(SequenceStep, SequenceStep.campaign_id == Campaign.id)
            .join(Sequence, Sequence.id == SequenceStep.sequence_id)
            .join(Recipient, Recipient.campaign_id == Campaign.id)
            .where(
                Campaign.channel == "email",
                Campaign.status == "sent",
                Recipient.state == "queued",
            )
            .distinct()
        ).all()
        for cid, uid in stuck:
            db.get(Campaign, cid).status = "sending"
            request.enqueue_job(SEND_JOB, args={"campaign_id": cid}, user_id=uid)


def run_batch(request, seq_id: int, step_id: int, now: dt.datetime, batch: int) -> dict:
    """One step for up to ``batch`` due people, in the request's transaction."""
    db = request.dbsession
    seq = db.get(Sequence, seq_id)
    step = db.get(SequenceStep, step_id)
    steps = steps_of(db, seq_id)
    due = list(
        db.execute(
            select(Enrolment)
            .where(
                Enrolment.sequence_id == seq_id,
                Enrolment.step_id == step_id,
                Enrolment.state == "active",
                Enrolment.next_at <= now,
            )
            .order_by(Enrolment.id)
            .limit(batch)
        ).scalars()
    )
    nxt = following(steps, step)
    # done already for these (a stale run read them before another's commit): they
    # move on as that run decided, and nothing of the step is done again
    done_before = dict(
        db.execute(
            select(StepRun.enrolment_id, StepRun.outcome).where(
                StepRun.step_id == step_id, StepRun.enrolment_id.in_([e.id for e in due])
            )
        ).all()
    )
    outcomes = _outcomes(request, seq, step, steps, due, now)
    for eid, outcome in done_before.items():
        outcomes[eid] = (outcome, None)
    counts: dict = {}
    runs = []
    for enrol in due:
        outcome, detail = outcomes.get(enrol.id, ("done", None))
        target, state, when = nxt, "active", now
        if step.kind == "wait":
            hours = (step.wait_amount or 0) * (24 if step.wait_unit == "days" else 1)
            when = now + dt.timedelta(hours=hours)
        elif outcome == "no":
            if step.otherwise == "jump" and step.jump_step_id:
                target = db.get(SequenceStep, step.jump_step_id)
            else:
                target, state = None, "stopped"
        if target is None and state == "active":
            state = "done"
        # the claim: of two runs, only one moves this person off this step
        moved = db.execute(
            update(Enrolment)
            .where(
                Enrolment.id == enrol.id,
                Enrolment.step_id == step_id,
                Enrolment.state == "active",
            )
            .values(
                step_id=target.id if target is not None else None,
                state=state,
                next_at=when if target is not None else None,
                finished_at=None if target is not None else now,
                updated_at=now,
                version=Enrolment.version + 1,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1 or enrol.id in done_before:
            continue
        runs.append(
            {
                "sequence_id": seq_id,
                "step_id": step_id,
                "enrolment_id": enrol.id,
                "person_id": enrol.person_id,
                "ran_at": now,
                "outcome": outcome,
                "detail": (detail or None) and str(detail)[:500],
            }
        )
        counts[outcome] = counts.get(outcome, 0) + 1
    if runs:
        db.execute(StepRun.__table__.insert(), runs)
        claimed = {r["enrolment_id"] for r in runs}
        _do(request, seq, step, [e for e in due if e.id in claimed], outcomes, now)
    return counts


def _people(db, enrolments):
    from kyklos_contacts.models import Person

    ids = [e.person_id for e in enrolments]
    found = {p.id: p for p in db.execute(select(Person).where(Person.id.in_(ids))).scalars()}
    return [found[i] for i in ids if i in found]


def _outcomes(request, seq, step, steps, due, now) -> dict:
    """Enrolment id -> (outcome, detail), decided before anything is written."""
    db = request.dbsession
    out: dict = {}
    if step.kind == "condition":
        ref = reference_step(steps, step)
        rows = {}
        if ref is not None and ref.campaign_id:
            rows = {
                r.person_id: r
                for r in db.execute(
                    select(Recipient).where(
                        Recipient.campaign_id == ref.campaign_id,
                        Recipient.person_id.in_([e.person_id for e in due]),
                    )
                ).scalars()
            }
        want = step.condition or "opened"
        negate = want.startswith("not_")
        attr = {"opened": "opened_at", "clicked": "clicked_at", "responded": "responded_at"}[
            want.removeprefix("not_")
        ]
        for e in due:
            rec = rows.get(e.person_id)
            met = rec is not None and getattr(rec, attr) is not None
            out[e.id] = ("yes" if met != negate else "no", None)
        return out
    if step.kind in ("email", "message", "letter"):
        from .targets import check

        channel = {"email": "email", "letter": "letter"}.get(step.kind, "sms")
        res = check(db, _people(db, due), channel)
        reached = {pid for pid, *_rest in res.members}
        for e in due:
            if e.person_id not in reached:
                out[e.id] = ("skipped", "no address, no consent, suppressed or a duplicate")
    return out


def _do(request, seq, step, enrolments, outcomes, now) -> None:
    """The step's work for the people just claimed."""
    kind = step.kind
    todo = [e for e in enrolments if outcomes.get(e.id, ("done",))[0] == "done"]
    if not todo or kind in ("wait", "condition"):
        return
    if kind in ("call", "meeting"):
        _activities(request, seq, step, todo, now)
    else:
        _messages(request, seq, step, todo, now)


def _activities(request, seq, step, enrolments, now) -> None:
    """A call or a meeting for the sequence's owner in each person's history, through
    the activities plugin's mass creation (MKT-05)."""
    from kyklos_activities.actions import create_mass_activity
    from kyklos_activities.models import ActivityType

    db = request.dbsession
    type_id = db.execute(select(ActivityType.id).where(ActivityType.code == step.kind)).scalar()
    if type_id is None:
        raise RecordError({"kind": _("No activity type for this step.")})
    when = now + dt.timedelta(days=step.due_days or 0)
    template = {"type_id": type_id, "subject": step.subject or step.name}
    if step.kind == "meeting":
        template["starts_at"] = when
        template["ends_at"] = when + dt.timedelta(minutes=MEETING_MINUTES)
    else:
        template["due_at"] = when
    if seq.owner_id:
        # the owner does the calls; the activity's ownership follows its responsible
        template["responsible_id"] = seq.owner_id
    create_mass_activity(request, template, [e.person_id for e in enrolments])


def _messages(request, seq, step, enrolments, now) -> None:
    """Outbox rows on the step's campaign: e-mail and letters are sent or made from
    there; a text message is handed to its channel's outbox now (the channel's plugin
    sends it, throttled), in this transaction."""
    from .sending import JOB as SEND_JOB
    from .sending import channels
    from .targets import check

    db = request.dbsession
    campaign = _step_campaign(request, seq, step)
    channel_id = {"email": "email", "letter": "letter"}.get(step.kind, step.channel or "sms")
    res = check(db, _people(db, enrolments), "sms" if step.kind == "message" else channel_id)
    have = set(
        db.execute(
            select(Recipient.person_id).where(
                Recipient.campaign_id == campaign.id,
                Recipient.person_id.in_([e.person_id for e in enrolments]),
            )
        ).scalars()
    )
    members = [m for m in res.members if m[0] not in have]
    if not members:
        return
    sms = step.kind == "message"
    rows = [
        {
            "campaign_id": campaign.id,
            "person_id": pid,
            "address": address,
            "name": name,
            "state": "sent" if sms else "queued",
            "sent_at": now if sms else None,
            "attempts": 1 if sms else 0,
            "version": 1,
            "custom": {},
            "owner_id": seq.owner_id,
            "created_at": now,
            "updated_at": now,
        }
        for pid, address, name, _lang in members
    ]
    bulk_insert(db, Recipient.__table__, rows)  # indexed for the list's search
    if sms:
        channel = channels(request).get(channel_id)
        for pid, address, _name, _lang in members:
            _send_text(request, channel, campaign, step, pid, address)
        return
    if step.kind == "letter":
        # the letters job merges every row of the campaign: its last run (offered for
        # download on the campaign's "Letters") holds the letters of everyone so far
        from .letters import JOB as LETTERS_JOB

        request.enqueue_job(
            LETTERS_JOB, args={"campaign_id": campaign.id}, user_id=seq.started_by_id
        )
        return
    if campaign.status in ("sent", "draft"):
        campaign.status = "sending"
    request.enqueue_job(SEND_JOB, args={"campaign_id": campaign.id}, user_id=seq.started_by_id)


def _send_text(request, channel, campaign, step, person_id, address) -> None:
    """Hand one text to the channel's outbox; a refusal (a number that is not a mobile)
    marks that person's row failed with the reason."""
    from kyklos_contacts.models import Person

    from .coupons import coupon_values
    from .rendering import TEXT_ENV, TemplateError, _render, merge_context

    db = request.dbsession
    error = None
    try:
        if channel is None:
            raise MailError("channel not available")
        person = db.get(Person, person_id)
        values = merge_context(request, person)
        values.update(coupon_values(db, campaign.id, person_id))
        text = _render(TEXT_ENV, "message", step.message or "", values).strip()
        # a savepoint: a refusal leaves nothing of this message behind
        with db.begin_nested():
            channel.send(request, address, "", text)
    except (MailError, TemplateError) as exc:
        error = str(getattr(exc, "message", None) or exc)[:500]
    if error:
        db.execute(
            update(Recipient)
            .where(Recipient.campaign_id == campaign.id, Recipient.person_id == person_id)
            .values(state="failed", sent_at=None, error=error)
            .execution_options(synchronize_session=False)
        )


def advance_job(ctx):
    """The ``campaigns.sequences.advance`` job; ``kyklos.campaigns.sequence_batch``
    people per transaction (default 200)."""
    batch = int(ctx.registry.settings.get("kyklos.campaigns.sequence_batch") or BATCH)
    return advance(ctx.registry, batch=batch)


# --- results ------------------------------------------------------------------------------


def step_results(request, seq: Sequence) -> list[dict]:
    """Per step: people now at it, how often it ran by outcome, and for a sending step its
    campaign's numbers (sent, opened, clicked, responded)."""
    db = request.dbsession
    steps = steps_of(db, seq.id)
    waiting = dict(
        db.execute(
            select(Enrolment.step_id, func.count())
            .where(Enrolment.sequence_id == seq.id, Enrolment.state == "active")
            .group_by(Enrolment.step_id)
        ).all()
    )
    ran: dict = {}
    for sid, outcome, n in db.execute(
        select(StepRun.step_id, StepRun.outcome, func.count())
        .where(StepRun.sequence_id == seq.id)
        .group_by(StepRun.step_id, StepRun.outcome)
    ).all():
        ran.setdefault(sid, {})[outcome] = n
    out = []
    for step in steps:
        row = {
            "id": step.id,
            "position": step.position,
            "name": step.name,
            "kind": step.kind,
            "waiting": waiting.get(step.id, 0),
            "ran": sum(ran.get(step.id, {}).values()),
            "outcomes": ran.get(step.id, {}),
            "campaign_id": step.campaign_id,
            "messages": None,
        }
        if step.campaign_id:
            r = Recipient
            total, sent, opened, clicked, responded, failed = db.execute(
                select(
                    func.count(),
                    func.count(r.sent_at),
                    func.count(r.opened_at),
                    func.count(r.clicked_at),
                    func.count(r.responded_at),
                    func.count(case((r.state == "failed", 1))),
                ).where(r.campaign_id == step.campaign_id)
            ).one()
            row["messages"] = {
                "recipients": total,
                "sent": sent,
                "opened": opened,
                "clicked": clicked,
                "responded": responded,
                "failed": failed,
            }
        out.append(row)
    return out


def includeme(config):
    config.add_job(
        JOB,
        advance_job,
        retries=3,
        retry_delay=30,
        every=60,
        title=_("Move people on through the sequences"),
    )

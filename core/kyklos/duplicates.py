"""Duplicate detection and merging.

Match rules per entity type are declared by plugins (``config.add_duplicate_rule``) or
by the deployment (setting ``kyklos.duplicates.rules``): normalised e-mail, phone
digits, exact text, or names folded across scripts ("Παπαδόπουλος" meets
"Papadopoulos", "Wójcik" meets "Wojcik"). Rules may name custom fields.

Each record's match keys live in ``kyklos_duplicate_key`` (kept current by the after-save
hook, so every write path - forms, API, import - maintains them); a lookup is one index
probe per rule. Creating a record through the API answers 409 with the candidates unless
``?duplicates=allow``; a scan job lists candidate pairs of existing data; a merge
re-points every foreign key to the loser (found in the metadata), every ``(entity,
record_id)`` reference (history, tags, attachments, custom values...), calls the
``kyklos_record_merge`` hook for references the core cannot see, and deletes the loser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    and_,
    delete,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, TimestampMixin, bulk_insert, utcnow
from kyklos.entities import RecordError, customfields, history, service, values
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.text import fold

KINDS = ("exact", "fold", "email", "phone")
KEY_LENGTH = 200
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")


class DuplicateKey(IdMixin, Base):
    __tablename__ = "kyklos_duplicate_key"
    __table_args__ = (
        Index("ix_kyklos_duplicate_key_lookup", "entity", "rule", "key"),
        Index("ix_kyklos_duplicate_key_record", "entity", "record_id"),
    )

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    rule: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    key: Mapped[str] = mapped_column(String(KEY_LENGTH), nullable=False)


class DuplicateCandidate(IdMixin, TimestampMixin, Base):
    """A pair the scan found: ``state`` open, dismissed or merged."""

    __tablename__ = "kyklos_duplicate_candidate"
    __table_args__ = (UniqueConstraint("entity", "first_id", "second_id"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    rule: Mapped[str] = mapped_column(String(100), nullable=False)
    first_id: Mapped[int] = mapped_column(Integer, nullable=False)
    second_id: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("kyklos_user.id", ondelete="SET NULL")
    )


@dataclass(frozen=True)
class Rule:
    entity: str
    name: str
    fields: tuple[str, ...]
    kind: str = "exact"
    title: object = None


def normalise(kind: str, value) -> str:
    """The comparison key of ``value`` under a rule kind; ``""`` never matches."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if kind == "fold":
        return fold(text)[:KEY_LENGTH]
    if text.isascii():
        # NFKC leaves ASCII as it is and the zero-width characters are not ASCII: the
        # common case (an e-mail address, a number) skips both passes
        text = text.strip()
    else:
        text = unicodedata.normalize("NFKC", _ZERO_WIDTH.sub("", text)).strip()
    if kind == "email":
        return text.casefold()[:KEY_LENGTH] if "@" in text else ""
    if kind == "phone":
        digits = "".join(c for c in text if c.isdigit())
        if digits.startswith("00"):
            digits = digits[2:]
        # The last ten digits: "+30 2310 123456" meets "2310123456".
        return digits[-10:] if len(digits) >= 7 else ""
    return " ".join(text.casefold().split())[:KEY_LENGTH]


def add_duplicate_rule(config, entity: str, name: str, fields, kind: str = "exact",
                       title=None):
    """Directive ``config.add_duplicate_rule``: records of ``entity`` whose ``fields``
    normalise to the same key under ``kind`` are duplicate candidates. ``exact`` and
    ``fold`` join the fields into one key; ``email`` and ``phone`` give one key per value
    of each field, list fields included (a person's typed e-mails), so any shared
    address or number matches.

    :param kind: ``exact`` (case and spacing folded), ``fold`` (names across scripts
        and diacritics), ``email`` or ``phone`` (digits, last ten)
    """
    if kind not in KINDS:
        raise ValueError(f"duplicate rule {name}: kind must be one of {KINDS}")
    rule = Rule(entity, name, tuple([fields] if isinstance(fields, str) else fields), kind,
                title)

    def register():
        config.registry.kyklos_duplicate_rules.setdefault(entity, []).append(rule)

    config.action(("kyklos.duplicate_rule", entity, name), register, order=20)


def rules_for(registry, et) -> list[Rule]:
    """The declared rules of ``et`` (by plugins or the ``kyklos.duplicates.rules``
    setting); a type without rules is never checked."""
    return registry.kyklos_duplicate_rules.get(et.name, [])


def _rules_from_settings(config) -> None:
    """``kyklos.duplicates.rules``: one rule a line, ``entity name kind field[,field]``
    (e.g. ``person email email email``), for deployments that add their own."""
    for line in (config.registry.settings.get("kyklos.duplicates.rules") or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 4:
            raise ValueError(f"kyklos.duplicates.rules: {line!r}: use entity name kind fields")
        entity, name, kind, fields = parts
        add_duplicate_rule(config, entity, name, fields.split(","), kind)


def _texts(value) -> list[str]:
    """The texts a field value offers for matching: one, or one per item of a list (a
    person's typed e-mails: each dict item offers its text values, and the rule's kind
    keeps those it can read - the address, not the "work" label)."""
    if value in (None, ""):
        return []
    if isinstance(value, list | tuple | set | frozenset):
        out = []
        for item in value:
            if isinstance(item, dict):
                out += [v for v in item.values() if isinstance(v, str) and v]
            elif item not in (None, ""):
                out.append(str(item))
        return out
    return [str(value)]


def match_keys(registry, et, record=None, data=None) -> list[tuple[str, str]]:
    """``[(rule, key), ...]`` of a record (or of a dict of submitted values).

    ``exact`` and ``fold`` rules join their fields' values into one key (first and last
    name). ``email`` and ``phone`` rules give a key for every value of every field they
    name, so a rule on ``("email", "emails")`` matches a person by any of their
    addresses, not only the primary one."""
    return _match_keys(_rule_plan(registry, et), et, record, data)


def _rule_plan(registry, et) -> list[tuple[Rule, list]]:
    """``[(rule, [field info, ...])]``: the rules of ``et`` with their fields looked up,
    once for the many records of a batch."""
    out = []
    for rule in rules_for(registry, et):
        infos = [et.fields.get(name) for name in rule.fields]
        out.append((rule, [f for f in infos if f is not None]))
    return out


def _match_keys(plan, et, record=None, data=None) -> list[tuple[str, str]]:
    out = []
    for rule, infos in plan:
        if data is not None:
            vals = [data.get(f.name) for f in infos]
        else:
            vals = [values.read_value(et, f, record) for f in infos]
        if rule.kind in ("email", "phone"):
            keys = {normalise(rule.kind, t) for v in vals for t in _texts(v)} - {""}
            out += [(rule.name, k) for k in sorted(keys)]
        else:
            key = normalise(rule.kind, " ".join(str(v) for v in vals if v not in (None, "")))
            if key:
                out.append((rule.name, key))
    return out


def index_record(request, et, record) -> None:
    db = request.dbsession
    db.execute(delete(DuplicateKey).where(DuplicateKey.entity == et.name,
                                          DuplicateKey.record_id == record.id))
    if getattr(record, "deleted_at", None) is not None:
        return
    rows = [{"entity": et.name, "rule": r, "record_id": record.id, "key": k}
            for r, k in match_keys(request.registry, et, record)]
    if rows:
        db.execute(insert(DuplicateKey), rows)


def index_records(request, et, records) -> None:
    """:func:`index_record` for many records: one DELETE, one executemany."""
    if not records:
        return
    db = request.dbsession
    db.execute(delete(DuplicateKey).where(DuplicateKey.entity == et.name,
                                          DuplicateKey.record_id.in_([r.id for r in records])))
    plan = _rule_plan(request.registry, et)
    rows = [{"entity": et.name, "rule": rule, "record_id": rec.id, "key": key}
            for rec in records if getattr(rec, "deleted_at", None) is None
            for rule, key in _match_keys(plan, et, rec)]
    if rows:
        bulk_insert(db, DuplicateKey.__table__, rows)


def candidates(request, et, data: dict, exclude_id: int | None = None, limit: int = 10):
    """Visible records sharing a match key with ``data``: ``[(record, rule), ...]``."""
    keys = match_keys(request.registry, et, data=data)
    if not keys:
        return []
    conds = [and_(DuplicateKey.rule == r, DuplicateKey.key == k) for r, k in keys]
    from sqlalchemy import or_

    rows = request.dbsession.execute(
        select(DuplicateKey.record_id, DuplicateKey.rule)
        .where(DuplicateKey.entity == et.name, or_(*conds))
        .limit(200)
    ).all()
    by_id: dict[int, str] = {}
    for rid, rule in rows:
        if rid != exclude_id:
            by_id.setdefault(rid, rule)
    if not by_id:
        return []
    recs = request.dbsession.execute(
        service.visible_select(request, et).where(et.model.id.in_(list(by_id)))
        .order_by(et.model.id).limit(limit)
    ).scalars()
    return [(r, by_id[r.id]) for r in recs]


def candidates_json(request, et, found) -> list[dict]:
    return [{"id": r.id, "title": et.record_title(r), "rule": rule} for r, rule in found]


# --- scan -------------------------------------------------------------------------------


def scan(request, et, batch: int = 1000) -> int:
    """Rebuild the match keys of every record of ``et`` and record the candidate pairs;
    returns the number of new pairs."""
    db = request.dbsession
    db.execute(delete(DuplicateKey).where(DuplicateKey.entity == et.name))
    last = 0
    while True:
        stmt = select(et.model).where(et.model.id > last).order_by(et.model.id).limit(batch)
        if et.soft_delete:
            stmt = stmt.where(et.model.deleted_at.is_(None))
        recs = db.execute(stmt).scalars().all()
        if not recs:
            break
        rows = []
        for rec in recs:
            rows += [{"entity": et.name, "rule": r, "record_id": rec.id, "key": k}
                     for r, k in match_keys(request.registry, et, rec)]
        if rows:
            bulk_insert(db, DuplicateKey.__table__, rows)
        last = recs[-1].id
        db.expunge_all()
    a, b = DuplicateKey.__table__.alias("a"), DuplicateKey.__table__.alias("b")
    pairs = db.execute(
        select(a.c.rule, a.c.record_id, func.min(b.c.record_id))
        .join(b, and_(a.c.entity == b.c.entity, a.c.rule == b.c.rule, a.c.key == b.c.key,
                      b.c.record_id < a.c.record_id))
        .where(a.c.entity == et.name)
        .group_by(a.c.rule, a.c.record_id)
    ).all()
    known = set(db.execute(
        select(DuplicateCandidate.first_id, DuplicateCandidate.second_id)
        .where(DuplicateCandidate.entity == et.name)
    ).all())
    new = 0
    for rule, second, first in pairs:
        if (first, second) in known:
            continue
        known.add((first, second))
        db.add(DuplicateCandidate(entity=et.name, rule=rule, first_id=first, second_id=second))
        new += 1
    db.flush()
    return new


def scan_job(ctx, entity: str):
    et = ctx.registry.kyklos_entities[entity]
    customfields.refresh(ctx.registry, ctx.dbsession)
    return {"pairs": scan(ctx.request, et)}


# --- merge -------------------------------------------------------------------------------


def _live_tables(db) -> list:
    """The metadata's tables that exist in this database. The metadata also holds the
    models of plugins that are installed but not enabled here (imported, never
    migrated): writing to their tables would fail."""
    present = set(inspect(db.connection()).get_table_names())
    return [t for t in Base.metadata.sorted_tables if t.name in present]


def _polymorphic_tables(tables, skip: set[str]):
    """Tables that point at records by ``(entity, record_id)``."""
    for table in tables:
        if table.name in skip:
            continue
        if "entity" in table.c and "record_id" in table.c:
            yield table


def merge(request, et, winner, loser, source: str = "ui") -> None:
    """Merge ``loser`` into ``winner``: every reference to the loser now points at the
    winner, empty fields of the winner take the loser's values, both histories stay
    (under the winner, plus a ``merge`` entry), and the loser is deleted."""
    if winner.id == loser.id:
        raise RecordError({"": _("A record cannot be merged with itself.")})
    if not (rules_can(request, et, winner, "update") and rules_can(request, et, loser, "delete")):
        raise HTTPForbidden()
    db = request.dbsession
    # Fill the winner's empty fields from the loser (through the service: validated,
    # audited, mirrored).
    fill = {}
    _readable, writable = service.field_access(request, et)
    for f in et.writable_fields():
        if f.name not in writable or f.name == "owner_id":
            continue
        wv = values.read_value(et, f, winner)
        lv = values.read_value(et, f, loser)
        if f.type == "reference" and lv in (winner.id, loser.id):
            continue  # the winner would point at itself (partner, parent)
        if wv in (None, "", []) and lv not in (None, "", []):
            fill[f.name] = values.to_json(f, lv)
    loser_id, table = loser.id, et.model.__table__
    # Foreign keys to the type's table, found in the metadata (other plugins' too).
    tables = _live_tables(db)
    for t in tables:
        for fk in t.foreign_keys:
            if fk.column.table is table and fk.column.name == "id":
                _repoint(db, t, fk.parent, table, loser_id, winner.id)
    skip = {"kyklos_duplicate_key", "kyklos_duplicate_candidate", "kyklos_custom_value",
            "kyklos_search"}
    for t in _polymorphic_tables(tables, skip):
        where = and_(t.c.entity == et.name, t.c.record_id == loser_id)
        try:
            with db.begin_nested():
                db.execute(update(t).where(where).values(record_id=winner.id))
        except IntegrityError:
            # The winner already holds the same link (a tag on both): keep one.
            db.execute(delete(t).where(where))
    from kyklos.segments import Segment, SegmentMember

    seg_ids = select(Segment.id).where(Segment.entity == et.name)
    have = select(SegmentMember.segment_id).where(SegmentMember.record_id == winner.id)
    db.execute(update(SegmentMember).where(
        SegmentMember.record_id == loser_id, SegmentMember.segment_id.in_(seg_ids),
        SegmentMember.segment_id.not_in(have)).values(record_id=winner.id))
    db.execute(delete(SegmentMember).where(SegmentMember.record_id == loser_id,
                                           SegmentMember.segment_id.in_(seg_ids)))
    db.execute(delete(customfields.CustomValue).where(
        customfields.CustomValue.entity == et.name,
        customfields.CustomValue.record_id == loser_id))
    request.registry.kyklos_pm.hook.kyklos_record_merge(
        request=request, entity_type=et, winner=winner, loser=loser)
    db.expire_all()
    winner = db.get(et.model, winner.id)
    loser = db.get(et.model, loser_id)
    if fill:
        service.update_record(request, et, winner, fill, source=source)
    service.delete_record(request, et, loser, source=source)
    history.record_change(request, et, winner, "merge",
                          {"merged": [loser_id, winner.id]}, source)
    db.execute(update(DuplicateCandidate).where(
        DuplicateCandidate.entity == et.name,
        (DuplicateCandidate.first_id == loser_id) | (DuplicateCandidate.second_id == loser_id),
    ).values(state="merged", resolved_by_id=service.user_id(request), updated_at=utcnow()))
    db.execute(delete(DuplicateKey).where(DuplicateKey.entity == et.name,
                                          DuplicateKey.record_id == loser_id))
    db.flush()


def _repoint(db, t, column, referred, loser_id: int, winner_id: int) -> None:
    """Point ``t.column`` from the loser to the winner. Rows that cannot move because the
    winner already has their like (one consent per channel, one photo per person: a
    unique key or the primary key) are the loser's copies and go; a self-reference
    that would make the winner its own parent is cleared."""
    conn = db.connection()
    if t is referred and any(c.name == "id" for c in t.primary_key.columns):
        conn.execute(update(t).where(t.c.id == winner_id, column == loser_id)
                     .values({column.name: None}))
    # Savepoints on the connection, not the session: Core statements only, so no ORM
    # flush of the loaded records happens in between (they are expired afterwards).
    try:
        with conn.begin_nested():
            conn.execute(update(t).where(column == loser_id).values({column.name: winner_id}))
        return
    except IntegrityError:
        pass
    pk = list(t.primary_key.columns)
    for row in conn.execute(select(*pk).where(column == loser_id)).all():
        where = and_(*(c == v for c, v in zip(pk, row, strict=True)))
        try:
            with conn.begin_nested():
                conn.execute(update(t).where(where).values({column.name: winner_id}))
        except IntegrityError:
            conn.execute(delete(t).where(where))


def rules_can(request, et, record, action: str) -> bool:
    return bool(request.has_permission(et.permission(action))) and \
        service.rules.can_access(request, et, record, action)


class DuplicateWarning(RecordError):
    """A new record looks like existing ones (409). ``extra["duplicates"]`` lists them."""

    def __init__(self, message, found: list[dict]):
        super().__init__({"_duplicates": message}, title=_("Possible duplicate"), status=409)
        self.extra = {"duplicates": found}


def _confirmation_key(et, data) -> str:
    import hashlib
    import json

    raw = json.dumps([et.name, {k: values.to_json(None, v) for k, v in sorted(data.items())}],
                     default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def allow_duplicates(request) -> None:
    """Let this request's creates go ahead despite look-alikes: for flows where the user
    has already decided (a lead conversion where they chose "create new")."""
    request.environ["kyklos.duplicates"] = "allow"


def allowed(request, et, data, source) -> bool:
    """Whether a create may go ahead despite look-alikes: ``?duplicates=allow`` (or the
    header ``X-Kyklos-Duplicates: allow``) for API clients; in the web UI, saving the
    same form a second time after the warning."""
    if request.params.get("duplicates") == "allow" or \
            request.headers.get("X-Kyklos-Duplicates") == "allow" or \
            request.environ.get("kyklos.duplicates") == "allow":
        return True
    if source != "ui":
        return False
    key = _confirmation_key(et, data)
    warned = list(request.session.get("kyklos.duplicates.warned", []))
    if key in warned:
        return True
    request.session["kyklos.duplicates.warned"] = (warned + [key])[-20:]
    return False


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors, source):
        if record is not None or errors or source not in ("ui", "api"):
            return
        if not rules_for(request.registry, entity_type):
            return
        found = candidates(request, entity_type, data)
        if not found or allowed(request, entity_type, data, source):
            return
        names = ", ".join(f"{entity_type.record_title(r)} (#{r.id})" for r, _rule in found)
        if source == "ui":
            msg = _("Possible duplicate of: ${names}. Save again to create it anyway.",
                    mapping={"names": names})
        else:
            msg = _("Possible duplicate of: ${names}. Send ?duplicates=allow to create it "
                    "anyway.", mapping={"names": names})
        raise DuplicateWarning(msg, candidates_json(request, entity_type, found))

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created,
                                 source):
        if rules_for(request.registry, entity_type):
            index_record(request, entity_type, record)

    @hookimpl
    def kyklos_records_saved(self, request, entity_type, records):
        if rules_for(request.registry, entity_type):
            index_records(request, entity_type, records)

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record, soft, source):
        request.dbsession.execute(delete(DuplicateKey).where(
            DuplicateKey.entity == entity_type.name, DuplicateKey.record_id == record.id))


def includeme(config):
    config.registry.kyklos_duplicate_rules = {}
    config.add_directive("add_duplicate_rule", add_duplicate_rule)
    config.add_hooks(Hooks(), name="kyklos.duplicates")
    _rules_from_settings(config)
    config.include("kyklos.jobs")
    config.add_job("kyklos.duplicates.scan", scan_job, retries=1,
                   title=_("Find duplicate records"))
    config.include("kyklos.duplicates_views")

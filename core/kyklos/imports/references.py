"""Reference columns given by name: "Company" = "Acme SA" instead of an account id.

Exports from other programs name the linked record (Outlook's *Company*, Salesforce's
*Account Name*, a deal's *Owner*); the importer finds it by its title among the records
the importing user can see, once per batch for each referenced type:

- when the referenced type has a duplicate rule of kind ``fold`` or ``exact`` on its
  title field alone (accounts: ``name``), through that rule's indexed keys - so
  "ΑΛΦΑ Α.Ε.", "Alfa A.E." and "alfa a.e." all find "Άλφα Α.Ε.";
- otherwise by ``lower(title)`` (every script on both databases: kyklos.db registers a
  Unicode ``lower`` on SQLite);
- users (an owner column) by e-mail address or name, active users only.

A name that matches one record becomes its id; two or more are an error naming the
ambiguity (give the id instead); none makes the run create the missing record (option
``create_references``, on unless turned off; when off the row is rejected) once the
row has passed validation, so a rejected row creates nothing: one record per distinct
name,
through the record service with the importing user's rights, and reused by every row
that names it. A dry run creates nothing and lets such rows pass.
"""

from __future__ import annotations

from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy import or_, select

from kyklos.db import ci_in
from kyklos.duplicates import DuplicateKey, normalise, rules_for
from kyklos.entities import RecordError, service
from kyklos.i18n import _
from kyklos.security.models import User
from kyklos.text import lower_forms

#: the longest name looked up (longer cells are refused by the title field anyway)
MAX_NAME = 300


def _tidy(cell: str) -> str:
    """The name in a cell, spaces tidied (exports pad and double them)."""
    return " ".join(cell.split())[:MAX_NAME]


def _key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _title_rule(registry, et):
    """A duplicate rule that compares exactly the title field, if the type has one."""
    for rule in rules_for(registry, et):
        if rule.fields == (et.title_field,) and rule.kind in ("fold", "exact"):
            return rule
    return None


def find_by_title(request, et, names: set[str]) -> dict[str, list[int]]:
    """``{name as given: [ids of visible records so named]}`` for ``names``."""
    if not names:
        return {}
    db = request.dbsession
    out: dict[str, list[int]] = {n: [] for n in names}
    if et is None:  # users: a few hundred at most, compared folded in Python (SQLite's
        # lower() would miss a Greek name typed in another case)
        keys = {n: _key(n) for n in names}
        rows = db.execute(select(User.id, User.email, User.name).where(
            User.is_active.is_(True))).all()
        for n, k in keys.items():
            out[n] = sorted({uid for uid, email, uname in rows
                             if k in ((email or "").casefold(), _key(uname or ""))})
        return out
    rule = _title_rule(request.registry, et)
    if rule is not None:
        keys = {n: normalise(rule.kind, n) for n in names}
        ids = select(DuplicateKey.record_id, DuplicateKey.key).where(
            DuplicateKey.entity == et.name, DuplicateKey.rule == rule.name,
            DuplicateKey.key.in_({k for k in keys.values() if k}))
        by_key: dict[str, set] = {}
        for rid, key in db.execute(ids):
            by_key.setdefault(key, set()).add(rid)
        candidates = set().union(*by_key.values()) if by_key else set()
        visible = set()
        if candidates:
            stmt = service.visible_select(request, et).where(et.model.id.in_(candidates))
            visible = set(db.execute(stmt.with_only_columns(et.model.id)).scalars())
        for n, k in keys.items():
            out[n] = sorted(by_key.get(k, set()) & visible)
        return out
    col = getattr(et.model, et.title_field, None)
    if col is None or et.title_field == "id" or not hasattr(col, "in_"):
        return out  # no title to look records up by: ids only
    keys = {n: _key(n) for n in names}
    forms = {form for k in keys.values() for form in lower_forms(k)}
    stmt = service.visible_select(request, et).with_only_columns(et.model.id, col).where(
        or_(ci_in(col, forms), col.in_(set(names))))
    by_key = {}
    for rid, title in db.execute(stmt):
        by_key.setdefault(_key(str(title or "")), set()).add(rid)
    for n, k in keys.items():
        out[n] = sorted(by_key.get(k, set()))
    return out


class References:
    """Resolves the named references of one import run, batch after batch; the records
    it creates are remembered for the whole run (``created``)."""

    def __init__(self, request, et, mapping: dict, create: bool, dry_run: bool,
                 created: dict):
        self.request, self.et = request, et
        self.create, self.dry_run, self.created = create, dry_run, created
        self.fields = [f for f in (et.fields.get(t) for t in mapping.values() if t)
                       if f is not None and f.type == "reference"]
        #: {row: {field: (referenced type, name)}}: records to create for valid rows
        self.pending: dict[int, dict] = {}

    def target(self, field):
        if field.reference == "user":
            return None
        return self.request.registry.kyklos_entities.get(field.reference)

    def resolve(self, items: list[tuple[int, dict]]) -> dict[int, dict]:
        """Replace names by ids in ``items`` (``[(row, data)]``) in place; returns
        ``{row: {field: message}}`` for the rows whose names could not be resolved.

        A name to be created is taken out of its row and kept in :attr:`pending`: the
        record is made only once the row has passed validation (:meth:`complete`), so a
        rejected row leaves nothing behind."""
        errors: dict[int, dict] = {}
        self.pending = {}
        for f in self.fields:
            names = {_tidy(d[f.name]) for _n, d in items
                     if isinstance(d.get(f.name), str) and d[f.name].strip()}
            if not names:
                continue
            if f.reference != "user" and f.reference not in \
                    self.request.registry.kyklos_entities:
                continue
            target = self.target(f)
            found = find_by_title(self.request, target, names)
            for n, data in items:
                value = data.get(f.name)
                if not isinstance(value, str):
                    continue
                name = _tidy(value)
                ids = found.get(name) or []
                if len(ids) == 1:
                    data[f.name] = ids[0]
                elif len(ids) > 1:
                    errors.setdefault(n, {})[f.name] = _(
                        "${n} records are named \"${name}\": give the id instead.",
                        mapping={"n": len(ids), "name": name[:100]})
                elif self.create and target is not None:
                    made = self.created.get((target.name, _key(name)))
                    if isinstance(made, int):  # made for an earlier row of the run
                        data[f.name] = made
                    else:
                        del data[f.name]
                        self.pending.setdefault(n, {})[f.name] = (target, name)
                else:
                    errors.setdefault(n, {})[f.name] = _(
                        "No record named \"${name}\".", mapping={"name": name[:100]})
        return errors

    def complete(self, n: int, *dicts: dict) -> dict:
        """Create the records row ``n`` names and set their ids in ``dicts`` (the row's
        data, its validated values); returns ``{field: message}`` for those that could
        not be created. Nothing is created in a dry run."""
        errors = {}
        for fname, (target, name) in (self.pending.get(n) or {}).items():
            made = self.make(target, name)
            if isinstance(made, int):
                for d in dicts:
                    d[fname] = made
            elif made is not None:
                errors[fname] = made
        return errors

    def make(self, target, name: str):
        """The id of the record created for ``name`` (once per run), ``None`` in a dry
        run, or the message saying why it cannot be created."""
        key = (target.name, _key(name))
        if key in self.created:
            return self.created[key]
        if self.dry_run:
            return None
        title = target.fields.get(target.title_field)
        if title is None or title.readonly or title.virtual:
            msg = _("No record named \"${name}\".", mapping={"name": name[:100]})
            self.created[key] = msg
            return msg
        try:
            with self.request.dbsession.begin_nested():
                record = service.create_record(self.request, target,
                                               {target.title_field: name}, source="import")
        except HTTPForbidden:
            out = _("No record named \"${name}\", and you may not create one.",
                    mapping={"name": name[:100]})
        except RecordError as exc:
            detail = "; ".join(str(self.request.localizer.translate(v))
                               for v in exc.errors.values())
            out = _("\"${name}\" could not be created: ${detail}",
                    mapping={"name": name[:100], "detail": detail})
        else:
            out = record.id
        self.created[key] = out
        return out

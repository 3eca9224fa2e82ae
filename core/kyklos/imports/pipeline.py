"""The import pipeline: parse -> map -> validate (the record service's own validation,
per row) -> dedupe on the business key (against the database and within the file) ->
write in batches, one transaction per batch.

A structural pass reads the whole file first, so a malformed file is refused before
anything is written. Each batch commits together with the run's ``last_row``: after a
crash, running the same file again continues after the last committed batch, and the
business key makes a repeated row an update or a skip, never a second record.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from pyramid.httpexceptions import HTTPForbidden
from sqlalchemy import delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.exc import StaleDataError

from kyklos.db import bulk_insert, ci_in
from kyklos.entities import RecordError, customfields, history, service, upkeep, values
from kyklos.exports import neutralise
from kyklos.i18n import _
from kyklos.imports import mapping
from kyklos.imports.models import ImportRun
from kyklos.imports.readers import FileError, Options, open_reader
from kyklos.imports.references import References
from kyklos.security import rules
from kyklos.text import lower_forms

BATCH = 1000
#: the longest a batch's transaction should hold the database's write lock (SQLite has
#: one writer: a request waiting behind a 10 s batch fails); a batch commits when it
#: reaches either BATCH rows or this many seconds (``kyklos.imports.batch_seconds``)
BATCH_SECONDS = 2.0
#: the rows of a batch are written in chunks of at most this many, the clock read
#: between two chunks; the first chunk is small so that a slow file is measured early
CHUNK_FIRST, CHUNK_MAX = 50, 500
ON_DUPLICATE = ("skip", "update", "create")
KEY_TYPES = frozenset({"string", "email", "phone", "url", "integer", "choice"})


@dataclass
class RowResult:
    row: int
    status: str  # created updated skipped rejected
    record_id: int | None = None
    errors: dict = field(default_factory=dict)


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def files_dir(registry) -> Path:
    base = registry.settings.get("kyklos.files_dir") or os.path.join(
        tempfile.gettempdir(), "kyklos-files"
    )
    path = Path(base) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_path(registry, run_id: int) -> Path:
    return files_dir(registry) / f"run-{run_id}.log.csv"


def reader_options(options: dict) -> Options:
    return Options(
        format=options.get("format") or None,
        encoding=options.get("encoding") or None,
        delimiter=options.get("delimiter") or None,
        sheet=options.get("sheet") or None,
    )


def headers_of(registry, path: Path, name: str, options: dict) -> list[str]:
    """The first row of the file (raises :class:`FileError`)."""
    return inspect_file(registry, path, name, options)["headers"]


def inspect_file(registry, path: Path, name: str, options: dict, strict=False,
                 sample: int = 5) -> dict:
    """What a person checks before importing: ``headers``, the first ``sample`` rows,
    the ``encoding`` read (``encoding_certain``; ``encoding_candidates``: ``[(encoding,
    [words as it reads them])]`` when several were plausible) and the ``delimiter``.
    ``strict`` refuses an uncertain encoding (:class:`readers.EncodingUnsure`); raises
    :class:`FileError`."""
    opts = reader_options(options)
    opts.strict_encoding = strict
    reader = open_reader(registry, path, name, opts)
    headers, rows = None, []
    for n, row in reader:
        if n == 1:
            headers = [c.strip() for c in row]
            continue
        rows.append(row)
        if len(rows) >= sample:
            break
    if headers is None:
        raise FileError(name, "the file is empty", 1)
    guess = getattr(reader, "guess", None)
    return {
        "headers": headers,
        "rows": rows,
        "encoding": reader.encoding,
        "encoding_certain": guess is None or guess.certain,
        "encoding_candidates": [] if guess is None or guess.certain else guess.candidates,
        "delimiter": reader.delimiter,
    }


def default_key(registry, et, mapping_: dict) -> str | None:
    """The field that finds the records a file's rows already are, when the caller named
    none: the one an import declared for the type (``config.add_import_key``, e.g. an
    event's UID), else the first e-mail or exact duplicate rule (people: e-mail;
    accounts: VAT number, then e-mail) whose field is a mapped built-in field. ``None``
    when nothing mapped identifies a record."""
    mapped = {f for f in (mapping_ or {}).values() if f}
    declared = getattr(registry, "kyklos_import_keys", {}).get(et.name, ())
    from kyklos.duplicates import rules_for

    rule_fields = [r.fields[0] for r in rules_for(registry, et) if r.kind in ("email", "exact")]
    for name in (*declared, *rule_fields):
        f = et.fields.get(name)
        if name in mapped and f is not None and not f.custom and f.type in KEY_TYPES:
            return name
    return None


def with_default_key(registry, et, options: dict) -> dict:
    """``options`` with the :func:`default_key` when no key was given: a file imported
    twice never duplicates its records unless "create" was chosen for duplicates."""
    if options.get("key") or options.get("on_duplicate") == "create":
        return options
    key = default_key(registry, et, options.get("mapping") or {})
    return {**options, "key": key} if key else options


def check_options(request, et, headers: list[str], options: dict) -> dict:
    """Check mapping, key and on-duplicate against the fields the user may write;
    returns ``{option: message}`` problems."""
    _readable, writable = service.field_access(request, et)
    errors = {}
    m = options.get("mapping") or {}
    if not isinstance(m, dict) or not m:
        errors["mapping"] = _("Map at least one column to a field.")
    else:
        targets = [f for f in m.values() if f]
        for header, target in m.items():
            if header not in headers:
                errors["mapping"] = _("No column ${c} in the file.", mapping={"c": header[:50]})
            elif target and target not in writable:
                errors["mapping"] = _("Field ${f} cannot be imported.", mapping={"f": target[:50]})
        if len(targets) != len(set(targets)):
            errors["mapping"] = _("Two columns go to the same field.")
    key = options.get("key")
    if key:
        f = et.fields.get(key)
        mirrored = f is not None and f.custom and f.filterable
        if f is None or f.type not in KEY_TYPES or not (mirrored or not f.custom):
            errors["key"] = _("This field cannot identify records.")
        elif key not in (m or {}).values():
            errors["key"] = _("Map a column to the key field.")
    if not isinstance(options.get("create_references", False), bool):
        errors["create_references"] = _("Use true or false.")
    if options.get("on_duplicate", "skip") not in ON_DUPLICATE:
        errors["on_duplicate"] = _("Use skip, update or create.")
    if options.get("on_duplicate") == "update" and not request.has_permission(
        et.permission("update")
    ):
        errors["on_duplicate"] = _("You may not update these records.")
    return errors


def _norm(value) -> str | None:
    if value is None or value == "":
        return None
    return str(value).strip().casefold()


def _existing(request, et, key: str, given: set, load_related: bool = True) -> dict:
    """``{normalised key: record}`` for visible records holding one of the ``given``
    key values (as in the file), compared case-insensitively.

    The look-up asks for ``lower(column)`` among the values' lower-case forms (an index
    on ``lower(email)`` serves it; :func:`kyklos.text.lower_forms` for the Greek sigma)
    or the column among the values as given (a value only a database's own ``lower``
    could miss, as typed in a re-run of the same file)."""
    keys = {_norm(v) for v in given} - {None}
    if not keys:
        return {}
    f = et.fields[key]
    stmt = service.visible_select(request, et)
    lowered = {form for k in keys for form in lower_forms(k)}
    raw = sorted({str(v).strip() for v in given})
    if f.custom:
        d = customfields.definitions(request.registry, et.name)[key]
        text = customfields.CustomValue.v_text
        ids = select(customfields.CustomValue.record_id).where(
            customfields.CustomValue.field_id == d.id,
            or_(ci_in(text, lowered), text.in_(raw)),
        )
        stmt = stmt.where(et.model.id.in_(ids))
    else:
        col = getattr(et.model, key)
        if f.type == "integer":
            stmt = stmt.where(col.in_([int(k) for k in keys if k.lstrip("-").isdigit()]))
        else:
            stmt = stmt.where(or_(ci_in(col, lowered), col.in_(raw)))
    if not load_related:
        # a skipped row needs the record's id only: not its child rows (a person's
        # phones, e-mails and addresses: three more statements per batch)
        stmt = stmt.options(lazyload("*"))
    out = {}
    for rec in request.dbsession.execute(stmt.order_by(et.model.id)).scalars():
        k = _norm(values.read_value(et, f, rec))
        out.setdefault(k, rec)
    return out


def _check_updates(request, et, pairs: list, memo_plan: dict | None = None
                   ) -> list[tuple[dict, dict]]:
    """``[(clean, errors)]`` for ``pairs`` of ``(record, data)`` updates: the record
    service's checks, each row judged against its own record (its owner, its unique
    values), with the database's part done once for all of them - one query per
    referenced type and per unique custom field - instead of once per row.
    ``memo_plan``: the run's (see :class:`service.Validator`)."""
    if not pairs:
        return []
    if et.schema_factory is not None:
        # a declared schema is built for its record: one validator per row
        return [service.Validator(request, et, "import", r, memo_plan).check([d])[0]
                for r, d in pairs]
    v = service.Validator(request, et, "import", pairs[0][0], memo_plan)
    checked = []
    for record, data in pairs:
        v.record = record
        # as a first import and a single update do: a cell holding several e-mails is
        # reshaped by the plugins before its type is checked
        v.prepare(data)
        checked.append(v.clean(data))
    v._check_references(checked)
    out = [(clean, errors) for clean, errors, _refs in checked]
    db = request.dbsession
    for d in v.unique:
        keys = {}
        for (record, _data), (clean, errors) in zip(pairs, out, strict=True):
            key = customfields.unique_key(d, clean.get(d.name)) if d.name not in errors else None
            if key is not None:
                keys[record.id] = key
        if not keys:
            continue
        held = db.execute(
            select(customfields.CustomValue.unique_key, customfields.CustomValue.record_id).where(
                customfields.CustomValue.field_id == d.id,
                customfields.CustomValue.unique_key.in_(set(keys.values())),
            )
        ).all()
        holders: dict = {}
        for key, rid in held:
            holders.setdefault(key, set()).add(rid)
        for (record, _data), (_clean, errors) in zip(pairs, out, strict=True):
            key = keys.get(record.id)
            if key is not None and holders.get(key, set()) - {record.id}:
                errors[d.name] = _("This value is already used by another record.")
    hook = request.registry.kyklos_pm.hook.kyklos_record_validate
    for (record, _data), (clean, errors) in zip(pairs, out, strict=True):
        hook(
            request=request,
            entity_type=et,
            record=record,
            data=clean,
            errors=errors,
            source="import",
        )
    if len(out) > 1:
        v._unique_within(out)
    return out


def _write_updates(request, et, pairs: list) -> list:
    """Write validated ``(record, clean)`` updates together (see
    :meth:`Batch.update_many`); returns the records that changed."""
    hook = request.registry.kyklos_pm.hook
    uid = service.user_id(request)
    fields = et.fields
    changed, diffs = [], []
    for record, clean in pairs:
        ch = {}
        for name, value in clean.items():
            old = values.read_value(et, fields[name], record)
            if old != value:
                ch[name] = (old, value)
        if not ch:
            continue  # nothing new: version and history stay as they are
        hook.kyklos_record_before_save(
            request=request,
            entity_type=et,
            record=record,
            changes=ch,
            created=False,
            source="import",
        )
        for name, (_old, new) in ch.items():
            values.write_value(et, fields[name], record, new)
        record.updated_by_id = uid
        changed.append(record)
        diffs.append(ch)
    if not changed:
        return []
    db = request.dbsession
    db.flush()  # one UPDATE per column set, executemany; versions checked
    defs = [d for d in customfields.definitions(request.registry, et.name).values() if d.mirrored]
    mirror = []
    for d in defs:
        ids = [r.id for r, ch in zip(changed, diffs, strict=True) if d.name in ch]
        if not ids:
            continue
        db.execute(
            delete(customfields.CustomValue).where(
                customfields.CustomValue.entity == et.name,
                customfields.CustomValue.field_id == d.id,
                customfields.CustomValue.record_id.in_(ids),
            )
        )
        for r, ch in zip(changed, diffs, strict=True):
            if d.name in ch:
                mirror += customfields.mirror_rows(
                    d, r.id, values.read_value(et, fields[d.name], r)
                )
    if mirror:
        bulk_insert(db, customfields.CustomValue.__table__, mirror)
    history.record_changes(
        request, et, changed, "update", [service.json_changes(et, ch) for ch in diffs], "import"
    )
    service.after_save_many(request, et, changed, diffs, False, "import")
    return changed


class Batch:
    """One batch of rows written in one transaction.

    Rows to create are validated together (:class:`service.Validator`: the field rights,
    parsers and schema worked out once, one query per referenced type and per unique
    field) and written together (:func:`service.create_many`: one executemany per
    table, batch hooks). A batch the database or a record rule refuses is retried row
    by row through :func:`service.create_record`, so only the offending rows are
    rejected.
    """

    def __init__(self, request, et, options: dict, seen: dict, dry_run: bool,
                 created: dict | None = None, columns: dict | None = None,
                 memo_plan: dict | None = None):
        self.request, self.et, self.options, self.seen = request, et, options, seen
        self.dry_run = dry_run
        #: the columns' converters by header row, kept for the whole run by its caller:
        #: a choice column's index of titles in every language is built once, not for
        #: every chunk (a tenth of an import's time when it was)
        self.columns = {} if columns is None else columns
        self.key = options.get("key") or None
        self.on_dup = options.get("on_duplicate") or "skip"
        self.memo_plan = {} if memo_plan is None else memo_plan
        self.validator = service.Validator(request, et, "import", memo_plan=self.memo_plan)
        create = options.get("create_references", True) is not False  # on by default
        self.references = References(request, et, options.get("mapping") or {}, create,
                                     dry_run, {} if created is None else created)

    def title_translations(self, title) -> list[str]:
        """A choice title in every offered language, so that a cell may name a choice
        as a person would ("Male", "Άνδρας", "Mężczyzna")."""
        from kyklos.i18n import LANGUAGES, translate_for

        return [str(title), *(str(translate_for(self.request, title, lang))
                              for lang in LANGUAGES)]

    def rows_to_data(self, headers, rows):
        colmap = self.columns.get(tuple(headers))
        if colmap is None:
            fields = self.et.fields
            colmap = [(i, (self.options["mapping"] or {}).get(h)) for i, h in enumerate(headers)]
            titles = self.title_translations
            colmap = [(i, f, mapping.converter(fields[f], titles)) for i, f in colmap if f]
            colmap = [(i, f, None if c is mapping.as_text else c) for i, f, c in colmap]
            self.columns[tuple(headers)] = colmap
        out = []
        for n, cells in rows:
            data = {}
            width = len(cells)
            for i, fname, convert in colmap:
                text = cells[i].strip() if i < width else ""
                if text:
                    if convert is None:
                        data[fname] = text
                    else:
                        value = convert(text)
                        if value is not None:  # None: a cell that says "nothing" (0/0/00)
                            data[fname] = value
            out.append((n, data))
        return out

    def run(self, headers, rows) -> list[RowResult]:
        request, et = self.request, self.et
        items = self.rows_to_data(headers, rows)
        unresolved = self.references.resolve(items) if self.references.fields else {}
        existing = {}
        if self.key:
            given = {d.get(self.key) for _n, d in items} - {None, ""}
            existing = _existing(request, et, self.key, given, self.on_dup == "update")
        results: dict[int, RowResult] = {}
        pending: list[tuple[int, dict, str | None]] = []
        updates: list[tuple[int, object, dict]] = []

        def write_pending():
            checked = self.validator.check([data for _n, data, _k in pending])
            valid = []
            for (n, data, k), (clean, errors) in zip(pending, checked, strict=True):
                if not errors and not self.dry_run and n in self.references.pending:
                    # linked records named by the row, created now that it is valid
                    errors = self.references.complete(n, data, clean)
                if errors:
                    results[n] = RowResult(n, "rejected", errors=dict(errors))
                else:
                    results[n] = RowResult(n, "created")
                    valid.append((n, data, clean, k))
            pending.clear()
            if self.dry_run or not valid:
                return
            try:
                with request.dbsession.begin_nested():
                    made = service.create_many(request, et, [c for _n, _d, c, _k in valid],
                                               source="import")
                for (n, _d, _c, k), record in zip(valid, made, strict=True):
                    results[n].record_id = record.id
                    if k is not None:
                        existing.setdefault(k, record)
            except (IntegrityError, HTTPForbidden, RecordError):
                # One bad row (a database constraint, a record rule, a hook's refusal):
                # find it row by row.
                for n, data, _c, k in valid:
                    results[n] = self.create_one(n, data)
                    if k is not None and results[n].record_id:
                        rid = results[n].record_id
                        existing.setdefault(k, request.dbsession.get(et.model, rid))

        for n, data in items:
            if not data:
                results[n] = RowResult(n, "skipped", errors={"": _("Empty row.")})
                continue
            if n in unresolved:
                results[n] = RowResult(n, "rejected", errors=unresolved[n])
                continue
            k = _norm(data.get(self.key)) if self.key else None
            earlier = self.seen.get(k) if k is not None else None
            if earlier is not None and self.on_dup == "update" and k not in existing \
                    and pending:
                write_pending()  # the earlier row of this batch becomes the target
            target = existing.get(k) if k is not None else None
            if (target is not None or earlier is not None) and self.on_dup != "create":
                if self.on_dup == "skip" or target is None:
                    where = f"#{target.id}" if target is not None else f"row {earlier}"
                    results[n] = RowResult(
                        n, "skipped", getattr(target, "id", None),
                        {self.key: _("Duplicate of ${w}.", mapping={"w": where})},
                    )
                    continue
                if any(t is target for _n, t, _d in updates):
                    # a second row for the same record in one batch: the first one's
                    # change must be written before this one is compared with it
                    results.update(self.update_many(updates))
                    updates.clear()
                updates.append((n, target, data))
                continue
            if k is not None:
                self.seen.setdefault(k, n)
            pending.append((n, data, k))
        if pending:
            write_pending()
        if updates:
            results.update(self.update_many(updates))
        return [results[n] for n, _d in items]

    def update_many(self, items: list) -> dict[int, RowResult]:
        """The rows ``[(n, record, data)]`` that update existing records, set-based:
        validated together (:class:`service.Validator`, one query per referenced type
        and per unique field for the batch), written with one flush, one DELETE and
        one executemany per mirrored custom field, one executemany of history entries
        and the batch hooks (search index, duplicate keys, workflow, plugins) once for
        the batch. Every step of :func:`service.update_record` is kept - the update
        permission and record rules, the before-save hooks, changes only (a row that
        changes nothing leaves its record, version and history alone). When the
        database, a rule or a hook refuses the batch, it is rolled back and retried row
        by row so that only the offending rows are rejected."""
        request, et = self.request, self.et
        results: dict[int, RowResult] = {}
        if not items:
            return results
        if self.dry_run or not request.has_permission(et.permission("update")):
            for n, record, data in items:
                results[n] = self.update(n, record, data)
            return results
        rows = []
        for n, record, data in items:
            data = {k: v for k, v in data.items() if k != self.key}
            if not rules.can_access(request, et, record, "update"):
                results[n] = RowResult(
                    n, "rejected", record.id, {"": _("You may not change this record.")}
                )
                continue
            rows.append((n, record, data))
        checked = _check_updates(request, et, [(r, d) for _n, r, d in rows], self.memo_plan)
        valid = []
        for (n, record, data), (clean, errors) in zip(rows, checked, strict=True):
            if not errors and n in self.references.pending:
                # linked records named by the row, created now that it is valid
                errors = self.references.complete(n, data, clean)
            if errors:
                results[n] = RowResult(n, "rejected", record.id, dict(errors))
            else:
                valid.append((n, record, data, clean))
        if not valid:
            return results
        try:
            with request.dbsession.begin_nested():
                _write_updates(request, et, [(r, c) for _n, r, _d, c in valid])
            for n, record, _d, _c in valid:
                results[n] = RowResult(n, "updated", record.id)
        except (IntegrityError, HTTPForbidden, RecordError, StaleDataError, service.StaleRecord):
            for n, record, data, _c in valid:
                request.dbsession.expire(record)
                results[n] = self.update(n, record, data)
        return results


    def create_one(self, n: int, data: dict) -> RowResult:
        try:
            with self.request.dbsession.begin_nested():
                rec = service.create_record(self.request, self.et, data, source="import")
            return RowResult(n, "created", rec.id)
        except RecordError as exc:
            return RowResult(n, "rejected", errors=dict(exc.errors))
        except HTTPForbidden:
            return RowResult(n, "rejected", errors={"": _("You may not create this record.")})
        except IntegrityError:
            return RowResult(n, "rejected", errors={"": _("The database refused this row.")})

    def update(self, n: int, record, data: dict) -> RowResult:
        data = {k: v for k, v in data.items() if k != self.key}
        if not self.dry_run and n in self.references.pending:
            try:  # the row must be valid before its linked records are created
                service.validate(self.request, self.et, record, data, "import")
            except RecordError as exc:
                return RowResult(n, "rejected", record.id, dict(exc.errors))
            errors = self.references.complete(n, data)
            if errors:
                return RowResult(n, "rejected", record.id, errors)
        if self.dry_run:
            try:
                service.validate(self.request, self.et, record, data, "import")
            except RecordError as exc:
                return RowResult(n, "rejected", record.id, dict(exc.errors))
            return RowResult(n, "updated", record.id)
        try:
            with self.request.dbsession.begin_nested():
                service.update_record(self.request, self.et, record, data, source="import")
        except RecordError as exc:
            return RowResult(n, "rejected", record.id, dict(exc.errors))
        except HTTPForbidden:
            return RowResult(n, "rejected", record.id,
                             {"": _("You may not change this record.")})
        except IntegrityError:
            return RowResult(n, "rejected", record.id, {"": _("The database refused this row.")})
        return RowResult(n, "updated", record.id)


# --- runs ---------------------------------------------------------------------------------


def start_run(request, et, path: Path, file_name: str, options: dict, dry_run: bool):
    """The run for this file and these options: an unfinished run of the same file
    (a crash, a retry) is continued, not started again."""
    if not request.has_permission(et.permission("import")) or not request.has_permission(
        et.permission("create")
    ):
        raise HTTPForbidden()
    digest = sha256_of(path)
    db = request.dbsession
    options = with_default_key(request.registry, et, options)
    if not dry_run:
        prior = db.execute(
            select(ImportRun)
            .where(
                ImportRun.sha256 == digest,
                ImportRun.entity == et.name,
                # another user's identical upload is another import, under their rights
                ImportRun.user_id == service.user_id(request),
                ImportRun.dry_run.is_(False),
                ImportRun.state.in_(("queued", "running")),
            )
            .order_by(ImportRun.id.desc())
        ).scalars().first()
        if prior is not None and prior.options == options:
            return prior
    run = ImportRun(
        entity=et.name, file_name=file_name[:255], sha256=digest, path=str(path),
        options=options, state="queued", dry_run=dry_run, user_id=service.user_id(request),
    )
    db.add(run)
    db.flush()
    return run


def _format_errors(errors: dict, field_headers: dict) -> str:
    """``column: message; ...`` for a row's ``errors``, each named by the file's column.

    A key is a field as the row submitted it (a hook that derives a value from another
    field reports a refusal under the field it came from, see ``kyklos_record_validate``)
    or a path inside one (``addresses.0.city``: the column of ``addresses``, then the
    path). Identical lines are given once."""
    out = []
    for k, v in errors.items():
        name = field_headers.get(k)
        if name is None and "." in k:
            head, _dot, rest = k.partition(".")
            name = f"{field_headers[head]} ({rest})" if head in field_headers else k
        line = f"{name or k or 'row'}: {v}"
        if line not in out:
            out.append(line)
    return "; ".join(out)


def execute(registry, run_id: int, progress=None) -> dict:
    """Run (or continue) import run ``run_id``, one transaction per batch. Returns the
    summary. ``progress(pct, message)`` is called after each batch."""
    from kyklos.jobs import job_request

    with job_request(registry) as request:
        run = request.dbsession.get(ImportRun, run_id)
        info = {c: getattr(run, c) for c in ("entity", "path", "file_name", "options",
                                             "dry_run", "user_id", "last_row", "state")}
    if info["state"] == "done":
        return summary_of(registry, run_id)
    path, name, options = Path(info["path"]), info["file_name"], info["options"]
    ropts = reader_options(options)
    try:
        total = 0
        headers = None
        for n, row in open_reader(registry, path, name, ropts):
            if headers is None:
                headers = [c.strip() for c in row]
            total = n - 1
        if headers is None:
            raise FileError(name, "the file is empty", 1)
    except FileError as exc:
        _finish(registry, run_id, "failed", str(exc))
        return summary_of(registry, run_id)
    _update(registry, run_id, state="running", rows_total=total)
    field_headers = {f: h for h, f in (options.get("mapping") or {}).items() if f}
    log = log_path(registry, run_id)
    start_after = info["last_row"]
    new_log = start_after <= 1 or not log.exists()
    seen: dict = {}
    created: dict = {}  # records created for names in reference columns, for the whole run
    columns: dict = {}  # the columns' converters (Batch.rows_to_data), for the whole run
    memo_plan: dict = {}  # which columns' values the validators memoise, for the whole run
    tables: set = set()  # every table a batch wrote, analysed when the run ends
    carry: dict = {}  # rows written by batches too small to look at statistics alone
    uid = info["user_id"]
    with log.open("w" if new_log else "a", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        if new_log:
            writer.writerow(["row", "status", "record_id", "errors"])
        batch_rows = []
        limit = float(registry.settings.get("kyklos.imports.batch_seconds") or BATCH_SECONDS)

        def flush_batch(rows):
            """Write ``rows`` in one transaction, in chunks, until they are all done or
            the batch has taken ``limit`` seconds; returns the rows left for the next
            batch. The run's ``last_row`` commits with the rows written, so a crash
            resumes after the last committed chunk."""
            started = time.monotonic()
            done: list = []
            with _collector_paused(), job_request(registry, uid) as request:
                et = request.registry.kyklos_entities[info["entity"]]
                request.dbsession.info[upkeep.CARRY_KEY] = carry
                customfields.refresh(registry, request.dbsession)
                batch = Batch(request, et, options, seen, info["dry_run"], created, columns,
                              memo_plan)
                size, i = CHUNK_FIRST, 0
                while i < len(rows):
                    chunk = rows[i:i + size]
                    done += batch.run(headers, chunk)
                    i += len(chunk)
                    elapsed = time.monotonic() - started
                    if elapsed >= limit:
                        break
                    # the next chunk sized to what is left of the time, at the pace so far
                    pace = i / max(elapsed, 1e-6)
                    size = max(1, min(CHUNK_MAX, int(pace * (limit - elapsed))))
                tables.update(upkeep.written(request.dbsession))
                counts = {s: sum(1 for r in done if r.status == s)
                          for s in ("created", "updated", "skipped", "rejected")}
                last = rows[i - 1][0]
                run = request.dbsession.get(ImportRun, run_id)
                run.rows_created += counts["created"]
                run.rows_updated += counts["updated"]
                run.rows_skipped += counts["skipped"]
                run.rows_rejected += counts["rejected"]
                run.last_row = last
                tr = request.localizer.translate
                lines = [
                    [r.row, r.status, r.record_id or "",
                     _format_errors({k: tr(v) for k, v in r.errors.items()}, field_headers)]
                    for r in done
                ]
            writer.writerows([[neutralise(str(c)) for c in line] for line in lines])
            fh.flush()
            if progress is not None:
                progress(100.0 * (last - 1) / max(total, 1), f"{last - 1}/{total}")
            return rows[i:]

        for n, row in open_reader(registry, path, name, ropts):
            if n <= max(start_after, 1):
                continue
            batch_rows.append((n, row))
            if len(batch_rows) >= BATCH:
                batch_rows = flush_batch(batch_rows)
        while batch_rows:
            batch_rows = flush_batch(batch_rows)
    if tables:
        _analyze(registry, info["entity"], tables)
    _finish(registry, run_id, "done", None)
    return summary_of(registry, run_id)


@contextlib.contextmanager
def _collector_paused():
    """Pause the cyclic garbage collector for one batch.

    A batch allocates hundreds of thousands of small objects (cells, clean dicts, ORM
    states, history lists) that all live until it ends; each allocation threshold
    crossed starts a collection that walks every tracked object, the process's long-lived
    ones included - a fifth of an import's time. Reference counting still frees what it
    can; one young-generation collection after the batch reclaims its cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(1)


def _analyze(registry, entity: str, tables: set) -> None:
    """Fresh planner statistics for every table the run wrote (and the search index
    merged), committed before the run is reported done: the list or search a person
    opens next is planned for the rows that are there now, not for an empty table."""
    et = registry.kyklos_entities.get(entity)
    if et is not None:
        tables = tables | upkeep.entity_tables(registry, et)
    with registry["dbengine"].begin() as conn:
        upkeep.analyze(conn, tables)


def _update(registry, run_id, **values_):
    from kyklos.jobs import job_request

    with job_request(registry) as request:
        run = request.dbsession.get(ImportRun, run_id)
        for k, v in values_.items():
            setattr(run, k, v)


def _finish(registry, run_id, state, error):
    _update(registry, run_id, state=state, error=error)


def summary_of(registry, run_id) -> dict:
    from kyklos.jobs import job_request

    with job_request(registry) as request:
        run = request.dbsession.get(ImportRun, run_id)
        return run_json(run)


def run_json(run: ImportRun) -> dict:
    return {
        "id": run.id,
        "entity": run.entity,
        "file_name": run.file_name,
        "state": run.state,
        "dry_run": run.dry_run,
        "error": run.error,
        "rows_total": run.rows_total,
        "created": run.rows_created,
        "updated": run.rows_updated,
        "skipped": run.rows_skipped,
        "rejected": run.rows_rejected,
        "last_row": run.last_row,
        "job_id": run.job_id,
        "options": run.options,
    }


def read_log(registry, run_id: int, limit: int | None = None, only_problems=False) -> list:
    path = log_path(registry, run_id)
    if not path.exists():
        return []
    out = []
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if only_problems and row["status"] not in ("rejected", "skipped"):
                continue
            out.append(row)
            if limit is not None and len(out) >= limit:
                break
    return out


def import_job(ctx, run_id: int):
    """The background job: run the import with progress reports."""
    return execute(ctx.registry, int(run_id), progress=ctx.progress)

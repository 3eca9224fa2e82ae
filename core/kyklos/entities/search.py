"""Global search across entity types (``/search`` and ``/api/v1/_search``).

Every record of a type with searchable fields has one row in ``kyklos_search`` (its
title and the text of its searchable fields), kept current by the record lifecycle
hooks. PostgreSQL matches it with a full-text GIN index (prefix terms, ``simple``
configuration, so Greek, Romanian and Polish words match as typed) plus a trigram index
on the title for substrings; SQLite with an FTS5 table using the trigram tokenizer.

Permissions: a type is searched only if the user may read it, and the candidate ids
are always filtered through the entity service's ``visible_select``, so search never
shows a record the list would hide.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field

from sqlalchemy import (
    Integer,
    String,
    Text,
    UniqueConstraint,
    and_,
    bindparam,
    case,
    cast,
    column,
    delete,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin, UTCDateTime, bulk_insert, utcnow
from kyklos.entities import richtext
from kyklos.hookspecs import hookimpl
from kyklos.i18n import _
from kyklos.text import fold

#: the FTS5 trigram tokenizer exists from SQLite 3.34; older libraries use unicode61
SQLITE_TRIGRAM = sqlite3.sqlite_version_info >= (3, 34, 0)
FTS_TABLE = "kyklos_search_fts"
#: the PostgreSQL full-text vector of title and body: a stored generated column with its
#: own GIN index (migration kyklos_0019), so ts_rank reads it instead of recomputing it
#: for every match; the database writes it, so SearchDoc does not map it
PG_VECTOR = "kyklos_search.search_vector"
#: the expression of the PostgreSQL trigram index (migration kyklos_0010): fragments of
#: any word of the title or body, folded keys included, found through the index
PG_TEXT = "(kyklos_search.title || ' ' || kyklos_search.body)"
#: pg_trgm's trigrams: a shorter fragment cannot be looked up in its index
TRIGRAM = 3
MAX_Q = 200
MAX_BODY = 20_000
#: starts the last line of a body: the folded keys of its words ("Καραγιάννης" and
#: "Karagiannis" both give "karaianis"), so a name is found in any script or romanisation;
#: never shown (see :func:`visible_body`)
KEYS_MARK = "\n\u241f "
PAGE_SIZE = 20
#: field types whose values are worth indexing as text
TEXT_TYPES = {
    "string",
    "text",
    "richtext",
    "email",
    "phone",
    "url",
    "choice",
    "multichoice",
    "integer",
}
#: display kinds of a JSON field holding one text per language (``{"el": "…"}``): every
#: language's text is indexed, so a product is found by its Greek name in any language
TRANSLATION_KINDS = ("title_translations", "text_translations")


def is_text_field(info) -> bool:
    """Whether a field's values go into the index as text."""
    return info.type in TEXT_TYPES or (info.type == "json" and info.display in TRANSLATION_KINDS)


class SearchDoc(IdMixin, Base):
    __tablename__ = "kyklos_search"
    __table_args__ = (UniqueConstraint("entity", "record_id"),)

    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    body: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


class SearchDefinition(Base):
    """What each type's search rows and duplicate keys were last built from (a digest of
    its searchable fields, title and duplicate rules as the code declares them). A
    plugin version that changes them makes ``kyklos migrate`` rebuild that type's rows:
    without it, records saved before the upgrade would not be found by the new fields."""

    __tablename__ = "kyklos_search_definition"

    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False)
    updated_at: Mapped[object] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )


#: bumped when :func:`document` changes what it makes of the same fields, so that every
#: type's rows are rebuilt by the next ``kyklos migrate``
DOCUMENT_FORMAT = 2


@dataclass
class Hit:
    record_id: int
    title: str
    snippet: str
    url: str
    #: the second line: the type's ``subtitle_field`` as people read it (a person's account)
    subtitle: str = ""


@dataclass
class Group:
    entity_type: object
    hits: list[Hit] = field(default_factory=list)
    more: bool = False


# --- indexing ---------------------------------------------------------------------------


def document(et, record, fields: list | None = None) -> tuple[str, str] | None:
    """``(title, body)`` to index for ``record``, or ``None`` if the type is not searched
    or the record is deleted. ``fields`` is :func:`text_fields` of a searched ``et``,
    worked out once by a caller indexing many records."""
    if fields is None:
        if not et.searchable:
            return None
        fields = text_fields(et)
    if getattr(record, "deleted_at", None) is not None:
        return None
    title = et.record_title(record)[:500]
    folded_title = title.casefold()
    parts = []
    for name, custom, rich in fields:
        value = (record.custom or {}).get(name) if custom else getattr(record, name, None)
        if value in (None, ""):
            continue
        if isinstance(value, dict):
            value = " ".join(str(v) for v in value.values() if v)
            if not value:
                continue
        elif isinstance(value, list | tuple):
            value = " ".join(str(v) for v in value)
        # rich text is indexed as its words: a tag name is nothing anyone searches for
        text = richtext.to_text(value) if rich else str(value)
        if text.casefold() in folded_title:
            # Already in the title (a person's first and last name): every query the
            # body would answer, the title answers too; indexing it twice costs index
            # time (trigrams on SQLite) and room.
            continue
        parts.append(text)
    body = "\n".join(parts)[:MAX_BODY]
    keys = fold_keys(title + " " + body)
    return title, body + (KEYS_MARK + keys if keys else "")


def text_fields(et) -> list[tuple[str, bool, bool]]:
    """``[(name, custom, rich)]``: the searchable fields of ``et`` whose values go into a
    document's body, in order (``rich``: a rich-text field, indexed as its words)."""
    out = []
    for name in et.searchable:
        info = et.fields.get(name)
        if info is None or not is_text_field(info) or name == et.title_field:
            continue
        out.append((name, info.custom, info.type == "richtext"))
    return out


_WORD = re.compile(r"\w+")
#: word -> its folded key ("" when it folds to itself). Every record of an import
#: repeats the same first names, cities and choice titles; ``fold`` keeps its own
#: results, but a word's key was still rebuilt (and compared) for every record.
_WORD_KEYS: dict[str, str] = {}
_WORD_KEYS_MAX = 1 << 16


def _word_key(word: str) -> str:
    key = _WORD_KEYS.get(word)
    if key is None:
        if word.isdigit() and word.isascii():
            key = ""  # ASCII digits fold to themselves (a phone number's, a postcode's)
        else:
            key = "".join(fold(word).split())
            if key == word:
                key = ""
        if len(_WORD_KEYS) >= _WORD_KEYS_MAX:
            _WORD_KEYS.clear()  # bounded: a long run of unique words starts afresh
        _WORD_KEYS[word] = key
    return key


def fold_keys(text: str) -> str:
    """The folded keys of the words of ``text`` that fold to something else than
    themselves (a Greek name's Latin key, a romanisation's common key), once each."""
    seen, out = set(), []
    get = _WORD_KEYS.get
    for word in _WORD.findall(text[:MAX_BODY].lower()):
        key = get(word)
        if key is None:
            key = _word_key(word)
        if key and key not in seen:
            seen.add(key)
            out.append(key)
    return " ".join(out)[: MAX_BODY // 4]


def visible_body(body: str) -> str:
    return body.split(KEYS_MARK, 1)[0]


def index_record(dbsession, et, record) -> None:
    """Bring ``record``'s search row up to date (or remove it)."""
    doc = document(et, record)
    row = dbsession.execute(
        select(SearchDoc).where(SearchDoc.entity == et.name, SearchDoc.record_id == record.id)
    ).scalar_one_or_none()
    if doc is None:
        if row is not None:
            dbsession.delete(row)
        return
    title, body = doc
    if row is None:
        dbsession.add(SearchDoc(entity=et.name, record_id=record.id, title=title, body=body))
    elif (row.title, row.body) != (title, body):
        row.title, row.body = title, body


def index_records(dbsession, et, records) -> None:
    """:func:`index_record` for many records: one query for their current rows, one
    executemany for the new ones."""
    if et.searchable:
        fields = text_fields(et)
        docs = {r.id: document(et, r, fields) for r in records}
    else:
        docs = dict.fromkeys(r.id for r in records)
    if not docs:
        return
    rows = (
        dbsession.execute(
            select(SearchDoc).where(
                SearchDoc.entity == et.name, SearchDoc.record_id.in_(list(docs))
            )
        )
        .scalars()
        .all()
    )
    have = {row.record_id: row for row in rows}
    new = []
    for rid, doc in docs.items():
        row = have.get(rid)
        if doc is None:
            if row is not None:
                dbsession.delete(row)
        elif row is None:
            new.append({"entity": et.name, "record_id": rid, "title": doc[0], "body": doc[1]})
        elif (row.title, row.body) != doc:
            row.title, row.body = doc
    if new:
        bulk_insert(dbsession, SearchDoc.__table__, new)


def unindex(dbsession, et, record_id) -> None:
    dbsession.execute(
        delete(SearchDoc).where(SearchDoc.entity == et.name, SearchDoc.record_id == record_id)
    )


def reindex(request, et=None, batch: int = 500) -> int:
    """Rebuild the index for one entity type (or all); returns the rows written.

    Indexes every live record whatever the caller may see: visibility is applied when
    searching, not when indexing."""
    db = request.dbsession
    types = [et] if et is not None else list(request.registry.kyklos_entities.values())
    written = 0
    for t in types:
        db.execute(delete(SearchDoc).where(SearchDoc.entity == t.name))
        if not t.searchable:
            continue
        stmt = select(t.model).order_by(t.model.id).execution_options(yield_per=batch)
        if hasattr(t.model, "deleted_at"):
            stmt = stmt.where(t.model.deleted_at.is_(None))
        rows = []
        for record in db.execute(stmt).scalars():
            doc = document(t, record)
            if doc is not None:
                rows.append(
                    {"entity": t.name, "record_id": record.id, "title": doc[0], "body": doc[1]}
                )
            if len(rows) >= batch:
                bulk_insert(db, SearchDoc.__table__, rows)
                written += len(rows)
                rows = []
        if rows:
            bulk_insert(db, SearchDoc.__table__, rows)
            written += len(rows)
        db.expunge_all()
    db.flush()
    return written


class SearchHooks:
    """Keeps ``kyklos_search`` in step with every write path (UI, API, import, jobs)."""

    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record):
        index_record(request.dbsession, entity_type, record)

    @hookimpl
    def kyklos_records_saved(self, request, entity_type, records):
        index_records(request.dbsession, entity_type, records)

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record):
        # Soft-deleted records leave the index too; a restore saves them back in.
        unindex(request.dbsession, entity_type, record.id)


# --- searching --------------------------------------------------------------------------


def terms(q: str) -> list[str]:
    """Words of the query; only word characters, so nothing reaches FTS syntax raw.

    Lower-cased, not case-folded: folding turns the Greek final sigma into a medial one
    ("Γιώργος" -> "γιώργοσ"), which PostgreSQL's ``lower`` (what the text-search
    vector holds) never does, so most Greek surnames could not be found there; SQLite's
    FTS5 folds both forms alike itself."""
    return re.findall(r"\w+", q[:MAX_Q].lower())[:10]


def folded(word: str) -> str | None:
    """The folded key of a query word when it differs from the word (see
    :func:`fold_keys`), else ``None``."""
    key = "".join(fold(word).split())
    return key if key and key != word else None


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def match_clause(dialect: str, words: list[str], stmt, raw: str = ""):
    """Add the full-text criterion and ranking to ``stmt`` (a select on SearchDoc);
    ``raw`` is the query as typed."""
    stmt, order = match_and_order(dialect, words, stmt, raw)
    return stmt.order_by(*order)


def match_and_order(dialect: str, words: list[str], stmt, raw: str = ""):
    """``(stmt with the full-text criterion, ranking order)`` (see :func:`match_clause`)."""
    if dialect == "postgresql":
        alts = [(w, folded(w)) for w in words]
        tsq = " & ".join(f"({w}:* | {f}:*)" if f else f"{w}:*" for w, f in alts)
        vector = literal_column(PG_VECTOR)
        query = func.to_tsquery("simple", tsq)
        phrase = " ".join(words)
        title_like = SearchDoc.title.ilike(_like(phrase), escape="\\")
        # PostgreSQL's parser keeps an e-mail address, a host name or a number with its
        # punctuation as one token ("anna@example.com"), which the word prefixes above
        # ("anna:* & example:* & com:*") cannot meet: the query as typed, parsed by the
        # same parser, can (websearch_to_tsquery accepts any text without error).
        typed = func.websearch_to_tsquery("simple", raw[:MAX_Q]) if raw.strip() else None
        found = [vector.op("@@")(query), title_like]
        if typed is not None:
            found.append(vector.op("@@")(typed))
        if all(len(w) >= TRIGRAM for w in words):
            # A fragment inside a word ("ragian", "example.c") that no word prefix
            # meets: every word, or its folded key, somewhere in the text. The GIN
            # trigram index answers it; ILIKE ignores case as the index does.
            text_expr = literal_column(PG_TEXT)
            found.append(
                and_(
                    *(
                        or_(
                            *(
                                text_expr.ilike(_like(a), escape="\\")
                                for a in (w, f)
                                if a and len(a) >= TRIGRAM
                            )
                        )
                        for w, f in alts
                    )
                )
            )
        return stmt.where(or_(*found)), [
            func.similarity(SearchDoc.title, phrase).desc(),
            func.ts_rank(vector, query).desc(),
            SearchDoc.record_id.desc(),
        ]
    long = [w for w in words if len(w) >= 3] if SQLITE_TRIGRAM else words
    short = [w for w in words if w not in long]
    for w in short:
        conds = []
        for alt in filter(None, (w, folded(w))):
            pat = _like(alt)
            conds += [SearchDoc.title.like(pat, escape="\\"), SearchDoc.body.like(pat, escape="\\")]
        stmt = stmt.where(or_(*conds))
    if not long:
        return stmt, [SearchDoc.title, SearchDoc.record_id]
    fts = table(FTS_TABLE, column("rowid"), column("rank"))
    expr = _fts_expr(long)
    return (
        stmt.join(fts, fts.c.rowid == SearchDoc.id).where(
            literal_column(FTS_TABLE).op("MATCH")(bindparam("fts_q", expr))
        ),
        [fts.c.rank, SearchDoc.record_id.desc()],
    )


def _sqlite_words(words: list[str]) -> tuple[list[str], list[str]]:
    """``(words the FTS5 table answers, shorter words found with LIKE)`` on SQLite."""
    long = [w for w in words if len(w) >= 3] if SQLITE_TRIGRAM else words
    return long, [w for w in words if w not in long]


def _fts_expr(long: list[str]) -> str:
    """The FTS5 query of ``long`` words (each also in its folded form)."""
    star = "" if SQLITE_TRIGRAM else "*"
    parts = []
    for w in long:
        f = folded(w)
        if f and (len(f) >= 3 or not SQLITE_TRIGRAM):
            parts.append(f'("{w}"{star} OR "{f}"{star})')
        else:
            parts.append(f'"{w}"{star}')
    return " AND ".join(parts)


def _sqlite_matches(words: list[str]):
    """On SQLite, the search rows holding ``words`` as one materialised CTE (``id``,
    ``entity``, ``record_id``, ``title``, ``body``, ``rank``), or ``None`` when no word
    is long enough for the FTS5 table.

    Global search has a branch per readable type; each branch joining the FTS5 table
    ran the whole full-text look-up again (twenty-odd times per search, nearly all of
    its time at 20 000 people), and only then kept its own type's rows. The CTE runs
    it once; each branch then reads its type's rows from it."""
    long, short = _sqlite_words(words)
    if not long:
        return None
    fts = table(FTS_TABLE, column("rowid"), column("rank"))
    stmt = (
        select(
            SearchDoc.id,
            SearchDoc.entity,
            SearchDoc.record_id,
            SearchDoc.title,
            SearchDoc.body,
            fts.c.rank.label("rank"),
        )
        .join(fts, fts.c.rowid == SearchDoc.id)
        .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("fts_q", _fts_expr(long))))
    )
    for w in short:
        conds = []
        for alt in filter(None, (w, folded(w))):
            pat = _like(alt)
            conds += [SearchDoc.title.like(pat, escape="\\"), SearchDoc.body.like(pat, escape="\\")]
        stmt = stmt.where(or_(*conds))
    return stmt.cte("matches").prefix_with("MATERIALIZED")


def shown_text(dialect: str):
    """SQL for a search row's title and body without the folded keys line: the text
    of the record's searchable fields as stored."""
    body = SearchDoc.body
    if dialect == "postgresql":
        visible = func.split_part(body, KEYS_MARK, 1)
    else:
        at = func.instr(body, KEYS_MARK)
        visible = case((at > 0, func.substr(body, 1, at - 1)), else_=body)
    return SearchDoc.title + " " + visible


def list_match(dialect: str, entity: str, words: list[str]):
    """``SELECT record_id`` of ``entity``'s search rows holding every one of ``words``
    as typed, case-insensitively: a list's ``?q=``, answered by the index instead of a
    ``LIKE`` over each searchable column of every row.

    The same meaning as that ``LIKE``: each word a substring of some searchable field
    (title and body hold them all; no word has a space, so none spans two fields). The
    trigram index finds the candidates; each is then checked against its shown text
    with the list's own case-insensitive ``LIKE``, so neither the folded keys line
    ("ana" in the key of "Anna") nor the index's own case folding adds a record the
    list did not find before."""
    from kyklos.db import ci_contains

    shown = shown_text(dialect)
    stmt = select(SearchDoc.record_id).where(
        SearchDoc.entity == entity, *(ci_contains(shown, w) for w in words)
    )
    indexed = [w for w in words if len(w) >= TRIGRAM]
    if dialect == "postgresql":
        # ILIKE on the trigram index's own expression: the GIN index answers a word of
        # three characters or more (shorter ones only filter the rows it found).
        text_expr = literal_column(PG_TEXT)
        return stmt.where(*(text_expr.ilike(_like(w), escape="\\") for w in indexed))
    if not SQLITE_TRIGRAM or not indexed:
        return stmt
    # A quoted FTS5 string is literal text (a double quote doubled) that the trigram
    # tokenizer matches as a substring.
    expr = " AND ".join('"' + w.replace('"', '""') + '"' for w in indexed)
    fts = table(FTS_TABLE, column("rowid"))
    return stmt.join(fts, fts.c.rowid == SearchDoc.id).where(
        literal_column(FTS_TABLE).op("MATCH")(expr)
    )


def searchable_types(request, only=None) -> list:
    """The types a search covers: ``only`` (when asked for by name), else every
    searchable type that takes part in global search; readable ones only."""
    out = []
    for et in request.registry.kyklos_entities.values():
        if not et.searchable or (only and et.name != only):
            continue
        if not only and not et.global_search:
            continue
        if request.has_permission(et.permission("read")):
            out.append(et)
    return sorted(out, key=lambda t: (t.menu_order, str(t.plural)))


def search(
    request, q: str, limit: int = 10, only: str | None = None, offset: int = 0
) -> list[Group]:
    """Records matching ``q`` that the user may see, grouped by type, best first;
    ``offset`` skips that many hits of each type (the pages of one type's results).

    One statement for every readable type: a ``UNION ALL`` of one branch per type, each
    with the type's visibility filter as a subquery, its own ranking, limit and offset
    (so hidden records never take the places of a page), and its rank within the type."""
    words = terms(q or "")
    if not words:
        return []
    types = searchable_types(request, only)
    if not types:
        return []
    stmt = hits_statement(request, types, words, q or "", limit + 1, offset)
    by_type: dict[int, list] = {}
    for pos, _rank, rid, title, body, sub_id, sub_text in request.dbsession.execute(stmt):
        by_type.setdefault(pos, []).append((rid, title, body, sub_id, sub_text))
    found = []
    for pos, et in enumerate(types):
        rows = by_type.get(pos)
        if rows:
            found.append((et, rows[:limit], len(rows) > limit))
    subs = _subtitles(request, found)
    groups = []
    for et, rows, more in found:
        group = Group(et, more=more)
        et_subs = subs.get(et.name, {})
        own = _titles_in_language(request, et, rows)
        for rid, title, body, _sid, _stext in rows:
            group.hits.append(
                Hit(
                    rid,
                    own.get(rid, title),
                    snippet(visible_body(body), words),
                    request.route_url("entity.detail", slug=et.slug, id=rid),
                    et_subs.get(rid, ""),
                )
            )
        groups.append(group)
    return groups


def _titles_in_language(request, et, rows) -> dict[int, str]:
    """``{id: title}`` in the reader's language of the hits ``rows`` of a type whose
    titles have one (a lookup value, a product with names in other languages): the
    index stores one title per record, the reader may read another. One statement for
    a type with ``title_translations``, none for the others."""
    if not rows or not (et.lookup or et.title_translations):
        return {}
    from types import SimpleNamespace

    from kyklos.entities import display

    names = {}
    if et.title_translations:
        ids = [r[0] for r in rows]
        col = getattr(et.model, et.title_translations)
        names = dict(
            request.dbsession.execute(select(et.model.id, col).where(et.model.id.in_(ids))).all()
        )
    records = []
    for rid, title, *_rest in rows:
        attrs = {"id": rid, et.title_field: title}
        if et.title_translations:
            attrs[et.title_translations] = names.get(rid)
        records.append(SimpleNamespace(**attrs))
    return display.record_titles(request, et, records)


#: subtitle field types whose column the search statement reads itself (as an integer
#: or as text); any other type's second lines are read by :func:`subtitles`
_SUB_ID_TYPES = frozenset({"reference", "integer"})
_SUB_TEXT_TYPES = frozenset({"string", "text", "email", "phone", "url", "choice"})


#: the subtitle columns of a branch whose type has none (or one read by :func:`subtitles`)
_NO_SUB_ID = cast(null(), Integer).label("sub_id")
_NO_SUB_TEXT = cast(null(), Text).label("sub_text")


def _subtitle_info(et):
    """``(field, "id" | "text")`` when the search statement reads ``et``'s second line
    itself, ``(field, None)`` when :func:`subtitles` must, ``(None, None)`` without one."""
    name = getattr(et, "subtitle_field", None)
    info = et.fields.get(name) if name else None
    if info is None:
        return None, None
    if info.custom or getattr(info, "virtual", False) or (et.lookup and name == et.title_field):
        return info, None
    if name not in sa_inspect(et.model).column_attrs:
        return info, None
    if info.type in _SUB_ID_TYPES:
        return info, "id"
    if info.type in _SUB_TEXT_TYPES:
        return info, "text"
    return info, None


def _subtitles(request, found) -> dict[str, dict[int, str]]:
    """``{type name: {id: second line}}`` for the hits ``found`` (``[(type, rows,
    more)]``). The search statement read the subtitle columns; what is left is one
    query per referenced type (the referenced records' titles, through their
    visibility), for every searched type at once, instead of loading each type's hit
    records (and their eager collections) and then their references."""
    from kyklos.entities import display

    out: dict[str, dict[int, str]] = {}
    wanted: dict[str, set[int]] = {}
    plan = []
    for et, rows, _more in found:
        info, kind = _subtitle_info(et)
        if info is None:
            continue
        if kind is None:
            out[et.name] = subtitles(request, et, [r[0] for r in rows])
            continue
        plan.append((et, info, kind, rows))
        if info.type == "reference":
            wanted.setdefault(info.reference, set()).update(r[3] for r in rows if r[3] is not None)
    refs = {target: display.titles_by_id(request, target, ids) for target, ids in wanted.items()}
    for et, info, kind, rows in plan:
        target_refs = refs.get(info.reference, {}) if info.type == "reference" else None
        subs = out[et.name] = {}
        for rid, _title, _body, sub_id, sub_text in rows:
            value = sub_id if kind == "id" else sub_text
            try:
                text = display.format_value(request, info, value, target_refs).text
            except Exception:  # noqa: BLE001 - a second line must never break search
                text = ""
            subs[rid] = "" if text.startswith("#") and info.type == "reference" else str(text)
    return out


def hits_statement(request, types, words: list[str], raw: str, limit: int, offset: int):
    """The ``UNION ALL`` behind :func:`search`: rows ``(type position, rank in type,
    record id, title, body, subtitle id, subtitle text)`` ordered by type, then rank
    (the subtitle columns: see :func:`_subtitle_info`)."""
    from kyklos.entities import service

    dialect = request.dbsession.get_bind().dialect.name
    matches = _sqlite_matches(words) if dialect == "sqlite" and len(types) > 1 else None
    if matches is not None:
        # the same order and rank for every branch over the shared look-up: built once
        # (building the statement's elements is most of a search's Python)
        m = matches.c
        m_order = [m.rank, m.record_id.desc()]
        m_rank = func.row_number().over(order_by=m_order).label("rank")
    else:
        # the full-text criterion and ranking are the same in every branch: built once
        cols = select(SearchDoc.record_id, SearchDoc.title, SearchDoc.body)
        matched, order = match_and_order(dialect, words, cols, raw)
        rank = func.row_number().over(order_by=order).label("rank")
    branches = []
    for pos, et in enumerate(types):
        visible = service.visible_select(request, et).with_only_columns(et.model.id).order_by(None)
        if matches is not None:
            stmt = select(m.record_id, m.title, m.body).where(
                and_(m.entity == et.name, m.record_id.in_(visible.scalar_subquery()))
            )
            order, rank = m_order, m_rank
        else:
            stmt = matched.where(
                and_(
                    SearchDoc.entity == et.name, SearchDoc.record_id.in_(visible.scalar_subquery())
                )
            )
        # The branch's own order, limit and offset, kept as a subquery (a compound
        # SELECT takes one ORDER BY/LIMIT only); row_number() carries its order out.
        stmt = stmt.order_by(*order)
        stmt = stmt.add_columns(rank)
        sub = stmt.limit(limit).offset(offset).subquery(f"hits_{pos}")
        # The hit's second line (``subtitle_field``): read here, for the page's rows only
        # (a primary-key look-up each), instead of a query per type with hits after.
        info, kind = _subtitle_info(et)
        col = getattr(et.model, info.name) if kind else None
        sub_id, sub_text = _NO_SUB_ID, _NO_SUB_TEXT
        if col is not None:
            value = select(col).where(et.model.id == sub.c.record_id).scalar_subquery()
            if kind == "id":
                sub_id = value.label("sub_id")
            else:
                sub_text = cast(value, Text).label("sub_text")
        branches.append(
            select(
                literal(pos, Integer).label("pos"),
                sub.c.rank,
                sub.c.record_id,
                sub.c.title,
                sub.c.body,
                sub_id,
                sub_text,
            )
        )
    if len(branches) == 1:
        union = branches[0].subquery("hits")
    else:
        union = union_all(*branches).subquery("hits")
    u = union.c
    return select(u.pos, u.rank, u.record_id, u.title, u.body, u.sub_id, u.sub_text).order_by(
        u.pos, u.rank
    )


def subtitles(request, et, ids) -> dict[int, str]:
    """``{id: second line}`` from the type's ``subtitle_field`` (a reference shows the
    referenced record's title, through its visibility): two queries per page of hits.
    Only for the field types the search statement does not read itself."""
    from kyklos.entities import display

    name = getattr(et, "subtitle_field", None)
    info = et.fields.get(name) if name else None
    if info is None or not ids:
        return {}
    records = request.dbsession.execute(select(et.model).where(et.model.id.in_(ids))).scalars()
    records = list(records)
    refs = display.reference_titles(request, et, records, [name])
    out = {}
    for r in records:
        try:
            text = display.cell(request, et, info, r, refs).text
        except Exception:  # noqa: BLE001 - a second line must never break search
            text = ""
        out[r.id] = "" if text.startswith("#") and info.type == "reference" else str(text)
    return out


def snippet(body: str, words: list[str], width: int = 120) -> str:
    """Up to ``width`` characters of ``body`` around the first matching word."""
    if not body:
        return ""
    low = body.lower()
    pos = min((p for p in (low.find(w) for w in words) if p >= 0), default=0)
    start = max(0, pos - width // 3)
    text = " ".join(body[start : start + width].split())
    return ("…" if start else "") + text + ("…" if start + width < len(body) else "")


# --- views ------------------------------------------------------------------------------


def _limit(request, default, top) -> int:
    try:
        return max(1, min(top, int(request.params.get("limit", default))))
    except ValueError:
        return default


def _page(request) -> int:
    try:
        return max(1, min(1000, int(request.params.get("page", 1))))
    except ValueError:
        return 1


def search_page(request):
    """All types, the first few hits of each; with ``type``, that type's hits in pages
    of :data:`PAGE_SIZE`."""
    q = request.params.get("q", "")[:MAX_Q].strip()
    only = request.params.get("type") or None
    if only and only not in request.registry.kyklos_entities:
        only = None
    page = _page(request) if only else 1
    size = PAGE_SIZE if only else 5
    groups = search(request, q, limit=size, only=only, offset=(page - 1) * size) if q else []
    et = request.registry.kyklos_entities.get(only) if only else None

    def page_url(n):
        return request.route_url("search", _query={"q": q, "type": only, "page": n})

    return {
        "title": _("Search"),
        "q": q,
        "groups": groups,
        "only": only,
        "only_type": et,
        "page": page,
        "prev_url": page_url(page - 1) if only and page > 1 else None,
        "next_url": page_url(page + 1) if only and groups and groups[0].more else None,
        "all_url": request.route_url("search", _query={"q": q}),
        "too_short": bool(q) and not terms(q),
    }


def api_search(request):
    from kyklos.problem import Problem

    q = request.params.get("q", "")[:MAX_Q].strip()
    if not terms(q):
        raise Problem(400, _("Invalid query"), errors={"q": _("Give at least one word.")})
    only = request.params.get("type") or None
    try:
        offset = max(0, int(request.params.get("offset", 0))) if only else 0
    except ValueError:
        offset = 0
    groups = search(request, q, limit=_limit(request, 10, 100), only=only, offset=offset)
    tr = request.localizer.translate
    base = request.application_url
    return {
        "q": q,
        "groups": [
            {
                "type": g.entity_type.name,
                "title": tr(g.entity_type.plural),
                "type_title": tr(g.entity_type.title),
                "more": g.more,
                "items": [
                    {
                        "id": h.record_id,
                        "title": h.title,
                        "subtitle": h.subtitle,
                        "snippet": h.snippet,
                        "url": f"{base}/api/v1/{g.entity_type.slug}/{h.record_id}",
                        "html_url": h.url,
                    }
                    for h in g.hits
                ],
            }
            for g in groups
        ],
    }


def search_paths(request) -> dict:
    from kyklos.entities import openapi as o  # it imports the registry's modules

    hit = o.obj(
        {
            "id": {"type": "integer"},
            "title": o.ANY,
            "subtitle": o.ANY,
            "snippet": o.ANY,
            "url": {"type": "string"},
            "html_url": {"type": "string"},
        },
        ["id", "title", "url"],
    )
    group = o.obj(
        {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "type_title": {"type": "string"},
            "more": {"type": "boolean"},
            "items": o.array(hit),
        },
        ["type", "items"],
    )
    types = sorted(et.name for et in request.registry.kyklos_entities.values() if et.searchable)
    return {
        "/api/v1/_search": {
            "get": o.operation(
                "Search",
                "search",
                {
                    "200": o.json_ok(
                        o.obj({"q": {"type": "string"}, "groups": o.array(group)}, ["q", "groups"])
                    ),
                    **o.problems("400", "401"),
                },
                summary="Free text over every searchable type you may read, grouped by type",
                parameters=[
                    o.param(
                        "q",
                        {"type": "string", "maxLength": 200, "pattern": "[A-Za-z0-9]{2}"},
                        required=True,
                        description="words (at least one)",
                    ),
                    o.param("type", {"type": "string", "enum": types or ["-"]}),
                    o.param("limit", {"type": "integer", "minimum": 1, "maximum": 100}),
                    o.param(
                        "offset",
                        {"type": "integer", "minimum": 0},
                        description="with type: skip that many hits (the next page)",
                    ),
                ],
                **o.SEMANTIC,
            )
        }
    }


def includeme(config):
    config.add_openapi_paths(search_paths)
    config.add_hooks(SearchHooks(), name="kyklos.search")
    config.include("kyklos.entities.upkeep")
    config.add_route("search", "/search")
    config.add_view(search_page, route_name="search", renderer="kyklos:web/templates/search.pt")
    config.add_route("api.search", "/api/v1/_search", request_method="GET")
    config.add_view(api_search, route_name="api.search", renderer="json")

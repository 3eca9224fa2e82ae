"""Data values in the user's language: the title of a lookup record (an activity type,
a status, a pipeline stage...) given per language by an administrator.

Seeded values are translated by their plugin's catalog (their stored title is the
msgid); a row here, when there is one for the user's language, wins over the catalog.

Every lookup entity type gets a ``title_translations`` field (``{"el": "...", ...}``):
read and written through the API like any field, edited on the record's form as one
input per language, kept in this table.

The same ``{language: text}`` value kept in a JSON column of a plugin's own table has
two display kinds, one per length: ``title_translations`` (a one-line input per
language, 300 characters) and ``text_translations`` (a text area per language, for a
description: several lines, 10 000 characters). :func:`clean` checks both and
:func:`in_language` picks the reader's text.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint, delete, select
from sqlalchemy.orm import Mapped, mapped_column, object_session

from kyklos.db import Base, IdMixin
from kyklos.hookspecs import hookimpl
from kyklos.i18n import LANGUAGES, _

FIELD = "title_translations"
MAX_TEXT = 300
#: the display kinds of a ``{language: text}`` value and the length of each text
KINDS = {"title_translations": MAX_TEXT, "text_translations": 10_000}


class ValueTranslation(IdMixin, Base):
    __tablename__ = "kyklos_value_translation"
    __table_args__ = (UniqueConstraint("entity", "record_id", "field", "locale"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str] = mapped_column(String(100), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    text: Mapped[str] = mapped_column(String(300), nullable=False)


def titles_for(request, et, ids, locale: str) -> dict[int, str]:
    """``{id: title}`` an administrator gave in ``locale`` to records ``ids`` of ``et``.

    Loads every per-language title of the type once per database session (a list of
    values is short): pages that show many lookup titles run one query per type."""
    by_id = _load(request.dbsession, et)
    return {i: by_id[i][locale] for i in ids if locale in by_id.get(i, {})}


def _cache(session) -> dict:
    """Per-session ``{entity: {record id: {locale: text}}}`` of the types whose rows were
    loaded: a list of lookup records reads them with one query, not one per record."""
    return session.info.setdefault("kyklos_value_translations", {})


def _load(session, et) -> dict:
    cache = _cache(session)
    if et.name not in cache:
        stmt = select(
            ValueTranslation.record_id, ValueTranslation.locale, ValueTranslation.text
        ).where(ValueTranslation.entity == et.name, ValueTranslation.field == et.title_field)
        by_id: dict = {}
        for rid, loc, text in session.execute(stmt):
            by_id.setdefault(rid, {})[loc] = text
        cache[et.name] = by_id
    return cache[et.name]


def read(et, record) -> dict:
    pending = record.__dict__.get("_kyklos_title_translations")
    if pending is not None:
        return dict(pending)
    session = object_session(record)
    if session is None or record.id is None:
        return {}
    return dict(sorted(_load(session, et).get(record.id, {}).items()))


def write(session, et, record, value: dict) -> None:
    """Replace the per-language titles of ``record`` (empty texts remove a language)."""
    value = {k: v.strip() for k, v in (value or {}).items() if isinstance(v, str) and v.strip()}
    session.execute(
        delete(ValueTranslation).where(
            ValueTranslation.entity == et.name,
            ValueTranslation.record_id == record.id,
            ValueTranslation.field == et.title_field,
        )
    )
    for loc, text in sorted(value.items()):
        session.add(
            ValueTranslation(
                entity=et.name, record_id=record.id, field=et.title_field, locale=loc, text=text
            )
        )
    session.flush()
    cache = _cache(session)
    if et.name in cache:
        cache[et.name][record.id] = dict(value)
    record.__dict__.pop("_kyklos_title_translations", None)


def in_language(value, language: str | None, fallback=None):
    """The text of ``value`` (``{"el": "...", ...}``) for a reader of ``language``, else
    ``fallback`` (the field's plain, untranslated value)."""
    if isinstance(value, dict) and language and isinstance(value.get(language), str):
        return value[language] or fallback
    return fallback


def clean(value, kind: str = FIELD) -> dict:
    """Check a submitted ``{"el": "...", ...}`` of the display kind ``kind``; raises
    ``ValueError`` with a message naming the bad language code. Line breaks are kept in
    a ``text_translations`` value and refused in a title."""
    limit = KINDS.get(kind, MAX_TEXT)
    if not isinstance(value, dict):
        raise ValueError(
            _('Give an object of titles by language code, e.g. {"el": "..."}.')
            if kind == FIELD
            else _('Give an object of texts by language code, e.g. {"el": "..."}.')
        )
    out = {}
    for loc, text in value.items():
        if loc not in LANGUAGES:
            raise ValueError(_("Unknown language: ${code}.", mapping={"code": str(loc)[:20]}))
        if text is None or text == "":
            continue
        if not isinstance(text, str):
            raise ValueError(_("Not a string."))
        # a browser's text area sends CRLF: one kind of line break is stored
        text = text.replace("\r\n", "\n").strip()
        if "\x00" in text or (kind == FIELD and ("\n" in text or "\r" in text)):
            raise ValueError(
                _("${code}: not a text of one line.", mapping={"code": loc})
                if kind == FIELD
                else _("${code}: not a text.", mapping={"code": loc})
            )
        if len(text) > limit:
            raise ValueError(
                _("${code}: at most ${n} characters.", mapping={"code": loc, "n": limit})
            )
        if text:
            out[loc] = text
    return out


def install(et) -> None:
    """Give the lookup type ``et`` its ``title_translations`` field and model property."""
    from kyklos.entities import FieldInfo

    if FIELD in et.fields or not et.lookup:
        return
    model = et.model
    if not hasattr(model, FIELD):

        def getter(self, _et=et):
            return read(_et, self)

        def setter(self, value):
            # Kept on the instance until the record has an id (after-save hook below).
            self.__dict__["_kyklos_title_translations"] = dict(value or {})

        setattr(model, FIELD, property(getter, setter))
    et.fields[FIELD] = FieldInfo(
        name=FIELD,
        title=_("Title in other languages"),
        type="json",
        virtual=True,
        display="title_translations",
        description=_(
            'The title per language code, e.g. {"el": "Τηλεφώνημα", "pl": "Telefon"}; '
            "shown instead of the title to users of that language"
        ),
    )


class TranslationHooks:
    @hookimpl
    def kyklos_record_after_save(self, request, entity_type, record, changes, created, source):
        if entity_type.lookup and FIELD in (changes or {}):
            write(request.dbsession, entity_type, record, changes[FIELD][1] or {})

    @hookimpl
    def kyklos_record_after_delete(self, request, entity_type, record, soft):
        if entity_type.lookup and not soft:
            request.dbsession.execute(
                delete(ValueTranslation).where(
                    ValueTranslation.entity == entity_type.name,
                    ValueTranslation.record_id == record.id,
                )
            )


def setup(config) -> None:
    # (each lookup type gets its field as it is registered: add_entity_type calls install)
    config.add_hooks(TranslationHooks(), name="kyklos.value_translations")

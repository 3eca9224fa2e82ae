"""Data values in the user's language: the title of a lookup record (an activity type,
a status, a pipeline stage...) given per language by an administrator.

Seeded values are translated by their plugin's catalog (their stored title is the
msgid); a row here, when there is one for the user's language, wins over the catalog.
"""

from __future__ import annotations

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from kyklos.db import Base, IdMixin


class ValueTranslation(IdMixin, Base):
    __tablename__ = "kyklos_value_translation"
    __table_args__ = (UniqueConstraint("entity", "record_id", "field", "locale"),)

    entity: Mapped[str] = mapped_column(String(100), nullable=False)
    record_id: Mapped[int] = mapped_column(Integer, nullable=False)
    field: Mapped[str] = mapped_column(String(100), nullable=False)
    locale: Mapped[str] = mapped_column(String(10), nullable=False)
    text: Mapped[str] = mapped_column(String(300), nullable=False)

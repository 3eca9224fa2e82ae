"""Typed, inverse-labelled relationships between any two parties (CON-05, D12)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, CheckConstraint, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from kyklos_sdk import Base, EntityMixin


class RelationshipType(EntityMixin, Base):
    """A kind of relationship and how it reads from each end: "father of" / "son of".

    ``name`` reads from the ``from`` party to the ``to`` party, ``inverse_name`` back.
    Types whose two names are equal (spouse, partner) are symmetric.
    """

    __tablename__ = "contacts_relationship_type"

    code: Mapped[str] = mapped_column(String(40), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    inverse_name: Mapped[str] = mapped_column(String(100), nullable=False)
    #: "person", "account" or "any": which parties each end may be
    from_kind: Mapped[str] = mapped_column(String(10), nullable=False, default="any")
    to_kind: Mapped[str] = mapped_column(String(10), nullable=False, default="any")
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    #: how a woman or a man at each end reads ("mother of" for "parent of", "daughter
    #: of" for "child of"); empty: the plain name serves everyone
    name_female: Mapped[str | None] = mapped_column(String(100))
    name_male: Mapped[str | None] = mapped_column(String(100))
    inverse_name_female: Mapped[str | None] = mapped_column(String(100))
    inverse_name_male: Mapped[str | None] = mapped_column(String(100))

    @property
    def symmetric(self) -> bool:
        return self.name == self.inverse_name

    def label_for(self, outgoing: bool, gender: str | None) -> str:
        """What the party at one end is of the other: the ``from`` end reads ``name``,
        the ``to`` end ``inverse_name``, each in the party's gender when given."""
        if outgoing:
            gendered = {"female": self.name_female, "male": self.name_male}.get(gender or "")
            return gendered or self.name
        gendered = {"female": self.inverse_name_female,
                    "male": self.inverse_name_male}.get(gender or "")
        return gendered or self.inverse_name


class Relationship(EntityMixin, Base):
    """``from`` party is ``type.name`` of ``to`` party (and ``to`` is ``inverse_name``
    of ``from``). Each end is exactly one person or one account."""

    __tablename__ = "contacts_relationship"

    type_id: Mapped[int] = mapped_column(
        ForeignKey("contacts_relationship_type.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    )
    from_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), index=True
    )
    from_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), index=True
    )
    to_person_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_person.id", ondelete="CASCADE"), index=True
    )
    to_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="CASCADE"), index=True
    )
    start_date: Mapped[dt.date | None] = mapped_column(Date)
    end_date: Mapped[dt.date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(Text)

    type: Mapped[RelationshipType] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("(from_person_id IS NULL) <> (from_account_id IS NULL)", name="one_from"),
        CheckConstraint("(to_person_id IS NULL) <> (to_account_id IS NULL)", name="one_to"),
    )

    @property
    def from_party(self) -> tuple[str, int]:
        if self.from_person_id is not None:
            return ("person", self.from_person_id)
        return ("account", self.from_account_id)

    @property
    def to_party(self) -> tuple[str, int]:
        if self.to_person_id is not None:
            return ("person", self.to_person_id)
        return ("account", self.to_account_id)

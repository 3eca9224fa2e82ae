"""Accounts and people."""

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, SoftDeleteMixin

from . import _


class Account(EntityMixin, SoftDeleteMixin, Base):
    __tablename__ = "contacts_account"

    name: Mapped[str] = mapped_column(String(200), nullable=False)
    country: Mapped[str | None] = mapped_column(String(2), index=True)
    vat_number: Mapped[str | None] = mapped_column(String(32), index=True)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(100), index=True)


class Person(EntityMixin, SoftDeleteMixin, Base):
    __tablename__ = "contacts_person"

    first_name: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    last_name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    account_id: Mapped[int | None] = mapped_column(
        ForeignKey("contacts_account.id", ondelete="SET NULL"), index=True
    )
    job_title: Mapped[str | None] = mapped_column(String(200))

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def includeme(config):
    config.add_entity_type(
        Account,
        "account",
        title=_("Account"),
        plural=_("Accounts"),
        title_field="name",
        list_columns=("name", "country", "city", "vat_number"),
        filters=("name", "country", "city", "vat_number", "owner_id", "created_at"),
        sort=("name", "country", "city", "created_at"),
        search=("name", "vat_number", "email"),
        fields={"email": {"type": "email"}, "phone": {"type": "phone"}},
        icon="building",
        menu_order=10,
    )
    config.add_entity_type(
        Person,
        "person",
        title=_("Person"),
        plural=_("People"),
        slug="persons",
        title_field="last_name",
        list_columns=("first_name", "last_name", "email", "account_id"),
        filters=("first_name", "last_name", "email", "account_id", "owner_id", "created_at"),
        sort=("first_name", "last_name", "email", "created_at"),
        search=("first_name", "last_name", "email"),
        fields={"email": {"type": "email"}, "phone": {"type": "phone"}},
        related_filters={"account.country": "account_id", "account.city": "account_id"},
        icon="person",
        menu_order=20,
    )
    config.add_role(
        "sales",
        _("Sales representative"),
        [
            f"contacts.{e}.{v}"
            for e in ("account", "person")
            for v in ("read", "create", "update", "export")
        ],
    )
    config.add_role(
        "manager",
        _("Sales manager"),
        [
            f"contacts.{e}.{v}"
            for e in ("account", "person")
            for v in ("read", "create", "update", "delete", "export", "import")
        ],
    )

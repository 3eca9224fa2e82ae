"""An entity type with a money field (amount + currency columns) for the money tests."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import Date, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, Plugin

plugin = Plugin(id="samplemoney", title="Sample money", requires_core=">=0.1")


class Deal(EntityMixin, Base):
    __tablename__ = "samplemoney_deal"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    value: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    value_currency: Mapped[str | None] = mapped_column(String(3))
    closes_on: Mapped[dt.date | None] = mapped_column(Date)


def includeme(config):
    config.add_entity_type(
        Deal,
        "deal",
        title="Deal",
        plural="Deals",
        list_columns=("name", "value"),
        filters=("name", "value", "closes_on"),
        sort=("name", "value", "closes_on"),
    )
    config.add_role(
        "dealer",
        "Dealer",
        [f"samplemoney.deal.{v}" for v in ("read", "create", "update", "delete")],
    )
    config.add_record_rule("deal", "dealer", "read", "all")
    config.add_record_rule("deal", "dealer", "write", "all")

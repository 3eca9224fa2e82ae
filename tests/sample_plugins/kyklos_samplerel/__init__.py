"""Two related entity types (boxes hold items) for the generated pages' tests: reference
fields, related lists, panels, actions and timeline items contributed by hooks."""

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import (
    Action,
    Base,
    EntityMixin,
    Panel,
    Plugin,
    RelatedList,
    TimelineItem,
    hookimpl,
    utcnow,
)

plugin = Plugin(id="samplerel", title="Sample relations", requires_core=">=0.1")


class Box(EntityMixin, Base):
    __tablename__ = "samplerel_box"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    code: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(Text)


class Item(EntityMixin, Base):
    __tablename__ = "samplerel_item"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    box_id: Mapped[int | None] = mapped_column(
        ForeignKey("samplerel_box.id", ondelete="SET NULL"), index=True
    )
    qty: Mapped[int | None] = mapped_column(Integer)


class Hooks:
    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        if entity_type.name == "box":
            return [
                Action("Weigh box", f"/boxes/{record.id}/weigh", permission="samplerel.box.read")
            ]
        return None

    @hookimpl
    def kyklos_record_panels(self, request, entity_type, record):
        if entity_type.name == "box":
            return [Panel("Shipping", items=[("Label <b>printed</b>", None, "today")], count=1)]
        return None

    @hookimpl
    def kyklos_timeline_items(self, request, entity_type, record):
        if entity_type.name == "box":
            return [TimelineItem(when=utcnow(), title="Box scanned", kind="scan")]
        return None


def includeme(config):
    config.add_entity_type(
        Box,
        "box",
        title="Box",
        plural="Boxes",
        slug="boxes",
        list_columns=("name", "code"),
        filters=("name", "code"),
        sort=("name",),
        search=("name", "code", "notes"),
        related=(RelatedList("item", "box_id", "Items in this box", ("name", "qty")),),
    )
    config.add_entity_type(
        Item,
        "item",
        title="Item",
        plural="Items",
        list_columns=("name", "box_id", "qty", "owner_id"),
        filters=("name", "box_id", "qty"),
        sort=("name", "qty"),
        search=("name",),
    )
    perms = [
        f"samplerel.{t}.{v}"
        for t in ("box", "item")
        for v in ("read", "create", "update", "delete")
    ]
    config.add_role("releditor", "Boxes editor", perms)
    config.add_role("relreader", "Boxes reader", ["samplerel.box.read", "samplerel.item.read"])
    for t in ("box", "item"):
        config.add_record_rule(t, "releditor", "read", "all")
        config.add_record_rule(t, "releditor", "write", "all")
        config.add_record_rule(t, "relreader", "read", "all")
    config.add_hooks(Hooks(), name="kyklos_samplerel.hooks")

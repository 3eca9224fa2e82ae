"""A healthy sample plugin with an entity type and its own migration branch."""

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from kyklos_sdk import Base, EntityMixin, Plugin, SoftDeleteMixin, hookimpl

plugin = Plugin(id="samplea", title="Sample A", requires_core=">=0.1")


class Thing(EntityMixin, SoftDeleteMixin, Base):
    __tablename__ = "samplea_thing"

    name: Mapped[str] = mapped_column(String(100), nullable=False)
    colour: Mapped[str | None] = mapped_column(String(20))
    size: Mapped[int | None] = mapped_column()


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, entity_type, data, errors):
        if entity_type.name == "thing" and data.get("name") == "forbidden":
            errors["name"] = "This name is not allowed."


def includeme(config):
    config.add_entity_type(
        Thing,
        "thing",
        title="Thing",
        plural="Things",
        list_columns=("name", "colour", "size"),
        filters=("name", "colour", "size", "owner_id"),
        sort=("name", "size"),
        search=("name",),
        # a thing's colour places it in a territory (for the territory record rule)
        territory_field="colour",
    )
    config.add_role("thingsreader", "Things reader", ["samplea.thing.read"])
    config.add_role(
        "thingseditor",
        "Things editor",
        [f"samplea.thing.{v}" for v in ("read", "create", "update", "delete", "export", "import")],
    )
    # Readers read every thing; editors read every thing but change and delete only
    # their own (deny by default: without these lines nobody reaches a thing).
    config.add_record_rule("thing", "thingsreader", "read", "all")
    config.add_record_rule("thing", "thingseditor", "read", "all")
    config.add_record_rule("thing", "thingseditor", "write", "own")
    config.add_hooks(Hooks(), name="kyklos_samplea.hooks")

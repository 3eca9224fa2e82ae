"""Alembic environment shared by every branch (see kyklos.migrate).

The caller passes the connection, the version table and the branch id through
``config.attributes``; nothing here reads an .ini file.
"""

import warnings

from alembic import context
from sqlalchemy.exc import SAWarning

from kyklos.db import Base

# Expression indexes (``lower(email)``) are written by migrations by hand; on SQLite,
# batch mode reflects a table and the tables it references and cannot read those
# indexes back - harmless here, as the batch copy never touches the referenced tables.
warnings.filterwarnings(
    "ignore", r"Skipped unsupported reflection of expression-based index", SAWarning
)

config = context.config
branch = config.attributes["branch"]
prefix = "kyklos_" if branch == "kyklos" else f"{branch}_"


def include_object(obj, name, type_, reflected, compare_to):
    # Autogenerate compares only this branch's tables: "<plugin id>_*" for a plugin,
    # "kyklos_*" for the core. Other branches' tables are theirs to migrate.
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
    if reflected and compare_to is None and type_ in ("table", "index"):
        # In the database but not in the models: full-text tables, expression indexes and
        # triggers that migrations create by hand. Dropping a table is never automatic.
        return False
    if reflected and compare_to is None and type_ == "column" and obj.computed is not None:
        # A generated column the database keeps and the models leave out (kyklos_0019's
        # kyklos_search.search_vector): not a column to drop.
        return False
    return bool(table) and table.startswith(prefix) and not table.startswith("alembic_")


def render_item(type_, obj, autogen_context):
    # Our column types render as importable names: kyklos.db.* in the core's files,
    # kyklos_sdk.* in a plugin's (plugins import only the SDK).
    if type_ == "type" and type(obj).__module__ == "kyklos.db":
        module = "kyklos.db" if branch == "kyklos" else "kyklos_sdk"
        autogen_context.imports.add(f"import {module}")
        return f"{module}.{type(obj).__name__}()"
    return False


connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    version_table=config.attributes["version_table"],
    include_object=include_object,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()

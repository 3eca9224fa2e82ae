"""Importing records from CSV, XLSX and plugin formats (vCard, ...): see
docs/import-export.md. The pipeline is :mod:`kyklos.imports.pipeline`; the web pages and
API are :mod:`kyklos.imports.views`; ``kyklos import`` is in :mod:`kyklos.cli`."""

from kyklos.i18n import _


def add_import_key(config, entity: str, field: str) -> None:
    """Directive ``config.add_import_key(entity, field)``: rows of a file imported into
    ``entity`` without a chosen key are matched to existing records by ``field`` (an
    event's ``uid``), before the type's e-mail and exact duplicate rules are tried
    (:func:`kyklos.imports.pipeline.default_key`)."""

    def register():
        config.registry.kyklos_import_keys.setdefault(entity, []).append(field)

    config.action(("kyklos.import_key", entity, field), register, order=20)


def includeme(config):
    if not hasattr(config.registry, "kyklos_import_keys"):
        config.registry.kyklos_import_keys = {}
    config.add_directive("add_import_key", add_import_key)
    from kyklos.imports import models  # noqa: F401 - registers the tables
    from kyklos.imports.pipeline import import_job

    config.include("kyklos.jobs")  # the add_job directive (included once, wherever first)
    config.add_job("kyklos.import", import_job, retries=2, title=_("Import records"))
    config.include(".views")

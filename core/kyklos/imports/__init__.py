"""Importing records from CSV, XLSX and plugin formats (vCard, ...): see
docs/import-export.md. The pipeline is :mod:`kyklos.imports.pipeline`; the web pages and
API are :mod:`kyklos.imports.views`; ``kyklos import`` is in :mod:`kyklos.cli`."""

from kyklos.i18n import _


def includeme(config):
    from kyklos.imports import models  # noqa: F401 - registers the tables
    from kyklos.imports.pipeline import import_job

    config.include("kyklos.jobs")  # the add_job directive (included once, wherever first)
    config.add_job("kyklos.import", import_job, retries=2, title=_("Import records"))
    config.include(".views")

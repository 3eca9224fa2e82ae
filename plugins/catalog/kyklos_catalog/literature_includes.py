"""Wiring of the sales literature (SFA-16): its entity type, pages, API and hooks."""

from .literature import register


def includeme(config):
    register(config)
    config.include(".literature_views")

"""Contacts-specific pages (the generic list/detail/edit pages come from the core)."""


def includeme(config):
    pass

"""Contacts: accounts (companies), people, their relationships and occasions."""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin

_ = TranslationStringFactory("kyklos_contacts")

plugin = Plugin(
    id="contacts",
    title=_("Contacts"),
    description=_("Accounts, people, relationships and occasions"),
    requires_core=">=0.1,<1",
)


def includeme(config):
    config.include(".models")
    config.include(".views")

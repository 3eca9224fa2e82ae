"""Contacts: accounts (companies), people, their relationships and occasions."""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin

_ = TranslationStringFactory("kyklos_contacts")


def _demo_data(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="contacts",
    title=_("Contacts"),
    description=_("Accounts, people, relationships and occasions"),
    requires_core=">=0.1,<1",
    demo_data=_demo_data,
    settings={"default_country": "", "calendars": "el ro pl"},
)


def includeme(config):
    # the plugin's own API routes (records have theirs from the registry)
    from .openapi import contacts_paths

    config.add_openapi_paths(contacts_paths)
    config.include(".display")
    config.include(".models")
    config.include(".views")
    config.include(".portal")  # the customer portal: identity, access, "My company"
    from .duplicates import register_duplicate_rules
    from .hooks import Hooks, ImportFormats

    register_duplicate_rules(config)
    config.add_hooks(Hooks(), name="kyklos_contacts.hooks")
    config.add_hooks(ImportFormats(config.registry.settings or {}),
                     name="kyklos_contacts.import_formats")

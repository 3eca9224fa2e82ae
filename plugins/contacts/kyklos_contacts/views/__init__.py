"""Contacts-specific pages and API endpoints (the generic list/detail/edit pages and
``/api/v1/<slug>`` come from the core). Routes are named ``contacts.*``; pages live under
``/contacts/``, API extensions under the entity's own ``/api/v1/<slug>/...``."""

from __future__ import annotations

ID = r"{id:\d{1,18}}"


def includeme(config):
    from . import api, occasions, person, relationships, vcard

    r = config.add_route
    # pages
    r("contacts.occasions", "/contacts/occasions")
    r("contacts.greet", "/contacts/occasions/greet", request_method="POST")
    r("contacts.vcard_import", "/contacts/vcards/import")
    r("contacts.vcard_export", "/contacts/vcards/export", request_method="GET")
    r("contacts.person_vcard", f"/contacts/persons/{ID}/vcard", request_method="GET")
    r("contacts.person_details", f"/contacts/persons/{ID}/details")
    r("contacts.photo", f"/contacts/persons/{ID}/photo", request_method="GET")
    r("contacts.consent", f"/contacts/persons/{ID}/consent", request_method="POST")
    r("contacts.relationship_new", "/contacts/{kind:person|account}/" + ID + "/relationships/new")
    # API
    r("contacts.api.vcard", f"/api/v1/persons/{ID}/vcard", request_method="GET")
    r("contacts.api.vcard_import", "/api/v1/persons/_import/vcard", request_method="POST")
    r("contacts.api.vcard_export", "/api/v1/persons/_export/vcard", request_method="GET")
    r("contacts.api.relationships",
      "/api/v1/{slug:persons|accounts}/" + ID + "/relationships", request_method="GET")
    r("contacts.api.occasions", "/api/v1/_occasions", request_method="GET")
    r("contacts.api.consent", f"/api/v1/persons/{ID}/consent", request_method="GET")

    occasions.includeme(config)
    vcard.includeme(config)
    person.includeme(config)
    relationships.includeme(config)
    api.includeme(config)

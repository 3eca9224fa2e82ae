"""The contacts data model: parties (accounts and people) and what hangs off them.

Design choices (documented in docs/plugin-authors/ and in the module docstrings):

- **Party roles** (CON-01) are a JSON list on the party (``["customer", "supplier"]``):
  one record plays several roles; the list is small and is filtered with a "contains".
- **Branches** (CON-02) with their own people and activity are child accounts
  (``is_branch`` and ``parent_id`` pointing to the head office); a branch that is only a
  place (a warehouse, a shop) is an :class:`Address` of kind ``branch``.
- **Hierarchy** (CON-03) is ``Account.parent_id``; cycles are refused on write.
- **Employment history** (CON-16) is the person's :class:`Affiliation` rows with their
  start and end dates: an affiliation without an end date (or ending in the future) is
  current; ``Person.account_id`` is the primary current one.
- **Relationships** (CON-05, D12) link any party to any party with a typed,
  inverse-labelled :class:`RelationshipType`.
"""

from .accounts import Account, Address, InstalledProduct
from .people import Affiliation, Consent, Greeting, Person, PersonEmail, PersonPhone, PersonPhoto
from .relations import Relationship, RelationshipType

__all__ = [
    "Account",
    "Address",
    "Affiliation",
    "Consent",
    "Greeting",
    "InstalledProduct",
    "Person",
    "PersonEmail",
    "PersonPhone",
    "PersonPhoto",
    "Relationship",
    "RelationshipType",
]


def includeme(config):
    from .registry import register_entity_types

    register_entity_types(config)

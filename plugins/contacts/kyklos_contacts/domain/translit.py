"""Matching keys for fuzzy duplicate detection across scripts and romanisations.

The implementation lives in the core (``kyklos_sdk.fold`` / ``kyklos_sdk.similarity``)
so that duplicate detection of every entity type, not only contacts, uses the same keys;
this module keeps the contacts plugin's historical import path.
"""

from kyklos_sdk import fold, similarity

__all__ = ["fold", "similarity"]

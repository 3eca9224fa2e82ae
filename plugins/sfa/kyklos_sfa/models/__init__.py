"""The sales data model: leads and their scoring, web forms, opportunities with their
stages and stage history, participants, quotas, quotes and their lines."""

# Leads, opportunities and quotes reference contacts' tables: their models must be in the
# shared metadata whenever ours are, or the foreign keys cannot resolve.
import kyklos_contacts.models  # noqa: F401

from .analytics import WinModel
from .leads import Lead, ScoringRule, WebForm, WebFormHit
from .opportunities import LossReason, Opportunity, OpportunityParticipant, Stage, StageChange
from .quotes import Quota, Quote, QuoteLine, QuoteSequence, QuoteTemplate, QuoteTemplateLine

__all__ = [
    "Lead",
    "LossReason",
    "Opportunity",
    "OpportunityParticipant",
    "Quota",
    "Quote",
    "QuoteLine",
    "QuoteSequence",
    "QuoteTemplate",
    "QuoteTemplateLine",
    "ScoringRule",
    "Stage",
    "StageChange",
    "WebForm",
    "WebFormHit",
    "WinModel",
]


def includeme(config):
    from .registry import register_entity_types

    register_entity_types(config)

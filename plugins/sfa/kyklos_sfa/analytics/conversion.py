"""The lead conversion funnel (RPT-04): of the leads created in a period, how many were
converted, how many became opportunities and how many of those were won - per lead
source, and for the leads of a saved segment.

One ``GROUP BY`` over the leads the user may see, joined to the opportunity each was
converted to only when the user may see that opportunity too (record rules apply to
both ends: a deal the user cannot read is neither counted nor won).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, case, func

from .. import _
from ..models import Lead, Opportunity
from ..models.choices import LEAD_SOURCES
from ..reporting import visible, visible_ids

STEPS = (
    ("leads", _("Leads")),
    ("converted", _("Converted")),
    ("opportunities", _("Opportunities")),
    ("won", _("Won")),
)


@dataclass
class Funnel:
    key: str | None
    title: object
    leads: int
    converted: int
    opportunities: int
    won: int

    def steps(self) -> list[int]:
        return [self.leads, self.converted, self.opportunities, self.won]

    @property
    def win_share(self) -> float | None:
        """Won deals per lead."""
        return self.won / self.leads if self.leads else None


def _rows(request, rng, segment_ids=None, by_source: bool = True):
    opp_visible = Opportunity.id.in_(visible_ids(request, "opportunity"))
    cols = [Lead.source] if by_source else []
    stmt = (
        visible(request, "lead")
        .outerjoin(
            Opportunity,
            and_(
                Opportunity.id == Lead.converted_opportunity_id,
                opp_visible,
                Opportunity.deleted_at.is_(None),
            ),
        )
        .with_only_columns(
            *cols,
            func.count(Lead.id),
            func.count(case((Lead.status == "converted", 1))),
            func.count(Opportunity.id),
            func.count(case((Opportunity.status == "won", 1))),
        )
        .where(Lead.created_at >= rng.since, Lead.created_at < rng.until)
    )
    if segment_ids is not None:
        stmt = stmt.where(Lead.id.in_(segment_ids))
    if by_source:
        stmt = stmt.group_by(Lead.source)
    return request.dbsession.execute(stmt).all()


def by_source(request, rng) -> list[Funnel]:
    """A funnel per lead source (in the order of the source list; no source last)."""
    titles = dict(LEAD_SOURCES)
    found = {src: vals for src, *vals in _rows(request, rng)}
    keys = [k for k, _t in LEAD_SOURCES if k in found]
    keys += sorted(k for k in found if k is not None and k not in titles)
    keys += [None] if None in found else []
    return [Funnel(k, titles.get(k, k) if k is not None else _("Unknown"), *found[k]) for k in keys]


def total(request, rng, segment_ids=None, title=None) -> Funnel:
    (row,) = _rows(request, rng, segment_ids, by_source=False)
    return Funnel(None, title or _("All leads"), *row)

"""A campaign's results broken down by a chosen saved segment (of people or of accounts):
the same counts for the recipients in the segment and for the others, side by side, so
a marketer sees whether "hotels in Crete" answered better than the rest.

Counts follow the user's record rules: only the recipients (and coupons) the user may
read are counted, and the segment's members are those the user may see.
"""

from __future__ import annotations

from sqlalchemy import case, func, select

from kyklos_sdk import (
    ChartData,
    RecordError,
    Series,
    format_number,
    get_entity_type,
    visible_segments,
    visible_select,
)

from . import _
from .models import Recipient

#: the counts of a breakdown, in the order of the page's table and chart
KEYS = (
    ("sent", _("Messages sent")),
    ("bounced", _("Hard bounces")),
    ("opened", _("Opened")),
    ("clicked", _("Clicked")),
    ("responded", _("Responded")),
    ("redeemed", _("Coupons redeemed")),
)


def segments(request):
    """The saved segments a breakdown may use: people or accounts the user may see."""
    return [s for s in visible_segments(request) if s.entity in ("person", "account")]


def _counts(request, campaign_id: int, people, inside: bool) -> dict:
    from .coupons import Coupon

    r = Recipient
    rows = visible_select(request, get_entity_type(request, "campaignrecipient")).where(
        r.campaign_id == campaign_id,
        r.person_id.in_(people) if inside else r.person_id.not_in(people),
    )
    sub = rows.subquery()
    total, sent, bounced, opened, clicked, responded = request.dbsession.execute(
        select(
            func.count(),
            func.count(sub.c.sent_at),
            func.count(case((sub.c.state == "bounced", 1))),
            func.count(sub.c.opened_at),
            func.count(sub.c.clicked_at),
            func.count(sub.c.responded_at),
        )
    ).one()
    redeemed = 0
    cet = get_entity_type(request, "campaigncoupon")
    if request.has_permission(cet.permission("read")):
        redeemed = request.dbsession.execute(
            select(func.count()).select_from(
                visible_select(request, cet)
                .where(
                    Coupon.campaign_id == campaign_id,
                    Coupon.redeemed_at.is_not(None),
                    Coupon.person_id.in_(people) if inside else Coupon.person_id.not_in(people),
                )
                .subquery()
            )
        ).scalar_one()
    return {
        "recipients": int(total or 0),
        "sent": int(sent or 0),
        "bounced": int(bounced or 0),
        "opened": int(opened or 0),
        "clicked": int(clicked or 0),
        "responded": int(responded or 0),
        "redeemed": int(redeemed or 0),
    }


def by_segment(request, campaign, segment_id) -> dict:
    """``{"segment_id", "segment", "in_segment": {...}, "others": {...}}``; a
    RecordError naming ``segment_id`` for a segment the user may not use."""
    from .targets import segment_people

    if isinstance(segment_id, bool) or not isinstance(segment_id, int):
        raise RecordError({"segment_id": _("Choose a segment you may see.")})
    seg = next((s for s in segments(request) if s.id == segment_id), None)
    if seg is None:
        raise RecordError({"segment_id": _("Choose a segment of people or of accounts.")})
    people = segment_people(request, segment_id)
    return {
        "segment_id": seg.id,
        "segment": seg.name,
        "in_segment": _counts(request, campaign.id, people, True),
        "others": _counts(request, campaign.id, people, False),
    }


def segment_id_of(request):
    """The ``segment_id`` query parameter: ``None`` when absent, else an int or the raw
    text (which :func:`by_segment` refuses by name)."""
    raw = request.GET.get("segment_id", "")
    if raw == "":
        return None
    return int(raw) if raw.isdigit() and len(raw) < 18 else raw


def page_part(request, campaign) -> dict:
    """The results page's breakdown: the segment drop-down, and when one is chosen its
    table and chart."""
    from kyklos_sdk import render_chart

    tr = request.localizer.translate
    chosen = segment_id_of(request)
    out = {
        "segment_choices": [(s.id, s.name) for s in segments(request)],
        "segment_chosen": chosen if isinstance(chosen, int) else None,
        "segment_error": "",
        "segment_rows": [],
        "segment_chart": "",
        "segment_name": "",
    }
    if chosen is None:
        return out
    try:
        data = by_segment(request, campaign, chosen)
    except RecordError as exc:
        out["segment_error"] = tr(next(iter(exc.errors.values())))
        return out
    inside, others = data["in_segment"], data["others"]
    out["segment_name"] = data["segment"]
    keys = (("recipients", _("Recipients")), *KEYS)
    out["segment_rows"] = [
        (tr(label), format_number(request, inside[k]), format_number(request, others[k]))
        for k, label in keys
    ]
    chart = ChartData(
        kind="bar",
        labels=[tr(label) for _k, label in KEYS],
        series=[
            Series(data["segment"], [inside[k] for k, _l in KEYS]),
            Series(tr(_("Other recipients")), [others[k] for k, _l in KEYS]),
        ],
        label_title=tr(_("Step")),
    )
    out["segment_chart"] = render_chart(
        request, chart, "cmp-segment-chart", _("Results by segment")
    )
    return out

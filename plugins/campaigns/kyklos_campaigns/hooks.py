"""Validation on every write path (templates compile and are sanitised, a list names a
segment the user may see, a campaign's channel exists, a response stamps its time and
makes a lead when the sfa plugin is present), the detail pages' actions, and how a
segment and a channel read on pages."""

from __future__ import annotations

from markupsafe import Markup, escape

from kyklos_sdk import Action, create_record, hookimpl, utcnow

from . import PERMISSIONS, SEND, _
from .rendering import check_template


def _merged(record, data, name):
    return data[name] if name in data else getattr(record, name, None)


def validate_template(request, record, data, errors) -> None:
    # the body is a richtext field: sanitised by the core on every write path, so what
    # the editor shows is what will be sent (and sanitised once more after merging)
    found = check_template(
        _merged(record, data, "subject") or "",
        _merged(record, data, "body_html") or "",
        _merged(record, data, "body_text"),
    )
    for field, msg in found.items():
        errors.setdefault(field, msg)


def validate_list(request, record, data, errors) -> None:
    from kyklos_sdk import visible_segments

    if "segment_id" not in data:
        return
    seg_id = data["segment_id"]
    if seg_id is None:
        if _merged(record, data, "kind") == "dynamic":
            errors["segment_id"] = _("A dynamic list needs a segment.")
        return
    seg = next((s for s in visible_segments(request) if s.id == seg_id), None)
    if seg is None:
        errors["segment_id"] = _("Choose a segment you may see.")
    elif seg.entity not in ("person", "account"):
        errors["segment_id"] = _("Choose a segment of people or of accounts.")


def validate_campaign(request, record, data, errors) -> None:
    from .sending import channels

    # letters are made, not sent: the channel is the plugin's own
    if "channel" in data and data["channel"] not in {*channels(request), "letter"}:
        errors["channel"] = _("This channel is not available.")
    if record is not None and record.status != "draft":
        changing = set(data) - {"cost", "owner_id", "name"}
        if changing:
            errors.setdefault("status", _("A sent campaign can no longer be changed."))
    throttle = data.get("throttle_per_minute")
    if throttle is not None and not (1 <= throttle <= 100_000):
        errors["throttle_per_minute"] = _("Between 1 and 100000 messages per minute.")


def make_lead(request, record) -> None:
    """A lead from an interested or accepting person, tied to the campaign by name,
    when the sfa plugin is loaded (looked up in the entity registry: no import)."""
    et = request.registry.kyklos_entities.get("lead")
    if et is None or record.lead_id is not None:
        return
    if not request.has_permission(et.permission("create")):
        return
    from kyklos_contacts.models import Account, Person

    from .models import Campaign

    db = request.dbsession
    person = db.get(Person, record.person_id)
    campaign = db.get(Campaign, record.campaign_id)
    if person is None or campaign is None:
        return
    account = db.get(Account, person.account_id) if person.account_id else None
    data = {
        "first_name": person.first_name or "",
        "last_name": person.last_name or person.full_name,
        "email": person.email,
        "phone": person.phone,
        "company": account.name if account else None,
        "campaign": campaign.name[:200],
    }
    # the lead's source, when sfa's list of sources has one for campaigns
    source = et.fields.get("source")
    if source is not None and "campaign" in dict(source.choices or ()):
        data["source"] = "campaign"
    data = {k: v for k, v in data.items() if k in et.fields and v is not None}
    lead = create_record(request, et, data, source="job")
    record.lead_id = lead.id


class Hooks:
    @hookimpl
    def kyklos_record_validate(self, request, entity_type, record, data, errors):
        if entity_type.plugin != "campaigns":
            return
        name = entity_type.name
        if name == "emailtemplate":
            validate_template(request, record, data, errors)
        elif name == "targetlist":
            validate_list(request, record, data, errors)
        elif name == "campaign":
            validate_campaign(request, record, data, errors)
        elif name == "suppression" and data.get("address"):
            data["address"] = data["address"].strip().lower()

    @hookimpl
    def kyklos_record_before_save(self, request, entity_type, record, changes, created):
        if entity_type.name == "campaignrecipient" and "response" in changes:
            response = changes["response"][1]
            record.responded_at = utcnow() if response else None
            if response in ("accepted", "interested"):
                make_lead(request, record)

    @hookimpl
    def kyklos_record_actions(self, request, entity_type, record):
        name = entity_type.name
        if name == "targetlist" and request.has_permission(PERMISSIONS["targetlist"]["update"]):
            return [
                Action(
                    _("Build the list now"),
                    request.route_url("campaigns.list.build", id=record.id),
                    method="post",
                    style="primary",
                )
            ]
        if name == "emailtemplate":
            return [
                Action(_("Preview"), request.route_url("campaigns.template.preview", id=record.id))
            ]
        if name == "lettertemplate":
            if not request.has_permission(PERMISSIONS["lettertemplate"]["update"]):
                return None
            return [
                Action(
                    _("Upload the Word document"),
                    request.route_url("campaigns.letter.upload", id=record.id),
                    style="primary",
                )
            ]
        if name == "campaign" and record.channel == "letter":
            return [Action(_("Letters"), request.route_url("campaigns.letters", id=record.id))]
        if name == "campaign":
            out = [Action(_("Results"), request.route_url("campaigns.results", id=record.id))]
            if record.status == "draft" and request.has_permission(SEND):
                out.insert(
                    0,
                    Action(
                        _("Send"),
                        request.route_url("campaigns.send", id=record.id),
                        style="primary",
                    ),
                )
            return out
        return None


def render_segment(request, field, value):
    from kyklos_sdk import visible_segments

    seg = next((s for s in visible_segments(request) if s.id == value), None)
    if seg is None:
        return Markup('<span class="text-muted">{}</span>').format(
            request.localizer.translate(_("Restricted"))
        )
    return escape(seg.name)


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_campaigns.hooks")
    config.add_display_kind("campaign_segment", render_segment)

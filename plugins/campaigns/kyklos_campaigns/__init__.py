"""Campaigns (MKT-01..04, 06, 08, 09, 13): target lists built from segments of people
(static snapshots or re-evaluated at send), consent per channel, a suppression list and
de-duplication by address; e-mail templates per language with merge fields, sanitised
HTML, inlined CSS and a plain-text part; sending through an outbox with idempotent
delivery by a worker job; signed open and click tracking, one-click unsubscribe (RFC
8058); responses per target (a lead when the sfa plugin is present); results with a
chart, cost and ROI.

Public functions other features call:

- :func:`kyklos_campaigns.targets.resolve` ``(request, target_list, channel)``: who a
  list reaches on a channel, and who was excluded and why (counted)
- :func:`kyklos_campaigns.rendering.render_for` ``(request, template, person, ...)``
- :func:`kyklos_campaigns.sending.start` ``(request, campaign)``: queue a campaign
- :func:`kyklos_campaigns.sequences.start` ``(request, sequence)``: enrol a sequence's
  list and run it; :func:`kyklos_campaigns.sequences.advance` ``(registry, now=None)``:
  run the steps due at ``now`` (the timers' job; tests pass a later ``now``)
"""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin, entity_permissions

_ = TranslationStringFactory("kyklos_campaigns")


def _demo(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="campaigns",
    title=_("Campaigns"),
    description=_("Target lists, e-mail templates, campaigns with tracking, responses and results"),
    requires_core=">=0.1,<1",
    requires_hooks=">=1.3,<2",  # 1.3: kyklos_record_form_panels (step form)
    depends=("contacts", "activities"),
    demo_data=_demo,
)

CONFIG_TYPES = ("targetlist", "emailtemplate", "lettertemplate", "suppression")
WORK_TYPES = (
    "campaign",
    "campaignmember",
    "campaignrecipient",
    "sequence",
    "sequencestep",
    "sequenceenrolment",
)
TYPES = CONFIG_TYPES + WORK_TYPES
#: verb -> permission, per entity type ("campaigns.campaign.read", ...)
PERMISSIONS = {t: entity_permissions("campaigns", t) for t in TYPES}
#: sending a campaign reaches thousands of people: more than an update, and not a rep's
SEND = "campaigns.campaign.send"
FULL = ("read", "create", "update", "delete", "export", "import", "assign")


def _perms(types, verbs):
    return [PERMISSIONS[t][v] for t in types for v in verbs]


def includeme(config):
    """Wiring only: no I/O here."""
    config.include(".models")
    # the scripts of the sequence editor and the letters page (one static view per plugin)
    config.add_static_view("campaigns/static", "kyklos_campaigns:static/", cache_max_age=3600)
    config.include(".views")
    config.include(".tracking")
    config.include(".hooks")
    config.include(".sending")
    config.include(".bounces")
    config.include(".replies")
    config.include(".coupons")
    config.include(".letters")
    config.include(".letters_views")
    config.include(".landing")
    config.include(".sequences_models")
    config.include(".sequences")
    config.include(".sequences_views")
    config.declare_permission(SEND, _("Send campaigns"))
    config.add_role("campaignmanager", _("Campaign manager"), [*_perms(TYPES, FULL), SEND])
    config.extend_role("manager", [*_perms(TYPES, FULL), SEND])
    # the campaign manager targets people: reading them (through the record rules the
    # role is given here) and their consent
    around = ["contacts.person.read", "contacts.account.read", "contacts.consent.read"]
    config.extend_role("campaignmanager", around)
    for et in ("person", "account", "consent"):
        config.add_record_rule(et, "campaignmanager", "read", "all")
    # a sequence's call and meeting steps put activities in people's histories for the
    # sequence's owner (MKT-05): the campaign manager who starts it creates them
    config.extend_role(
        "campaignmanager",
        [
            "activities.activity.read",
            "activities.activity.create",
            "activities.activity.assign",
            "activities.activitytype.read",
        ],
    )
    for action in ("read", "write"):
        config.add_record_rule("activity", "campaignmanager", action, "all")
    for role in ("campaignmanager", "manager"):
        for et in TYPES:
            for action in ("read", "write", "delete"):
                config.add_record_rule(et, role, action, "all")
    # reps see the campaigns and record their customers' responses, but send nothing
    config.extend_role(
        "sales",
        [*_perms(TYPES, ("read",)), PERMISSIONS["campaignrecipient"]["update"]],
    )
    for et in TYPES:
        config.add_record_rule(et, "sales", "read", "all")
    config.add_record_rule("campaignrecipient", "sales", "write", "all")

"""SMS: a message channel (``kyklos_message_channels``, id ``sms``) through a Jasmin
gateway's HTTP API, an outbox sent by a job with throttling and exactly-once hand-over,
delivery receipts and inbound messages on the person's timeline (INT-06, MKT-04).

Public functions other features call:

- :func:`kyklos_sms.service.queue` ``(request, number, body, person=None,
  source="manual")``: check the number (E.164, mobile) and the text, add it to the
  outbox; raises :class:`kyklos_sms.service.SmsRefused` naming each bad field
- :func:`kyklos_sms.encoding.count` ``(text)``: GSM-7 or UCS-2, and how many parts
"""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin, entity_permissions

_ = TranslationStringFactory("kyklos_sms")


plugin = Plugin(
    id="sms",
    title=_("SMS"),
    description=_("Text messages through an SMS gateway, with receipts and replies"),
    requires_core=">=0.1,<1",
    requires_hooks=">=1.0,<2",
    depends=("contacts", "activities"),
    settings={
        "kyklos.sms.batch": "100",
        "kyklos.sms.uncertain_minutes": "15",
        "kyklos.sms.poll_seconds": "30",
        "kyklos.sms.timeout": "30",
    },
)

PERMISSIONS = entity_permissions("sms", "smsmessage")
#: writing and sending a text (the message records themselves are written by the plugin)
SEND = "sms.message.send"
#: the gateway's settings
MANAGE = "sms.gateway.manage"


def includeme(config):
    """Wiring only: no I/O here."""
    config.include(".models")
    config.include(".views")
    config.include(".hooks")
    config.include(".jobs")
    # Jasmin posts an inbound message's raw bytes (UTF-16 for Greek) as ``content``; the
    # text is also in ``binary`` as hex: keep the request, drop the undecodable field
    config.add_lenient_form_path("/sms/inbound/")
    config.declare_permission(SEND, _("Send SMS"))
    config.declare_permission(MANAGE, _("Set up the SMS gateway"))
    read = [PERMISSIONS["read"], PERMISSIONS["export"]]
    config.add_role("smsadmin", _("SMS administrator"), [*read, SEND, MANAGE])
    for role in ("sales", "manager"):
        config.extend_role(role, [*read, SEND])
    config.extend_role("manager", [MANAGE])
    # the messages of the people one works with: everyone who may send reads them all
    # (a customer's thread is not one rep's private matter)
    for role in ("sales", "manager", "smsadmin"):
        config.add_record_rule("smsmessage", role, "read", "all")

"""Mail: mailboxes over IMAP and SMTP; every message fetched is accounted for in a
ledger (D6), filed to the people and accounts it concerns (ACT-02) and shown on their
timelines; replies and new messages are composed from a record."""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin, entity_permissions

_ = TranslationStringFactory("kyklos_mail")


def _demo(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="mail",
    title=_("Mail"),
    description=_("Mailboxes, e-mail filed to people and accounts, a ledger of every message"),
    requires_core=">=0.1,<1",
    requires_hooks=">=1.0,<2",
    depends=("contacts", "activities"),
    demo_data=_demo,
    settings={
        "kyklos.mail.batch": "50",
        "kyklos.mail.poll_minutes": "5",
        # opens and clicks of sent mail: off unless the site (data controller) allows it
        "kyklos.mail.tracking": "false",
    },
)

TYPES = ("mailbox", "mailmessage", "mailrule", "mailtemplate")
PERMISSIONS = {t: entity_permissions("mail", t) for t in TYPES}


def includeme(config):
    """Wiring only: no I/O here."""
    from .hookspecs import MailSpecs

    # other plugins (helpdesk...) turn a message into their records through this hook
    config.registry.kyklos_pm.add_hookspecs(MailSpecs)
    config.include(".models")
    config.include(".views")
    config.include(".hooks")
    config.include(".jobs")
    config.include(".later")
    config.include(".dropbox_views")
    config.include(".tracking")
    box, msg, rule = PERMISSIONS["mailbox"], PERMISSIONS["mailmessage"], PERMISSIONS["mailrule"]
    tpl = PERMISSIONS["mailtemplate"]
    admin = [box[v] for v in ("read", "create", "update", "delete", "export", "assign")]
    config.add_role(
        "mailadmin",
        _("Mail administrator"),
        admin
        + [msg[v] for v in ("read", "update", "export")]
        + [rule[v] for v in ("read", "create", "update", "delete")]
        + [tpl[v] for v in ("read", "create", "update", "delete")],
    )
    # everyone who works with customers reads the mail filed to them and keeps a mailbox
    # of their own; shared mailboxes are the mail administrator's
    for role in ("sales", "manager"):
        config.extend_role(
            role,
            [box[v] for v in ("read", "create", "update", "delete")]
            + [msg[v] for v in ("read", "update")]
            + [rule[v] for v in ("read", "create", "update", "delete")]
            + [tpl[v] for v in ("read", "create", "update", "delete")],
        )
        # everyone uses the shared templates; one changes only one's own
        config.add_record_rule("mailtemplate", role, "read", "all")
        config.add_record_rule("mailtemplate", role, "write", "own")
        config.add_record_rule("mailtemplate", role, "delete", "own")
        # the rules of one's own mailboxes (the rule's mailbox is checked on save)
        for action in ("read", "write", "delete"):
            config.add_record_rule("mailrule", role, action, "own")
        config.add_record_rule("mailmessage", role, "read", "all")
        config.add_record_rule("mailmessage", role, "write", "all")
        config.add_record_rule("mailbox", role, "read", "own")
        config.add_record_rule("mailbox", role, "write", "own")
        config.add_record_rule("mailbox", role, "delete", "own")
    for action in ("read", "write", "delete"):
        config.add_record_rule("mailbox", "mailadmin", action, "all")
        config.add_record_rule("mailrule", "mailadmin", action, "all")
        config.add_record_rule("mailtemplate", "mailadmin", action, "all")
    config.add_record_rule("mailmessage", "mailadmin", "read", "all")
    config.add_record_rule("mailmessage", "mailadmin", "write", "all")

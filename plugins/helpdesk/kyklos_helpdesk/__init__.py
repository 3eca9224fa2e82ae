"""Helpdesk: customers' cases (HD-01..05, HD-14) with types, priorities and channels,
support teams, assignment rules (round-robin, by product, by territory), states through
the core workflow engine, related and merged cases, activities on the case's timeline.

Public functions other features call (the portal's "my cases", the mail plugin):

- :func:`kyklos_helpdesk.service.open_case_from_message` ``(request, *, sender,
  subject, body, ...)``: an inbound e-mail opens a case, or is added to the case whose
  number its subject quotes
- :func:`kyklos_helpdesk.service.cases_of_account` ``(request, account_id, open_only)``:
  the cases of one customer the user may see
- :func:`kyklos_helpdesk.service.merge_cases` ``(request, loser, winner)``
"""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin, entity_permissions

_ = TranslationStringFactory("kyklos_helpdesk")


def _demo(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="helpdesk",
    title=_("Helpdesk"),
    description=_("Customers' cases, support teams and their assignment rules"),
    requires_core=">=0.1,<1",
    # 1.3: kyklos_record_form_panels (kb suggestions); 1.4: kyklos_report_definitions
    requires_hooks=">=1.4,<2",
    depends=("contacts", "activities", "catalog"),
    demo_data=_demo,
    settings={
        # the prefix of case numbers: CS-2026-00042
        "number_prefix": "CS",
        # how many days before a support contract ends its owner gets a renewal task
        "renewal_notice_days": "30",
    },
)

WORK_TYPES = ("case", "caselink", "timeentry")
CONFIG_TYPES = (
    "casetype",
    "supportteam",
    "supportteammember",
    "caserule",
    "businesshours",
    "slapolicy",
    "supportcontract",
)
TYPES = WORK_TYPES + CONFIG_TYPES
#: verb -> permission, per entity type ("helpdesk.case.read", ...)
PERMISSIONS = {t: entity_permissions("helpdesk", t) for t in TYPES}
#: merging a case into another closes it: more than an update
MERGE = "helpdesk.case.merge"
FULL = ("read", "create", "update", "delete", "export", "import", "assign")


def _perms(types, verbs):
    return [PERMISSIONS[t][v] for t in types for v in verbs]


WORKFLOW = {
    "states": [
        {"name": "new", "title": "New"},
        {"name": "assigned", "title": "Assigned"},
        {"name": "waiting", "title": "Waiting on customer"},
        {"name": "resolved", "title": "Resolved"},
        {"name": "closed", "title": "Closed"},
    ],
    "initial": "new",
    "transitions": [
        {"name": "accept", "title": "Accept", "source": "new", "target": "assigned"},
        {
            "name": "wait",
            "title": "Ask the customer",
            "source": ["new", "assigned"],
            "target": "waiting",
        },
        {"name": "resume", "title": "Customer answered", "source": "waiting", "target": "assigned"},
        {
            "name": "resolve",
            "title": "Resolve",
            "source": ["new", "assigned", "waiting"],
            "target": "resolved",
        },
        {
            "name": "reopen",
            "title": "Reopen",
            "source": ["resolved", "closed"],
            "target": "assigned",
        },
        {
            "name": "close",
            "title": "Close",
            "source": ["new", "assigned", "waiting", "resolved"],
            "target": "closed",
        },
    ],
}
# The workflow's titles as message ids of this catalog: the engine translates state and
# step titles through the declaring plugin's domain.
WORKFLOW_TITLES = (
    _("New"),
    _("Assigned"),
    _("Waiting on customer"),
    _("Resolved"),
    _("Closed"),
    _("Accept"),
    _("Ask the customer"),
    _("Customer answered"),
    _("Resolve"),
    _("Reopen"),
    _("Close"),
)


def includeme(config):
    """Wiring only: no I/O here."""
    config.include(".models")
    config.include(".views")
    config.include(".hooks")
    config.include(".portal")  # the customer portal's "My cases"
    config.include(".survey")  # the satisfaction survey's public page (HD-16)
    # the scripts of the knowledge base and the intake page (one static view per plugin)
    config.add_static_view("helpdesk/static", "kyklos_helpdesk:static/", cache_max_age=3600)
    config.include(".kb")  # the knowledge base (HD-06)
    config.include(".replies")  # the case's conversation, replies from the portal
    config.include(".history")  # service history and failures report (HD-12)
    config.include(".intake")  # barcode intake (HD-13)
    config.include(".releases")  # product releases and their notices (HD-15)
    config.include(".statements")  # monthly billing statements (HD-09/10)
    config.include(".hours")  # business hours per weekday, edited as rows of times
    config.include(".visits")  # contracts' scheduled maintenance visits (HD-11)
    config.include(".notices")  # the mass notice of expiring contracts (HD-08)
    config.include(".parts")  # parts and labour on cases and visits (HD-12)
    config.include(".reports")  # the failures report shipped to the report builder
    from .contracts import RENEWAL_JOB, renewal_job

    config.add_job(
        RENEWAL_JOB,
        renewal_job,
        retries=1,
        periodic={"minute": "7", "hour": "6"},
        title=_("Remind of support contracts to renew"),
    )
    config.declare_permission(MERGE, _("Merge cases"))
    agent = _perms(WORK_TYPES, ("read", "create", "update", "export")) + _perms(
        CONFIG_TYPES, ("read",)
    )
    config.add_role("agent", _("Support agent"), [*agent, PERMISSIONS["case"]["assign"]])
    config.add_role("helpdeskmanager", _("Helpdesk manager"), [*_perms(TYPES, FULL), MERGE])
    config.extend_role("manager", [*_perms(TYPES, FULL), MERGE])
    # an agent works the cases of the team (department) and reads the set-up; the
    # helpdesk manager and the company's managers see every case
    for action in ("read", "write"):
        config.add_record_rule("case", "agent", action, "team")
        config.add_record_rule("caselink", "agent", action, "team")
        config.add_record_rule("timeentry", "agent", action, "team")
    for et in CONFIG_TYPES:
        config.add_record_rule(et, "agent", "read", "all")
    for role in ("helpdeskmanager", "manager"):
        for et in TYPES:
            for action in ("read", "write", "delete"):
                config.add_record_rule(et, role, action, "all")
    # sales people see their customers' complaints (CON-14) but do not work them
    config.extend_role("sales", _perms(("case", "casetype", "supportteam"), ("read",)))
    config.add_record_rule("case", "sales", "read", "territory")
    config.add_record_rule("casetype", "sales", "read", "all")
    config.add_record_rule("supportteam", "sales", "read", "all")
    # what support people need around a case: the customers and their people (an
    # agent registers a new caller), the products, and activities about the case
    from kyklos_activities.registry import HELPERS

    around = [f"contacts.{e}.{v}" for e in ("account", "person") for v in ("read", "create")]
    around += ["catalog.product.read", "catalog.productcategory.read"]
    around += [f"activities.activity.{v}" for v in ("read", "create", "update", "export")]
    around += [f"activities.{e}.read" for e in HELPERS] + ["activities.calendar.view"]
    for role in ("agent", "helpdeskmanager"):
        config.extend_role(role, around)
        for et in ("account", "person", "product", "productcategory", *HELPERS):
            config.add_record_rule(et, role, "read", "all")
        for et in ("account", "person"):
            config.add_record_rule(et, role, "write", "own")
        config.add_record_rule("activity", role, "read", "team")
        config.add_record_rule("activity", role, "write", "own")
    config.add_workflow("case", **WORKFLOW)
    config.add_import_key("casetype", "code")

"""Activities: tasks, calls and meetings, calendars, resources and their bookings.

Public functions other features call:

- :func:`kyklos_activities.actions.create_mass_activity` ``(request, template,
  person_ids)``: one activity per person (segments, MKT-05)
- :func:`kyklos_activities.actions.persons_in_segment` ``(request, segment_id)``: the
  people of a segment the user may see, for a mass activity
- :func:`kyklos_activities.ical.import_ics` ``(request, data) -> (created, updated,
  errors)``: import .ics events; the common importer reads them too (format ``ics``,
  ``kyklos import INI activity events.ics --key external_uid``)
"""

from pyramid.i18n import TranslationStringFactory

from kyklos_sdk import Plugin

_ = TranslationStringFactory("kyklos_activities")


def _demo_data(env, size):
    from .demo import demo_data

    demo_data(env, size)


plugin = Plugin(
    id="activities",
    title=_("Activities"),
    description=_("Tasks, calls and meetings; calendars, resources and bookings"),
    requires_core=">=0.1,<1",
    depends=("contacts",),
    demo_data=_demo_data,
    settings={
        # Availability finder (D9): working hours and days in the user's time zone, and
        # the country whose public holidays are days off.
        "working_hours": "09:00-17:00",
        "working_days": "mon-fri",
        "country": "GR",
        # Time zone of new activities when the user has none. Empty: the site's default
        # time zone (Settings page, else kyklos.timezone) applies; an .ini that sets
        # kyklos.activities.timezone overrides it for activities only.
        "timezone": "",
    },
)


def includeme(config):
    # the plugin's own API routes (records have theirs from the registry)
    from .openapi import activities_paths

    config.add_openapi_paths(activities_paths)
    from . import api, views
    from .hooks import Hooks
    from .registry import register_entity_types
    from .reminders import reminder_job

    register_entity_types(config)
    hooks = Hooks(config.registry.settings, config.registry)
    config.add_hooks(hooks, name="kyklos_activities.hooks")
    config.add_job(
        "activities.reminders",
        reminder_job,
        retries=1,
        periodic={"minute": "*"},
        title=_("Send activity reminders"),
    )
    config.include(views)
    config.include(api)
    from . import display, quick

    config.include(quick)
    config.include(display)
    # Hooks whose specs other parts of the core add: registered only where the core
    # has them, so the plugin loads on a core with or without them.
    from .home import DefaultsHooks, HomeHooks

    hooks = config.registry.kyklos_pm.hook
    for name, obj in (("kyklos_record_defaults", DefaultsHooks()),
                      ("kyklos_home_sections", HomeHooks())):
        caller = getattr(hooks, name, None)
        if caller is not None and getattr(caller, "spec", None) is not None:
            config.add_hooks(obj, name=f"kyklos_activities.{name}")

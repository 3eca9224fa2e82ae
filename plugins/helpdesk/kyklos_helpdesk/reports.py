"""The reports the helpdesk ships to the core's report builder (``/reports``, hook
``kyklos_report_definitions``): "Failures per product and serial number" counts the
incidents and complaints (not merged into another case) per product and serial
number, as a table and a bar chart; each number opens the list of those cases. It is
a saved report like any other: each viewer sees it through their own rights (an agent
counts their team's cases), may narrow it (a period of the opening date) and save a
copy."""

from __future__ import annotations

from pyramid.httpexceptions import HTTPNotFound, HTTPSeeOther

from kyklos_sdk import ShippedReport, hookimpl, shipped_report_id

from . import PERMISSIONS, _

FAILURES = "helpdesk.failures"
#: the case types that count as failures
FAILURE_TYPES = ("incident", "complaint")


def failures_spec() -> dict:
    return {
        "entity": "case",
        "filters": {"type.code__in": ",".join(FAILURE_TYPES), "merged_into_id__isnull": "true"},
        "group_by": [{"field": "product_id"}, {"field": "serial_number"}],
        "measures": [{"op": "count"}],
        "sort": "-m0",
        "limit": 200,
        "chart": "bar",
    }


def failures_report_id(request) -> int | None:
    """The saved report's id (created on first need), when the user may open it."""
    return shipped_report_id(request, FAILURES)


def failures_page(request):
    """The former page of the report: the saved report now."""
    rid = failures_report_id(request)
    if rid is None:
        raise HTTPNotFound()
    return HTTPSeeOther(request.route_url("report", id=rid))


class Hooks:
    @hookimpl
    def kyklos_report_definitions(self, request):
        return [
            ShippedReport(
                key=FAILURES,
                name=_("Failures per product and serial number"),
                spec=failures_spec(),
                shared_roles=("agent", "helpdeskmanager", "manager", "sales"),
            )
        ]


def includeme(config):
    config.add_hooks(Hooks(), name="kyklos_helpdesk.reports")
    config.add_route("helpdesk.failures", "/helpdesk/reports/failures", request_method="GET")
    config.add_view(
        failures_page, route_name="helpdesk.failures", permission=PERMISSIONS["case"]["read"]
    )

"""The dashboard: the home page built from widgets that plugins contribute through the
``kyklos_dashboard_widgets`` hook, and the chart component every page can use.

A chart is drawn by Chart.js (vendored under ``web/static/vendor/chartjs``) from a
``data-chart`` attribute holding its JSON spec, and always comes with a table of the
same numbers: pictures for people who look, numbers for screen readers, tests and
anyone without JavaScript. The attribute is escaped by Chameleon like any other value;
the browser decodes it back to JSON that ``charts.js`` parses (never evaluates), so the
CSP's ban on inline scripts holds.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from pyramid.renderers import render

from kyklos.i18n import _

log = logging.getLogger("kyklos.dashboard")

CHART_KINDS = ("bar", "line", "pie", "doughnut", "funnel")
#: Bootstrap grid classes by widget size
SIZES = {
    "sm": "col-12 col-md-6 col-xl-4",
    "md": "col-12 col-xl-6",
    "lg": "col-12 col-xl-8",
    "full": "col-12",
}
CHART_TEMPLATE = "kyklos:web/templates/chart.pt"
CHART_SCRIPTS = (
    "kyklos:web/static/vendor/chartjs/chart.umd.min.js",
    "kyklos:web/static/charts.js",
)


@dataclass
class Series:
    """One data series of a chart: a label and one value per chart label."""

    label: object
    values: list


@dataclass
class ChartData:
    """What a chart shows. ``labels`` are the categories (x axis, slices, funnel
    steps); each :class:`Series` gives one number per label.

    ``data_url`` names the JSON endpoint that returns the same numbers (so they are
    available through the API as well; ``charts.js`` reloads from it on request).
    ``value_format`` is ``number``, ``money`` (with ``currency``) or ``percent``.
    """

    kind: str = "bar"
    labels: list = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    data_url: str | None = None
    horizontal: bool = False
    stacked: bool = False
    value_format: str = "number"
    currency: str | None = None
    #: the table fallback's heading of the label column
    label_title: object = None

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart kind {self.kind!r} is not one of {', '.join(CHART_KINDS)}")

    def spec(self, request) -> dict:
        """The JSON-safe spec ``charts.js`` reads (labels translated)."""
        tr = request.localizer.translate
        return {
            "kind": self.kind,
            "labels": [tr(x) if hasattr(x, "interpolate") else str(x) for x in self.labels],
            "series": [
                {"label": tr(s.label) if hasattr(s.label, "interpolate") else str(s.label),
                 "values": [_number(v) for v in s.values]}
                for s in self.series
            ],
            "horizontal": self.horizontal or self.kind == "funnel",
            "stacked": self.stacked,
            "format": self.value_format,
            "currency": self.currency,
            "url": self.data_url,
        }


def _number(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass
class Widget:
    """A tile of the dashboard (see the ``kyklos_dashboard_widgets`` hook).

    Give ``html`` (markup the plugin rendered with its own template: already escaped)
    and/or ``chart`` (a :class:`ChartData`, drawn with its table fallback). ``size`` is
    ``sm``, ``md``, ``lg`` or ``full``; ``permission`` hides the tile from users who do
    not hold it; ``url`` links the tile's title to a fuller page.
    """

    id: str
    title: object
    html: str | None = None
    chart: ChartData | None = None
    size: str = "md"
    order: int = 100
    permission: str | None = None
    url: str | None = None

    @property
    def css_class(self) -> str:
        return SIZES.get(self.size, SIZES["md"])


def chart_json(request, chart: ChartData) -> str:
    return json.dumps(chart.spec(request), ensure_ascii=False, separators=(",", ":"))


def format_value(request, chart: ChartData, value) -> str:
    """A number of the chart as the table fallback shows it."""
    if value is None:
        return "—"
    if chart.value_format == "money" and chart.currency:
        return request.format_money(value, chart.currency)
    if chart.value_format == "percent":
        return f"{request.format_number(value, 1)} %"
    return request.format_number(value)


def render_chart(request, chart: ChartData, chart_id: str, title=None) -> str:
    """The HTML of a chart: its canvas and its table of numbers (escaped by the
    template). Pages that show charts load :data:`CHART_SCRIPTS`."""
    return render(
        CHART_TEMPLATE,
        {
            "chart": chart,
            "chart_id": chart_id,
            "chart_title": title,
            "spec": chart_json(request, chart),
            "fmt": lambda v: format_value(request, chart, v),
        },
        request=request,
    )


def widgets(request) -> list[Widget]:
    """The widgets the user may see, in order. A failing contributor is logged and
    left out: one broken plugin must not take the home page down."""
    pm = request.registry.kyklos_pm
    out: list[Widget] = []
    for impl in pm.hook.kyklos_dashboard_widgets.get_hookimpls():
        try:
            kwargs = {"request": request} if "request" in impl.argnames else {}
            result = impl.function(**kwargs)
        except Exception:  # noqa: BLE001 - isolate one contributor's failure
            log.exception("dashboard widgets of %s failed", impl.plugin_name)
            continue
        out.extend(w for w in (result or []) if isinstance(w, Widget))
    visible = [w for w in out if not w.permission or request.has_permission(w.permission)]
    return sorted(visible, key=lambda w: (w.order, str(w.title)))


def home_values(request) -> dict:
    """What the home page template needs."""
    items = widgets(request)
    return {
        "title": _("Home"),
        "widgets": items,
        "charts": {
            w.id: render_chart(request, w.chart, f"k-widget-{w.id}-chart", w.title)
            for w in items
            if w.chart is not None
        },
        "chart_scripts": [request.static_url(s) for s in CHART_SCRIPTS],
    }

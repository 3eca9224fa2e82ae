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

from pyramid.i18n import TranslationString
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


#: how a series' numbers read: ``count`` (whole numbers: its axis has whole ticks),
#: ``number``, ``money`` (in the chart's currency) or ``percent``
VALUE_FORMATS = ("count", "number", "money", "percent")
#: the title of a value axis, by the format of its series (ChartData.axis_titles wins)
AXIS_TITLES = {
    "count": _("Number"),
    "number": _("Value"),
    "money": _("Amount (${currency})"),
    "percent": _("Percent"),
}


@dataclass
class Series:
    """One data series of a chart: a label and one value per chart label.

    ``format`` (one of :data:`VALUE_FORMATS`; default the chart's ``value_format``)
    places the series on a value axis: a chart has one axis per format and at most two
    (counts on the left, amounts or percentages on the right), so counts and money never
    share one. ``kind`` (``bar`` or ``line``) draws one series of a bar chart as a line.
    """

    label: object
    values: list
    format: str | None = None
    kind: str | None = None

    def __post_init__(self):
        if self.format is not None and self.format not in VALUE_FORMATS:
            raise ValueError(f"series format {self.format!r} is not one of {VALUE_FORMATS}")


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
    #: the table fallback's heading of the label column (and the category axis' title)
    label_title: object = None
    #: value axis titles by series format, instead of :data:`AXIS_TITLES`
    axis_titles: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.kind not in CHART_KINDS:
            raise ValueError(f"chart kind {self.kind!r} is not one of {', '.join(CHART_KINDS)}")

    def series_format(self, s: Series) -> str:
        return s.format or self.value_format

    def axes(self) -> list[dict]:
        """The value axes: one per series format, in the order the series come, at most
        two. Raises ``ValueError`` for a third kind of value (make two charts)."""
        out: list[dict] = []
        for s in self.series:
            fmt = self.series_format(s)
            axis = next((a for a in out if a["format"] == fmt), None)
            if axis is None:
                if len(out) == 2:
                    raise ValueError(
                        "a chart has at most two value axes: split "
                        f"{', '.join(a['format'] for a in out)} and {fmt} into two charts"
                    )
                axis = {"format": fmt, "series": []}
                out.append(axis)
            axis["series"].append(s)
        for i, axis in enumerate(out):
            numbers = [v for s in axis.pop("series") for v in s.values if v is not None]
            whole = all(isinstance(v, int) and not isinstance(v, bool) for v in numbers)
            axis["id"] = "y" if i == 0 else "y1"
            axis["position"] = "left" if i == 0 else "right"
            # counts never get a tick at 0.5
            axis["precision"] = (
                0 if axis["format"] == "count" or (axis["format"] == "number" and whole) else None
            )
        return out

    def spec(self, request) -> dict:
        """The JSON-safe spec ``charts.js`` reads (labels and titles translated): each
        series names its value axis and its colour (an index into the theme's chart
        palette: every series of a chart has its own)."""
        tr = request.localizer.translate

        def text(x):
            return tr(x) if hasattr(x, "interpolate") else str(x)

        axes = self.axes()
        currency = self.currency or request.registry.settings.get("kyklos.currency") or "EUR"
        for axis in axes:
            title = self.axis_titles.get(axis["format"]) or AXIS_TITLES[axis["format"]]
            if isinstance(title, TranslationString):
                title = TranslationString(
                    title,
                    mapping={"currency": currency},
                    domain=title.domain,
                    default=title.default,
                )
            axis["title"] = text(title)
        axis_of = {a["format"]: a["id"] for a in axes}
        two = len(axes) == 2
        series = []
        for i, s in enumerate(self.series):
            fmt = self.series_format(s)
            kind = s.kind
            if kind is None and two and self.kind == "bar" and axis_of[fmt] == "y1":
                kind = "line"  # the other axis' series reads as a line over the bars
            series.append(
                {
                    "label": text(s.label),
                    "values": [_number(v) for v in s.values],
                    "format": fmt,
                    "axis": axis_of[fmt],
                    "color": i,
                    "kind": kind,
                }
            )
        return {
            "kind": self.kind,
            "labels": [text(x) for x in self.labels],
            "series": series,
            "axes": axes,
            "label_title": text(self.label_title) if self.label_title else None,
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


def format_value(request, chart: ChartData, value, series: Series | None = None) -> str:
    """A number of the chart (of ``series``) as the table fallback shows it."""
    if value is None:
        return "—"
    fmt = chart.series_format(series) if series is not None else chart.value_format
    if fmt == "money" and chart.currency:
        return request.format_money(value, chart.currency)
    if fmt == "percent":
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
            "fmt": lambda v, s=None: format_value(request, chart, v, s),
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
    """What the home page template needs: the day's sections (``kyklos_home_sections``,
    see :mod:`kyklos.home`) first, then the KPI widgets."""
    from kyklos.home import render_section, sections

    items = widgets(request)
    day = sections(request)
    return {
        "title": _("Home"),
        "sections": [(sec, render_section(request, sec)) for sec in day],
        "default_empty": _("Nothing here yet."),
        "widgets": items,
        "charts": {
            w.id: render_chart(request, w.chart, f"k-widget-{w.id}-chart", w.title)
            for w in items
            if w.chart is not None
        },
        "chart_scripts": [request.static_url(s) for s in CHART_SCRIPTS],
    }

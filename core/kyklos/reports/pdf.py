"""A report as a PDF document: the core's document layout (the company's details from
``/settings``), the report's name, what it counts and when it was made, its chart and
its table, all in the reader's language and time zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from kyklos import documents
from kyklos.i18n import _
from kyklos.reports import engine

#: more bars than this would be unreadable on a page: the chart shows the first ones
CHART_MAX_BARS = 40


def render(request, name: str, res: engine.Result) -> bytes:
    """The PDF bytes of ``res`` (already computed with the reader's rights)."""
    from kyklos.reports.views import table_of

    tr = request.localizer.translate
    spec = res.spec
    table = table_of(request, res)
    wide = len(table["heads"]) > 5
    made = request.format_datetime(dt.datetime.now(dt.UTC).astimezone(request.timezone))
    sub = [tr(spec.et.plural), tr(_("Made on ${when}", mapping={"when": made}))]
    if res.unconverted:
        sub.append(
            tr(
                _(
                    "Some amounts have no exchange rate for their day and are left out: ${n}.",
                    mapping={"n": request.format_number(res.unconverted)},
                )
            )
        )
    pdf = documents.new_document(request, name, " · ".join(sub), "L" if wide else "P")

    charts = charts_of(request, res)
    for i, chart in enumerate(charts):
        m = chart["measure"]

        def fmt(v: float, m=m) -> str:
            value = int(v) if m.op == "count" else Decimal(str(round(v, 2)))
            return engine.format_measure(request, m, value, spec.currency)

        documents.bar_chart(
            pdf,
            chart["labels"],
            chart["series"],
            fmt,
            chart["title"],
            height=70 if len(charts) == 1 else 50,
            whole=m.op == "count",
            colours=chart["colours"],
        )
        if i < len(charts) - 1:
            pdf.ln(2)
    if charts and charts[0]["more"]:
        pdf.set_font(documents.FONT, "", 8)
        pdf.set_text_color(*documents.MUTED)
        pdf.cell(
            pdf.width,
            5,
            tr(
                _(
                    "The chart shows the first ${n} groups; the table has them all.",
                    mapping={"n": len(charts[0]["labels"])},
                )
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if charts:
        pdf.ln(3)

    ngroups = table["ngroups"]
    nvals = len(table["heads"]) - ngroups
    if table["rows"]:
        # each measure as wide as its heading (within limits), the groups share the rest
        pdf.set_font(documents.FONT, "B", 8)
        vws = [min(max(pdf.get_string_width(h) + 4, 26), 60) for h in table["heads"][ngroups:]]
        gw = (pdf.width - sum(vws)) / max(ngroups, 1) if ngroups else 0
        widths = [gw] * ngroups + vws
        aligns = ["L"] * ngroups + ["R"] * nvals
        rows = [[*r["groups"], *r["values"]] for r in table["rows"]]
        pdf.table_rows(table["heads"], widths, aligns, rows)
    else:
        pdf.set_font(documents.FONT, "", 10)
        pdf.cell(pdf.width, 6, tr(_("No records match.")), new_x="LMARGIN", new_y="NEXT")
    if res.truncated:
        pdf.ln(2)
        pdf.set_font(documents.FONT, "", 8)
        pdf.set_text_color(*documents.MUTED)
        pdf.multi_cell(
            pdf.width,
            4.5,
            tr(_('Only the first rows are shown: raise "At most (rows)" to see more.')),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    return bytes(pdf.output())


def _format_of(m: engine.Measure) -> str:
    # the web chart's kinds of value: each kind gets its own axis
    if m.op == "count":
        return "count"
    return "money" if m.money else "number"


def charts_of(request, res: engine.Result) -> list[dict]:
    """The charts the PDF draws, every measure in one of them: with one group (or none),
    a chart per kind of value (counts, amounts, other numbers: each on its own axis, as
    the web chart puts them on their own axes) with a bar per measure of that kind side by
    side; with two groups, a chart per measure with a bar per value of the second group.
    Each chart is ``{"labels", "series": [(name, values)], "title", "measure" (whose
    format the axis takes), "colours" (a palette index per series), "more"}``; names and
    labels in the reader's language, a measure keeps its colour whatever chart it is in."""
    spec = res.spec
    if not res.rows or not spec.measures:
        return []
    tr = request.localizer.translate

    def words(label) -> str:
        return "" if label is None else str(tr(label))

    rows = res.rows
    out = []
    if len(spec.dims) == 2:
        firsts = list(dict.fromkeys(k[0] for k, _v in rows))
        seconds = list(dict.fromkeys(k[1] for k, _v in rows))
        n = min(len(firsts), CHART_MAX_BARS)
        cells = {k: v for k, v in rows}
        labels = [words(res.labels[(0, a)]) for a in firsts[:n]]
        for j, m in enumerate(spec.measures):
            series = []
            for b in seconds:
                values = [cells[(a, b)][j] if (a, b) in cells else None for a in firsts[:n]]
                series.append((words(res.labels[(1, b)]), values))
            out.append(
                {
                    "labels": labels,
                    "series": series,
                    "title": engine.measure_title(request, m),
                    "measure": m,
                    "colours": None,
                    "more": len(firsts) > n,
                }
            )
        return out
    n = min(len(rows), CHART_MAX_BARS)
    if spec.dims:
        labels = [words(res.labels[(0, k[0])]) for k, _v in rows[:n]]
    else:
        labels = [words(_("All records"))]
    kinds: dict[str, list[int]] = {}
    for j, m in enumerate(spec.measures):
        kinds.setdefault(_format_of(m), []).append(j)
    for js in kinds.values():
        series = [
            (
                engine.measure_title(request, spec.measures[j]),
                [v[j] for _k, v in rows[:n]],
            )
            for j in js
        ]
        out.append(
            {
                "labels": labels,
                "series": series,
                # one measure: its name over the chart; more: a legend names the bars
                "title": series[0][0] if len(series) == 1 else "",
                "measure": spec.measures[js[0]],
                # each measure keeps its own colour, whichever chart draws it
                "colours": js,
                "more": len(rows) > n,
            }
        )
    return out

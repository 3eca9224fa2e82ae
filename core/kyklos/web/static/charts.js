// Draws every <canvas data-chart="{json spec}"> with Chart.js (kyklos.dashboard).
// The spec is data, parsed with JSON.parse; a canvas with data-chart-url instead loads
// the same shape from that JSON endpoint. The table next to each chart holds the numbers.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var lang = document.documentElement.lang || undefined;

  // The series colours: the theme's --k-chart-1 ... --k-chart-8 (kyklos.css; the first is
  // the primary colour), then hues spread by the golden angle, so that no two series of
  // a chart ever share a colour.
  function palette(n) {
    var style = getComputedStyle(document.documentElement);
    var out = [];
    for (var i = 0; i < n; i++) {
      var v = i < 8 ? (style.getPropertyValue("--k-chart-" + (i + 1)) || "").trim() : "";
      if (!v || out.indexOf(v) !== -1) {
        v = "hsl(" + Math.round((i * 137.508) % 360) + ", 65%, 45%)";
      }
      out.push(v);
    }
    return out;
  }

  function formatter(fmt, currency) {
    var opts = {};
    if (fmt === "money" && currency) {
      opts = { style: "currency", currency: currency, maximumFractionDigits: 0 };
    }
    if (fmt === "count") { opts = { maximumFractionDigits: 0 }; }
    var nf;
    try { nf = new Intl.NumberFormat(lang, opts); } catch (e) { nf = new Intl.NumberFormat(); }
    return function (v) {
      if (v === null || v === undefined) { return ""; }
      return nf.format(v) + (fmt === "percent" ? " %" : "");
    };
  }

  // A spec without axes (an older JSON endpoint): one axis in the chart's format.
  function axesOf(spec) {
    if (spec.axes && spec.axes.length) { return spec.axes; }
    return [{ id: "y", format: spec.format || "number", position: "left", precision: null }];
  }

  function config(spec) {
    var kind = spec.kind === "funnel" ? "bar" : spec.kind;
    var round = kind === "pie" || kind === "doughnut";
    var series = spec.series || [];
    var axes = axesOf(spec);
    var horizontal = !!spec.horizontal;
    var fmts = {};
    axes.forEach(function (a) { fmts[a.id] = formatter(a.format, spec.currency); });
    var colours = palette(round ? (spec.labels || []).length : series.length);
    var datasets = series.map(function (s, i) {
      var ds = { label: s.label, data: s.values };
      var axis = s.axis || axes[0].id;
      var c = colours[typeof s.color === "number" ? s.color : i] || colours[i];
      if (round) { ds.backgroundColor = colours; return ds; }
      ds.backgroundColor = c;
      ds.borderColor = c;
      if (s.kind && s.kind !== kind) { ds.type = s.kind; }
      if ((ds.type || kind) === "line") {
        // monotone: a curve never overshoots below zero or above its highest value
        ds.fill = false; ds.cubicInterpolationMode = "monotone"; ds.pointRadius = 3;
      }
      // datasets of the second axis are measured by it (and stacked among themselves)
      ds[horizontal ? "xAxisID" : "yAxisID"] = horizontal ? axis.replace("y", "x") : axis;
      ds.stack = axis;
      return ds;
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: round || series.length > 1 },
        tooltip: {
          callbacks: {
            label: function (ctx) {
              var v = ctx.parsed && typeof ctx.parsed === "object"
                ? (horizontal ? ctx.parsed.x : ctx.parsed.y) : ctx.parsed;
              var s = series[ctx.datasetIndex] || {};
              var f = fmts[s.axis || axes[0].id] || fmts[axes[0].id];
              return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + f(v);
            }
          }
        }
      }
    };
    if (!round) {
      options.indexAxis = horizontal ? "y" : "x";
      options.scales = {};
      var catAxis = { stacked: !!spec.stacked };
      if (spec.label_title) { catAxis.title = { display: true, text: spec.label_title }; }
      options.scales[horizontal ? "y" : "x"] = catAxis;
      axes.forEach(function (a, i) {
        var scale = {
          beginAtZero: true,
          stacked: !!spec.stacked,
          position: horizontal ? (i === 0 ? "bottom" : "top") : a.position,
          ticks: { callback: fmts[a.id] },
          title: { display: !!a.title, text: a.title || "" }
        };
        if (a.precision === 0) { scale.ticks.precision = 0; }
        if (i > 0) { scale.grid = { drawOnChartArea: false }; }
        options.scales[horizontal ? a.id.replace("y", "x") : a.id] = scale;
      });
    }
    return { type: kind, data: { labels: spec.labels || [], datasets: datasets }, options: options };
  }

  function draw(canvas, spec) {
    var old = window.Chart.getChart(canvas);
    if (old) { old.destroy(); }
    canvas.kyklosChart = new window.Chart(canvas, config(spec));
    return canvas.kyklosChart;
  }

  function load(canvas, url, base) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) {
        var spec = Object.assign({}, base || {}, data);
        return draw(canvas, spec);
      });
  }

  function init(root) {
    (root || document).querySelectorAll("canvas[data-chart], canvas[data-chart-url]")
      .forEach(function (canvas) {
        var raw = canvas.getAttribute("data-chart");
        var spec = null;
        if (raw) {
          try { spec = JSON.parse(raw); } catch (e) { return; }
          draw(canvas, spec);
        } else {
          load(canvas, canvas.getAttribute("data-chart-url"), { kind: "bar" })
            .catch(function () { /* the table keeps the numbers */ });
        }
      });
  }

  window.kyklosCharts = { init: init, draw: draw, load: load, config: config };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
})();

// Draws every <canvas data-chart="{json spec}"> with Chart.js (kyklos.dashboard).
// The spec is data, parsed with JSON.parse; a canvas with data-chart-url instead loads
// the same shape from that JSON endpoint. The table next to each chart holds the numbers.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var lang = document.documentElement.lang || undefined;

  function primary() {
    var v = getComputedStyle(document.documentElement).getPropertyValue("--k-primary");
    return (v || "#0d6efd").trim();
  }

  function hexToRgb(hex) {
    var m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
    return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : [13, 110, 253];
  }

  // A palette derived from the theme's primary colour: the same hue at other lightness,
  // then fixed accessible accents.
  function palette(n) {
    var base = hexToRgb(primary());
    var accents = ["#15803d", "#b45309", "#7e22ce", "#be185d", "#0f766e", "#4b5563", "#b91c1c"];
    var out = [];
    for (var i = 0; i < n; i++) {
      if (i === 0) { out.push("rgb(" + base.join(",") + ")"); }
      else { out.push(accents[(i - 1) % accents.length]); }
    }
    return out;
  }

  function formatter(spec) {
    var opts = {};
    if (spec.format === "money" && spec.currency) {
      opts = { style: "currency", currency: spec.currency, maximumFractionDigits: 0 };
    }
    var nf;
    try { nf = new Intl.NumberFormat(lang, opts); } catch (e) { nf = new Intl.NumberFormat(); }
    return function (v) {
      if (v === null || v === undefined) { return ""; }
      return nf.format(v) + (spec.format === "percent" ? " %" : "");
    };
  }

  function config(spec) {
    var kind = spec.kind === "funnel" ? "bar" : spec.kind;
    var round = kind === "pie" || kind === "doughnut";
    var series = spec.series || [];
    var colours = palette(round ? (spec.labels || []).length : series.length);
    var fmt = formatter(spec);
    var datasets = series.map(function (s, i) {
      var ds = { label: s.label, data: s.values };
      if (round) { ds.backgroundColor = colours; }
      else {
        ds.backgroundColor = colours[i];
        ds.borderColor = colours[i];
        if (kind === "line") { ds.fill = false; ds.tension = 0.2; }
      }
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
                ? (spec.horizontal ? ctx.parsed.x : ctx.parsed.y) : ctx.parsed;
              return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + fmt(v);
            }
          }
        }
      }
    };
    if (!round) {
      var valueAxis = { beginAtZero: true, stacked: !!spec.stacked, ticks: { callback: fmt } };
      var catAxis = { stacked: !!spec.stacked };
      options.indexAxis = spec.horizontal ? "y" : "x";
      options.scales = spec.horizontal ? { x: valueAxis, y: catAxis } : { x: catAxis, y: valueAxis };
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

  window.kyklosCharts = { init: init, draw: draw, load: load };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(); });
  } else {
    init();
  }
})();

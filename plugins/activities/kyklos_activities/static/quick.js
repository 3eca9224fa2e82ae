// The meeting form: tell, next to the rooms-and-equipment field, whether a chosen
// resource is already booked at the chosen time, before the form is saved (the server
// refuses a double booking on save in any case).
(function () {
  "use strict";
  var form = document.getElementById("k-quick-form");
  if (!form || !window.fetch) { return; }
  var resources = document.getElementById("k-q-resources");
  var out = document.getElementById("k-q-resources-check");
  if (!resources || !out) { return; }
  var url = form.getAttribute("data-check-url");
  var seq = 0;

  function field(name) {
    var el = form.elements.namedItem(name);
    return el ? el.value : "";
  }

  function check() {
    var chosen = Array.prototype.filter.call(resources.options, function (o) {
      return o.selected;
    }).map(function (o) { return o.value; });
    var q = new URLSearchParams();
    q.set("date", field("date"));
    q.set("start", field("start"));
    q.set("end", field("end"));
    chosen.forEach(function (id) { q.append("resources", id); });
    var mine = ++seq;
    if (!chosen.length) { show(null); return; }
    fetch(url + "?" + q.toString(), {credentials: "same-origin",
                                      headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (mine === seq) { show(data); } })
      .catch(function () {});
  }

  function show(data) {
    var bad = data && !data.free;
    out.textContent = bad ? data.conflicts.map(function (c) { return c.message; }).join(" ") : "";
    out.classList.toggle("invalid-feedback", !!bad);
    out.classList.toggle("d-block", !!bad);
    out.classList.toggle("form-text", !bad);
    resources.classList.toggle("is-invalid", !!bad);
    var wrap = resources.parentNode.querySelector(".ts-wrapper");
    if (wrap) { wrap.classList.toggle("is-invalid", !!bad); }
  }

  ["date", "start", "end"].forEach(function (name) {
    var el = form.elements.namedItem(name);
    if (el) { el.addEventListener("change", check); }
  });
  resources.addEventListener("change", check);
  resources.addEventListener("k-picker-change", check);
  if (Array.prototype.some.call(resources.options, function (o) { return o.selected; })) {
    check();
  }
}());

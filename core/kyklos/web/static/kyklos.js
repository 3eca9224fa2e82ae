// Progressive enhancement only: every page works without JavaScript.
(function () {
  "use strict";
  // Confirm destructive actions (forms marked data-confirm).
  document.addEventListener("submit", function (ev) {
    var msg = ev.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) { ev.preventDefault(); }
  });
  // Select-all checkbox for bulk actions in list views.
  document.addEventListener("change", function (ev) {
    if (ev.target.matches("[data-select-all]")) {
      var boxes = document.querySelectorAll("input[name='ids']");
      boxes.forEach(function (b) { b.checked = ev.target.checked; });
    }
  });
  // Pickers: <select data-k-picker="<lookup url>"> becomes a Tom Select search box
  // (loaded on the pages that have one). Without JavaScript it is the plain select the
  // server rendered, which submits the id all the same.
  var base = (document.currentScript && document.currentScript.src || "").replace(/kyklos\.js(\?.*)?$/, "");
  function loadTomSelect(done) {
    if (window.TomSelect) { done(); return; }
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = base + "vendor/tom-select/tom-select.bootstrap5.min.css";
    document.head.appendChild(css);
    var js = document.createElement("script");
    js.src = base + "vendor/tom-select/tom-select.complete.min.js";
    js.onload = done;
    document.head.appendChild(js);
  }
  function csrfToken(el) {
    var form = el.closest("form");
    var input = (form && form.querySelector("input[name='csrf_token']")) ||
      document.querySelector("input[name='csrf_token']");
    return input ? input.value : "";
  }
  function picker(select) {
    var url = select.getAttribute("data-k-picker");
    var createUrl = select.getAttribute("data-k-picker-create");
    var createField = select.getAttribute("data-k-picker-field");
    // a select listing only the chosen value asks the server for more when opened
    var few = select.options.length <= 2;
    var settings = {
      valueField: "id",
      labelField: "title",
      searchField: ["title", "subtitle"],
      maxOptions: 200,
      // "Everything" beside a chosen item reads as if both applied
      hidePlaceholder: true,
      // the empty option ("—") is the placeholder; a chosen value is cleared with ×
      allowEmptyOption: false,
      // the buttons' titles come translated from the page (Tom Select's are English)
      plugins: select.multiple
        ? { remove_button: { title: document.body.getAttribute("data-k-remove") || "Remove" } }
        : (select.required ? {}
          : { clear_button: { title: document.body.getAttribute("data-k-clear") || "Clear" } }),
      render: {
        option: function (data, escape) {
          return "<div><div>" + escape(data.title) + "</div>" +
            (data.subtitle ? "<small class=\"text-muted\">" + escape(data.subtitle) + "</small>" : "") +
            "</div>";
        },
        item: function (data, escape) { return "<div>" + escape(data.title) + "</div>"; },
        option_create: function (data, escape) {
          return "<div class=\"create\">" + escape(select.getAttribute("data-k-picker-create-label") || "+") +
            " <strong>" + escape(data.input) + "</strong>&hellip;</div>";
        },
        no_results: function () {
          return "<div class=\"no-results\">" + (select.getAttribute("data-k-picker-empty") || "—") + "</div>";
        }
      },
      onChange: function () { select.dispatchEvent(new Event("k-picker-change", { bubbles: true })); }
    };
    if (url) {
      settings.preload = few ? "focus" : false;
      // The server matches (names across scripts, every search field): what it returns
      // is shown as is, not filtered again by the browser.
      settings.score = function () { return function () { return 1; }; };
      settings.load = function (query, callback) {
        var self = this;
        self.loadedSearches = {};
        fetch(url + (url.indexOf("?") < 0 ? "?" : "&") + "q=" + encodeURIComponent(query), {
          credentials: "same-origin", headers: { "Accept": "application/json" }
        }).then(function (r) { return r.ok ? r.json() : []; }).then(function (items) {
          self.clearOptions();
          callback(items);
        }).catch(function () { callback(); });
      };
    }
    if (createUrl && createField) {
      // Offering "Create Acme" when Acme is already listed invites a duplicate: only a
      // typed name that no listed record carries (case aside) can be created.
      settings.createFilter = function (input) {
        var typed = input.trim().toLowerCase();
        if (!typed) { return false; }
        var opts = this.options;
        return !Object.keys(opts).some(function (k) {
          return String(opts[k].title || "").trim().toLowerCase() === typed;
        });
      };
      settings.create = function (input, callback) {
        var body = {};
        body[createField] = input;
        fetch(createUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "Accept": "application/json",
                     "X-CSRF-Token": csrfToken(select) },
          body: JSON.stringify(body)
        }).then(function (r) { return r.ok ? r.json() : null; }).then(function (rec) {
          if (!rec) { callback(); return; }
          callback({ id: rec.id, title: rec[createField] || input, subtitle: "" });
        }).catch(function () { callback(); });
      };
    }
    // (Tom Select points the field's <label for> at its search box itself)
    var ts = new window.TomSelect(select, settings);
    // Tom Select ignores a blur while the window itself has no focus (document.hasFocus()
    // is false in a background tab or a headless browser): the picker stayed "focused"
    // with its list open over the page. A picker the focus has left closes regardless.
    var tsBlur = ts.onBlur;
    ts.onBlur = function (e) {
      document.hasFocus = function () { return true; };
      try { return tsBlur.call(ts, e); } finally { delete document.hasFocus; }
    };
    // Tom Select closes its list on a click elsewhere only while it believes it has the
    // focus; a list left open after the focus moved on (a late answer, a fast Tab) would
    // stay over the buttons below it until the picker was clicked again.
    document.addEventListener("mousedown", function (e) {
      if (ts.isOpen && !ts.wrapper.contains(e.target)) { ts.close(); }
    });
    return ts;
  }
  // Rich text: <textarea data-k-richtext> becomes a Quill editor (richtext.js, with the
  // vendored Quill, loaded on the pages that have one); without JavaScript one writes HTML.
  if (document.querySelector("textarea[data-k-richtext]")) {
    var qcss = document.createElement("link");
    qcss.rel = "stylesheet";
    qcss.href = base + "vendor/quill/quill.snow.css";
    document.head.appendChild(qcss);
    var qjs = document.createElement("script");
    qjs.src = base + "vendor/quill/quill.js";
    qjs.onload = function () {
      var rt = document.createElement("script");
      rt.src = base + "richtext.js";
      document.head.appendChild(rt);
    };
    document.head.appendChild(qjs);
  }
  var pickers = document.querySelectorAll("select[data-k-picker]");
  if (pickers.length) {
    loadTomSelect(function () {
      pickers.forEach(function (s) { if (!s.tomselect) { picker(s); } });
    });
  }
  // Rows of a typed list (phones, e-mails): the server renders the rows and two blank
  // ones; "Add" clones the last row with the next index.
  document.querySelectorAll("[data-k-rows]").forEach(function (box) {
    var tbody = box.querySelector("tbody");
    var btn = document.createElement("button");
    btn.type = "button";
    btn.className = "btn btn-sm btn-outline-secondary k-rows-add";
    btn.textContent = box.getAttribute("data-k-rows-add") || "+";
    btn.addEventListener("click", function () {
      var rows = tbody.querySelectorAll("tr");
      var last = rows[rows.length - 1];
      var n = rows.length;
      var copy = last.cloneNode(true);
      copy.querySelectorAll("input, select").forEach(function (el) {
        if (el.name && el.type !== "radio") { el.name = el.name.replace(/^r\d+-/, "r" + n + "-"); }
        if (el.id) { el.id = el.id.replace(/-r\d+-/, "-r" + n + "-"); }
        if (el.type === "radio") { el.value = String(n); el.checked = false; }
        else if (el.tagName === "INPUT") { el.value = ""; }
      });
      tbody.appendChild(copy);
      var first = copy.querySelector("input[type='tel'], input[type='email'], input[type='text']");
      if (first) { first.focus(); }
    });
    box.appendChild(btn);
  });
  // The language selector submits itself when changed.
  var lang = document.getElementById("k-lang");
  if (lang) { lang.addEventListener("change", function () { lang.form.submit(); }); }
})();

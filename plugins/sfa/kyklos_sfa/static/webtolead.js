// Embedded Kyklos web-to-lead forms: fetch a fresh signed timestamp for the hidden
// "_ts" field when the page loads (the server refuses forms sent without one, or sent
// faster than a person can type). No other behaviour; the form posts normally.
(function () {
  "use strict";
  var me = document.currentScript;
  var url = me && me.getAttribute("data-token-url");
  if (!url) { return; }
  function fill() {
    fetch(url, { credentials: "omit", mode: "cors" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data || !data.stamp) { return; }
        document.querySelectorAll("form[data-kyklos-lead-form] input[name='_ts']")
          .forEach(function (input) { input.value = data.stamp; });
      })
      .catch(function () {});
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", fill);
  } else { fill(); }
})();

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
  // The language selector submits itself when changed.
  var lang = document.getElementById("k-lang");
  if (lang) { lang.addEventListener("change", function () { lang.form.submit(); }); }
})();

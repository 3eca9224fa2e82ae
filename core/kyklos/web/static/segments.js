// The segment wizard: choosing a field (or "is empty") re-draws the form so that the
// row offers that field's operators in words and its own value input (a picker, a
// drop-down, a day). Without JavaScript the "Show the choices" button does the same.
(function () {
  "use strict";
  var form = document.getElementById("segment-form");
  if (!form) { return; }
  function redraw() {
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "refresh";
    form.appendChild(action);
    form.submit();
  }
  form.addEventListener("change", function (ev) {
    var el = ev.target;
    if (el.matches("[data-k-seg-field]")) { redraw(); return; }
    if (el.matches("[data-k-seg-op]")) {
      // the value input appears or disappears with "is empty" / "is not empty"
      var empty = el.value === "isnull" || el.value === "notnull";
      var box = el.closest(".k-segment-cond").querySelector(".k-segment-value");
      if (empty === !!box) { redraw(); }
    }
  });
})();

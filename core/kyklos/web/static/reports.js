// The report builder: choosing the records' type, a grouping field or a measure
// re-draws the form so that it offers that choice's own options (periods for a date,
// the numbers a sum can add up). Without JavaScript the "Show the choices" button and
// "Show the report" do the same.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) { return; }
  form.addEventListener("change", function (ev) {
    if (!ev.target.matches("[data-k-report-redraw]")) { return; }
    var action = document.createElement("input");
    action.type = "hidden";
    action.name = "action";
    action.value = "refresh";
    form.appendChild(action);
    form.submit();
  });
})();

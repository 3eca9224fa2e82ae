// The rule builder: choosing another record type, trigger, field or action type
// redraws the form with the matching inputs (the server draws it; without JavaScript
// the "Update the form" button does the same).
(function () {
  "use strict";
  var form = document.querySelector("form.k-rule-builder");
  if (!form) { return; }
  form.querySelectorAll(".k-refresh").forEach(function (b) { b.hidden = true; });
  function refresh() {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = "action";
    input.value = "refresh";
    form.appendChild(input);
    form.submit();
  }
  form.addEventListener("change", function (ev) {
    if (ev.target.hasAttribute && ev.target.hasAttribute("data-k-refresh")) { refresh(); }
  });
}());

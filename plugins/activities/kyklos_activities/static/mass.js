// The mass activity page: replace the segment number by a list of the people segments
// the user may see, by name (progressive enhancement: the number works without it).
(function () {
  "use strict";
  var input = document.getElementById("k-mass-segment");
  if (!input || !window.fetch) { return; }
  fetch(input.getAttribute("data-segments-url"), {
    credentials: "same-origin", headers: {"Accept": "application/json"}
  }).then(function (resp) { return resp.ok ? resp.json() : null; }).then(function (data) {
    if (!data || !data.items.length) { return; }
    var select = document.createElement("select");
    select.className = input.className.replace("form-control", "form-select");
    select.id = input.id;
    select.name = input.name;
    select.required = true;
    data.items.forEach(function (seg) {
      var opt = document.createElement("option");
      opt.value = String(seg.id);
      opt.textContent = seg.name;
      opt.selected = String(seg.id) === input.value;
      select.appendChild(opt);
    });
    input.parentNode.replaceChild(select, input);
  }).catch(function () { /* keep the number field */ });
})();

/* The sequence step form (the core's record form): only the fields of the chosen kind
   of step are shown; the jump target only when a condition says to jump. Without
   JavaScript every field shows, each described with the kind it is for. */
(function () {
  "use strict";
  var form = document.getElementById("k-record-form");
  if (!form) { return; }
  var kind = form.querySelector("[name=kind]");
  if (!kind) { return; }
  var otherwise = form.querySelector("[name=otherwise]");
  var FIELDS = {
    email: ["template_id"],
    message: ["channel", "message"],
    letter: ["letter_template_id"],
    call: ["subject", "due_days"],
    meeting: ["subject", "due_days"],
    wait: ["wait_amount", "wait_unit"],
    condition: ["condition", "otherwise", "jump_step_id"]
  };
  var ALL = [];
  Object.keys(FIELDS).forEach(function (k) {
    FIELDS[k].forEach(function (f) { if (ALL.indexOf(f) < 0) { ALL.push(f); } });
  });

  function holder(name) {
    var el = form.querySelector(".item-" + name) || null;
    if (el) { return el; }
    var input = form.querySelector("[name=" + name + "]");
    return input ? (input.closest(".form-group, .mb-3") || input.parentNode) : null;
  }

  function update() {
    var wanted = FIELDS[kind.value] || [];
    ALL.forEach(function (name) {
      var box = holder(name);
      if (!box) { return; }
      var show = wanted.indexOf(name) >= 0;
      if (name === "jump_step_id") { show = show && otherwise && otherwise.value === "jump"; }
      box.classList.toggle("d-none", !show);
    });
  }

  kind.addEventListener("change", update);
  if (otherwise) { otherwise.addEventListener("change", update); }
  update();
})();

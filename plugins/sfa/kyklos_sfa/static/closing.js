// "Mark as lost" asks for the reason in a <dialog>. On a record page the dialog's form
// posts to the Lost page like the page itself would; on the pipeline board it sends
// the change through the REST API (PATCH with If-Match) and shows the API's refusals
// in the dialog. Without JavaScript the buttons are links to the form page.
(function () {
  "use strict";
  var dialog = document.getElementById("sfa-lost-dialog");
  if (!dialog || typeof dialog.showModal !== "function") { return; }
  var form = dialog.querySelector(".sfa-lost-form");
  var errors = dialog.querySelector(".sfa-dialog-errors");
  var nameBox = dialog.querySelector(".sfa-lost-name");
  var mode = dialog.getAttribute("data-mode");
  var current = null;  // the board card being closed

  function showErrors(text) {
    errors.textContent = text;
    errors.classList.toggle("d-none", !text);
  }

  function open(card) {
    current = card || null;
    showErrors("");
    form.reset();
    if (card) {
      var link = card.querySelector(".sfa-lost-link");
      nameBox.textContent = link ? link.getAttribute("data-name") : "";
      form.querySelector("input[name=version]").value = card.getAttribute("data-version");
    }
    dialog.showModal();
    var select = form.querySelector("select");
    if (select) { select.focus(); }
  }
  window.KyklosSfaLost = open;

  document.addEventListener("click", function (ev) {
    var link = ev.target.closest && ev.target.closest("a");
    if (!link) { return; }
    if (link.classList.contains("sfa-lost-link")) {
      ev.preventDefault();
      open(link.closest(".sfa-card"));
    } else if (mode === "form" && form.getAttribute("action") &&
               link.href && link.pathname === new URL(form.action).pathname) {
      // the record page's "Mark as lost" button
      ev.preventDefault();
      open(null);
    }
  });

  if (mode !== "api") { return; }
  var board = document.getElementById("sfa-board");
  var labels = document.getElementById("sfa-board-message");
  form.addEventListener("submit", function (ev) {
    var submitter = ev.submitter;
    if (submitter && submitter.getAttribute("formmethod") === "dialog") { return; }
    ev.preventDefault();
    if (!current) { return; }
    var body = { stage_id: parseInt(dialog.getAttribute("data-lost-stage"), 10) };
    var reason = form.querySelector("select[name=loss_reason_id]").value;
    var details = form.querySelector("textarea[name=loss_details]").value.trim();
    if (reason) { body.loss_reason_id = parseInt(reason, 10); }
    if (details) { body.loss_details = details; }
    fetch(current.getAttribute("data-url"), {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "If-Match": '"' + current.getAttribute("data-version") + '"',
        "X-CSRF-Token": board.getAttribute("data-csrf")
      },
      body: JSON.stringify(body)
    }).then(function (r) {
      if (r.ok) { window.location.reload(); return null; }
      return r.json().catch(function () { return null; }).then(function (p) {
        showErrors((window.KyklosSfaDescribe ? window.KyklosSfaDescribe(p, labels) : "") ||
                   r.statusText);
      });
    }).catch(function () {
      showErrors(dialog.getAttribute("data-network-error"));
    });
  });
})();

// Pipeline board: drag a card to another column to move the opportunity there. The
// move goes through the REST API (PATCH with If-Match, so a card someone else changed
// meanwhile is refused, not overwritten); without JavaScript each card has its own
// "move to" form instead.
(function () {
  "use strict";
  var board = document.getElementById("sfa-board");
  if (!board || board.getAttribute("data-can-move") !== "1") { return; }
  var csrf = board.getAttribute("data-csrf");
  var message = document.getElementById("sfa-board-message");
  var dragged = null;
  document.documentElement.classList.add("sfa-js");

  function show(text) {
    message.textContent = text;
    message.classList.remove("d-none");
  }

  // A problem+json answer as sentences: its field errors ("Stage: Only a sales director
  // may close or reopen a deal.") or else its detail or title. The field titles come
  // from data-label-<field> attributes of the message box, in the user's language.
  function describe(problem, labels) {
    var parts = [];
    var errors = problem && problem.errors;
    if (errors && !Array.isArray(errors)) {
      errors = Object.keys(errors).map(function (k) { return { field: k, detail: errors[k] }; });
    }
    (errors || []).forEach(function (e) {
      var label = e.field && labels && labels.getAttribute("data-label-" + e.field);
      var text = typeof e.detail === "string" ? e.detail : (e.message || "");
      if (text) { parts.push(label ? label + ": " + text : text); }
    });
    if (!parts.length && problem && (problem.detail || problem.title)) {
      parts.push(problem.detail || problem.title);
    }
    return parts.join(" ");
  }
  window.KyklosSfaDescribe = describe;

  var lostStages = (board.getAttribute("data-lost-stages") || "").split(" ");

  function move(card, list) {
    var stageId = parseInt(list.getAttribute("data-stage-id"), 10);
    var origin = card.parentNode;
    if (origin === list) { return; }
    if (lostStages.indexOf(String(stageId)) !== -1 && window.KyklosSfaLost) {
      // A lost deal needs its reason: the dialog asks, then sends the move itself.
      window.KyklosSfaLost(card);
      return;
    }
    list.appendChild(card);
    fetch(card.getAttribute("data-url"), {
      method: "PATCH",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "If-Match": '"' + card.getAttribute("data-version") + '"',
        "X-CSRF-Token": csrf
      },
      body: JSON.stringify({ stage_id: stageId })
    }).then(function (r) {
      if (r.ok) {
        return r.json().then(function (rec) {
          card.setAttribute("data-version", rec.version);
          window.location.reload();
        });
      }
      return r.json().catch(function () { return null; }).then(function (p) {
        origin.appendChild(card);
        show(describe(p, message) || r.statusText);
      });
    }).catch(function () {
      origin.appendChild(card);
      show(message.getAttribute("data-network-error"));
    });
  }

  board.addEventListener("dragstart", function (ev) {
    var card = ev.target.closest && ev.target.closest(".sfa-card");
    if (!card) { return; }
    dragged = card;
    card.classList.add("sfa-dragging");
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", card.getAttribute("data-id"));
  });
  board.addEventListener("dragend", function () {
    // (the drop handler has already let go of the card: clear every faded one)
    board.querySelectorAll(".sfa-dragging").forEach(function (el) {
      el.classList.remove("sfa-dragging");
    });
    dragged = null;
    board.querySelectorAll(".sfa-drop").forEach(function (el) { el.classList.remove("sfa-drop"); });
  });
  board.addEventListener("dragover", function (ev) {
    var list = ev.target.closest && ev.target.closest(".sfa-column");
    if (!list || !dragged) { return; }
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    list.querySelector(".sfa-cards").classList.add("sfa-drop");
  });
  board.addEventListener("dragleave", function (ev) {
    var list = ev.target.closest && ev.target.closest(".sfa-cards");
    if (list && !list.contains(ev.relatedTarget)) { list.classList.remove("sfa-drop"); }
  });
  board.addEventListener("drop", function (ev) {
    var col = ev.target.closest && ev.target.closest(".sfa-column");
    if (!col || !dragged) { return; }
    ev.preventDefault();
    var list = col.querySelector(".sfa-cards");
    list.classList.remove("sfa-drop");
    move(dragged, list);
    dragged = null;
  });
})();

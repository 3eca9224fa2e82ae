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

  function describe(problem) {
    var parts = [];
    if (problem && problem.errors) {
      Object.keys(problem.errors).forEach(function (k) { parts.push(problem.errors[k]); });
    }
    if (!parts.length && problem && (problem.detail || problem.title)) {
      parts.push(problem.detail || problem.title);
    }
    return parts.join(" ") || "Error";
  }

  function move(card, list) {
    var stageId = parseInt(list.getAttribute("data-stage-id"), 10);
    var origin = card.parentNode;
    if (origin === list) { return; }
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
        show(describe(p));
      });
    }).catch(function () {
      origin.appendChild(card);
      show("Network error");
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
    if (dragged) { dragged.classList.remove("sfa-dragging"); }
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

// Drag an event to another day to reschedule it (progressive enhancement: the
// calendar works without this file). The move is a POST with the CSRF token header;
// a refused move (a stale version, a room already booked) is reported and undone.
(function () {
  "use strict";
  var cal = document.getElementById("k-cal");
  if (!cal || !window.fetch) { return; }
  var moveUrl = cal.getAttribute("data-move-url");
  var csrf = cal.getAttribute("data-csrf");
  var dragged = null;

  cal.addEventListener("dragstart", function (e) {
    var ev = e.target.closest && e.target.closest("[data-k-draggable]");
    if (!ev) { return; }
    dragged = ev;
    ev.classList.add("k-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", ev.getAttribute("data-id"));
  });
  cal.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("k-dragging"); }
    Array.prototype.forEach.call(cal.querySelectorAll(".k-drop"), function (d) {
      d.classList.remove("k-drop");
    });
  });
  cal.addEventListener("dragover", function (e) {
    var day = e.target.closest && e.target.closest("[data-date]");
    if (dragged && day) { e.preventDefault(); day.classList.add("k-drop"); }
  });
  cal.addEventListener("dragleave", function (e) {
    var day = e.target.closest && e.target.closest("[data-date]");
    if (day) { day.classList.remove("k-drop"); }
  });
  cal.addEventListener("drop", function (e) {
    var day = e.target.closest && e.target.closest("[data-date]");
    if (!dragged || !day) { return; }
    e.preventDefault();
    day.classList.remove("k-drop");
    var ev = dragged;
    dragged = null;
    var body = new URLSearchParams();
    body.set("date", day.getAttribute("data-date"));
    body.set("version", ev.getAttribute("data-version"));
    var url = moveUrl.replace(/\/0\/move$/, "/" + ev.getAttribute("data-id") + "/move");
    day.querySelector(".k-evs").appendChild(ev);
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Accept": "application/json"},
      body: body
    }).then(function (resp) {
      return resp.json().then(function (data) { return {ok: resp.ok, data: data}; });
    }).then(function (r) {
      if (!r.ok) {
        var msg = r.data.title || "Not moved";
        if (r.data.errors && r.data.errors.length) { msg += ": " + r.data.errors[0].detail; }
        window.alert(msg);
      }
      window.location.reload();
    }).catch(function () { window.location.reload(); });
  });
})();

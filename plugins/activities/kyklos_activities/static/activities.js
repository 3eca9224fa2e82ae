// Drag an event to another day, or in the day and week views to another hour, to
// reschedule it (progressive enhancement: the calendar works without this file). The
// move is a POST with the CSRF token header; a refused move (a stale version, a room
// already booked) is reported and undone.
(function () {
  "use strict";
  var cal = document.getElementById("k-cal");
  if (!cal) { return; }
  var QUARTER = 15;
  var DAY_MINUTES = 24 * 60;

  // Open the hour grid at the working day's start (or the first event), not midnight.
  var scroller = document.getElementById("k-tg-scroll");
  var scrollTo = cal.getAttribute("data-scroll");
  if (scroller && scrollTo) {
    var row = scroller.querySelector(".k-slot[data-time='" + scrollTo + "']");
    if (row) { scroller.scrollTop = row.offsetTop; }  // the column is its offsetParent
  }
  if (!window.fetch) { return; }
  var moveUrl = cal.getAttribute("data-move-url");
  var csrf = cal.getAttribute("data-csrf");
  var notMoved = cal.getAttribute("data-not-moved");  // translated by the template
  var zone = cal.getAttribute("data-timezone");
  var dragged = null;
  var grabOffset = 0;  // px between the event's top and where it was picked up
  var marked = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // The time under the dragged event's top edge in an hour column, to the quarter hour.
  function timeAt(col, clientY) {
    var rect = col.getBoundingClientRect();
    var minutes = (clientY - grabOffset - rect.top) / rect.height * DAY_MINUTES;
    minutes = Math.round(minutes / QUARTER) * QUARTER;
    minutes = Math.max(0, Math.min(DAY_MINUTES - QUARTER, minutes));
    return pad(Math.floor(minutes / 60)) + ":" + pad(minutes % 60);
  }

  function target(e) {
    var day = e.target.closest && e.target.closest("[data-date]");
    if (!dragged || !day) { return null; }
    var t = {day: day, time: null, mark: day};
    if (day.classList.contains("k-tg-col") && !dragged.hasAttribute("data-allday")) {
      t.time = timeAt(day, e.clientY);
      var half = t.time.slice(0, 3) + (t.time.slice(3) < "30" ? "00" : "30");
      t.mark = day.querySelector(".k-slot[data-time='" + half + "']") || day;
    }
    return t;
  }

  function unmark() {
    if (marked) { marked.classList.remove("k-drop"); marked = null; }
  }

  cal.addEventListener("dragstart", function (e) {
    var ev = e.target.closest && e.target.closest("[data-k-draggable]");
    if (!ev) { return; }
    dragged = ev;
    grabOffset = ev.closest(".k-tg-col") ? e.clientY - ev.getBoundingClientRect().top : 0;
    ev.classList.add("k-dragging");
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", ev.getAttribute("data-id"));
  });
  cal.addEventListener("dragend", function () {
    if (dragged) { dragged.classList.remove("k-dragging"); }
    unmark();
  });
  cal.addEventListener("dragover", function (e) {
    var t = target(e);
    if (!t) { return; }
    e.preventDefault();
    if (marked !== t.mark) { unmark(); marked = t.mark; marked.classList.add("k-drop"); }
  });
  cal.addEventListener("dragleave", function (e) {
    if (!cal.contains(e.relatedTarget)) { unmark(); }
  });
  cal.addEventListener("drop", function (e) {
    var t = target(e);
    if (!t) { return; }
    e.preventDefault();
    unmark();
    var ev = dragged;
    dragged = null;
    var body = new URLSearchParams();
    body.set("date", t.day.getAttribute("data-date"));
    if (t.time) {
      // The grid shows the viewer's zone: the dropped-on hour is a time in that zone.
      body.set("time", t.time);
      if (zone) { body.set("timezone", zone); }
    }
    body.set("version", ev.getAttribute("data-version"));
    body.set("occurrence", ev.getAttribute("data-occurrence"));
    var url = moveUrl.replace(/\/0\/move$/, "/" + ev.getAttribute("data-id") + "/move");
    var list = t.day.querySelector(".k-evs");
    if (list && !t.time) { list.appendChild(ev); }
    askScope(ev, function (scope) {
      if (!scope) { window.location.reload(); return; }
      body.set("scope", scope);
      send(url, body);
    });
  });

  // A repeating activity: move this occurrence only (an exception) or the series.
  function askScope(ev, done) {
    var dialog = document.getElementById("k-scope");
    if (!ev.hasAttribute("data-recurring")) { done("series"); return; }
    if (!dialog || !dialog.showModal) { done("series"); return; }
    dialog.addEventListener("close", function onClose() {
      dialog.removeEventListener("close", onClose);
      done(dialog.returnValue);
    });
    dialog.returnValue = "";
    dialog.showModal();
  }

  function send(url, body) {
    fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf, "Accept": "application/json"},
      body: body
    }).then(function (resp) {
      return resp.json().then(function (data) { return {ok: resp.ok, data: data}; });
    }).then(function (r) {
      if (!r.ok) {
        var msg = r.data.title || notMoved;
        if (r.data.errors && r.data.errors.length) { msg += ": " + r.data.errors[0].detail; }
        window.alert(msg);
      }
      window.location.reload();
    }).catch(function () { window.location.reload(); });
  }
})();
